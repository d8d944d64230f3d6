"""Tests of course_utils.evaluation.classical: the classical restoration baselines.

Each method runs for real (scikit-image; BM3D when the optional package is importable) on
small smooth images made from sinusoids, and must restore them better than the degraded
input scores: the PSNR of its output against the clean target is higher.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import make_smooth
from course_utils.evaluation import classical
from course_utils.evaluation.classical import CLASSICAL, bm3d_available, classical_for
from course_utils.tasks import Observation, get_task

DENOISERS = ["nlm", "wavelet", "tv"]
DECONVOLUTIONS = ["wiener", "unsupervised-wiener", "richardson-lucy"]
CHANNELS = {"gray": None, "rgb": 3}


def observe(spec: str, channels: int | None, seed: int = 0):
    """(task, target, observation) of a 48x64 smooth image."""
    task = get_task(spec)
    target = task.target(make_smooth(48, 64, channels=channels, seed=seed, cycles=4))
    return task, target, task.observe(target, np.random.default_rng(seed))


def gain(spec: str, method: str, channels: int | None) -> tuple[float, float, np.ndarray]:
    """(PSNR of the degraded input, PSNR of the method's output, the output)."""
    task, target, observation = observe(spec, channels)
    restored = CLASSICAL[method](observation)
    assert restored.shape == target.shape and restored.dtype.kind == "f"
    assert np.isfinite(restored).all()
    return (task.score(observation.image, target)["psnr"],
            task.score(restored, target)["psnr"], restored)


# --------------------------------------------------------------------------------------------
# The methods restore
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", CHANNELS.values(), ids=CHANNELS)
@pytest.mark.parametrize("spec", ["denoise-25", "poisson-30"])
@pytest.mark.parametrize("method", DENOISERS)
def test_each_denoiser_improves_on_the_noisy_input(method, spec, channels):
    before, after, _ = gain(spec, method, channels)
    # smooth images are easy to denoise: every method gains several dB (5 to 10 here)
    assert after > before + 3, (before, after)


@pytest.mark.parametrize("channels", CHANNELS.values(), ids=CHANNELS)
@pytest.mark.parametrize("method", DECONVOLUTIONS)
def test_each_deconvolution_improves_on_the_blurred_input(method, channels):
    before, after, _ = gain("deblur-gaussian:1.5,0.005", method, channels)
    assert after > before + 1.5, (before, after)  # 2 to 14 dB here


def test_deconvolution_uses_the_tasks_kernel():
    # a motion blur deconvolved with its own kernel gains; the Wiener filter is told it
    before, after, _ = gain("deblur-motion:7:30,0.005", "wiener", None)
    assert after > before + 3, (before, after)


def test_unsupervised_wiener_is_reproducible():
    _, _, observation = observe("deblur-gaussian:1.5,0.005", None)
    np.testing.assert_array_equal(CLASSICAL["unsupervised-wiener"](observation),
                                  CLASSICAL["unsupervised-wiener"](observation))


@pytest.mark.parametrize("channels", CHANNELS.values(), ids=CHANNELS)
def test_biharmonic_improves_on_the_zero_filled_input(channels):
    before, after, restored = gain("inpaint-random:0.5", "biharmonic", channels)
    assert after > before + 10, (before, after)
    # the known pixels are kept
    task, target, observation = observe("inpaint-random:0.5", channels)
    np.testing.assert_allclose(restored[observation.known], target[observation.known] / 255,
                               atol=1e-12)


def test_biharmonic_needs_the_mask():
    task, target, observation = observe("inpaint-random:0.5", None)
    given = Observation(observation.image, task)  # an input read from a file: no mask
    with pytest.raises(ValueError, match="biharmonic inpainting needs the mask of the missing "
                                         r"pixels.*\(leave out --lr\)"):
        CLASSICAL["biharmonic"](given)


# --------------------------------------------------------------------------------------------
# Which method serves which task
# --------------------------------------------------------------------------------------------


def test_classical_for_each_kind():
    assert classical_for("denoise") == ["nlm", "wavelet", "tv", "bm3d"]
    assert classical_for("poisson") == ["nlm", "wavelet", "tv", "bm3d"]
    assert classical_for("deblur") == ["wiener", "unsupervised-wiener", "richardson-lucy"]
    assert classical_for("inpaint") == ["biharmonic"]
    assert classical_for("jpeg") == [] and classical_for("sr") == []
    assert set(CLASSICAL) == {*DENOISERS, "bm3d", *DECONVOLUTIONS, "biharmonic"}


@pytest.mark.parametrize(("method", "spec", "message"), [
    ("wiener", "denoise-25", "denoise-25: this method serves deblur tasks; for denoise choose "
                             "one of nlm, wavelet, tv, bm3d"),
    ("nlm", "deblur-gaussian:2", "this method serves denoise, poisson tasks; for deblur choose "
                                 "one of wiener, unsupervised-wiener, richardson-lucy"),
    ("biharmonic", "poisson-30", "for poisson choose one of nlm, wavelet, tv, bm3d"),
    ("tv", "jpeg-10", "no classical method serves jpeg tasks"),
])
def test_a_method_refuses_a_task_it_does_not_serve(method, spec, message):
    _, _, observation = observe(spec, None)
    with pytest.raises(ValueError, match=message):
        CLASSICAL[method](observation)


# --------------------------------------------------------------------------------------------
# BM3D, the optional package
# --------------------------------------------------------------------------------------------


def test_bm3d_without_the_package_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "bm3d", None)  # `import bm3d` raises ImportError
    assert not bm3d_available()
    _, _, observation = observe("denoise-25", None)
    with pytest.raises(ValueError, match=r"needs the bm3d package.*non-commercial use only: "
                                         r"`pip install bm3d`"):
        CLASSICAL["bm3d"](observation)


def test_bm3d_available_when_importable():
    try:
        import bm3d  # noqa: F401
    except ImportError:
        assert not bm3d_available()
    else:
        assert bm3d_available()


@pytest.fixture
def recorded_bm3d(monkeypatch):
    """The real bm3d package, with the sigma_psd of each call recorded."""
    package = pytest.importorskip("bm3d")
    calls = []

    def recording(name):
        real = getattr(package, name)

        def run(image, sigma_psd, *args, **kwargs):
            calls.append((name, sigma_psd))
            return real(image, sigma_psd, *args, **kwargs)

        monkeypatch.setattr(package, name, run)

    recording("bm3d")
    recording("bm3d_rgb")
    return calls


@pytest.mark.parametrize("channels", CHANNELS.values(), ids=CHANNELS)
def test_bm3d_improves_and_is_told_the_true_sigma(recorded_bm3d, channels):
    before, after, _ = gain("denoise-25", "bm3d", channels)
    assert after > before + 5, (before, after)  # about 10 dB here
    # the first call is the method's (bm3d_rgb calls bm3d itself on its colour transform)
    assert recorded_bm3d[0] == ("bm3d" if channels is None else "bm3d_rgb", 25 / 255)
    assert len(recorded_bm3d) == (1 if channels is None else 2)


def test_bm3d_is_told_the_sigma_drawn_by_a_blind_task(recorded_bm3d):
    _, _, observation = observe("denoise-10:40", None, seed=3)
    CLASSICAL["bm3d"](observation)
    assert 10 <= observation.sigma <= 40
    assert recorded_bm3d == [("bm3d", observation.sigma / 255)]


def test_bm3d_estimates_sigma_when_the_task_does_not_tell_it(recorded_bm3d):
    # Poisson noise has no single sigma: BM3D gets estimate_sigma's
    _, _, observation = observe("poisson-30", None)
    assert observation.sigma is None
    CLASSICAL["bm3d"](observation)
    ((name, sigma),) = recorded_bm3d
    assert name == "bm3d"
    expected = float(np.mean(classical.restoration.estimate_sigma(observation.image)))
    assert sigma == pytest.approx(expected)
    assert 0.02 < sigma < 0.2  # about sqrt(mean(x) / 30) = 0.13 for x around 0.5
