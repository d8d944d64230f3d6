"""The classical restoration baselines of the field's libraries, as evaluation methods.

Each method takes an :class:`~course_utils.tasks.Observation` (the degraded image and what is
known of its degradation: the kernel, the mask, the noise level) and returns the restored
float image. :data:`CLASSICAL` lists them with the task kinds they serve:

===================  =========================================================  ==========
method               what it is                                                 tasks
===================  =========================================================  ==========
``nlm``              non-local means (Buades et al. 2005), ``h = 0.6 sigma``    denoise,
                     with sigma from ``estimate_sigma`` (scikit-image)          poisson
``wavelet``          BayesShrink soft thresholding (Chang et al. 2000), sigma   denoise,
                     estimated                                                  poisson
``tv``               total variation (Chambolle 2004), its weight chosen from   denoise,
                     the noisy image alone by ``calibrate_denoiser``            poisson
                     (J-invariance, Batson & Royer 2019)
``bm3d``             BM3D (Dabov et al. 2007) told the true sigma of Gaussian   denoise,
                     noise, as in the published tables (``estimate_sigma``'s    poisson
                     for Poisson-Gaussian); the optional ``bm3d`` package
``wiener``           Wiener-Hunt deconvolution with the known kernel            deblur
``unsupervised-      Wiener-Hunt with its regularisation learned from the      deblur
wiener``             image (Orieux et al. 2010)
``richardson-lucy``  Richardson-Lucy iterations (30) with the known kernel      deblur
``biharmonic``       biharmonic inpainting of the known mask (Damelin & Hoang)  inpaint
===================  =========================================================  ==========

BM3D's licence allows non-commercial use only, so the course does not install it; ``pip
install bm3d`` (or the ``bm3d`` extra, ``pip install ".[bm3d]"`` in a checkout) adds it.
RGB images are restored with the methods' colour modes (``channel_axis``, BM3D's
``bm3d_rgb``) or channel by channel (the deconvolutions).

Memory: these methods work on whole float64 images, as scikit-image does, so their peak is a
small multiple of ``8 * H * W * C`` bytes (about 50 MB per RGB megapixel); the calibration of
``tv`` runs the denoiser on 16 masked copies, one at a time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from skimage import restoration

from ..tasks import Observation

__all__ = ["CLASSICAL", "ClassicalMethod", "bm3d_available", "classical_for"]


def _channel_axis(image: np.ndarray) -> int | None:
    return None if image.ndim == 2 else -1


def nlm(obs: Observation) -> np.ndarray:
    """Non-local means with the noise level estimated from the image.

    Each pixel becomes a weighted mean of pixels whose 5x5 patches look alike,
    :math:`w = \\exp(-\\max(d^2 - 2\\sigma^2, 0) / h^2)`, within 6 pixels, with
    :math:`h = 0.6\\,\\hat\\sigma` (scikit-image's choice for its fast mode when told
    sigma), :math:`\\hat\\sigma` from
    ``estimate_sigma`` (a wavelet median estimator).

    References
    ----------
    .. [1] A. Buades, B. Coll, J.-M. Morel, "A non-local algorithm for image denoising",
           CVPR 2005.
    """
    y, axis = obs.image, _channel_axis(obs.image)
    sigma = float(np.mean(restoration.estimate_sigma(y, channel_axis=axis)))
    return restoration.denoise_nl_means(y, h=0.6 * sigma, sigma=sigma, fast_mode=True,
                                        patch_size=5, patch_distance=6, channel_axis=axis)


def wavelet(obs: Observation) -> np.ndarray:
    """BayesShrink: soft thresholds per wavelet sub-band, :math:`T = \\sigma^2 / \\sigma_X`,
    with the noise sigma estimated from the finest sub-band (colour in YCbCr).

    References
    ----------
    .. [1] S. G. Chang, B. Yu, M. Vetterli, "Adaptive wavelet thresholding for image
           denoising and compression", IEEE TIP 9(9), 2000.
    """
    y, axis = obs.image, _channel_axis(obs.image)
    return restoration.denoise_wavelet(y, method="BayesShrink", mode="soft",
                                       rescale_sigma=True, channel_axis=axis,
                                       convert2ycbcr=axis is not None)


#: The TV weights ``calibrate_denoiser`` chooses among (log-spaced, 0.01 to 0.5).
TV_WEIGHTS = tuple(float(w) for w in np.geomspace(0.01, 0.5, 8))


def tv(obs: Observation) -> np.ndarray:
    """Total-variation denoising, :math:`\\min_u \\tfrac12\\|u - y\\|^2 + w\\,TV(u)`, with the
    weight chosen by J-invariant calibration: each candidate is scored by how well it predicts
    held-out (masked) pixels of the noisy image from the others, so no clean image is needed.

    References
    ----------
    .. [1] A. Chambolle, "An algorithm for total variation minimization and applications",
           J. Math. Imaging Vis. 20, 2004.
    .. [2] J. Batson, L. Royer, "Noise2Self: blind denoising by self-supervision", ICML 2019.
    """
    y, axis = obs.image, _channel_axis(obs.image)
    # calibrate_denoiser tries every combination of the listed values: the weights, and one
    # channel_axis (a list of one: it takes every parameter as a list of candidates).
    denoise = restoration.calibrate_denoiser(
        y, restoration.denoise_tv_chambolle,
        denoise_parameters={"weight": list(TV_WEIGHTS), "channel_axis": [axis]})
    return denoise(y)


def bm3d_available() -> bool:
    """Whether the optional ``bm3d`` package can be imported."""
    try:
        import bm3d  # noqa: F401  (optional: its licence is non-commercial)
    except ImportError:
        return False
    return True


def bm3d(obs: Observation) -> np.ndarray:
    """BM3D: similar patches grouped into 3-D stacks, shrunk jointly in a 3-D transform, then a
    Wiener step; told the true noise level when the task knows it (as the published tables
    are made), else the ``estimate_sigma`` estimate.

    Needs the ``bm3d`` package (``pip install bm3d``; non-commercial licence).

    References
    ----------
    .. [1] K. Dabov, A. Foi, V. Katkovnik, K. Egiazarian, "Image denoising by sparse 3-D
           transform-domain collaborative filtering", IEEE TIP 16(8), 2007.
    """
    try:
        # Imported here: an optional extra (its licence allows non-commercial use only).
        import bm3d as bm3d_package
    except ImportError:
        raise ValueError("the bm3d method needs the bm3d package, which the course does not "
                         "install because its licence allows non-commercial use only: "
                         "`pip install bm3d` to add it, or choose another --method (nlm, "
                         "wavelet, tv).") from None
    y, axis = obs.image, _channel_axis(obs.image)
    sigma = (obs.sigma / 255.0 if obs.sigma is not None
             else float(np.mean(restoration.estimate_sigma(y, channel_axis=axis))))
    if axis is None:
        return np.asarray(bm3d_package.bm3d(y, sigma_psd=sigma), dtype=np.float64)
    return np.asarray(bm3d_package.bm3d_rgb(y, sigma_psd=sigma), dtype=np.float64)


def _by_channel(function: Callable[[np.ndarray], np.ndarray], image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return function(image)
    return np.stack([function(image[..., c]) for c in range(image.shape[2])], axis=2)


def _padded(function: Callable[[np.ndarray, np.ndarray], np.ndarray],
            obs: Observation) -> np.ndarray:
    """Run an FFT deconvolution on the image mirrored by the kernel's size on every side, and
    crop back: the FFT treats the image as periodic, and the mirror matches the blur's own
    mirrored borders, so no ringing starts at the edges."""
    psf = obs.task.psf
    pad = max(psf.shape)

    def one(channel: np.ndarray) -> np.ndarray:  # one gray channel: pad, restore, crop
        padded = np.pad(channel, pad, mode="symmetric")
        return function(padded, psf)[pad:-pad, pad:-pad]

    return _by_channel(one, obs.image)


def wiener(obs: Observation) -> np.ndarray:
    """Wiener-Hunt deconvolution with the task's kernel :math:`k` and a Laplacian regulariser
    :math:`\\Lambda`: :math:`\\hat X = \\bar K Y / (|K|^2 + \\lambda |\\Lambda|^2)`, with
    :math:`\\lambda = \\max(10\\,\\sigma_n, 10^{-3})` from the task's noise sigma
    (:math:`\\sigma_n` in [0, 1] units). A heuristic, more noise, more smoothing: on the
    held-out photos with noise 0.01 its 0.1 is the best of 0.01 to 0.3 for the motion kernel,
    while the Gaussian kernel prefers 0.01; one fixed rule is a compromise, which
    :func:`unsupervised_wiener` avoids by learning the regularisation.

    References
    ----------
    .. [1] B. R. Hunt, "A matrix theory proof of the discrete convolution theorem", IEEE
           Trans. Audio Electroacoustics 19(4), 1971.
    """
    balance = max(10.0 * obs.task.noise, 1e-3)
    return _padded(lambda y, psf: restoration.wiener(y, psf, balance, clip=False), obs)


def unsupervised_wiener(obs: Observation) -> np.ndarray:
    """Wiener-Hunt deconvolution whose noise and image priors are sampled from the image
    itself (a Gibbs sampler): no parameter to choose.

    References
    ----------
    .. [1] F. Orieux, J.-F. Giovannelli, T. Rodet, "Bayesian estimation of regularization and
           point spread function parameters for Wiener-Hunt deconvolution", JOSA A 27(7),
           2010.
    """
    def run(y: np.ndarray, psf: np.ndarray) -> np.ndarray:
        restored, _ = restoration.unsupervised_wiener(y, psf, clip=False,
                                                      rng=np.random.default_rng(0))
        return restored

    return _padded(run, obs)


def richardson_lucy(obs: Observation) -> np.ndarray:
    """Richardson-Lucy deconvolution, 30 iterations of
    :math:`x \\leftarrow x \\cdot \\left(\\frac{y}{x * k} * \\tilde k\\right)`, with
    :math:`\\tilde k` the mirrored kernel (``k[::-1, ::-1]``): the maximum-likelihood
    estimate under Poisson noise. It needs non-negative values, so the
    input is clipped to [0, 1] first.

    References
    ----------
    .. [1] W. H. Richardson, "Bayesian-based iterative method of image restoration", JOSA 62,
           1972; L. B. Lucy, "An iterative technique for the rectification of observed
           distributions", Astron. J. 79, 1974.
    """
    return _padded(lambda y, psf: restoration.richardson_lucy(
        np.clip(y, 0.0, 1.0), psf, num_iter=30, clip=False), obs)


def biharmonic(obs: Observation) -> np.ndarray:
    """Biharmonic inpainting: the missing pixels solve :math:`\\Delta^2 u = 0` with the known
    pixels as boundary values (a smooth fill).

    References
    ----------
    .. [1] S. B. Damelin, N. S. Hoang, "On surface completion and image inpainting by
           biharmonic functions: numerical aspects", Int. J. Math. Math. Sci., 2018.
    """
    if obs.known is None:
        raise ValueError("biharmonic inpainting needs the mask of the missing pixels, which a "
                         "given input image does not carry: let the task make the inputs "
                         "(leave out --lr).")
    return restoration.inpaint_biharmonic(obs.image, ~obs.known,
                                          channel_axis=_channel_axis(obs.image))


class ClassicalMethod:
    """A classical method: its function and the task kinds it serves."""

    def __init__(self, function: Callable[[Observation], np.ndarray],
                 kinds: tuple[str, ...]) -> None:
        self.function, self.kinds = function, kinds

    def __call__(self, obs: Observation) -> np.ndarray:
        if obs.task.kind not in self.kinds:
            others = classical_for(obs.task.kind)
            raise ValueError(f"{obs.task.name}: this method serves {', '.join(self.kinds)} "
                             "tasks; " + (f"for {obs.task.kind} choose one of "
                                          f"{', '.join(others)}." if others else
                                          f"no classical method serves {obs.task.kind} "
                                          "tasks (score the degraded input, or a model)."))
        return self.function(obs)


_NOISE = ("denoise", "poisson")

#: The classical methods by name, with the task kinds each serves.
CLASSICAL: dict[str, ClassicalMethod] = {
    "nlm": ClassicalMethod(nlm, _NOISE),
    "wavelet": ClassicalMethod(wavelet, _NOISE),
    "tv": ClassicalMethod(tv, _NOISE),
    "bm3d": ClassicalMethod(bm3d, _NOISE),
    "wiener": ClassicalMethod(wiener, ("deblur",)),
    "unsupervised-wiener": ClassicalMethod(unsupervised_wiener, ("deblur",)),
    "richardson-lucy": ClassicalMethod(richardson_lucy, ("deblur",)),
    "biharmonic": ClassicalMethod(biharmonic, ("inpaint",)),
}


def classical_for(kind: str) -> list[str]:
    """The names of the classical methods that serve a task kind (``"denoise"`` ...)."""
    return [name for name, method in CLASSICAL.items() if kind in method.kinds]
