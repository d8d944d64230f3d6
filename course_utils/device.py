"""Device choice, the CPUs this process may use, and reproducible seeding."""

from __future__ import annotations

import math
import os
import platform
import random
from importlib.metadata import version
from pathlib import Path

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


def available_cpus() -> int:
    """The CPUs this process may really use: its affinity mask, bounded by a cgroup v2 CPU
    quota (``/sys/fs/cgroup/cpu.max``, as a container or a CI runner sets it).

    ``os.cpu_count()``, and so torch's default thread count, is the machine's count: in a
    container limited to 2 of 64 CPUs, 64 threads would fight over 2 and run several times
    slower than 2 threads.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):  # no cgroup v2 (macOS, Windows, older Linux): no quota
        pass
    return max(1, cpus or 1)


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
