"""Training data for super-resolution: (LR, HR) patch pairs cut from HR images.

Each HR image is modcropped and degraded once, when the dataset is built, with the same
MATLAB-style bicubic ``imresize(HR, 1/s)`` on uint8 that makes the benchmark LR images
(:func:`course_utils.evaluate.make_lr`), so a model sees in training exactly the kind of LR
image it is tested on. Every sample is then a random, aligned crop of the pair (LR patch at
``(y, x)``, HR patch at ``(s*y, s*x)``), with a random flip and 90-degree rotation.

Flips commute exactly with ``imresize`` on a modcropped image (the sampling grid is
symmetric). A transpose swaps the order of the two resize passes, which moves MATLAB's
per-pass rounding by at most one grey level on a few pixels: negligible for training.

Samples are reproducible: sample ``i`` of epoch ``e`` is drawn from a generator seeded with
``(seed, e, i)``, whatever the order or the number of DataLoader workers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from .checks import check_image, check_scale
from .data import to_uint8
from .degrade import imresize, modcrop
from .metrics import rgb_to_y

__all__ = ["SRPatches", "image_to_tensor", "tensor_to_image"]


def image_to_tensor(image: np.ndarray, mode: str = "rgb") -> torch.Tensor:
    """An image as a ``(1, C, H, W)`` float32 tensor in [0, 1], the models' input.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, 3)
        uint8, uint16 or float in [0, 1].
    mode : {"rgb", "y"}
        ``"rgb"`` keeps the channels (a gray image gives C = 1); ``"y"`` converts to the
        BT.601 luma of :func:`course_utils.metrics.rgb_to_y`, scaled to [0, 1] as
        ``Y / 255``, the input of Y-channel models.
    """
    image = check_image(image)
    if mode == "y":
        array = rgb_to_y(image)[..., None] / 255.0
    elif mode == "rgb":
        if np.issubdtype(image.dtype, np.integer):
            array = image / np.iinfo(image.dtype).max
        else:
            array = image
        array = array[..., None] if array.ndim == 2 else array
    else:
        raise ValueError(f"mode must be 'rgb' or 'y', got {mode!r}.")
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1), np.float32))[None]


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """Inverse of :func:`image_to_tensor` for ``mode="rgb"``: ``(1, C, H, W)`` to an
    ``(H, W)`` or ``(H, W, C)`` float array, clipped to [0, 1]."""
    if tensor.ndim != 4 or tensor.shape[0] != 1:
        raise ValueError(f"expected a (1, C, H, W) tensor, got shape {tuple(tensor.shape)}.")
    array = tensor[0].detach().float().clamp(0, 1).cpu().numpy().transpose(1, 2, 0)
    return array[..., 0] if array.shape[2] == 1 else array


def _as_list(images: Mapping[str, np.ndarray] | Sequence[np.ndarray]) -> list[np.ndarray]:
    return list(images.values()) if isinstance(images, Mapping) else list(images)


class SRPatches(Dataset):
    """Random (LR, HR) patch pairs for training an SR model.

    Parameters
    ----------
    images : mapping or sequence of ndarray
        HR images (RGB or grayscale, uint8 or float in [0, 1]), e.g.
        :func:`course_utils.data.natural_images`. Each must hold at least one patch.
    scale : int
        SR factor (2 or more).
    patch_size : int
        Side of the *HR* patch in pixels; must be a multiple of ``scale``. The LR patch is
        ``patch_size // scale``.
    mode : {"y", "rgb"}
        ``"y"``: one channel, ``Y / 255`` of BT.601 (as the classic papers train);
        ``"rgb"``: three channels (a gray image is repeated).
    samples_per_epoch : int
        How many patches make one epoch. Images are sampled in proportion to their area.
    augment : bool
        Random flips and 90-degree rotations (the 8 symmetries of the square).
    seed : int

    Raises
    ------
    ValueError
        An image smaller than ``patch_size`` after modcrop, a patch size that is not a
        multiple of the scale, or no images.

    Examples
    --------
    >>> from course_utils.data import natural_images
    >>> patches = SRPatches(natural_images("train", limit=1), scale=3, patch_size=48)
    >>> lr, hr = patches[0]
    >>> tuple(lr.shape), tuple(hr.shape)
    ((1, 16, 16), (1, 48, 48))
    """

    def __init__(
        self,
        images: Mapping[str, np.ndarray] | Sequence[np.ndarray],
        scale: int,
        patch_size: int = 48,
        mode: str = "y",
        samples_per_epoch: int = 1000,
        augment: bool = True,
        seed: int = 0,
    ) -> None:
        self.scale = check_scale(scale)
        if self.scale < 2:
            raise ValueError(f"scale must be 2 or more for super-resolution, got {scale}.")
        if mode not in ("y", "rgb"):
            raise ValueError(f"mode must be 'y' (luma only) or 'rgb', got {mode!r}.")
        if patch_size < scale or patch_size % scale:
            raise ValueError(
                f"patch_size ({patch_size}) must be a multiple of the scale ({scale}) so that "
                f"the LR patch is whole; try {max(scale, patch_size - patch_size % scale)}."
            )
        if samples_per_epoch < 1:
            raise ValueError(f"samples_per_epoch must be at least 1, got {samples_per_epoch}.")
        images = _as_list(images)
        if not images:
            raise ValueError("no images given: SRPatches needs at least one HR image.")
        self.patch_size, self.mode = patch_size, mode
        self.samples_per_epoch, self.augment, self.seed = samples_per_epoch, augment, seed
        self.epoch = 0
        self._pairs = []
        for i, image in enumerate(images):
            hr = to_uint8(modcrop(check_image(image, f"image {i}"), self.scale))
            if min(hr.shape[:2]) < patch_size:
                raise ValueError(
                    f"image {i} is {hr.shape[1]}x{hr.shape[0]} (WxH) after modcrop, smaller "
                    f"than one {patch_size}x{patch_size} patch; use a smaller patch_size or "
                    "drop the image."
                )
            lr = imresize(hr, 1 / self.scale)
            self._pairs.append((self._channels(lr), self._channels(hr)))
        areas = np.array([hr.shape[1] * hr.shape[2] for _, hr in self._pairs], float)
        self._weights = areas / areas.sum()

    def _channels(self, image: np.ndarray) -> np.ndarray:
        # (C, H, W) float32 in [0, 1], converted once so that __getitem__ only slices.
        if self.mode == "y":
            array = rgb_to_y(image)[None] / 255.0
        else:
            array = image / 255.0
            array = np.repeat(array[None], 3, 0) if array.ndim == 2 else array.transpose(2, 0, 1)
        return np.ascontiguousarray(array, np.float32)

    @property
    def channels(self) -> int:
        return 1 if self.mode == "y" else 3

    def set_epoch(self, epoch: int) -> None:
        """Draw a new set of patches for ``epoch`` (called by :func:`course_utils.train.fit`)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples.")
        rng = np.random.default_rng((self.seed, self.epoch, index))
        lr, hr = self._pairs[rng.choice(len(self._pairs), p=self._weights)]
        p = self.patch_size // self.scale
        y = int(rng.integers(0, lr.shape[1] - p + 1))
        x = int(rng.integers(0, lr.shape[2] - p + 1))
        s = self.scale
        lr = lr[:, y:y + p, x:x + p]
        hr = hr[:, s * y:s * (y + p), s * x:s * (x + p)]
        if self.augment:
            k, flip = int(rng.integers(4)), bool(rng.integers(2))
            lr, hr = (np.rot90(a, k, axes=(1, 2)) for a in (lr, hr))
            if flip:
                lr, hr = lr[:, :, ::-1], hr[:, :, ::-1]
        return (torch.from_numpy(np.ascontiguousarray(lr)),
                torch.from_numpy(np.ascontiguousarray(hr)))
