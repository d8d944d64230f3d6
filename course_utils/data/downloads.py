"""Checksummed downloads and the course's data folder.

Downloads go through a registry (name, URL, SHA-256, licence), ``registry.tsv`` in the
course's data folder (:func:`data_dir`), and land in a cache folder (``COURSE_DATA_CACHE``
overrides it). Every use re-verifies the cached file's hash; a download is written to a
temporary file and only moved into place once its hash matches, so an interrupted or corrupted
download never poisons the cache.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pooch

from ..checks import check_scale
from .io import remove_dead_partials, sha256_of

__all__ = ["BENCHMARKS", "DataUnavailableError", "Entry", "Registry", "cache_dir", "data_dir",
           "default_registry", "fetch", "fetch_benchmark"]


#: The files the course ships (the registry, the source models and their cards), package data
#: of ``course_utils`` so that a wheel install has them as well as a checkout.
ASSETS = Path(__file__).resolve().parents[1] / "assets"


def data_dir() -> Path:
    """The course's data folder: ``course_utils/assets/`` (``COURSE_DATA_DIR`` overrides it).

    It holds ``registry.tsv``, ``models/`` and ``README.md`` (their sources and licences), in
    a checkout and in an installed package alike.
    """
    override = os.environ.get("COURSE_DATA_DIR")
    return Path(override) if override else ASSETS


class DataUnavailableError(RuntimeError):
    """A data file is neither in the cache nor downloadable (offline, moved, or corrupted)."""


def cache_dir() -> Path:
    """Where downloads are cached: ``COURSE_DATA_CACHE``, else the OS cache folder."""
    override = os.environ.get("COURSE_DATA_CACHE")
    if override:
        return Path(override)
    return Path(pooch.os_cache("tl-recon-course"))


@dataclass(frozen=True)
class Entry:
    """One downloadable file: where it comes from, its SHA-256 and its licence."""

    name: str
    url: str
    sha256: str
    licence: str = ""


class Registry:
    """A set of downloadable files, fetched into ``cache`` with their hashes verified.

    Parameters
    ----------
    entries : iterable of Entry
    cache : path-like, optional
        Defaults to :func:`cache_dir` at fetch time.
    """

    def __init__(self, entries, cache: str | os.PathLike | None = None) -> None:
        self.entries = {e.name: e for e in entries}
        self._cache = Path(cache) if cache is not None else None

    @classmethod
    def from_file(cls, path: str | os.PathLike, cache=None) -> Registry:
        """Read a tab-separated registry with columns name, url, sha256, licence."""
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f, delimiter="\t") if r and not r[0].startswith("#")]
        header, *rows = rows
        short = [r[0] for r in rows if len(r) < 3]
        if short:
            raise ValueError(f"{path}: rows {short} need at least name, url and sha256 "
                             "separated by tabs.")
        if header[:3] != ["name", "url", "sha256"]:
            raise ValueError(f"{path}: first line must be the header name, url, sha256, licence")
        return cls((Entry(*row) for row in rows), cache)

    @property
    def cache(self) -> Path:
        return self._cache if self._cache is not None else cache_dir()

    def __contains__(self, name: str) -> bool:
        return name in self.entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries.values())

    def path(self, name: str) -> Path:
        """Where ``name`` lives (or will live) in the cache."""
        return self.cache / self.entries[name].name

    def fetch(self, name: str, progress: bool = False) -> Path:
        """Return the local path of ``name``, downloading and verifying it if needed.

        A cached file is re-hashed on every call; if it does not match (corrupted, edited,
        half-copied) it is downloaded again. A manually downloaded file placed at
        :meth:`path` is used if its hash matches.

        Raises
        ------
        KeyError
            If ``name`` is not registered.
        DataUnavailableError
            If the file cannot be downloaded (offline, server error) or the download does
            not match the registered SHA-256. The message names the URL and the folder to
            place a manually downloaded copy in.
        """
        if name not in self.entries:
            close = [n for n in self.entries if name.split("/")[0] in n][:5]
            raise KeyError(f"{name!r} is not in the registry. Similar names: {close}")
        entry = self.entries[name]
        target = self.path(name)
        if target.is_file() and sha256_of(target) == entry.sha256:
            return target
        existed = target.exists()
        target.parent.mkdir(parents=True, exist_ok=True)
        # Each download goes to a folder of its own process, moved into place once its hash
        # matches; what a killed process left (pooch's tmpXXXX file) goes with its folder.
        remove_dead_partials(target.parent, ".download-")
        staging = Path(tempfile.mkdtemp(prefix=f".download-{os.getpid()}-", dir=target.parent))
        try:
            path = pooch.retrieve(entry.url, known_hash=f"sha256:{entry.sha256}",
                                  fname=target.name, path=staging, progressbar=progress)
            os.replace(path, target)
        except Exception as err:  # pooch raises requests', urllib3's and its own errors
            problem = (
                f"the cached copy at {target} does not match its SHA-256 and could not be "
                "downloaded again"
                if existed
                else f"could not download {name!r}"
            )
            if "hash" in str(err).lower() and "match" in str(err).lower():
                problem = f"the file downloaded for {name!r} does not match its SHA-256"
            raise DataUnavailableError(
                f"{problem}.\n  URL: {entry.url}\n  expected SHA-256: {entry.sha256}\n"
                f"  reason: {type(err).__name__}: {err}\n"
                f"If you are offline, download the file by hand and save it as\n  {target}\n"
                f"(folder {target.parent}); it is used as soon as its hash matches. "
                "Set COURSE_DATA_CACHE to use another cache folder."
            ) from err
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target


def default_registry() -> Registry:
    """The course registry shipped in ``registry.tsv`` of :func:`data_dir`."""
    path = data_dir() / "registry.tsv"
    if not path.is_file():
        raise DataUnavailableError(
            f"the course's download registry {path} is missing. Unset COURSE_DATA_DIR if it "
            "points at another folder; in a checkout restore the folder (`git checkout -- "
            "course_utils/assets`); otherwise reinstall the course package.")
    return Registry.from_file(path)


def fetch(name: str, progress: bool = True) -> Path:
    """Fetch a file of the course registry; see :meth:`Registry.fetch`."""
    return default_registry().fetch(name, progress=progress)


BENCHMARKS = {"Set5": 5, "Set14": 14}


def fetch_benchmark(
    name: str, scale: int, registry: Registry | None = None
) -> tuple[list[Path], list[Path]]:
    """Download a standard SR benchmark set and return its (HR paths, LR paths).

    They land in ``<cache>/<name>/x<scale>/HR/`` and ``.../LR/``, ready for the
    evaluation command's ``--hr`` and ``--lr``.

    The files are the Set5/Set14 copies of ``jbhuang0604/SelfExSR``: HR images already
    modcropped for ``scale`` and LR images made with MATLAB's ``imresize``.
    """
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {sorted(BENCHMARKS)}.")
    scale = check_scale(scale)
    if scale not in (2, 3, 4):
        raise ValueError(f"{name} is registered at scales 2, 3 and 4, not {scale}.")
    registry = registry or default_registry()
    files = {kind: [f"{name}/x{scale}/{kind}/img_{i:03d}.png"
                    for i in range(1, BENCHMARKS[name] + 1)] for kind in ("HR", "LR")}
    paths, missing, reason = {"HR": [], "LR": []}, [], ""
    for kind, names in files.items():
        for file in names:
            try:
                paths[kind].append(registry.fetch(file))
            except DataUnavailableError as err:
                missing.append(file)
                reason = reason or str(err.__cause__ or err).splitlines()[0]
    if missing:
        where = "\n".join(f"  {registry.entries[f].url}\n    -> {registry.path(f)}"
                          for f in missing)
        raise DataUnavailableError(
            f"{len(missing)} of the {sum(map(len, files.values()))} files of {name} x{scale} "
            f"could not be downloaded ({reason}). If you are offline, download each by hand "
            f"and save it where its arrow points (it is used as soon as its SHA-256 matches):\n"
            f"{where}\nOr score a folder of your own clean images instead: "
            f"evaluate --hr DIR --scale {scale}.")
    return paths["HR"], paths["LR"]
