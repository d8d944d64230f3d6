"""Device choice and reproducible seeding."""

from __future__ import annotations

import platform
import random
from importlib.metadata import version

import numpy as np
import torch

from .config import fast_mode


def get_device() -> torch.device:
    """Return the best available device: CUDA, then Apple's MPS, then the CPU.

    Code in the course never hard-codes ``.cuda()``; it moves tensors with
    ``.to(get_device())`` so the same notebook runs on a laptop, Colab or Binder.
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch (all devices) and return a NumPy generator.

    Bit-identical results across machines are not guaranteed (different BLAS and GPU
    kernels), but two runs on the same machine give the same numbers.

    Parameters
    ----------
    seed : int
        A non-negative integer.

    Returns
    -------
    numpy.random.Generator
        ``np.random.default_rng(seed)``, the generator course code prefers over the
        global NumPy state.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 -- seeds legacy global-state code students may use
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def environment_report() -> dict[str, str]:
    """Versions of the course's main packages, the device, and the mode, for a set-up check.

    The versions are the installed distributions' (``importlib.metadata``), so the report does
    not import torchvision, scikit-image or matplotlib into every process that seeds.
    """
    device = get_device()
    detail = torch.cuda.get_device_name(0) if device.type == "cuda" else platform.processor()
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torchvision": version("torchvision"),
        "scikit-image": version("scikit-image"),
        "matplotlib": version("matplotlib"),
        "device": f"{device.type} ({detail or platform.machine()})",
        "CPU threads": str(torch.get_num_threads()),
        "mode": "fast (COURSE_FAST=1)" if fast_mode() else "full",
    }
