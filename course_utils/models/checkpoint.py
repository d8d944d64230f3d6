"""Safe checkpoints of any registered model.

Checkpoints are `safetensors <https://huggingface.co/docs/safetensors>`_ files: tensors
only, no pickled code, so loading one cannot run code hidden in it (``torch.load`` of an
untrusted pickle can). The model's config (:func:`course_utils.models.registry.model_config`:
its registered name and builder arguments) and any training facts travel in the file's
metadata; :func:`load_checkpoint` validates that config against the builder's signature and
limits *before* it builds anything, then rebuilds the model and loads the weights strictly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ..data.io import sha256_of, write_atomically
from .registry import check_config, get_model, model_config, model_spec

__all__ = ["CheckpointError", "load_checkpoint", "save_checkpoint", "sha256_of"]


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupt, tampered with or not a model."""


def save_checkpoint(path: str | os.PathLike, model: nn.Module,
                    metadata: dict | None = None) -> Path:
    """Save ``model``'s weights and config to a safetensors file, atomically.

    The file is written beside ``path`` and renamed into place, so an interrupted save
    never leaves a half-written checkpoint. ``metadata`` (JSON-serialisable) is stored with
    the config and read back by :func:`load_checkpoint`.
    """
    path = Path(path)
    header = {"config": json.dumps(model_config(model)),
              "metadata": json.dumps(metadata or {}, sort_keys=True)}
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for key, value in tensors.items():
        if not torch.isfinite(value).all() and value.is_floating_point():
            raise ValueError(f"refusing to save {path}: the weights {key} hold NaN or inf; "
                             "the training diverged (lower the learning rate).")
    def write(tmp: str) -> None:
        try:
            save_file(tensors, tmp, metadata=header)
        except SafetensorError as err:  # the Rust writer's I/O errors: a full disk, no permission
            raise OSError(f"could not write {path}: {err}") from err

    return write_atomically(path, write)


def load_checkpoint(path: str | os.PathLike, sha256: str | None = None,
                    device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild the model saved by :func:`save_checkpoint`; returns ``(model, metadata)``.

    Parameters
    ----------
    path : path-like
    sha256 : str, optional
        The file's expected SHA-256. If it differs, :class:`CheckpointError` is raised
        before anything is loaded.
    device : where to put the model (default CPU); it is returned in eval mode.

    Raises
    ------
    CheckpointError
        Missing file, hash mismatch, a file that is not a safetensors checkpoint (truncated,
        corrupt, or another format), or weights that do not fit the recorded model.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}.")
    if sha256 is not None:
        actual = sha256_of(path)
        if actual != sha256:
            raise CheckpointError(
                f"{path} does not match its registered SHA-256: the file is truncated, "
                f"corrupt or was modified.\n  expected {sha256}\n  found    {actual}\n"
                "Restore it (for a shipped model: `git checkout -- course_utils/assets/models`) or "
                "retrain it with `python -m course_utils pretrain`."
            )
    unreadable = (f"{path} is not a readable safetensors checkpoint ({{}}); it may be truncated "
                  "or in another format. Checkpoints are written by "
                  "course_utils.models.checkpoint.save_checkpoint.")
    try:
        with safe_open(path, framework="pt") as f:
            header = f.metadata() or {}
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(unreadable.format(err)) from err
    if "config" not in header:
        raise CheckpointError(f"{path} has no model config in its metadata; it was not "
                              "written by course_utils.models.checkpoint.save_checkpoint.")
    try:
        config = json.loads(header["config"])
        name = config.pop("name")
        config = check_config(name, config)  # before anything is built
        metadata = json.loads(header.get("metadata", "{}"))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise CheckpointError(f"{path} holds a model config that cannot be used ({err}); "
                              "the file is corrupt or was edited. Save the model again with "
                              "save_checkpoint.") from err
    # The weights come from the file: never fetch pretrained ones for the build.
    build = {**config, "pretrained": False} if "pretrained" in model_spec(name).parameters \
        else config
    model = get_model(name, **build)
    model.config = {"name": name, **config}
    try:
        tensors = load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(unreadable.format(err)) from err
    try:
        model.load_state_dict(tensors)
    except RuntimeError as err:
        raise CheckpointError(f"the weights in {path} do not fit the model {config}: {err}") \
            from err
    return model.to(device).eval(), {"config": model.config, **metadata}
