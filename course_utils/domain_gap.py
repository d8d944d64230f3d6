"""Why image domains differ: intensity, frequency and edge statistics of sets of images.

A model trained on natural photos meets different statistics on medical scans or satellite
tiles. Three measurements, all on the luma :math:`L = (Y - 16) / 219` in [0, 1] (BT.601 Y of
:func:`course_utils.images.rgb_to_y`; a gray image is its own luma):

* the **intensity histogram** :math:`p(L)`, a density with :math:`\\int_0^1 p = 1`
  (MRI: much black background; photos: spread out);
* the **radial power spectrum** :math:`P(f)`, the mean of :math:`|\\hat L(u, v)|^2` over rings
  :math:`f = \\sqrt{u^2 + v^2}` in cycles/pixel. Natural images follow
  :math:`P(f) \\propto 1 / f^{\\alpha}` with :math:`\\alpha \\approx 2`; a larger
  :math:`\\alpha` means less fine detail, which is what a super-resolution model must restore;
* **edge statistics** of the Sobel gradient :math:`|\\nabla L|`: how strong and how frequent
  edges are, and the excess kurtosis of :math:`\\partial L / \\partial x`, large when the
  gradient is mostly zero with a few strong edges (sparse edges, typical of photos).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from scipy import ndimage, stats

from .checks import check_image
from .images import rgb_to_y

__all__ = ["domain_statistics", "edge_statistics", "intensity_histogram", "mean_power_spectrum",
           "plot_domain_gap", "radial_power_spectrum", "spectral_slope"]

Images = Sequence[np.ndarray] | Mapping[str, np.ndarray]


def _luma(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Luma in [0, 1], :math:`(Y - 16) / 219`; a gray image maps to itself."""
    return (rgb_to_y(check_image(image, name)) - 16.0) / 219.0


def _lumas(images: Images) -> list[np.ndarray]:
    if isinstance(images, np.ndarray):
        raise TypeError(f"images must be a list or dict of images, got one array of shape "
                        f"{images.shape}; wrap a single image as [image].")
    named = images.items() if isinstance(images, Mapping) else enumerate(images)
    lumas = [_luma(im, f"images[{key!r}]") for key, im in named]
    if not lumas:
        raise ValueError("images is empty; pass at least one image.")
    return lumas


def intensity_histogram(images: Images, bins: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of the luma of all images pooled, as a density on [0, 1].

    .. math:: p_k = \\frac{n_k}{N \\Delta}, \\quad \\sum_k p_k \\Delta = 1

    with :math:`n_k` the pixels in bin k, :math:`N` all pixels, :math:`\\Delta = 1 /` ``bins``.
    Float values outside [0, 1] are clipped so that they count in the end bins.

    Returns
    -------
    (bin_centres, density) : ndarrays of shape (bins,)
    """
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}.")
    values = np.clip(np.concatenate([lum.ravel() for lum in _lumas(images)]), 0.0, 1.0)
    density, edges = np.histogram(values, bins=bins, range=(0.0, 1.0), density=True)
    return (edges[:-1] + edges[1:]) / 2, density


def radial_power_spectrum(image: np.ndarray, n_bins: int | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum of the luma, normalised to sum to 1.

    .. math:: P_k = \\frac{1}{Z} \\operatorname{mean}_{f_k < |f| \\le f_{k+1}}
              \\left| \\mathcal{F}[(L - \\bar L)\\, w](f) \\right|^2, \\quad \\sum_k P_k = 1

    with :math:`w` a 2-D Hann window and :math:`f_k = k / (2 n)`, n = ``n_bins``, so the bins
    cover 0 to 0.5 cycles/pixel (the Nyquist frequency). The window tapers the image to zero
    at its borders: otherwise the jump between opposite borders (the FFT treats the image
    as periodic) leaks power into all frequencies and flattens the spectrum. Bins are closed
    on the right, so the zero frequency (the mean, removed) falls in none.
    Normalising makes domains of different contrast compare by the shape of the spectrum.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, 3), at least 16x16
    n_bins : int, optional
        Number of radial bins, at most ``min(H, W) // 2`` (the default), so that every bin
        holds at least one frequency.

    Returns
    -------
    (frequency_bin_centres, power) : ndarrays of shape (n_bins,), frequencies in cycles/pixel
    """
    lum = _luma(image)
    h, w = lum.shape
    if min(h, w) < 16:
        raise ValueError(f"the power spectrum needs an image of at least 16x16 pixels, got "
                         f"{h}x{w}; use a larger image or crop.")
    n_bins = min(h, w) // 2 if n_bins is None else n_bins
    if not 2 <= n_bins <= min(h, w) // 2:
        raise ValueError(f"n_bins must be between 2 and min(H, W) // 2 = {min(h, w) // 2} for a "
                         f"{h}x{w} image (more bins would be empty), got {n_bins}.")
    if np.ptp(lum) == 0:
        raise ValueError("the image is constant: all its power is in the mean, so it has no "
                         "spectrum; leave constant images out.")
    windowed = (lum - lum.mean()) * np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2(windowed)) ** 2
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij"))
    # ceil(...) - 1 puts f_k < r <= f_{k+1} in bin k; the epsilon keeps a frequency lying
    # exactly on an edge (k/N) in the lower bin despite rounding.
    index = (np.ceil(radius * 2 * n_bins - 1e-9) - 1).astype(int).ravel()
    keep = (index >= 0) & (index < n_bins)
    totals = np.bincount(index[keep], weights=power.ravel()[keep], minlength=n_bins)
    mean = totals / np.bincount(index[keep], minlength=n_bins)
    edges = np.linspace(0.0, 0.5, n_bins + 1)
    return (edges[:-1] + edges[1:]) / 2, mean / mean.sum()


def mean_power_spectrum(images: Images, n_bins: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Mean of :func:`radial_power_spectrum` over images (same bins; sizes may differ).

    .. math:: \\bar P_k = \\frac{1}{M} \\sum_{m=1}^{M} P_k^{(m)}
    """
    # A luma is its own luma, so the spectra can be taken of the validated lumas.
    spectra = [radial_power_spectrum(lum, n_bins) for lum in _lumas(images)]
    return spectra[0][0], np.mean([p for _, p in spectra], axis=0)


def spectral_slope(freq: np.ndarray, power: np.ndarray, fmin: float = 0.02,
                   fmax: float = 0.4) -> float:
    """Exponent :math:`\\alpha` of :math:`P(f) \\propto f^{-\\alpha}`, by a log-log line fit.

    .. math:: \\log_{10} P = c - \\alpha \\log_{10} f, \\quad f_{min} \\le f \\le f_{max}

    fitted by least squares. About 2 for natural images, 0 for white noise; larger for
    smoother (blurred, low-detail) images.

    References
    ----------
    .. [1] D. J. Field, "Relations between the statistics of natural images and the response
           properties of cortical cells", JOSA A 4(12), 1987.
    .. [2] A. van der Schaaf, J. H. van Hateren, "Modelling the power spectra of natural
           images: statistics and information", Vision Research 36(17), 1996.
    """
    freq, power = np.asarray(freq, dtype=float), np.asarray(power, dtype=float)
    if freq.ndim != 1 or freq.shape != power.shape:
        raise ValueError(f"freq and power must be 1-D arrays of the same length, got shapes "
                         f"{freq.shape} and {power.shape}.")
    if not 0 < fmin < fmax:
        raise ValueError(f"need 0 < fmin < fmax, got fmin={fmin}, fmax={fmax}.")
    use = (freq >= fmin) & (freq <= fmax) & (power > 0)
    if use.sum() < 3:
        raise ValueError(f"only {use.sum()} bins with positive power lie in [{fmin}, {fmax}] "
                         "cycles/pixel; a line fit needs 3: use more bins or widen the range.")
    slope, _ = np.polyfit(np.log10(freq[use]), np.log10(power[use]), 1)
    return float(-slope)


def _gradients(lum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Sobel sums 4 central differences over 2 pixels: / 8 gives intensity per pixel.
    return ndimage.sobel(lum, axis=1) / 8.0, ndimage.sobel(lum, axis=0) / 8.0


def edge_statistics(image: np.ndarray, threshold: float = 0.1) -> dict[str, float]:
    """Strength, density and sparsity of the edges of the luma.

    With the Sobel derivatives divided by 8, :math:`g_x, g_y` are in intensity per pixel
    (a ramp of slope s gives s; a unit step gives 0.5 on the two pixels beside it):

    .. math:: |\\nabla L| = \\sqrt{g_x^2 + g_y^2}, \\quad
              \\kappa = \\frac{E[(g_x - \\bar g_x)^4]}{\\operatorname{Var}(g_x)^2} - 3

    Returns
    -------
    dict with ``"mean_gradient"`` (mean :math:`|\\nabla L|`), ``"edge_density"`` (fraction of
    pixels with :math:`|\\nabla L| >` ``threshold``) and ``"gradient_kurtosis"``
    (:math:`\\kappa`; 0 for Gaussian, large for sparse edges; NaN if :math:`g_x` is constant).
    """
    if not threshold > 0:
        raise ValueError(f"threshold must be positive (a gradient in intensity per pixel, "
                         f"e.g. 0.1), got {threshold!r}.")
    gx, gy = _gradients(_luma(image))
    magnitude = np.hypot(gx, gy)
    kurtosis = float(stats.kurtosis(gx, axis=None, fisher=True)) if np.ptp(gx) > 0 else np.nan
    return {"mean_gradient": float(magnitude.mean()),
            "edge_density": float(np.mean(magnitude > threshold)),
            "gradient_kurtosis": kurtosis}


def _domain_lumas(domains: Mapping[str, Images]) -> dict[str, list[np.ndarray]]:
    if not isinstance(domains, Mapping) or not domains:
        raise ValueError("domains must be a non-empty dict of name -> list (or dict) of images.")
    return {name: _lumas(images) for name, images in domains.items()}


def _finite_mean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]  # e.g. blank slices have no kurtosis
    return float(np.mean(finite)) if finite else float("nan")


def domain_statistics(domains: Mapping[str, Images]) -> list[dict]:
    """One row of statistics per domain, means over its images, for :class:`viz.Table`.

    The spectral slope is :func:`spectral_slope` of :func:`mean_power_spectrum` with
    ``min(64, smallest side // 2)`` bins, so that small patches work too.
    """
    rows = []
    for name, lumas in _domain_lumas(domains).items():
        edges = [edge_statistics(lum) for lum in lumas]
        n_bins = min(64, *(min(lum.shape) // 2 for lum in lumas))
        rows.append({
            "domain": name,
            "images": len(lumas),
            "mean intensity": float(np.mean([lum.mean() for lum in lumas])),
            "std intensity": float(np.mean([lum.std() for lum in lumas])),
            "spectral slope": spectral_slope(*mean_power_spectrum(lumas, n_bins)),
            "mean gradient": float(np.mean([e["mean_gradient"] for e in edges])),
            "edge density": float(np.mean([e["edge_density"] for e in edges])),
            "gradient kurtosis": _finite_mean([e["gradient_kurtosis"] for e in edges]),
        })
    return rows


def plot_domain_gap(domains: Mapping[str, Images], bins: int = 64,
                    n_bins: int = 64) -> plt.Figure:
    """Intensity histograms, mean radial power spectra and gradient histograms, per domain.

    Parameters
    ----------
    domains : mapping of name -> list (or dict) of images
    bins : int
        Bins of the intensity and gradient histograms (gradient bins shared by all domains).
    n_bins : int
        Radial bins of the spectra, at most half the smallest image side.

    Returns
    -------
    matplotlib.figure.Figure
    """
    lumas = _domain_lumas(domains)
    magnitudes = {name: np.concatenate([np.hypot(*_gradients(lum)).ravel() for lum in ls])
                  for name, ls in lumas.items()}
    # Shared gradient bins, so the domains' histograms are comparable.
    top = max(float(m.max()) for m in magnitudes.values()) or 1.0
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
    for name, ls in lumas.items():
        axes[0].plot(*intensity_histogram(ls, bins), label=name)
        axes[1].loglog(*mean_power_spectrum(ls, n_bins), label=name)
        density, edges = np.histogram(magnitudes[name], bins=bins, range=(0, top), density=True)
        # Empty bins are left out: a log axis cannot show 0.
        axes[2].plot((edges[:-1] + edges[1:]) / 2, np.where(density > 0, density, np.nan))
    axes[2].set_yscale("log")
    axes[0].set(title="Intensity histogram", xlabel="luma (0 = black, 1 = white)",
                ylabel="density")
    axes[1].set(title="Mean radial power spectrum", xlabel="spatial frequency (cycles/pixel)",
                ylabel="normalised power")
    axes[2].set(title="Gradient magnitude", xlabel="|gradient| (intensity/pixel)",
                ylabel="density (log scale)")
    axes[0].legend()
    return fig
