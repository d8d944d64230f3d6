"""Training and validation data for any task: (input, target) pairs cut from clean images.

Each clean image becomes a target with :meth:`course_utils.tasks.Task.target` (8 bits;
modcropped for super-resolution) and an input with :meth:`~course_utils.tasks.Task.degrade`,
the same degradation the evaluation uses, so a model sees in training exactly the kind of
input it is tested on. Every sample is a random, aligned crop of the pair (input patch at
``(y, x)``, target patch at ``(s*y, s*x)``), with a random flip and 90-degree rotation.

* Deterministic tasks (SR, deblurring, JPEG) degrade each image once, when the dataset is
  built. Flips commute exactly with ``imresize`` on a modcropped image (the sampling grid is
  symmetric); a transpose swaps the order of the two resize passes, which moves MATLAB's
  per-pass rounding by at most one grey level on a few pixels: negligible for training.
* Random tasks (noise, masks) degrade every target patch afresh, so the network never sees
  the same noise twice (as DnCNN trains).

Samples are reproducible: sample ``i`` of epoch ``e`` is drawn from a generator seeded with
``(seed, e, i)``, whatever the order or the number of DataLoader workers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..checks import check_image
from ..images import image_to_tensor
from ..tasks import Task, get_task

__all__ = ["MultiTaskPatches", "NoisyPatches", "PairedPatches", "split_for_validation",
           "validation_pairs"]

MODES = ("y", "rgb")


def _chw(image: np.ndarray, mode: str) -> np.ndarray:
    # (C, H, W) float32 in [0, 1], the networks' convention (course_utils.images).
    return image_to_tensor(image, mode)[0].numpy()


def _as_list(images: Mapping[str, np.ndarray] | Sequence[np.ndarray]) -> list[np.ndarray]:
    return list(images.values()) if isinstance(images, Mapping) else list(images)


def _augment(arrays: list[np.ndarray], rng: np.random.Generator,
             axes: tuple[int, int]) -> list[np.ndarray]:
    # One of the 8 symmetries of the square, the same for every array of a pair.
    k, flip = int(rng.integers(4)), bool(rng.integers(2))
    arrays = [np.rot90(a, k, axes=axes) for a in arrays]
    return [np.flip(a, axis=axes[1]) for a in arrays] if flip else arrays


def _corner(rng: np.random.Generator, height: int, width: int, patch: int) -> tuple[int, int]:
    # The top-left corner of a random patch x patch crop of a height x width image.
    return (int(rng.integers(0, height - patch + 1)), int(rng.integers(0, width - patch + 1)))


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be 'y' (luma only, the Y-channel models) or 'rgb', "
                         f"got {mode!r}.")
    return mode


class PairedPatches(Dataset):
    """Random (input, target) patch pairs of a task, for training.

    Parameters
    ----------
    images : mapping or sequence of ndarray
        Clean images (RGB or grayscale, uint8 or float in [0, 1]), e.g.
        :func:`course_utils.data.domain_images`. Each must hold at least one patch.
    task : Task or str
        A :mod:`course_utils.tasks` task or its spec (``"sr-x3"``, ``"denoise-25"`` ...).
    patch_size : int
        Side of the *target* patch in pixels; a multiple of the task's scale. The input patch
        is ``patch_size // scale``.
    mode : {"y", "rgb"}
        ``"y"``: one channel, ``Y / 255`` of BT.601 (as the classic SR papers train; a gray
        image's Y is ``16 + 219 g``); ``"rgb"``: three channels (a gray image is repeated).
    samples_per_epoch : int
        How many patches make one epoch. Images are sampled in proportion to their area.
    augment : bool
        Random flips and 90-degree rotations (the 8 symmetries of the square).
    seed : int

    Raises
    ------
    ValueError
        An image smaller than ``patch_size`` (after modcrop), a patch size that is not a
        multiple of the scale, or no images.

    Examples
    --------
    >>> from course_utils.data import domain_images
    >>> patches = PairedPatches(domain_images("natural", limit=1), "sr-x3", patch_size=48)
    >>> x, y = patches[0]
    >>> tuple(x.shape), tuple(y.shape)
    ((1, 16, 16), (1, 48, 48))
    """

    def __init__(
        self,
        images: Mapping[str, np.ndarray] | Sequence[np.ndarray],
        task: Task | str,
        patch_size: int = 48,
        mode: str = "y",
        samples_per_epoch: int = 1000,
        augment: bool = True,
        seed: int = 0,
    ) -> None:
        self.task = get_task(task)
        self.mode = _check_mode(mode)
        scale = self.task.scale
        if patch_size < scale or patch_size % scale:
            raise ValueError(
                f"patch_size ({patch_size}) must be a multiple of the scale ({scale}) so that "
                f"the input patch is whole; try {max(scale, patch_size - patch_size % scale)}."
            )
        if samples_per_epoch < 1:
            raise ValueError(f"samples_per_epoch must be at least 1, got {samples_per_epoch}.")
        images = _as_list(images)
        if not images:
            raise ValueError("no images given: PairedPatches needs at least one clean image.")
        self.patch_size = patch_size
        self.samples_per_epoch, self.augment, self.seed = samples_per_epoch, augment, seed
        self.epoch = 0
        self._targets, self._pairs = [], []
        for i, image in enumerate(images):
            target = self.task.target(check_image(image, f"image {i}"))
            if min(target.shape[:2]) < patch_size:
                raise ValueError(
                    f"image {i} is {target.shape[1]}x{target.shape[0]} (WxH) after modcrop, "
                    f"smaller than one {patch_size}x{patch_size} patch; use a smaller "
                    "patch_size or drop the image."
                )
            if self.task.stochastic:
                self._targets.append(target)
            else:
                degraded = self.task.degrade(target, np.random.default_rng((seed, i)))
                self._pairs.append((_chw(degraded, mode), _chw(target, mode)))
        if self._targets:  # fail now, not at the first batch: e.g. a mask's block too large
            corner = self._targets[0][:patch_size, :patch_size]
            try:
                self.task.degrade(corner, np.random.default_rng(seed))
            except ValueError as err:
                raise ValueError(f"{self.task.name} cannot degrade a {patch_size}x{patch_size} "
                                 f"training patch: {err}") from None
        areas = np.array([t.shape[0] * t.shape[1] for t in self._targets] or
                         [y.shape[1] * y.shape[2] for _, y in self._pairs], float)
        self._weights = areas / areas.sum()

    @property
    def scale(self) -> int:
        return self.task.scale

    @property
    def channels(self) -> int:
        return 1 if self.mode == "y" else 3

    def set_epoch(self, epoch: int) -> None:
        """Draw a new set of patches for ``epoch`` (called by
        :func:`course_utils.training.loop.fit`)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples.")
        rng = np.random.default_rng((self.seed, self.epoch, index))
        chosen = int(rng.choice(len(self._weights), p=self._weights))
        s, p = self.scale, self.patch_size // self.scale
        if self.task.stochastic:  # crop and turn the clean patch, then degrade it afresh
            target = self._targets[chosen]
            y, x = _corner(rng, *target.shape[:2], self.patch_size)
            patch = target[y:y + self.patch_size, x:x + self.patch_size]
            if self.augment:
                (patch,) = _augment([patch], rng, axes=(0, 1))
            patch = np.ascontiguousarray(patch)
            pair = (_chw(self.task.degrade(patch, rng), self.mode), _chw(patch, self.mode))
        else:
            lr, hr = self._pairs[chosen]
            y, x = _corner(rng, *lr.shape[1:3], p)
            pair = [lr[:, y:y + p, x:x + p], hr[:, s * y:s * (y + p), s * x:s * (x + p)]]
            if self.augment:
                pair = _augment(pair, rng, axes=(1, 2))
        return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in pair)


class NoisyPatches(Dataset):
    """Patches of noisy images alone, each returned as ``(patch, patch)``: the data of
    self-supervised denoising (:class:`course_utils.training.noise2self.Noise2Self`), where
    no clean image exists.

    Each image is a noisy observation (float, the noise not clipped) that stays the same
    from epoch to epoch, as a photographer's noisy shots do; patches are cut at random and
    flipped or turned as in :class:`PairedPatches`. ``mode`` is
    :func:`course_utils.images.image_to_tensor`'s.
    """

    def __init__(self, noisy: Mapping[str, np.ndarray] | Sequence[np.ndarray],
                 patch_size: int = 48, mode: str = "y", samples_per_epoch: int = 1000,
                 augment: bool = True, seed: int = 0) -> None:
        self.mode = _check_mode(mode)
        if samples_per_epoch < 1:
            raise ValueError(f"samples_per_epoch must be at least 1, got {samples_per_epoch}.")
        noisy = _as_list(noisy)
        if not noisy:
            raise ValueError("no images given: NoisyPatches needs at least one noisy image.")
        self.patch_size, self.samples_per_epoch = patch_size, samples_per_epoch
        self.augment, self.seed, self.epoch = augment, seed, 0
        self._images = []
        for i, image in enumerate(noisy):
            if min(image.shape[:2]) < patch_size:
                raise ValueError(f"noisy image {i} is {image.shape[1]}x{image.shape[0]} "
                                 f"(WxH), smaller than one {patch_size}x{patch_size} patch; "
                                 "use a smaller patch_size or drop the image.")
            self._images.append(_chw(image, mode))
        self._weights = np.array([im.shape[1] * im.shape[2] for im in self._images], float)
        self._weights /= self._weights.sum()

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples.")
        rng = np.random.default_rng((self.seed, self.epoch, index))
        image = self._images[int(rng.choice(len(self._weights), p=self._weights))]
        p = self.patch_size
        y, x = _corner(rng, *image.shape[1:3], p)
        patch = image[:, y:y + p, x:x + p]
        if self.augment:
            (patch,) = _augment([patch], rng, axes=(1, 2))
        patch = torch.from_numpy(np.ascontiguousarray(patch))
        return patch, patch


class MultiTaskPatches(Dataset):
    """Several tasks' patches in one dataset: sample ``i`` is sample ``i // K`` of task
    ``i % K`` (``K`` tasks), returned as ``(input, target, k)``, so every batch holds the
    tasks in equal shares (:func:`course_utils.training.loop.fit` passes ``k`` to the model).
    """

    def __init__(self, datasets: Sequence[PairedPatches]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("no datasets given: MultiTaskPatches needs one per task.")

    def set_epoch(self, epoch: int) -> None:
        for d in self.datasets:
            d.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.datasets) * min(len(d) for d in self.datasets)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples.")
        k = index % len(self.datasets)
        return (*self.datasets[k][index // len(self.datasets)], k)


def split_for_validation(image: np.ndarray, multiple: int = 1,
                         fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Split an image into a top part for training and a bottom strip for validation.

    Splitting each training photo by rows keeps all photos in training while validation
    pixels are never trained on. The held-out test photos stay untouched for the final
    evaluation. The cut is on a multiple of ``multiple`` (the SR scale).
    """
    rows = image.shape[0]
    cut = int(round(rows * (1 - fraction))) // multiple * multiple
    return image[:cut], image[cut:]


def validation_pairs(images: Mapping[str, np.ndarray] | Sequence[np.ndarray], task: Task | str,
                     mode: str = "y",
                     seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Whole-image ``(input, target)`` tensor pairs for :func:`course_utils.training.loop.fit`.

    Each image becomes a target and an input exactly as in :class:`PairedPatches` (image
    ``i`` degraded with a generator seeded ``(seed, i)``); ``mode`` is that of
    :func:`course_utils.images.image_to_tensor`.
    """
    task, mode = get_task(task), _check_mode(mode)
    pairs = []
    for i, image in enumerate(_as_list(images)):
        target = task.target(image)
        degraded = task.degrade(target, np.random.default_rng((seed, i)))
        pairs.append((image_to_tensor(degraded, mode), image_to_tensor(target, mode)))
    return pairs
