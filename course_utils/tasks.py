"""Reconstruction tasks: how a clean image becomes the network's input, and how it is scored.

A task is described once here and used by the data
(:class:`course_utils.data.pairs.PairedPatches`,
:func:`~course_utils.data.pairs.validation_pairs`), training (the validation border),
evaluation (:func:`course_utils.evaluation.evaluate.evaluate_images`) and the experiments
alike. Every task

* makes the **target** from a clean image: quantised to 8 bits (the published benchmarks are
  8-bit images), made gray if the task says so (``-gray``: MATLAB's ``rgb2gray``, as the
  gray denoising benchmarks were made) and, for super-resolution, modcropped to a multiple
  of the scale;
* **degrades** the target into the network's input, :math:`y = D(x)`, with a NumPy generator
  for the tasks that draw random numbers (noise, masks), so every run is reproducible;
  :meth:`Task.observe` also returns what a classical method is told about the degradation
  (the mask of inpainting, the noise level drawn by a blind task);
* **scores** an output against the target with the convention of its published tables.

==========================  ======================================  ========================
task (spec)                 degradation :math:`D(x)`                score
==========================  ======================================  ========================
``sr-x3``                   MATLAB bicubic ``imresize(x, 1/s)``,    Y (gray: intensities),
                            uint8                                   border = s
``denoise-25``              :math:`x + n`, :math:`n \\sim N(0, \\sigma^2)`, sigma on 0-255,
                            not clipped (DnCNN); ``denoise-0:55``   uint8, full image
                            draws sigma per image (blind)
``poisson-30:5``            :math:`P(\\text{peak}\\,x)/\\text{peak} + n`, peak photons,
                            read-noise sigma on 0-255              uint8, full image
``deblur-gaussian:2``       blur by a known kernel (``gaussian:SIGMA``,
                            ``motion:LENGTH:ANGLE``), mirrored
                            borders; ``,0.01`` adds noise of that   uint8, full image
                            sigma ([0, 1] units)
``inpaint-random:0.5``      missing pixels set to 0: ``random:P``,  uint8, full image
                            ``block:SIZE``, ``text:SIZE``
``jpeg-10``                 JPEG (Pillow) at that quality           uint8, full image
``compress-0.0067``         none: a codec's input is the image;     uint8, full image (RGB),
                            :math:`\\lambda` weighs its distortion    and the rate in bpp
                            against its rate
==========================  ======================================  ========================

"uint8, full image" is :func:`course_utils.metrics.restoration_metrics`, the practice of the
published denoising tables: the output clipped to [0, 1] and quantised to 8 bits, PSNR and
SSIM over every pixel and channel, no border crop. The SR score is
:func:`course_utils.metrics.sr_metrics`. Restoration tasks work at scale 1: input and output
have the target's size. A ``-gray`` suffix (``denoise-25-gray``) makes every target gray
first. Compression is scored like restoration, on the decoded image; its rate, in bits per
pixel of the file written, is measured by :mod:`course_utils.compression`.

Examples
--------
>>> task = get_task("denoise-25")
>>> task.scale, task.border
(1, 0)
>>> get_task("deblur-motion:15:30,0.01").noise
0.01
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from .checks import check_image, check_scale
from .degrade import (
    add_gaussian_noise,
    add_poisson_gaussian_noise,
    apply_mask,
    blur,
    check_mask_spec,
    jpeg_compress,
    make_lr,
    modcrop,
    parse_kernel,
    parse_mask,
)
from .images import to_float, to_gray, to_uint8
from .metrics import WINDOW_SIZE, restoration_metrics, sr_metrics

__all__ = ["TASKS", "Compression", "Deblurring", "Denoising", "Inpainting", "JPEGArtifacts",
           "Observation", "PoissonGaussian", "SuperResolution", "Task", "get_task"]


@dataclass(frozen=True)
class Task:
    """The common interface; use one of the subclasses.

    Attributes
    ----------
    gray : bool
        Make every target gray first (:func:`~course_utils.images.to_gray`, MATLAB's
        ``rgb2gray``), as the published denoising tables do. Keyword only; the spec's
        ``-gray`` suffix.
    kind : str
        The spec's first word: ``"sr"``, ``"denoise"``, ``"deblur"`` ... (a key of
        :data:`TASKS`).
    scale : int
        Output size / input size (1 for restoration).
    stochastic : bool
        Whether :meth:`degrade` draws random numbers (then each training patch gets its own).
    """

    gray: bool = field(default=False, kw_only=True)

    kind = ""
    scale = 1
    stochastic = False

    @property
    def name(self) -> str:
        """The task's spec, e.g. ``"sr-x3"``; :func:`get_task` parses it back."""
        return f"{self.kind}-{self.strength}" + ("-gray" if self.gray else "")

    @property
    def strength(self) -> str:
        """The spec's parameter: ``"x3"``, ``"25"``, ``"gaussian:2"``, ``"random:0.5"`` ..."""
        raise NotImplementedError

    @classmethod
    def from_spec(cls, value: str) -> Task:
        """The task of a spec's parameter (what follows ``KIND-``)."""
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
        """The ground truth made from a clean image: uint8 (gray if :attr:`gray`)."""
        return _to_8_bits(clean, self.gray)

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """The network's input for ``target`` (a :meth:`target` image)."""
        raise NotImplementedError

    def observe(self, target: np.ndarray,
                rng: np.random.Generator | None = None) -> Observation:
        """The input of ``target`` and what a method is told about its degradation.

        :meth:`degrade` gives a network its input; a classical method also needs the facts
        the degradation drew (the mask of inpainting, the sigma of a blind task), so the
        evaluation calls this instead. Same generator, same input as :meth:`degrade`.
        """
        return Observation(self.degrade(target, rng), self)

    def given(self, image: np.ndarray) -> Observation:
        """The observation of a degraded image made elsewhere (``evaluate --lr``): what the
        task knows without drawing (a fixed sigma), no mask."""
        return Observation(image, self)

    def score(self, output: np.ndarray, target: np.ndarray) -> dict[str, float]:
        """``{"psnr": dB, "ssim": ...}`` of ``output`` against ``target``."""
        psnr, ssim = restoration_metrics(output, target)
        return {"psnr": psnr, "ssim": ssim}

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Observation:
    """What a reconstruction method is given: the degraded image and the known facts of its
    degradation.

    Attributes
    ----------
    image : the degraded image (the network's input)
    task : the task that made it (its scale, kernel, noise level ...)
    known : for inpainting, the boolean ``(H, W)`` map of the pixels that were kept
    sigma : for denoising, the noise level of this image on the 0-255 scale (a blind task
        draws one per image); the non-blind methods (BM3D) are told it, as in the published
        tables
    """

    image: np.ndarray
    task: Task
    known: np.ndarray | None = None
    sigma: float | None = None

    @property
    def scale(self) -> int:
        return self.task.scale


def _to_8_bits(clean: np.ndarray, gray: bool = False) -> np.ndarray:
    clean = check_image(clean, "clean")
    if clean.dtype == np.uint16:
        warnings.warn("a 16-bit image is scored at 8 bits, as the published benchmarks are; "
                      "its lower 8 bits are rounded away.", stacklevel=3)
    return to_gray(clean) if gray else to_uint8(clean)


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    if rng is None:
        raise ValueError("this task draws random numbers: pass a seeded generator, e.g. "
                         "rng=np.random.default_rng(0), so that the run is reproducible.")
    return rng


def _g(value: float) -> str:
    """A number as a spec writes it: ``25``, ``0.01``, every digit Python needs to read it
    back exactly (its ``repr``, without a trailing ``.0``), so that a name parses back to
    the same task."""
    text = repr(float(value))
    return text.removesuffix(".0")


def _number(text: str, kind: type, example: str, shown: str | None = None) -> float | int:
    """``kind(text)``, or an error that shows ``shown`` (default ``text``) and an example."""
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{shown or text!r} is not {what} (write e.g. {example}).") from None


@dataclass(frozen=True)
class SuperResolution(Task):
    """Super-resolution by an integer ``scale`` (2 or more), the benchmark degradation.

    :math:`y = \\text{imresize}(x, 1/s)` with MATLAB's antialiased bicubic on uint8
    (:func:`course_utils.degrade.make_lr`); scored with the standard SR recipe.
    """

    scale: int = 3
    kind = "sr"

    def __post_init__(self) -> None:
        if check_scale(self.scale) < 2:
            raise ValueError(f"super-resolution needs a scale of 2 or more, got {self.scale}; "
                             "restoration tasks (denoise, poisson, deblur, inpaint, jpeg) work at "
                             "scale 1.")

    @property
    def strength(self) -> str:
        return f"x{self.scale}"

    @classmethod
    def from_spec(cls, value: str) -> SuperResolution:
        if not value.startswith("x"):
            raise ValueError("write the scale of super-resolution with an x (sr-x3).")
        return cls(_number(value[1:], int, "sr-x3", shown=value))

    @property
    def border(self) -> int:
        return self.scale

    def target(self, clean: np.ndarray) -> np.ndarray:
        return _to_8_bits(modcrop(check_image(clean, "clean"), self.scale), self.gray)

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return make_lr(target, self.scale)

    def score(self, output: np.ndarray, target: np.ndarray) -> dict[str, float]:
        psnr, ssim = sr_metrics(output, target, self.scale)
        return {"psnr": psnr, "ssim": ssim}


def _check_sigma(sigma: float, what: str = "sigma") -> None:
    if not isinstance(sigma, int | float | np.number) or not 0 < sigma <= 255:
        raise ValueError(f"{what} is on the 0-255 scale (15, 25, 50), in (0, 255]; got "
                         f"{sigma!r}.")


@dataclass(frozen=True)
class Denoising(Task):
    """Additive white Gaussian noise of standard deviation ``sigma`` on the 0-255 scale.

    :math:`y = x + n,\\ n \\sim \\mathcal{N}(0, (\\sigma/255)^2)` on the float image, not
    clipped, as in the DnCNN / KAIR practice (15, 25 and 50 are the published levels). With
    ``sigma_max`` the task is *blind*: each image (each training patch) draws its sigma
    uniformly from ``[sigma, sigma_max]`` (DnCNN-B trains on 0 to 55).
    """

    sigma: float = 25.0
    sigma_max: float | None = None
    kind = "denoise"
    stochastic = True

    def __post_init__(self) -> None:
        if self.sigma_max is None:
            _check_sigma(self.sigma)
            return
        _check_sigma(self.sigma_max, "sigma_max")
        if not isinstance(self.sigma, int | float | np.number) or \
                not 0 <= self.sigma < self.sigma_max:
            raise ValueError(f"a blind range needs 0 <= sigma < sigma_max, got sigma "
                             f"{self.sigma!r} and sigma_max {self.sigma_max!r} (write e.g. "
                             "denoise-0:55).")

    @property
    def strength(self) -> str:
        return _g(self.sigma) + ("" if self.sigma_max is None else f":{_g(self.sigma_max)}")

    @classmethod
    def from_spec(cls, value: str) -> Denoising:
        low, _, high = value.partition(":")
        return cls(_number(low, float, "denoise-25 or denoise-0:55"),
                   _number(high, float, "denoise-0:55") if high else None)

    def noise_level(self, rng: np.random.Generator | None) -> float:
        """The sigma of one image: :attr:`sigma`, or one drawn from the blind range."""
        if self.sigma_max is None:
            return self.sigma
        return float(_rng(rng).uniform(self.sigma, self.sigma_max))

    def observe(self, target: np.ndarray,
                rng: np.random.Generator | None = None) -> Observation:
        rng = _rng(rng)
        sigma = self.noise_level(rng)
        noisy = add_gaussian_noise(target, sigma / 255.0, rng, clip=False)
        return Observation(noisy, self, sigma=sigma)

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return self.observe(target, rng).image

    def given(self, image: np.ndarray) -> Observation:
        return Observation(image, self, sigma=self.sigma if self.sigma_max is None else None)


@dataclass(frozen=True)
class PoissonGaussian(Task):
    """Poisson-Gaussian noise, the realistic model of X-ray, CT and low-light sensors:
    :math:`y = \\mathcal{P}(\\text{peak}\\,x)/\\text{peak} + n`,
    :math:`n \\sim \\mathcal{N}(0, (\\sigma/255)^2)`
    (:func:`~course_utils.degrade.add_poisson_gaussian_noise`); ``peak`` is the photon count
    of a white pixel (fewer photons, more noise), ``sigma`` the read noise on 0-255."""

    peak: float = 30.0
    sigma: float = 0.0
    kind = "poisson"
    stochastic = True

    def __post_init__(self) -> None:
        if not isinstance(self.peak, int | float | np.number) or not 0 < self.peak <= 1e6:
            raise ValueError(f"peak is the photon count of a white pixel, in (0, 1e6]; got "
                             f"{self.peak!r}.")
        if not isinstance(self.sigma, int | float | np.number) or not 0 <= self.sigma <= 255:
            raise ValueError(f"sigma is the read noise on the 0-255 scale, in [0, 255]; got "
                             f"{self.sigma!r}.")

    @property
    def strength(self) -> str:
        return _g(self.peak) + (f":{_g(self.sigma)}" if self.sigma else "")

    @classmethod
    def from_spec(cls, value: str) -> PoissonGaussian:
        peak, _, sigma = value.partition(":")
        return cls(_number(peak, float, "poisson-30 or poisson-30:5"),
                   _number(sigma, float, "poisson-30:5") if sigma else 0.0)

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return add_poisson_gaussian_noise(target, self.peak, self.sigma / 255.0, _rng(rng))


@dataclass(frozen=True)
class Deblurring(Task):
    """Blur by a known ``kernel``, then white Gaussian ``noise`` of that sigma ([0, 1] units).

    :math:`y = x * k + n` with mirrored borders (:func:`~course_utils.degrade.blur`). The
    kernel is a spec of :func:`~course_utils.degrade.parse_kernel`: ``"gaussian:SIGMA"`` or
    ``"motion:LENGTH:ANGLE"`` (a number alone is a Gaussian's sigma). The blurred image is
    not clipped or quantised when ``noise`` is 0 either: the classical deconvolutions see
    the exact blur.
    """

    kernel: str = "gaussian:1.6"
    noise: float = 0.0
    kind = "deblur"

    def __post_init__(self) -> None:
        if isinstance(self.kernel, int | float | np.number):  # Deblurring(1.6): a Gaussian
            object.__setattr__(self, "kernel", f"gaussian:{_g(float(self.kernel))}")
        parse_kernel(self.kernel)  # a bad spec fails here, with its message
        if not isinstance(self.noise, int | float | np.number) or not 0 <= self.noise <= 1:
            raise ValueError(f"noise is the sigma of the added noise in [0, 1] units (0.01 is "
                             f"2.55 on the 0-255 scale); got {self.noise!r}.")

    @property
    def stochastic(self) -> bool:
        """Random only when noise is added after the blur."""
        return self.noise > 0

    @property
    def psf(self) -> np.ndarray:
        """The kernel as an array (the point-spread function the deconvolutions are given)."""
        return parse_kernel(self.kernel)

    @property
    def strength(self) -> str:
        return self.kernel + (f",{_g(self.noise)}" if self.noise else "")

    @classmethod
    def from_spec(cls, value: str) -> Deblurring:
        kernel, _, noise = value.partition(",")
        try:
            kernel = f"gaussian:{_g(float(kernel))}"  # deblur-1.6: a Gaussian of sigma 1.6
        except ValueError:
            pass
        return cls(kernel, _number(noise, float, "deblur-gaussian:2,0.01") if noise else 0.0)

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        blurred = blur(target, self.psf)
        if not self.noise:
            return blurred
        return add_gaussian_noise(blurred, self.noise, _rng(rng), clip=False)


@dataclass(frozen=True)
class Inpainting(Task):
    """Missing pixels set to 0, in a ``mask`` of :func:`~course_utils.degrade.parse_mask`:
    ``"random:P"`` (each pixel missing with probability P), ``"block:SIZE"`` (one square
    hole) or ``"text:SIZE"`` (lines of text). A number alone is a random mask's P. Each image
    draws its own mask; :meth:`observe` returns it."""

    mask: str = "random:0.5"
    kind = "inpaint"
    stochastic = True

    def __post_init__(self) -> None:
        if isinstance(self.mask, int | float | np.number):  # Inpainting(0.5): random
            object.__setattr__(self, "mask", f"random:{_g(float(self.mask))}")
        check_mask_spec(self.mask)  # a bad spec fails here, with its message

    @property
    def strength(self) -> str:
        return self.mask

    @classmethod
    def from_spec(cls, value: str) -> Inpainting:
        try:
            fraction = float(value)  # inpaint-0.5: a random mask
        except ValueError:
            return cls(value)
        return cls(f"random:{_g(fraction)}")

    def observe(self, target: np.ndarray,
                rng: np.random.Generator | None = None) -> Observation:
        known = parse_mask(self.mask, target.shape[:2], _rng(rng))
        return Observation(apply_mask(target, known), self, known=known)

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return self.observe(target, rng).image


@dataclass(frozen=True)
class JPEGArtifacts(Task):
    """JPEG compression at ``quality`` (1-100, Pillow's baseline encoder; 4:2:0 for RGB)."""

    quality: int = 10
    kind = "jpeg"

    def __post_init__(self) -> None:
        if not isinstance(self.quality, int | np.integer) or not 1 <= self.quality <= 100:
            raise ValueError(f"quality must be an integer from 1 to 100, got {self.quality!r}.")

    @property
    def strength(self) -> str:
        return f"{self.quality}"

    @classmethod
    def from_spec(cls, value: str) -> JPEGArtifacts:
        return cls(_number(value, int, "jpeg-10"))

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return to_float(jpeg_compress(target, self.quality))


@dataclass(frozen=True)
class Compression(Task):
    """Learned compression at the rate-distortion trade-off ``lmbda``.

    A codec's input is the clean image itself (:meth:`degrade` is the identity); it is
    trained for :math:`\\lambda \\cdot 255^2 \\cdot \\mathrm{MSE} + R`
    (:class:`course_utils.compression.rd.RateDistortionLoss`) and scored on its decoded image
    like restoration, in RGB as the published rate-distortion curves are, beside the rate it
    spent (:mod:`course_utils.compression`). CompressAI's qualities 1-8 of
    bmshj2018-factorized use :math:`\\lambda` from 0.0018 to 0.18.
    """

    lmbda: float = 0.0067
    kind = "compress"

    def __post_init__(self) -> None:
        if not isinstance(self.lmbda, int | float | np.number) or not 0 < self.lmbda <= 10:
            raise ValueError(f"lambda weighs the distortion against the rate, in (0, 10] "
                             f"(CompressAI's scale: 0.0018 to 0.18); got {self.lmbda!r}.")

    @property
    def strength(self) -> str:
        return _g(self.lmbda)

    @classmethod
    def from_spec(cls, value: str) -> Compression:
        return cls(_number(value, float, "compress-0.0067"))

    def degrade(self, target: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return to_float(target)


#: Task kinds by the first word of their spec.
TASKS: dict[str, type[Task]] = {cls.kind: cls for cls in (
    SuperResolution, Denoising, PoissonGaussian, Deblurring, Inpainting, JPEGArtifacts,
    Compression)}

_EXAMPLES = ("sr-x3, denoise-25, denoise-0:55 (blind), poisson-30:5, deblur-gaussian:2, "
             "deblur-motion:15:30,0.01, inpaint-random:0.5, inpaint-block:32, inpaint-text, "
             "jpeg-10, compress-0.0067; add -gray for gray targets")


def get_task(spec: str | Task) -> Task:
    """The task of a spec such as ``"sr-x3"``, ``"denoise-25"``, ``"deblur-gaussian:2"``,
    ``"inpaint-random:0.5"`` or ``"jpeg-10"``, with an optional ``-gray`` suffix (a
    :class:`Task` is returned as it is).

    Raises
    ------
    ValueError
        An unknown kind or a parameter that does not parse or is out of range.
    """
    if isinstance(spec, Task):
        return spec
    text = str(spec)
    gray = text.endswith("-gray")
    kind, _, value = text.removesuffix("-gray").partition("-")
    if kind not in TASKS or not value:
        raise ValueError(f"unknown task {spec!r}; write KIND-VALUE with KIND one of "
                         f"{', '.join(TASKS)}, e.g. {_EXAMPLES}.")
    if kind != "sr" and value.startswith("x"):
        raise ValueError(f"task {spec!r}: write the scale of super-resolution with an x "
                         "(sr-x3) and the strength of the other tasks without (denoise-25).")
    try:
        task = TASKS[kind].from_spec(value)
    except ValueError as err:
        raise ValueError(f"task {spec!r}: {err}") from None
    return replace(task, gray=True) if gray else task
