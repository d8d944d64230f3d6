"""Reconstruction tasks: how a clean image becomes the network's input, and how it is scored.

A task is described once here and used by the data
(:class:`course_utils.data.pairs.PairedPatches`,
:func:`~course_utils.data.pairs.validation_pairs`), training (the validation border),
evaluation (:func:`course_utils.evaluation.evaluate.evaluate_images`) and the experiments
alike. Every task

* makes the **target** from a clean image: quantised to 8 bits (the published benchmarks are
  8-bit images) and, for super-resolution, modcropped to a multiple of the scale;
* **degrades** the target into the network's input, :math:`y = D(x)`, with a NumPy generator
  for the tasks that draw random numbers (noise, masks), so every run is reproducible;
* **scores** an output against the target with the convention of its published tables.

======================  ==========================================  ============================
task (spec)             degradation :math:`D(x)`                    score
======================  ==========================================  ============================
``sr-x3``               MATLAB bicubic ``imresize(x, 1/s)``, uint8  Y (gray: intensities),
                                                                    border = s
``denoise-25``          :math:`x + n`, :math:`n \\sim N(0, \\sigma^2)`,
                        sigma on 0-255, not clipped (DnCNN)         uint8, full image
``deblur-1.6``          Gaussian blur, kernel sigma in pixels       uint8, full image
``inpaint-0.5``         that share of pixels set to 0               uint8, full image
``jpeg-10``             JPEG (Pillow) at that quality               uint8, full image
======================  ==========================================  ============================

"uint8, full image" is :func:`course_utils.metrics.restoration_metrics`: output clipped and
quantised to 8 bits, PSNR and SSIM over every pixel and channel, no border crop. The SR score
is :func:`course_utils.metrics.sr_metrics`. Restoration tasks work at scale 1: input and
output have the target's size. (Unit 07's learned compression adds a rate term, in bits per
pixel, to the score of its own codec.)

Examples
--------
>>> task = get_task("denoise-25")
>>> task.scale, task.border
(1, 0)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .checks import check_image, check_scale
from .degrade import add_gaussian_noise, gaussian_blur, jpeg_compress, make_lr, mask_pixels, modcrop
from .images import to_float, to_uint8
from .metrics import WINDOW_SIZE, restoration_metrics, sr_metrics

__all__ = ["TASKS", "Deblurring", "Denoising", "Inpainting", "JPEGArtifacts", "SuperResolution",
           "Task", "get_task"]


@dataclass(frozen=True)
class Task:
    """The common interface; use one of the subclasses.

    Attributes
    ----------
    scale : int
        Output size / input size (1 for restoration).
    stochastic : bool
        Whether :meth:`degrade` draws random numbers (then each training patch gets its own).
    """

    scale = 1
    stochastic = False

    @property
    def name(self) -> str:
        """The task's spec, e.g. ``"sr-x3"``; :func:`get_task` parses it back."""
        raise NotImplementedError

    @property
    def border(self) -> int:
        """Pixels cropped from each side before scoring (the SR scale; 0 for restoration)."""
        return 0

    @property
    def min_side(self) -> int:
        """The smallest target side the task can score: SSIM's window after the border crop."""
        return WINDOW_SIZE + 2 * self.border

    def target(self, clean: np.ndarray) -> np.ndarray:
        """The ground truth made from a clean image: uint8 (modcropped for SR)."""
        return _to_8_bits(clean)

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """The network's input for ``target`` (a :meth:`target` image)."""
        raise NotImplementedError

    def score(self, output: np.ndarray, target: np.ndarray) -> dict[str, float]:
        """``{"psnr": dB, "ssim": ...}`` of ``output`` against ``target``."""
        psnr, ssim = restoration_metrics(output, target)
        return {"psnr": psnr, "ssim": ssim}

    def __str__(self) -> str:
        return self.name


def _to_8_bits(clean: np.ndarray) -> np.ndarray:
    clean = check_image(clean, "clean")
    if clean.dtype == np.uint16:
        warnings.warn("a 16-bit image is scored at 8 bits, as the published benchmarks are; "
                      "its lower 8 bits are rounded away.", stacklevel=3)
    return to_uint8(clean)


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    if rng is None:
        raise ValueError("this task draws random numbers: pass a seeded generator, e.g. "
                         "rng=np.random.default_rng(0), so that the run is reproducible.")
    return rng


@dataclass(frozen=True)
class SuperResolution(Task):
    """Super-resolution by an integer ``scale`` (2 or more), the benchmark degradation.

    :math:`y = \\text{imresize}(x, 1/s)` with MATLAB's antialiased bicubic on uint8
    (:func:`course_utils.degrade.make_lr`); scored with the standard SR recipe.
    """

    scale: int = 3

    def __post_init__(self) -> None:
        if check_scale(self.scale) < 2:
            raise ValueError(f"super-resolution needs a scale of 2 or more, got {self.scale}; "
                             "restoration tasks (denoise, deblur, inpaint, jpeg) work at "
                             "scale 1.")

    @property
    def name(self) -> str:
        return f"sr-x{self.scale}"

    @property
    def border(self) -> int:
        return self.scale

    def target(self, clean: np.ndarray) -> np.ndarray:
        return _to_8_bits(modcrop(check_image(clean, "clean"), self.scale))

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return make_lr(target, self.scale)

    def score(self, output: np.ndarray, target: np.ndarray) -> dict[str, float]:
        psnr, ssim = sr_metrics(output, target, self.scale)
        return {"psnr": psnr, "ssim": ssim}


@dataclass(frozen=True)
class Denoising(Task):
    """Additive white Gaussian noise of standard deviation ``sigma`` on the 0-255 scale.

    :math:`y = x + n,\\ n \\sim \\mathcal{N}(0, (\\sigma/255)^2)` on the float image, not
    clipped, as in the DnCNN / KAIR practice (15, 25 and 50 are the published levels).
    """

    sigma: float = 25.0
    stochastic = True

    def __post_init__(self) -> None:
        if not 0 < self.sigma <= 255:
            raise ValueError(f"sigma is on the 0-255 scale (15, 25, 50), got {self.sigma!r}.")

    @property
    def name(self) -> str:
        return f"denoise-{self.sigma:g}"

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return add_gaussian_noise(target, self.sigma / 255.0, _rng(rng), clip=False)


@dataclass(frozen=True)
class Deblurring(Task):
    """Gaussian blur with a kernel of standard deviation ``sigma`` pixels (mirrored borders)."""

    sigma: float = 1.6

    def __post_init__(self) -> None:
        if not 0 < self.sigma <= 20:
            raise ValueError(f"sigma is the blur kernel's width in pixels (0 to 20), got "
                             f"{self.sigma!r}.")

    @property
    def name(self) -> str:
        return f"deblur-{self.sigma:g}"

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return gaussian_blur(target, self.sigma)


@dataclass(frozen=True)
class Inpainting(Task):
    """Random missing pixels: each pixel is set to 0 with probability ``fraction``."""

    fraction: float = 0.5
    stochastic = True

    def __post_init__(self) -> None:
        if not 0 < self.fraction < 1:
            raise ValueError(f"fraction is the share of missing pixels, in (0, 1); got "
                             f"{self.fraction!r}.")

    @property
    def name(self) -> str:
        return f"inpaint-{self.fraction:g}"

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return mask_pixels(target, self.fraction, _rng(rng))[0]


@dataclass(frozen=True)
class JPEGArtifacts(Task):
    """JPEG compression at ``quality`` (1-100, Pillow's baseline encoder)."""

    quality: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.quality, int | np.integer) or not 1 <= self.quality <= 100:
            raise ValueError(f"quality must be an integer from 1 to 100, got {self.quality!r}.")

    @property
    def name(self) -> str:
        return f"jpeg-{self.quality}"

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return to_float(jpeg_compress(target, self.quality))


#: Task kinds by the prefix of their spec, with the type of their one parameter.
TASKS: dict[str, tuple[type[Task], type]] = {
    "sr": (SuperResolution, int),
    "denoise": (Denoising, float),
    "deblur": (Deblurring, float),
    "inpaint": (Inpainting, float),
    "jpeg": (JPEGArtifacts, int),
}


def get_task(spec: str | Task) -> Task:
    """The task of a spec such as ``"sr-x3"``, ``"denoise-25"``, ``"deblur-1.6"``,
    ``"inpaint-0.5"`` or ``"jpeg-10"`` (a :class:`Task` is returned as it is).

    Raises
    ------
    ValueError
        An unknown kind or a parameter that does not parse or is out of range.
    """
    if isinstance(spec, Task):
        return spec
    kind, _, value = str(spec).partition("-")
    if kind not in TASKS or not value:
        raise ValueError(f"unknown task {spec!r}; write KIND-VALUE with KIND one of "
                         f"{', '.join(TASKS)}, e.g. sr-x3, denoise-25, deblur-1.6, inpaint-0.5, "
                         "jpeg-10.")
    cls, kind_type = TASKS[kind]
    if (kind == "sr") != value.startswith("x"):  # sr-x3, but denoise-25, jpeg-10
        raise ValueError(f"task {spec!r}: write the scale of super-resolution with an x "
                         "(sr-x3) and the strength of the other tasks without (denoise-25).")
    try:
        parameter = kind_type(value.removeprefix("x"))
    except ValueError:
        kind_name = "a whole number" if kind_type is int else "a number"
        raise ValueError(f"task {spec!r}: {value!r} is not {kind_name} (write e.g. sr-x3, "
                         "denoise-25, jpeg-10).") from None
    return cls(parameter)
