"""One plain training loop for every unit, and its history.

:func:`fit` runs on whatever :func:`course_utils.device.get_device` finds (CUDA, MPS or the
CPU), uses mixed precision on CUDA, shows a ``tqdm`` progress bar (a line of text in executed
copies, :func:`course_utils.config.text_progress`), measures the validation
PSNR after every epoch, follows a learning-rate schedule, stops early when the validation
PSNR stops improving, and returns a :class:`History` that plots the learning curve.

The loop is the one of pytorch/examples (``zero_grad``, ``backward``, ``step`` over a
``DataLoader``) with the course's additions around it; notebook 03 writes it out by hand and
checks that :func:`fit` does the same. The best model can be saved on the way as a
safetensors checkpoint (:mod:`course_utils.models.checkpoint`).
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import matplotlib.pyplot as plt
import torch
from IPython import get_ipython
from IPython.display import display
from torch import nn
from tqdm.auto import tqdm

from ..config import text_progress
from ..device import get_device
from ..metrics import psnr_torch
from ..models.checkpoint import save_checkpoint
from ..models.registry import model_config
from .losses import LOSSES

__all__ = ["History", "evaluate_psnr", "fit"]


@dataclass
class History:
    """What happened in :func:`fit`, one entry per epoch."""

    train_loss: list[float] = field(default_factory=list)
    val_psnr: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # cumulative wall time
    steps: list[int] = field(default_factory=list)  # cumulative optimiser steps
    best_epoch: int = -1
    stopped_early: bool = False

    @property
    def best_psnr(self) -> float:
        return self.val_psnr[self.best_epoch] if self.best_epoch >= 0 else float("nan")

    def to_dict(self) -> dict:
        return {**asdict(self), "best_psnr": self.best_psnr}

    def plot(self, axes=None, label: str | None = None, reference: float | None = None,
             **style):
        """Plot training loss and validation PSNR against the training step; returns the axes.

        ``reference`` (dB), e.g. the untrained model's validation PSNR, is subtracted from the
        curve, so that arms a few tenths of a dB apart do not merge into one line; ``style``
        goes to ``Axes.plot`` (``marker``, ``ls`` ...).
        """
        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
        style = {"marker": ".", **style}
        axes[0].plot(self.steps, self.train_loss, label=label, **style)
        axes[0].set(xlabel="training step", ylabel="training loss", yscale="log",
                    title="Training loss (mean over each epoch)")
        shift = 0.0 if reference is None else reference
        axes[1].plot(self.steps, [p - shift for p in self.val_psnr], label=label, **style)
        axes[1].set(xlabel="training step",
                    ylabel="PSNR (dB)" if reference is None else "PSNR - reference (dB)",
                    title="Validation PSNR")
        if label is not None:
            axes[1].legend(fontsize=8)
        return axes


@torch.no_grad()
def evaluate_psnr(model: nn.Module, pairs: Iterable[tuple[torch.Tensor, torch.Tensor]],
                  border: int = 0, device: torch.device | None = None) -> float:
    """Mean PSNR (dB, data range 1) of ``model(input)`` against ``target`` over ``pairs``.

    Each pair is an ``(input, target)`` of ``(1, C, h, w)`` / ``(1, C, H, W)`` tensors (whole
    images of any size) or a batch of equal-size ones; further tensors in a pair (the task
    index of a multi-task model) are passed to the model after the input. ``border`` pixels
    are cropped from each side before scoring, as the SR convention does with
    ``border = scale``.

    This is the training monitor, computed in the model's own channels (``Y / 255`` for a
    Y-channel model, where a gray image is ``16 + 219 g``; R, G and B for an RGB one) without
    quantising. A codec (its output a :class:`~course_utils.models.codec.CodecOutput`) is
    scored on its decoded image, the rate aside. It ranks epochs; the held-out tables use the
    task's published recipe (:meth:`course_utils.tasks.Task.score`), so the two numbers
    differ.
    """
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    scores = []
    for x, y, *extra in pairs:  # extra: e.g. the task index of a multi-task model
        out = model(x.to(device), *(e.to(device) for e in extra))
        out = getattr(out, "x_hat", out).clamp(0, 1)  # a codec: its decoded image
        y = y.to(device)
        if out.shape != y.shape:
            raise ValueError(f"the model returned {tuple(out.shape)} for a target of "
                             f"{tuple(y.shape)}; check the scale of the validation pairs.")
        if border:
            inner = (..., slice(border, -border), slice(border, -border))
            out, y = out[inner], y[inner]
        scores.extend(psnr_torch(out.float(), y.float()).tolist())
    model.train(was_training)
    if not scores:
        raise ValueError("no validation pairs given.")
    return float(sum(scores) / len(scores))


def _live_plotter():
    """A callback that redraws the learning curve in place in a notebook (else None)."""
    if get_ipython() is None:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    plt.close(fig)  # shown through the display handle only
    handle = display(fig, display_id=True)

    def redraw(history: History) -> None:
        for ax in axes:
            ax.clear()
        history.plot(axes)
        handle.update(fig)

    return redraw


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_pairs: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    epochs: int,
    lr: float = 1e-3,
    loss: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = "mse",
    optimizer: torch.optim.Optimizer | None = None,
    schedule: str = "cosine",
    patience: int | None = None,
    keep_best: bool = True,
    clip_grad_norm: float | None = None,
    border: int = 0,
    device: torch.device | str | None = None,
    amp: bool = True,
    progress: bool = True,
    live_plot: bool = False,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_metadata: dict | None = None,
) -> History:
    """Train ``model`` and return its :class:`History`; the model ends with its best weights.

    Each epoch: one pass over ``train_loader`` (batches of ``(input, target)``), minimising
    ``loss(model(input), target)`` with Adam, then the validation PSNR on ``val_pairs``
    (:func:`evaluate_psnr`). The weights of the best validation epoch are kept and restored
    at the end (unless ``keep_best`` is False). A batch ``(input, target, task)`` trains a
    multi-task model: ``model(input, task)``.

    Parameters
    ----------
    model : nn.Module
    train_loader : iterable of (input, target) batches, usually a ``DataLoader``. If its
        dataset has ``set_epoch`` (as :class:`course_utils.data.pairs.PairedPatches`), it is called
        before every epoch so that each epoch sees new patches.
    val_pairs : iterable of (input, target) tensor pairs, e.g. whole validation images.
    epochs : int
    lr : float
        Learning rate of the Adam optimiser (ignored if ``optimizer`` is given).
    loss : {"mse", "l1"} or callable
    optimizer : torch.optim.Optimizer, optional
        Use this one instead, e.g. with parameter groups of their own learning rates.
    schedule : {"cosine", "constant"}
        ``"cosine"`` anneals every group's learning rate to 1% of its start over all steps:
        :math:`\\eta_t = \\eta_{min} + \\tfrac12(\\eta_0 - \\eta_{min})(1 + \\cos(\\pi t / T))`.
    patience : int, optional
        Stop after this many epochs without a better validation PSNR.
    keep_best : bool
        Restore the weights of the best validation epoch (default). False keeps the last
        weights: self-supervised training has no clean validation images to choose by, and
        its validation PSNR is then a monitor only.
    clip_grad_norm : float, optional
        Rescale each step's gradient to at most this L2 norm over all parameters
        (``torch.nn.utils.clip_grad_norm_``), as CompressAI trains its codecs (norm 1): a
        rare huge gradient then cannot throw the weights far.
    border : int
        Pixels cropped from each side before the validation PSNR (the SR scale, or 0).
    device : optional; default :func:`course_utils.device.get_device`.
    amp : bool
        Mixed precision (float16 with gradient scaling) when the device is CUDA.
    progress : bool
        A ``tqdm`` bar over all steps, with the loss and PSNR of the last epoch.
    live_plot : bool
        Redraw the learning curve after each epoch (in a notebook).
    checkpoint : path, optional
        Save the best model there (a safetensors file,
        :func:`course_utils.models.checkpoint.save_checkpoint`).
    checkpoint_metadata : dict, optional
        Extra JSON-serialisable facts stored in the checkpoint.

    Returns
    -------
    History
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}.")
    if checkpoint is not None:
        model_config(model)  # not built by get_model: say so now, not after an epoch
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ValueError(f"clip_grad_norm must be positive (or None), got {clip_grad_norm}.")
    if schedule not in ("cosine", "constant"):
        raise ValueError(f"schedule must be 'cosine' or 'constant', got {schedule!r}.")
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)} "
                             "or pass a function (output, target) -> scalar tensor.")
        loss = LOSSES[loss]
    device = torch.device(device) if device is not None else get_device()
    model.to(device)
    if isinstance(loss, nn.Module):  # e.g. a perceptual loss holding a network of its own
        loss.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = len(train_loader)
    total = epochs * steps_per_epoch
    if schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda t: 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(t, total) / total))
        )
    else:
        scheduler = None
    use_amp = amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    dataset = getattr(train_loader, "dataset", None)
    redraw = _live_plotter() if live_plot else None

    history = History()
    best_state = None
    start = time.perf_counter()
    as_text = progress and text_progress()  # a copy for reading: no widget, one line at the end
    bar = tqdm(total=total, disable=not progress or as_text, unit="step", leave=True)
    for epoch in range(epochs):
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        model.train()
        running, count = 0.0, 0
        for x, y, *extra in train_loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            extra = [e.to(device) for e in extra]
            with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                value = loss(model(x, *extra), y)
            if not torch.isfinite(value):
                raise FloatingPointError(
                    f"the training loss became {value.item()} at epoch {epoch + 1}; lower the "
                    f"learning rate (now {optimizer.param_groups[0]['lr']:.2g}) or clip the "
                    "gradient (clip_grad_norm)."
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(value).backward()
            if clip_grad_norm is not None:
                scaler.unscale_(optimizer)  # clip the true gradient, not the scaled one
                # the optimiser's parameters: those unscale_ divided (a custom optimiser
                # may hold only part of the model)
                nn.utils.clip_grad_norm_([p for group in optimizer.param_groups
                                          for p in group["params"]], clip_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            if scheduler is not None:
                scheduler.step()
            running += value.item() * x.shape[0]
            count += x.shape[0]
            bar.update()

        psnr = evaluate_psnr(model, val_pairs, border=border, device=device)
        history.train_loss.append(running / max(count, 1))
        history.val_psnr.append(psnr)
        history.lr.append(optimizer.param_groups[0]["lr"])
        history.seconds.append(time.perf_counter() - start)
        history.steps.append((epoch + 1) * steps_per_epoch)
        bar.set_postfix(loss=f"{history.train_loss[-1]:.2e}", val_psnr=f"{psnr:.2f}")
        if psnr > history.best_psnr or history.best_epoch < 0:
            history.best_epoch = epoch
            best_state = copy.deepcopy(model.state_dict())
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, {**(checkpoint_metadata or {}),
                                                    "epoch": epoch + 1, "val_psnr": psnr})
        if redraw is not None:
            redraw(history)
        if patience is not None and epoch - history.best_epoch >= patience:
            history.stopped_early = True
            break
    bar.close()
    if as_text:
        print(f"{history.steps[-1]} steps in {history.seconds[-1]:.0f} s; best validation PSNR "
              f"{history.best_psnr:.2f} dB after epoch {history.best_epoch + 1}")
    if keep_best:
        model.load_state_dict(best_state)
    return history
