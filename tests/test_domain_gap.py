"""Tests of course_utils.domain_gap on synthetic images with known statistics and camera()."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
from matplotlib.figure import Figure
from scipy import ndimage

from course_utils.domain_gap import (
    domain_statistics,
    edge_statistics,
    intensity_histogram,
    mean_power_spectrum,
    plot_domain_gap,
    radial_power_spectrum,
    spectral_slope,
)
from course_utils.viz import Table


def noise(size: int = 128, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((size, size))


def sinusoid(freq: float, size: int = 64) -> np.ndarray:
    """Vertical stripes of ``freq`` cycles/pixel, in [0, 1]."""
    x = np.arange(size)
    return np.tile(0.5 + 0.5 * np.sin(2 * np.pi * freq * x), (size, 1))


def step(size: int = 32) -> np.ndarray:
    image = np.zeros((size, size))
    image[:, size // 2:] = 1.0
    return image


# --------------------------------------------------------------------------------------------
# Intensity histogram
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bins", [2, 10, 64])
def test_histogram_is_a_density(bins):
    images = [noise(32, seed=1), noise(40, seed=2) ** 2]
    centres, density = intensity_histogram(images, bins)
    assert centres.shape == density.shape == (bins,)
    assert np.sum(density) * (1 / bins) == pytest.approx(1.0)
    assert centres[0] == pytest.approx(0.5 / bins) and centres[-1] == pytest.approx(1 - 0.5 / bins)


def test_constant_image_fills_one_bin():
    _, density = intensity_histogram({"flat": np.full((16, 16), 0.33)}, bins=10)
    assert np.count_nonzero(density) == 1
    assert np.argmax(density) == 3  # 0.33 lies in [0.3, 0.4)
    assert density[3] == pytest.approx(10.0)


def test_gray_rgb_and_uint8_agree_with_gray():
    gray = noise(32, seed=3)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    _, ref = intensity_histogram([gray], 16)
    np.testing.assert_allclose(intensity_histogram([rgb], 16)[1], ref)
    u8 = np.round(gray * 255).astype(np.uint8)
    np.testing.assert_allclose(intensity_histogram([u8], 16)[1],
                               intensity_histogram([u8 / 255.0], 16)[1])


def test_histogram_rejects_bad_input():
    with pytest.raises(ValueError, match="bins must be at least 2"):
        intensity_histogram([noise(16)], bins=1)
    with pytest.raises(ValueError, match="empty"):
        intensity_histogram([])
    with pytest.raises(TypeError, match=r"wrap a single image as \[image\]"):
        intensity_histogram(noise(16))


# --------------------------------------------------------------------------------------------
# Power spectrum and its slope
# --------------------------------------------------------------------------------------------


def test_spectrum_sums_to_one_and_spans_nyquist():
    freq, power = radial_power_spectrum(noise(64) * 0.1)  # low contrast: same normalisation
    assert freq.shape == power.shape == (32,)
    assert power.sum() == pytest.approx(1.0)
    assert np.all(power > 0)
    assert 0 < freq[0] < freq[-1] < 0.5


def test_sinusoid_peaks_at_its_frequency():
    freq, power = radial_power_spectrum(sinusoid(0.125), n_bins=32)
    half_width = 0.5 / 32 / 2
    peak = freq[np.argmax(power)]
    assert peak - half_width < 0.125 <= peak + half_width
    assert power.max() > 0.4  # the Hann window keeps leakage to the neighbouring bins


def test_white_noise_is_flat():
    alpha = spectral_slope(*radial_power_spectrum(noise(128)))
    assert abs(alpha) < 0.5


def power_law_noise(alpha: float, size: int = 128, seed: int = 0) -> np.ndarray:
    """Gaussian noise shaped to power 1/f^alpha (random phases), rescaled to [0, 1]."""
    u, v = np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij")
    f = np.hypot(u, v)
    f[0, 0] = 1.0
    white = np.fft.fft2(np.random.default_rng(seed).standard_normal((size, size)))
    image = np.real(np.fft.ifft2(white * f ** (-alpha / 2)))
    return (image - image.min()) / np.ptp(image)


@pytest.mark.parametrize("alpha", [1.0, 2.0, 3.0])
def test_slope_recovers_a_synthetic_power_law(alpha):
    estimate = spectral_slope(*radial_power_spectrum(power_law_noise(alpha)))
    assert estimate == pytest.approx(alpha, abs=0.25)


@pytest.mark.parametrize("alpha", [2.0, 4.0])
def test_window_stops_border_leakage(alpha):
    # A crop is not periodic: without the Hann window, the jumps between opposite borders
    # add power ~ 1/f^2 at all frequencies and flatten a steep spectrum (alpha 4 -> 2.8).
    crop = power_law_noise(alpha, 256)[40:168, 70:198]
    assert spectral_slope(*radial_power_spectrum(crop)) == pytest.approx(alpha, abs=0.25)


@pytest.mark.parametrize("size", [(16, 16), (20, 20), (26, 31), (50, 50), (100, 37)])
def test_every_bin_holds_frequencies(size):
    freq, power = radial_power_spectrum(np.random.default_rng(8).random(size))
    assert len(freq) == min(size) // 2
    assert np.all(np.isfinite(power)) and np.all(power > 0)


@pytest.mark.parametrize(("size", "k"), [(20, 3), (26, 7), (50, 14)])
def test_frequency_on_a_bin_edge_goes_to_the_lower_bin(size, k):
    # Bins are (f_k, f_k+1], f_k = k / size here; k / size times size rounds above k for
    # these sizes, which must not move the stripes' frequency up a bin.
    _, power = radial_power_spectrum(sinusoid(k / size, size))
    assert np.argmax(power) == k - 1


def test_camera_has_a_natural_image_slope():
    alpha = spectral_slope(*radial_power_spectrum(skimage.data.camera()))
    # Measured 2.86 (2.25 below 0.1 cycles/pixel, 3.2 above); natural images scatter around 2
    # (1.88 +- 0.43 in van der Schaaf & van Hateren 1996).
    assert 2.3 < alpha < 3.4


def test_blur_steepens_the_spectrum():
    image = noise(128, seed=4)
    blurred = ndimage.gaussian_filter(image, 1.5)
    assert spectral_slope(*radial_power_spectrum(blurred)) > spectral_slope(
        *radial_power_spectrum(image)) + 2


def test_mean_spectrum_is_the_mean():
    images = {"a": noise(64, seed=5), "b": sinusoid(0.2, 48)}
    freq, mean = mean_power_spectrum(images, n_bins=16)
    spectra = [radial_power_spectrum(im, 16) for im in images.values()]
    np.testing.assert_allclose(freq, spectra[0][0])
    np.testing.assert_allclose(mean, (spectra[0][1] + spectra[1][1]) / 2)
    assert mean.sum() == pytest.approx(1.0)


def test_spectrum_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 16x16"):
        radial_power_spectrum(noise(15))
    with pytest.raises(ValueError, match="n_bins must be between 2 and"):
        radial_power_spectrum(noise(32), n_bins=64)
    with pytest.raises(ValueError, match="constant"):
        radial_power_spectrum(np.full((32, 32), 0.5))


def test_slope_of_an_exact_power_law_and_too_few_bins():
    freq = np.linspace(0.01, 0.5, 50)
    assert spectral_slope(freq, 3 * freq**-2.5) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="a line fit needs 3"):
        spectral_slope(freq, freq**-2.0, fmin=0.1, fmax=0.105)


# --------------------------------------------------------------------------------------------
# Edges
# --------------------------------------------------------------------------------------------


def test_constant_image_has_no_edges():
    stats = edge_statistics(np.full((24, 24), 0.7))
    assert stats["mean_gradient"] == 0.0
    assert stats["edge_density"] == 0.0


def test_step_edge():
    stats = edge_statistics(step(32))
    # The two columns beside the step have gradient 0.5 (Sobel / 8): 2 of 32 columns.
    assert stats["edge_density"] == pytest.approx(2 / 32)
    assert stats["mean_gradient"] == pytest.approx(2 * 0.5 / 32)
    assert stats["gradient_kurtosis"] > 3  # sparse: heavy-tailed


def test_camera_edges_are_sparser_than_noise_edges():
    camera, rand = edge_statistics(skimage.data.camera()), edge_statistics(noise(64))
    assert camera["gradient_kurtosis"] > 5 > rand["gradient_kurtosis"]
    assert camera["edge_density"] < rand["edge_density"]


@pytest.mark.parametrize("threshold", [0, -0.1])
def test_threshold_must_be_positive(threshold):
    with pytest.raises(ValueError, match="threshold must be positive"):
        edge_statistics(step(), threshold=threshold)


# --------------------------------------------------------------------------------------------
# Per-domain table and figure
# --------------------------------------------------------------------------------------------

KEYS = ["domain", "images", "mean intensity", "std intensity", "spectral slope",
        "mean gradient", "edge density", "gradient kurtosis"]


def test_domain_statistics_rows():
    domains = {"noise": [noise(64, 6), noise(48, 7)], "stripes": {"s": sinusoid(0.1)},
               "camera": [skimage.data.camera()[:128, :128]]}
    rows = domain_statistics(domains)
    assert [r["domain"] for r in rows] == list(domains)
    assert all(list(r) == KEYS for r in rows)
    assert rows[0]["images"] == 2
    assert rows[0]["mean intensity"] == pytest.approx(0.5, abs=0.02)
    assert rows[2]["spectral slope"] > rows[0]["spectral slope"] + 1
    assert Table(rows).column("domain") == list(domains)


def test_plot_domain_gap():
    fig = plot_domain_gap({"noise": [noise(64)], "camera": [skimage.data.camera()[:128, :128]]},
                          bins=32, n_bins=32)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    assert all(ax.get_title() for ax in fig.axes)
    assert "cycles/pixel" in fig.axes[1].get_xlabel()
    assert fig.axes[1].get_xscale() == fig.axes[1].get_yscale() == "log"
    assert fig.axes[2].get_yscale() == "log"
    assert all(len(ax.get_lines()) == 2 for ax in fig.axes)
