"""Image quality metrics: MSE, PSNR, SSIM, and the scoring conventions of published tables.

The NumPy functions are written from the formulas, to be read; they agree with
``skimage.metrics`` to within 1e-6 (the tests check it). The ``*_torch`` functions compute the
same quantities on batches of tensors, differentiably, for training loops.

**Value ranges, as scikit-image treats them.** Integer images carry their range in their
dtype: two uint8 images are compared on 0-255 (``data_range = 255``), two uint16 ones on
0-65535. Float images are in [0, 1] (``data_range = 1``). Comparing an integer image with a
float one is an error: convert one of them first (:func:`course_utils.images.to_float` or
:func:`~course_utils.images.to_uint8`), since ``psnr(u8, u8 / 255)`` would otherwise compare
0-255 values with 0-1 values.

**The standard SR recipe** (:func:`sr_metrics`), used by every published SR table:

1. quantise the output to 8 bits, as when it is saved as PNG;
2. convert a 3-channel image to Y (BT.601 studio range, MATLAB's ``rgb2ycbcr``), rounded to
   integers as MATLAB does for uint8 images. A single-channel (grayscale) image is scored on
   its own 0-255 intensities, as the scripts behind the tables do (``if size(im, 3) == 3``
   converts; a gray image is left as it is). Treating a gray image as R = G = B and
   converting it to studio-range Y instead would squeeze its 0-255 range into 16-235 and
   raise its PSNR by :math:`20 \\log_{10}(255/219) \\approx 1.32` dB. A 3-channel file whose
   channels are equal is still converted, as MATLAB's ``size(im, 3) == 3`` test does;
3. crop ``scale`` pixels from every border;
4. PSNR with peak 255; SSIM with an 11x11 Gaussian window, sigma 1.5, L = 255.

Rounding Y (step 2) moves a mean PSNR by about 0.01-0.03 dB relative to float Y; we round
to match the MATLAB scripts that produced the published numbers.

**Foreground PSNR** (:func:`foreground_sr_psnr`): on scans with large black backgrounds
(air around a head, the space beside an X-rayed leg), every background pixel is reproduced
almost exactly by any method, which lowers the MSE and raises PSNR for all. The same recipe
over the foreground pixels only (not part of published tables) shows how the methods do where
there is anatomy.

**The restoration recipe** (:func:`restoration_metrics`; denoising, deblurring, inpainting,
JPEG artefacts, as DnCNN and KAIR score them): the output is clipped to [0, 1] and quantised
to uint8; PSNR and SSIM are computed on the uint8 pair over the full image, no border crop,
every channel (a gray image on its intensities, an RGB one over R, G and B).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

from .checks import check_image, check_same_shape, check_scale
from .images import STRIP_ROWS, is_gray, to_uint8, y_channel

__all__ = [
    "crop_border",
    "foreground_mask",
    "foreground_sr_psnr",
    "gaussian_window",
    "mse",
    "psnr",
    "psnr_torch",
    "restoration_metrics",
    "sr_metrics",
    "ssim",
    "ssim_components",
    "ssim_torch",
]

#: SSIM constants of Wang et al. (2004).
K1, K2, WINDOW_SIZE, WINDOW_SIGMA = 0.01, 0.03, 11, 1.5


def _kinds_match(reference_dtype, test_dtype, data_range: float | None,
                 integer: bool) -> float:
    """The data range of a comparison, from the dtypes as scikit-image takes it.

    ``integer`` says whether ``reference_dtype`` is an integer type; ``data_range=None``
    means: the dtype's maximum for integers, 1 for floats.
    """
    if reference_dtype != test_dtype and (integer or not _is_float(test_dtype)):
        raise TypeError(
            f"reference is {reference_dtype} and test is {test_dtype}: an integer image holds "
            "0-255 (or 0-65535) values and a float image 0-1 values, so the comparison would "
            "be meaningless. Convert both to float in [0, 1] with "
            "course_utils.images.to_float, or both to uint8 with to_uint8.")
    if data_range is None:
        return float(_integer_max(reference_dtype)) if integer else 1.0
    if not data_range > 0:
        raise ValueError(f"data_range must be positive (1.0 for float, 255 for 8-bit), got "
                         f"{data_range!r}.")
    return float(data_range)


def _is_float(dtype) -> bool:
    return dtype.is_floating_point if isinstance(dtype, torch.dtype) \
        else bool(np.issubdtype(dtype, np.floating))


def _integer_max(dtype) -> int:
    return torch.iinfo(dtype).max if isinstance(dtype, torch.dtype) else np.iinfo(dtype).max


def _pair(reference: np.ndarray, test: np.ndarray,
          data_range: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    reference = check_image(reference, "reference")
    test = check_image(test, "test")
    check_same_shape(reference, test, ("reference", "test"))
    data_range = _kinds_match(reference.dtype, test.dtype, data_range,
                              not _is_float(reference.dtype))
    return reference.astype(np.float64), test.astype(np.float64), data_range


def mse(reference: np.ndarray, test: np.ndarray) -> float:
    """Mean squared error, :math:`\\mathrm{MSE} = \\frac{1}{N}\\sum_i (x_i - y_i)^2`.

    Averaged over every pixel and channel, in the images' own units (0-255 for uint8).
    """
    reference, test, _ = _pair(reference, test)
    return float(np.mean((reference - test) ** 2))


def psnr(reference: np.ndarray, test: np.ndarray, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio in decibels.

    .. math:: \\mathrm{PSNR} = 10 \\log_{10} \\frac{L^2}{\\mathrm{MSE}}

    where :math:`L` is ``data_range``, the peak value. By default it comes from the dtype as
    in scikit-image: 255 for uint8, 65535 for uint16, 1 for float images in [0, 1].
    Identical images give ``inf``. Every 10x reduction of the MSE adds 10 dB.

    Equivalent to ``skimage.metrics.peak_signal_noise_ratio(reference, test,
    data_range=data_range)``.

    Raises
    ------
    TypeError
        One image is of an integer type and the other is float (convert one of them).
    """
    reference, test, data_range = _pair(reference, test, data_range)
    error = float(np.mean((reference - test) ** 2))
    if error == 0:
        return float("inf")
    return float(10 * np.log10(data_range**2 / error))


def gaussian_window(size: int = WINDOW_SIZE, sigma: float = WINDOW_SIGMA) -> np.ndarray:
    """A normalised 1-D Gaussian window, :math:`g_i \\propto e^{-i^2 / 2\\sigma^2}`.

    SSIM uses the separable 2-D window :math:`g g^T` (11x11, sigma 1.5).
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"window size must be a positive odd number, got {size}.")
    i = np.arange(size) - size // 2
    g = np.exp(-(i**2) / (2 * sigma**2))
    return g / g.sum()


def _local_mean(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Weighted local mean over every position where the window fits ('valid' filtering)."""
    rows = sliding_window_view(image, window.size, axis=0) @ window
    return sliding_window_view(rows, window.size, axis=1) @ window


def _ssim_statistics(x: np.ndarray, y: np.ndarray, window: np.ndarray):
    mu_x, mu_y = _local_mean(x, window), _local_mean(y, window)
    var_x = _local_mean(x * x, window) - mu_x**2
    var_y = _local_mean(y * y, window) - mu_y**2
    cov_xy = _local_mean(x * y, window) - mu_x * mu_y
    return mu_x, mu_y, var_x, var_y, cov_xy


def _check_ssim_input(reference, test, data_range, window_size):
    reference, test, data_range = _pair(reference, test, data_range)
    if min(reference.shape[:2]) < window_size:
        raise ValueError(
            f"SSIM needs images of at least {window_size}x{window_size} pixels (the window "
            f"size), got {reference.shape[:2]}; use a smaller window_size for tiny images."
        )
    return reference, test, data_range


def ssim(
    reference: np.ndarray,
    test: np.ndarray,
    data_range: float | None = None,
    *,
    window_size: int = WINDOW_SIZE,
    sigma: float = WINDOW_SIGMA,
    full: bool = False,
) -> float | tuple[float, np.ndarray]:
    """Structural similarity index (Wang et al., 2004).

    With local Gaussian-weighted means :math:`\\mu`, variances :math:`\\sigma^2` and
    covariance :math:`\\sigma_{xy}`,

    .. math::

        \\mathrm{SSIM}(x, y) = \\frac{(2\\mu_x\\mu_y + C_1)(2\\sigma_{xy} + C_2)}
                                    {(\\mu_x^2 + \\mu_y^2 + C_1)(\\sigma_x^2 + \\sigma_y^2 + C_2)},
        \\quad C_1 = (K_1 L)^2,\\ C_2 = (K_2 L)^2

    with :math:`K_1 = 0.01`, :math:`K_2 = 0.03`, :math:`L` = ``data_range``. The map is
    computed wherever the window fits inside the image and averaged; an RGB image gives the
    mean of its three channels' SSIM.

    Parameters
    ----------
    reference, test : ndarray, shape (H, W) or (H, W, 3)
    data_range : float, optional
        Peak value :math:`L`; by default from the dtype (255 for uint8, 65535 for uint16, 1
        for float images). Give 255 for float arrays of 0-255 values such as Y.
    window_size, sigma : int, float
        Gaussian window (11 and 1.5 in the paper).
    full : bool
        Also return the SSIM map (channel mean for RGB), of size
        ``(H - window_size + 1, W - window_size + 1)``.

    Returns
    -------
    mssim : float
    ssim_map : ndarray, only if ``full``

    Notes
    -----
    Equals ``skimage.metrics.structural_similarity(reference, test,
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=L)`` (with
    ``channel_axis=-1`` for RGB): scikit-image filters the whole image and then drops the
    border where the window did not fit, which is the same set of positions.

    References
    ----------
    .. [1] Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment:
           from error visibility to structural similarity", IEEE TIP 13(4), 2004.
    """
    reference, test, data_range = _check_ssim_input(reference, test, data_range, window_size)
    window = gaussian_window(window_size, sigma)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    x = reference if reference.ndim == 3 else reference[..., None]
    y = test if test.ndim == 3 else test[..., None]
    maps = []
    for c in range(x.shape[2]):
        # contiguous copies of the channel, as _ssim_by_strips takes: the same code paths,
        # so both give the same bits on any CPU (a strided view may be filtered otherwise)
        mu_x, mu_y, var_x, var_y, cov_xy = _ssim_statistics(
            np.ascontiguousarray(x[..., c]), np.ascontiguousarray(y[..., c]), window)
        numerator = (2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)
        denominator = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
        maps.append(numerator / denominator)
    ssim_map = np.mean(maps, axis=0)
    value = float(np.mean([m.mean() for m in maps]))
    return (value, ssim_map) if full else value


def ssim_components(
    reference: np.ndarray,
    test: np.ndarray,
    data_range: float | None = None,
    *,
    window_size: int = WINDOW_SIZE,
    sigma: float = WINDOW_SIGMA,
) -> dict[str, np.ndarray]:
    """The luminance, contrast and structure maps whose product is the SSIM map.

    .. math::

        l = \\frac{2\\mu_x\\mu_y + C_1}{\\mu_x^2 + \\mu_y^2 + C_1},\\quad
        c = \\frac{2\\sigma_x\\sigma_y + C_2}{\\sigma_x^2 + \\sigma_y^2 + C_2},\\quad
        s = \\frac{\\sigma_{xy} + C_3}{\\sigma_x\\sigma_y + C_3}

    With :math:`C_3 = C_2 / 2`, :math:`l \\cdot c \\cdot s` is exactly the SSIM map.
    Grayscale images only (pass the Y channel of an RGB image).

    Returns
    -------
    dict with keys ``"luminance"``, ``"contrast"``, ``"structure"``, ``"ssim"``
    """
    reference, test, data_range = _check_ssim_input(reference, test, data_range, window_size)
    if reference.ndim != 2:
        raise ValueError("ssim_components takes grayscale (H, W) images; pass y_channel(rgb).")
    mu_x, mu_y, var_x, var_y, cov_xy = _ssim_statistics(
        reference, test, gaussian_window(window_size, sigma)
    )
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    c3 = c2 / 2
    # Local variances can come out a hair below zero from floating-point cancellation.
    sd_x, sd_y = np.sqrt(np.maximum(var_x, 0)), np.sqrt(np.maximum(var_y, 0))
    luminance = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
    contrast = (2 * sd_x * sd_y + c2) / (var_x + var_y + c2)
    structure = (cov_xy + c3) / (sd_x * sd_y + c3)
    return {
        "luminance": luminance,
        "contrast": contrast,
        "structure": structure,
        "ssim": luminance * contrast * structure,
    }


# --------------------------------------------------------------------------------------------
# The SR evaluation convention
# --------------------------------------------------------------------------------------------


def crop_border(image: np.ndarray, border: int) -> np.ndarray:
    """Remove ``border`` pixels from every side (the SR convention uses ``border = scale``).

    Border pixels are excluded because their reconstruction depends on padding choices,
    not on the method being measured.
    """
    if border < 0:
        raise ValueError(f"border must be >= 0, got {border}.")
    if border == 0:
        return image
    if min(image.shape[:2]) <= 2 * border:
        raise ValueError(
            f"image of size {image.shape[:2]} is too small to crop {border} pixels per side."
        )
    return image[border:-border, border:-border]


def _published_channel(image: np.ndarray) -> np.ndarray:
    # The published scripts: Y of a 3-channel image, the intensities of a single-channel one.
    return _published_channel_u8(image).astype(np.float64)


def _published_channel_u8(image: np.ndarray) -> np.ndarray:
    """:func:`_published_channel` as uint8 (its values are whole numbers in 0-255, so exactly),
    made ``STRIP_ROWS`` rows at a time: no float64 copy of the whole image is made."""
    out = np.empty(image.shape[:2], dtype=np.uint8)
    for top in range(0, image.shape[0], STRIP_ROWS):
        strip = image[top:top + STRIP_ROWS]
        if is_gray(strip):
            out[top:top + STRIP_ROWS] = to_uint8(strip).reshape(strip.shape[:2])
        else:
            out[top:top + STRIP_ROWS] = y_channel(strip)
    return out


def _psnr_by_strips(reference: np.ndarray, test: np.ndarray, data_range: float) -> float:
    """:func:`psnr` of two integer-valued images, strip by strip, bit for bit the same.

    The squared errors are whole numbers and so are all their partial sums (below 2**53 for
    any image under 10**11 pixels), so the sum is exact in any order, as in ``np.mean``.
    """
    total = 0
    for top in range(0, reference.shape[0], STRIP_ROWS):
        diff = (reference[top:top + STRIP_ROWS].astype(np.int64)
                - test[top:top + STRIP_ROWS].astype(np.int64))
        total += int(np.sum(diff * diff))
    if total == 0:
        return float("inf")
    error = np.float64(total) / reference.size
    return float(10 * np.log10(data_range**2 / error))


def _ssim_by_strips(reference: np.ndarray, test: np.ndarray, data_range: float) -> float:
    """:func:`ssim` of two (H, W[, C]) images (any dtype, converted to float64 a strip at a
    time), bit for bit the same.

    Each row of the SSIM map needs ``WINDOW_SIZE`` rows of the images, so a strip of map rows
    is computed from its image rows plus ``WINDOW_SIZE - 1`` rows of overlap, each row exactly
    as the whole image would compute it, and the map's mean is summed in ``np.mean``'s own
    order (:func:`_streamed_mean`): the map never exists whole.
    """
    window = gaussian_window(WINDOW_SIZE, WINDOW_SIGMA)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    x = reference if reference.ndim == 3 else reference[..., None]
    y = test if test.ndim == 3 else test[..., None]
    rows, cols = x.shape[0] - WINDOW_SIZE + 1, x.shape[1] - WINDOW_SIZE + 1

    def map_strips(c: int) -> Iterator[np.ndarray]:
        for top in range(0, rows, STRIP_ROWS):
            below = min(top + STRIP_ROWS, rows) + WINDOW_SIZE - 1
            mu_x, mu_y, var_x, var_y, cov_xy = _ssim_statistics(
                x[top:below, :, c].astype(np.float64), y[top:below, :, c].astype(np.float64),
                window)
            numerator = (2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)
            denominator = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
            yield (numerator / denominator).ravel()

    return float(np.mean([_streamed_mean(map_strips(c), rows * cols)
                          for c in range(x.shape[2])]))


def _streamed_mean(chunks: Iterator[np.ndarray], n: int) -> np.float64:
    """``np.mean`` of ``n`` float64 values that arrive in 1-D chunks, bit for bit.

    NumPy sums a contiguous float64 array pairwise: blocks of at most 128 values are summed
    directly (eight running sums), and a longer run of ``k`` values is split after
    ``k // 2`` rounded down to a multiple of 8, each half summed the same way. Following that
    tree over the stream gives NumPy's sum exactly (the tests check it against ``np.mean``;
    a NumPy that sums otherwise would differ by about 1e-16 of the mean, no more).
    """
    pending = [np.empty(0)]

    def take(k: int) -> np.ndarray:
        while pending[0].size < k:
            pending[0] = np.concatenate([pending[0], next(chunks)])
        block, pending[0] = pending[0][:k], pending[0][k:]
        return block

    def pairwise(k: int) -> np.float64:
        if k <= 128:
            return np.add.reduce(take(k))
        half = k // 2 - (k // 2) % 8
        left = pairwise(half)  # the left half first: the values arrive in order
        return left + pairwise(k - half)

    return pairwise(n) / n


def sr_metrics(sr: np.ndarray, hr: np.ndarray, scale: int) -> tuple[float, float]:
    """PSNR and SSIM of a super-resolved image under the standard recipe (module docstring).

    Parameters
    ----------
    sr, hr : ndarray, shape (H, W) or (H, W, 3)
        The output and the (modcropped) ground truth, float in [0, 1] or uint8, with the same
        number of channels: a 3-channel image is scored on its Y channel, a single-channel
        one on its own intensities.
    scale : int
        The SR factor; also the number of border pixels cropped.

    Returns
    -------
    (psnr_db, ssim) : tuple of float
    """
    scale = check_scale(scale)
    sr, hr = check_image(sr, "sr"), check_image(hr, "hr")
    if sr.shape[:2] != hr.shape[:2]:
        raise ValueError(
            f"sr {sr.shape[:2]} and hr {hr.shape[:2]} differ in size; modcrop the HR image to "
            f"a multiple of the scale ({scale}) before making the LR input."
        )
    if is_gray(sr) != is_gray(hr):
        raise ValueError(
            f"sr has shape {sr.shape} and hr {hr.shape}: score like with like. A gray image is "
            "scored on its intensities and an RGB one on its Y channel; convert the RGB one "
            "with course_utils.images.y_channel, or the gray one with as_rgb, first.")
    y_sr, y_hr = (crop_border(_published_channel_u8(im), scale) for im in (sr, hr))
    if min(y_hr.shape) < WINDOW_SIZE:
        ssim(y_hr, y_sr, data_range=255.0)  # raises ssim's own error for a too-small image
    # psnr and ssim of the Y (or gray) images, strip by strip: bit for bit the same values.
    return _psnr_by_strips(y_hr, y_sr, 255.0), _ssim_by_strips(y_hr, y_sr, 255.0)


def foreground_mask(hr: np.ndarray, threshold: float = 10.0, margin: int = 3) -> np.ndarray:
    """Pixels of ``hr`` that belong to the imaged object, and a margin of ``margin`` pixels.

    A pixel is foreground if any pixel within ``margin`` of it has a published-channel value
    (Y, or the intensity of a gray image, on 0-255) above ``threshold``: the background of a
    scan is near 0 and flat, the object and its edge are not. Returns a boolean (H, W) mask.
    """
    hr = check_image(hr, "hr")
    bright = _published_channel(hr) > threshold
    padded = np.pad(bright, margin)
    windows = sliding_window_view(padded, (2 * margin + 1, 2 * margin + 1))
    return windows.any(axis=(-2, -1))


def foreground_sr_psnr(sr: np.ndarray, hr: np.ndarray, scale: int,
                       threshold: float = 10.0) -> float:
    """:func:`sr_metrics`' PSNR over the foreground pixels of ``hr`` only.

    .. math:: \\mathrm{PSNR}_{fg} = 10 \\log_{10} \\frac{255^2}{\\frac{1}{|F|}
              \\sum_{i \\in F} (x_i - y_i)^2}

    with :math:`F` the :func:`foreground_mask` of ``hr`` after the border crop. Not a
    published convention: a check of how much a black background inflates the usual PSNR.
    """
    scale = check_scale(scale)
    sr, hr = check_image(sr, "sr"), check_image(hr, "hr")
    check_same_shape(sr, hr, ("sr", "hr"))
    mask = crop_border(foreground_mask(hr, threshold), scale)
    if not mask.any():
        raise ValueError(f"hr has no pixel above {threshold} (0-255): no foreground to score.")
    y_sr, y_hr = (crop_border(_published_channel(im), scale) for im in (sr, hr))
    error = float(np.mean((y_hr[mask] - y_sr[mask]) ** 2))
    return float("inf") if error == 0 else float(10 * np.log10(255.0**2 / error))


def restoration_metrics(output: np.ndarray, clean: np.ndarray) -> tuple[float, float]:
    """PSNR and SSIM of a restored image under the restoration recipe (module docstring).

    Both images are quantised to uint8 (:func:`~course_utils.images.to_uint8`: clip, scale,
    round), then PSNR and SSIM are computed on 0-255 over the full image and every channel.

    Parameters
    ----------
    output, clean : ndarray, shape (H, W) or (H, W, 3)
        The restored image and the clean one, float in [0, 1] or uint8, same shape.

    Returns
    -------
    (psnr_db, ssim) : tuple of float
    """
    output, clean = to_uint8(check_image(output, "output")), to_uint8(check_image(clean, "clean"))
    if output.shape != clean.shape or min(clean.shape[:2]) < WINDOW_SIZE:
        return psnr(clean, output), ssim(clean, output)  # their own errors
    # strip by strip, bit for bit the same values, without SSIM's full-size float64 maps
    return _psnr_by_strips(clean, output, 255.0), _ssim_by_strips(clean, output, 255.0)


# --------------------------------------------------------------------------------------------
# Batched torch versions, for training loops
# --------------------------------------------------------------------------------------------


def _check_batch(sr: torch.Tensor, hr: torch.Tensor) -> None:
    if sr.ndim != 4 or sr.shape != hr.shape:
        raise ValueError(
            f"expected two (N, C, H, W) tensors of the same shape, got {tuple(sr.shape)} and "
            f"{tuple(hr.shape)}."
        )
    for t in (sr, hr):  # int64 (torch.randint's default) would take 2**63 - 1 as its range
        if not (t.dtype.is_floating_point or t.dtype == torch.uint8):
            raise TypeError(f"expected float tensors in [0, 1] or uint8 tensors, got {t.dtype}; "
                            "convert with tensor.float() / 255 (0-255 values) first.")


def psnr_torch(sr: torch.Tensor, hr: torch.Tensor,
               data_range: float | None = None) -> torch.Tensor:
    """Per-image PSNR of a batch, ``(N, C, H, W) -> (N,)``, same formula and the same
    ``data_range`` rules as :func:`psnr` (uint8 tensors: 255; float tensors: 1)."""
    _check_batch(sr, hr)
    data_range = _kinds_match(hr.dtype, sr.dtype, data_range, not _is_float(hr.dtype))
    if not _is_float(hr.dtype):
        sr, hr = sr.double(), hr.double()
    error = ((sr - hr) ** 2).flatten(1).mean(dim=1)
    return 10 * torch.log10(data_range**2 / error)


def ssim_torch(
    sr: torch.Tensor,
    hr: torch.Tensor,
    data_range: float | None = None,
    window_size: int = WINDOW_SIZE,
    sigma: float = WINDOW_SIGMA,
) -> torch.Tensor:
    """Per-image SSIM of a batch, ``(N, C, H, W) -> (N,)``; differentiable.

    Same definition as :func:`ssim` (valid Gaussian filtering, mean over positions and
    channels), so ``1 - ssim_torch(sr, hr).mean()`` is an SSIM loss.
    """
    _check_batch(sr, hr)
    data_range = _kinds_match(hr.dtype, sr.dtype, data_range, not _is_float(hr.dtype))
    if not _is_float(hr.dtype):
        sr, hr = sr.double(), hr.double()
    if min(sr.shape[-2:]) < window_size:
        raise ValueError(f"SSIM needs images of at least {window_size}x{window_size} pixels, "
                         f"got {tuple(sr.shape[-2:])}.")
    channels = sr.shape[1]
    g = torch.as_tensor(gaussian_window(window_size, sigma), dtype=sr.dtype, device=sr.device)
    window = (g[:, None] * g[None, :]).expand(channels, 1, window_size, window_size)

    def local_mean(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, window, groups=channels)

    mu_x, mu_y = local_mean(sr), local_mean(hr)
    var_x = local_mean(sr * sr) - mu_x**2
    var_y = local_mean(hr * hr) - mu_y**2
    cov_xy = local_mean(sr * hr) - mu_x * mu_y
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    return ssim_map.flatten(1).mean(dim=1)
