"""Controlled transfer experiments for every unit: several "arms" trained on the same data, with
the same budget, for any task.

* An :class:`Arm` says how to build a fresh model, its optimiser and its loss.
* :class:`ExperimentData` holds a task and its images (training, validation, held-out) and
  makes the training batches of a seed.
* :func:`run_arms` trains every arm once per seed with :func:`course_utils.training.loop.fit`
  (same images, same patches, same steps, same validation), scores each trained model on the
  held-out images with the task's recipe, and returns :class:`Results`: one
  :class:`ArmResult` per (seed, arm), the trained models by name (:meth:`Results.model`) and
  the table of mean and spread over seeds (:func:`summarize`) that notebooks and benchmarks
  draw their conclusions from;
* :func:`versus` measures every arm against a reference (a trained arm or an untrained
  baseline such as the zero-shot source model), seed by seed, and says whether each
  difference is larger than its spread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from ..data.pairs import NoisyPatches, PairedPatches, validation_pairs
from ..device import seed_everything
from ..evaluation.evaluate import EvaluationResult, evaluate_images, model_method
from ..models.complexity import count_parameters
from ..tasks import Task, get_task
from ..training.loop import History, fit

__all__ = ["Arm", "ArmResult", "ExperimentData", "Results", "mean_sd", "run_arms", "summarize",
           "train_and_score", "versus"]

#: What an arm trains on: pairs of the task; pairs made from the degraded images alone by
#: degrading them again (ZSSR-style); or noisy images alone (Noise2Self, denoising tasks).
DATA = ("paired", "self-supervised", "noisy")


def _check_data(data: str) -> str:
    if data not in DATA:
        raise ValueError(f"data must be one of {DATA}, got {data!r}.")
    return data


@dataclass
class Arm:
    """One way of training a model, e.g. "pretrained encoder, frozen".

    Parameters
    ----------
    name : str
    build : callable () -> nn.Module
        Makes a fresh model (called once per seed, after seeding).
    lr : float
        Learning rate of the default Adam optimiser.
    optimizer : callable (model) -> torch.optim.Optimizer, optional
        For parameter groups with learning rates of their own
        (:func:`course_utils.training.finetune.param_groups`).
    loss : str or callable (model) -> loss
        A pixel loss by name (:data:`course_utils.training.losses.LOSSES`), or a function
        that makes the loss for the model being trained, e.g. the L2-SP penalty towards its
        own starting weights: ``lambda model: L2SPLoss(model, alpha=0.1)``.
    data : {"paired", "self-supervised", "noisy"}
        What the arm trains on: (input, target) pairs of the training images; pairs made
        from the degraded images alone by degrading them once more (ZSSR-style, unit 05);
        or, for denoising, the noisy training images alone, for a model wrapped in
        :class:`~course_utils.training.noise2self.Noise2Self` (unit 06). A "noisy" arm keeps
        its last weights: with no clean image, it has nothing to choose an epoch by.
    mode : {"rgb", "y"}
        The channels the model takes (:class:`course_utils.data.pairs.PairedPatches`); the
        default is RGB, as unit 04's networks. Give ``mode="y"`` for the Y-channel models.
    keep_best : bool
        Keep the weights of the best validation epoch (early stopping, the default) or, if
        False, the last ones (what training without that remedy gives; unit 07). A "noisy"
        arm always keeps its last weights.
    """

    name: str
    build: Callable[[], nn.Module]
    lr: float = 1e-3
    optimizer: Callable[[nn.Module], torch.optim.Optimizer] | None = None
    loss: str | Callable[[nn.Module], Callable] = "mse"
    data: str = "paired"
    mode: str = "rgb"
    keep_best: bool = True

    def __post_init__(self) -> None:
        if self.data not in DATA:
            raise ValueError(f"arm {self.name!r}: data must be one of {DATA}, got "
                             f"{self.data!r}.")

    def make_loss(self, model: nn.Module) -> str | Callable:
        """The loss :func:`~course_utils.training.loop.fit` minimises for ``model``."""
        return self.loss if isinstance(self.loss, str) else self.loss(model)


@dataclass
class ArmResult:
    """What one (arm, seed) run gave."""

    arm: str
    seed: int
    history: History
    heldout: EvaluationResult
    seconds: float
    trainable: int
    model: nn.Module = field(repr=False)
    n_images: int | None = None  # training images (unit 05's data-efficiency curve)


class Results(list):
    """The :class:`ArmResult` of every run, in the order (seed, arm), with look-ups by name."""

    def runs(self, arm: str, n_images: int | None = None) -> list[ArmResult]:
        """Every seed's run of ``arm`` (with ``n_images`` training images, if given)."""
        found = [r for r in self if r.arm == arm and (n_images is None or r.n_images == n_images)]
        if not found:
            sizes = sorted({r.n_images for r in self if r.arm == arm})
            raise KeyError(f"no run of {arm!r} with {n_images} training images; it ran with "
                           f"{sizes}." if sizes else
                           f"no run of {arm!r}; the arms are {sorted({r.arm for r in self})}.")
        return found

    def model(self, arm: str, seed: int | None = None, n_images: int | None = None) -> nn.Module:
        """The model ``arm`` trained (first seed unless ``seed`` is given)."""
        runs = self.runs(arm, n_images)
        if seed is None:
            return runs[0].model
        for r in runs:
            if r.seed == seed:
                return r.model
        raise KeyError(f"{arm!r} ran with seeds {[r.seed for r in runs]}, not {seed}.")


@dataclass
class ExperimentData:
    """A task and its images: what every arm of an experiment trains, validates and is scored on.

    ``heldout`` shares no scan or photo with ``train`` and ``val`` (the catalogue's splits,
    :mod:`course_utils.data.catalogue`; unit 04 validates on the bottom strips of its training
    photos). Training batches are
    ``batch`` random patches of ``patch_lr`` input pixels per side
    (:class:`~course_utils.data.pairs.PairedPatches`), ``steps_per_epoch`` per epoch, with
    random flips and 90-degree rotations unless ``augment`` is False.
    """

    name: str
    task: Task | str
    train: dict[str, np.ndarray]
    val: dict[str, np.ndarray]
    heldout: dict[str, np.ndarray]
    patch_lr: int = 16
    batch: int = 16
    steps_per_epoch: int = 50
    augment: bool = True

    def __post_init__(self) -> None:
        self.task = get_task(self.task)

    def choose(self, n_images: int | None, seed: int) -> list[str]:
        """``n_images`` training images drawn at random for ``seed`` (``None``: all of them)."""
        names = list(self.train)
        if n_images is None:
            return names
        if not 1 <= n_images <= len(names):
            raise ValueError(f"n_images must be 1 to {len(names)} (the {self.name} training "
                             f"images), got {n_images}.")
        order = np.random.default_rng(seed).permutation(len(names))
        return [names[i] for i in sorted(order[:n_images])]

    def _degraded_only(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        # Only degraded images exist (e.g. LR scans): each becomes a "clean" image that the
        # task degrades once more, so the model learns to undo the task on the input's scale.
        return [self.task.degrade(self.task.target(im), np.random.default_rng((1, i)))
                for i, im in enumerate(images)]

    def _noisy_only(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        if self.task.kind not in ("denoise", "poisson"):
            raise ValueError(f"data='noisy' trains denoisers from noisy images alone; the "
                             f"task {self.task.name} is not a denoising task (denoise-SIGMA, "
                             "poisson-PEAK:READ).")
        return [self.task.degrade(self.task.target(im), np.random.default_rng((3, i)))
                for i, im in enumerate(images)]

    def loader(self, names: Sequence[str], seed: int, data: str = "paired",
               mode: str = "y") -> DataLoader:
        """The training batches of an arm that trains on ``data`` from the images ``names``."""
        images = [self.train[n] for n in names]
        if _check_data(data) == "noisy":  # one fixed noisy shot of each training photo
            return DataLoader(NoisyPatches(self._noisy_only(images), self.patch_lr, mode,
                                           self.steps_per_epoch * self.batch,
                                           augment=self.augment, seed=seed),
                              batch_size=self.batch)
        if data == "self-supervised":  # the training inputs and the held-out inputs
            patch = self.patch_lr * self.task.scale
            images = [im for im in self._degraded_only(images + list(self.heldout.values()))
                      if min(im.shape[:2]) >= patch]
        patches = PairedPatches(images, self.task, patch_size=self.patch_lr * self.task.scale,
                                mode=mode, samples_per_epoch=self.steps_per_epoch * self.batch,
                                augment=self.augment, seed=seed)
        return DataLoader(patches, batch_size=self.batch)

    def val_pairs(self, data: str = "paired", mode: str = "y") -> list:
        """Validation pairs; self-supervised arms validate on degraded images only, too;
        "noisy" arms are monitored on the clean pairs (their weights are not chosen by it)."""
        images = list(self.val.values())
        if _check_data(data) == "self-supervised":
            images = self._degraded_only(images)
        return validation_pairs(images, self.task, mode=mode)


def train_and_score(arm: Arm, loader: Iterable, val_pairs: list,
                    heldout: Mapping[str, np.ndarray], task: Task | str, *, epochs: int,
                    seed: int, device: torch.device | str = "cpu",
                    progress: bool = True) -> ArmResult:
    """Build ``arm``'s model after seeding, train it with :func:`~course_utils.training.loop.fit`,
    and score it on ``heldout`` with the task's recipe (on the CPU). One run of :func:`run_arms`."""
    task = get_task(task)
    seed_everything(seed)
    model = arm.build()
    fed = 1 if arm.mode == "y" else 3
    if getattr(model, "channels", fed) != fed:
        raise ValueError(f"arm {arm.name!r}: the model takes {model.channels} channel(s) but "
                         f"mode={arm.mode!r} feeds it {fed}; give the arm mode='y' for a "
                         "Y-channel model or mode='rgb' for an RGB one.")
    optimizer = arm.optimizer(model) if arm.optimizer is not None else None
    start = time.perf_counter()
    history = fit(model, loader, val_pairs, epochs=epochs, lr=arm.lr, loss=arm.make_loss(model),
                  optimizer=optimizer, keep_best=arm.keep_best and arm.data != "noisy",
                  border=task.border,
                  device=device, progress=progress)
    seconds = time.perf_counter() - start
    model = model.cpu().eval()
    scores = evaluate_images(heldout, task, model_method(model, arm.name))
    return ArmResult(arm.name, seed, history, scores, seconds,
                     count_parameters(model, trainable_only=True), model)


def run_arms(arms: Iterable[Arm], data: ExperimentData, *, epochs: int,
             seeds: Iterable[int] = (0,), n_images: int | None = None,
             device: torch.device | str = "cpu", progress: bool = True) -> Results:
    """Train every arm with every seed on the same data and budget; score it on the held-out
    images.

    For a seed, every arm gets the same ``n_images`` training images (all if ``None``; drawn
    by :meth:`ExperimentData.choose`) and, per kind of data and channels, the same patches.

    Returns
    -------
    Results : one :class:`ArmResult` per (seed, arm), in that order, with ``n_images`` set.
    """
    arms = list(arms)
    results = Results()
    # The validation pairs depend on the kind of data and channels only, not on the seed.
    val = {(a.data, a.mode): data.val_pairs(a.data, a.mode) for a in arms}
    for seed in seeds:
        names = data.choose(n_images, seed)
        loaders = {}
        for arm in arms:
            key = (arm.data, arm.mode)
            if key not in loaders:  # built once: every arm of this seed sees the same patches
                loaders[key] = data.loader(names, seed, arm.data, arm.mode)
            result = train_and_score(arm, loaders[key], val[key], data.heldout, data.task,
                                     epochs=epochs, seed=seed, device=device, progress=progress)
            result.n_images = len(names)
            results.append(result)
    return results


def mean_sd(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``) over seeds; one value has a spread of 0."""
    values = np.asarray(list(values), dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def summarize(results: Iterable[ArmResult],
              baseline: EvaluationResult | Sequence[EvaluationResult] | None = None,
              by_images: bool = False) -> list[dict]:
    """One row per arm: held-out PSNR and SSIM, mean and standard deviation over seeds.

    ``baseline`` (e.g. bicubic on the same images), or several untrained methods with the
    reference first, adds first rows and a gain column (over the first). With ``by_images``
    there is one row per (arm, number of training images) instead, for a data-efficiency
    curve. The spread is :func:`mean_sd`'s.
    """
    groups: dict[tuple, list[ArmResult]] = {}
    for r in results:
        groups.setdefault((r.arm, r.n_images) if by_images else (r.arm,), []).append(r)
    baselines = [baseline] if isinstance(baseline, EvaluationResult) else list(baseline or [])
    reference = baselines[0].mean_psnr if baselines else None
    rows = []
    for base in baselines:
        rows.append({"arm": base.method, **({"images": "-"} if by_images else {}),
                     "seeds": "-", "PSNR (dB)": base.mean_psnr,
                     "± PSNR": 0.0, "SSIM": base.mean_ssim, "± SSIM": 0.0,
                     "gain (dB)": base.mean_psnr - reference,
                     "trainable parameters": 0, "train time (s)": 0.0})
    for key, runs in groups.items():
        psnr, psnr_sd = mean_sd(r.heldout.mean_psnr for r in runs)
        ssim, ssim_sd = mean_sd(r.heldout.mean_ssim for r in runs)
        row = {"arm": key[0], **({"images": key[1]} if by_images else {}), "seeds": len(runs),
               "PSNR (dB)": psnr, "± PSNR": psnr_sd, "SSIM": ssim, "± SSIM": ssim_sd}
        if reference is not None:
            row["gain (dB)"] = psnr - reference
        row["trainable parameters"] = runs[0].trainable
        row["train time (s)"] = float(np.mean([r.seconds for r in runs]))
        rows.append(row)
    return rows


def versus(results: Iterable[ArmResult], reference: str | EvaluationResult,
           by_images: bool = False) -> list[dict]:
    r"""Each arm's held-out PSNR and SSIM minus the reference's, seed by seed, with a verdict.

    For arm :math:`a`, reference :math:`r` and seeds :math:`i = 1 \dots n`, the paired
    differences :math:`d_i = \mathrm{PSNR}_a(i) - \mathrm{PSNR}_r(i)` (the same seed means
    the same training images and patches for both) give the row's mean :math:`\bar d` and
    standard deviation :math:`s_d` (:func:`mean_sd`). An untrained reference (an
    :class:`~course_utils.evaluation.evaluate.EvaluationResult`, e.g. bicubic or the zero-shot
    source model) scores the same for every seed. The verdict is the course's rule: a
    difference no larger than its spread, :math:`|\bar d| \le s_d`, is "within the spread",
    not a finding; with one seed there is no spread to judge by.

    Parameters
    ----------
    results : the runs of :func:`run_arms` (or :func:`data_efficiency`)
    reference : the name of an arm in ``results``, or an untrained method's scores
    by_images : compare at each number of training images separately (data-efficiency curves)

    Returns
    -------
    list of dict : one row per arm (and number of images): ``"arm"``, ``"vs"``,
        ``"Δ PSNR (dB)"``, ``"± Δ PSNR"``, ``"Δ SSIM"``, ``"± Δ SSIM"``, ``"seeds"``,
        ``"verdict"``.
    """
    results = list(results)
    key = (lambda r: (r.arm, r.n_images)) if by_images else (lambda r: (r.arm,))
    if isinstance(reference, EvaluationResult):
        name = reference.method
        ref = {}
    else:
        name = reference
        ref = {(r.seed, *key(r)[1:]): r.heldout for r in results if r.arm == reference}
        if not ref:
            raise KeyError(f"no run of {reference!r}; the arms are "
                           f"{sorted({r.arm for r in results})}.")
    groups: dict[tuple, list[ArmResult]] = {}
    for r in results:
        if r.arm != name:
            groups.setdefault(key(r), []).append(r)
    rows = []
    for group, runs in groups.items():
        pairs = []
        for r in runs:
            base = reference if isinstance(reference, EvaluationResult) else ref.get(
                (r.seed, *group[1:]))
            if base is None:
                raise KeyError(f"{name!r} has no run with seed {r.seed}"
                               + (f" and {group[1]} images" if by_images else "")
                               + f" to compare {r.arm!r} with.")
            pairs.append((r.heldout.mean_psnr - base.mean_psnr,
                          r.heldout.mean_ssim - base.mean_ssim))
        d_psnr, sd_psnr = mean_sd(p for p, _ in pairs)
        d_ssim, sd_ssim = mean_sd(s for _, s in pairs)
        if len(pairs) < 2:
            verdict = "one seed: no spread to judge by"
        elif abs(d_psnr) <= sd_psnr:
            verdict = "within the spread"
        else:
            verdict = "higher" if d_psnr > 0 else "lower"
        rows.append({"arm": group[0], **({"images": group[1]} if by_images else {}), "vs": name,
                     "Δ PSNR (dB)": d_psnr, "± Δ PSNR": sd_psnr, "Δ SSIM": d_ssim,
                     "± Δ SSIM": sd_ssim, "seeds": len(pairs), "verdict": verdict})
    return rows
