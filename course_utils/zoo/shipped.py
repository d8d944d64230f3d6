"""The course's shipped weights (the "zoo"): which trained models exist, where their files are,
their SHA-256, and loading them.

The architectures live in :mod:`course_utils.models`; this module only knows which trained
checkpoints ship with the course: ``models/<name>.safetensors`` in the course's data folder
(``course_utils/assets/``, package data of ``course_utils``; see
:func:`~course_utils.data.data_dir`), each with its SHA-256 in ``registry.tsv`` there and a
model card ``<name>.md`` beside it. :func:`load_pretrained` verifies the hash before loading,
so a truncated or edited file is refused with a clear message. How they were trained is
:mod:`course_utils.zoo.recipes`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..compression.measure import LearnedCodec
from ..data.downloads import DataUnavailableError, data_dir, default_registry
from ..models.checkpoint import load_checkpoint
from ..models.complexity import count_parameters
from ..models.registry import get_model
from ..tasks import get_task

__all__ = ["CODEC_LAMBDAS", "COURSE_CONFIGS", "SHIPPED", "ShippedModel", "load_codec",
           "load_pretrained", "shipped_codecs", "shipped_model", "zoo_rows"]


@dataclass(frozen=True)
class ShippedModel:
    """One shipped checkpoint: a registered architecture, its config and its task."""

    architecture: str
    config: dict
    task: str

    @property
    def name(self) -> str:
        """``<architecture>_x<scale>`` for SR (``espcn_x3``), ``<architecture>_<task>`` else."""
        task = get_task(self.task)
        suffix = f"x{task.scale}" if task.scale > 1 else task.name
        return f"{self.architecture}_{suffix}"

    @property
    def file(self) -> str:
        """The file's name in ``registry.tsv`` (and its path in the data folder)."""
        return f"models/{self.name}.safetensors"

    @property
    def path(self) -> Path:
        return data_dir() / self.file


#: The configuration of each restoration family as the course trains and ships it (beyond
#: ``channels``): DnCNN with 15 layers of 64 features on FFDNet's half-size sub-images, a
#: quarter of the paper's cost per layer, so that it trains in about an hour on a CPU.
COURSE_CONFIGS = {"dncnn": {"depth": 15, "features": 64, "unshuffle": 2},
                  "factorized-codec": {"N": 64, "M": 96}}

#: The rate-distortion trade-offs of the shipped learned codecs (lambda of lambda * 255^2 *
#: MSE + bpp): CompressAI's qualities 1-3 (0.0018, 0.0035, 0.0067) and a high rate.
CODEC_LAMBDAS = (0.0018, 0.0035, 0.0067, 0.025)

#: Every shipped model: ESPCN and FSRCNN at x2, x3 and x4 (Y channel), the course's natural-
#: photo source models; and unit 06's gray DnCNNs in the course's configuration: a denoiser
#: (sigma 25) and a JPEG-artefact remover (quality 10) fine-tuned from it; and unit 07's
#: learned codecs (RGB), one per lambda of :data:`CODEC_LAMBDAS`.
SHIPPED = tuple(ShippedModel(architecture, {"scale": scale, "channels": 1}, f"sr-x{scale}")
                for architecture in ("espcn", "fsrcnn") for scale in (2, 3, 4)) + tuple(
    ShippedModel("dncnn", {"channels": 1, **COURSE_CONFIGS["dncnn"]}, task)
    for task in ("denoise-25-gray", "jpeg-10-gray")) + tuple(
    ShippedModel("factorized-codec", COURSE_CONFIGS["factorized-codec"], f"compress-{lmbda}")
    for lmbda in CODEC_LAMBDAS)


def shipped_model(name: str) -> ShippedModel:
    """The :class:`ShippedModel` called ``name`` (e.g. ``"espcn_x3"``)."""
    for model in SHIPPED:
        if model.name == name:
            return model
    raise ValueError(f"no shipped model {name!r}; shipped: "
                     f"{', '.join(m.name for m in SHIPPED)}. A model you trained yourself "
                     "(`python -m course_utils pretrain`, or fit) loads with "
                     "course_utils.models.load_checkpoint(path).")


def load_pretrained(name: str, device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    """Load a shipped model, verifying its SHA-256 against the course's ``registry.tsv``.

    Parameters
    ----------
    name : str
        A name of :data:`SHIPPED`, e.g. ``"espcn_x3"`` (``python -m course_utils models``
        lists them).
    device : where to put the model (returned in eval mode)

    Returns
    -------
    (model, card) : the model and its training facts (the metadata of its checkpoint).

    Raises
    ------
    ValueError
        A name that is not shipped.
    CheckpointError
        The file does not match its registered hash (truncated, corrupt or edited).
    DataUnavailableError
        The file is missing and cannot be downloaded.
    """
    model = shipped_model(name)
    registry = default_registry()
    entry = registry.entries.get(model.file)
    if entry is None:
        raise DataUnavailableError(f"{model.file} is not in {data_dir() / 'registry.tsv'}.")
    path = model.path
    if not path.exists():  # e.g. a checkout without the weights: use the download cache
        path = registry.fetch(entry.name)
    return load_checkpoint(path, sha256=entry.sha256, device=device)


def shipped_codecs() -> list[str]:
    """The names of the shipped learned codecs, lowest rate first."""
    return [m.name for m in SHIPPED if get_task(m.task).kind == "compress"]


def load_codec(source: str | os.PathLike) -> tuple[LearnedCodec, float]:
    """A learned codec, shipped (``source`` a name of :func:`shipped_codecs`, its hash
    verified) or trained by you (``source`` a checkpoint file), and the lambda it was trained
    for.

    Raises
    ------
    ValueError
        ``source`` names a shipped model that is not a codec, or a checkpoint of another task.
    """
    if isinstance(source, str) and not source.endswith(".safetensors"):
        if source in [m.name for m in SHIPPED] and source not in shipped_codecs():
            raise ValueError(f"{source} is not a codec; the shipped codecs are "
                             f"{', '.join(shipped_codecs())}.")
        model, card = load_pretrained(source)
        return LearnedCodec(model, source), get_task(card["task"]).lmbda
    model, card = load_checkpoint(source)
    task = card.get("task")
    if not isinstance(task, str) or get_task(task).kind != "compress":
        raise ValueError(f"{source} holds no learned codec (its task is {task!r}); train one "
                         "with `python -m course_utils pretrain --model factorized-codec "
                         "--task compress --lmbda 0.0067`, or use a shipped one: "
                         f"{', '.join(shipped_codecs())}.")
    return LearnedCodec(model, Path(source).name), get_task(task).lmbda


def zoo_rows() -> list[dict]:
    """One row per shipped model: name, architecture, task, scale or strength, parameters,
    file and SHA-256 (``python -m course_utils models``)."""
    registry = default_registry()
    rows = []
    for model in SHIPPED:
        entry = registry.entries.get(model.file)
        task = get_task(model.task)
        rows.append({
            "name": model.name, "architecture": model.architecture, "task": task.name,
            "scale or strength": task.strength + ("-gray" if task.gray else ""),
            "parameters": count_parameters(get_model(model.architecture, **model.config)),
            "file": f"course_utils/assets/{model.file}",
            "sha256": entry.sha256 if entry else "unregistered",
        })
    return rows
