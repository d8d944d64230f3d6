"""Medical images, read with the field's own readers: DICOM with pydicom, NIfTI with nibabel.

Medical scanners store more than 8 bits per pixel (CT: 12-16 bits, in Hounsfield units after
the file's rescale; radiographs: up to 15 bits), so a scan must be mapped to [0, 1]
deliberately before a network sees it. The radiologist's tool for that is the **window**: a
centre :math:`c` and a width :math:`w` select the range of values that spans black to white
(DICOM PS3.3 C.11.2.1.2, "linear" VOI LUT):

.. math:: y = \\operatorname{clip}\\left(\\frac{x - (c - 0.5)}{w - 1} + 0.5,\\ 0,\\ 1\\right)

:func:`read_dicom` returns the stored values after the modality rescale (``slope * x +
intercept``), with the window the file recommends; :func:`window` applies a window;
:func:`percentile_window` chooses one from the image when the file gives none.
:func:`read_nifti_slices` cuts a 3-D volume into 2-D slices that hold enough tissue.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DicomImage", "percentile_window", "read_dicom", "read_nifti_slices", "window"]


@dataclass
class DicomImage:
    """A 2-D DICOM image: the rescaled values and what is needed to display them.

    ``pixels`` are float64 in the modality's units (Hounsfield units for CT). ``window`` is
    the file's first recommended (centre, width), or ``None``. ``invert`` is True for
    MONOCHROME1 images (radiographs stored with high values dark).
    """

    pixels: np.ndarray
    modality: str
    bits_stored: int
    window: tuple[float, float] | None
    invert: bool
    path: Path

    def to_unit(self, override: tuple[float, float] | None = None) -> np.ndarray:
        """The image in [0, 1], display-ready, through the window ``override`` if given, else
        the file's own window, else the percentile window of :func:`percentile_window`."""
        center, width = override or self.window or percentile_window(self.pixels)
        return window(self.pixels, center, width, invert=self.invert)


def _first(value) -> float | None:
    if value is None:
        return None
    try:
        return float(value[0])  # a multi-valued element: the first window is the default
    except TypeError:
        return float(value)


def _frame_groups(ds, frame: int) -> dict:
    """The functional groups of one frame of an enhanced (multi-frame) DICOM file.

    Enhanced CT and MR files keep the rescale and the window in functional-group sequences,
    per frame or shared by all frames, instead of at the top level; pydicom's
    ``apply_modality_lut`` reads only the top level. Per-frame values win over shared ones.
    """
    groups = {}
    for sequence, index in (("SharedFunctionalGroupsSequence", 0),
                            ("PerFrameFunctionalGroupsSequence", frame)):
        if sequence in ds and len(ds[sequence].value) > index:
            for element in ds[sequence][index]:
                groups[element.keyword] = element.value
    return groups


def read_dicom(path: str | os.PathLike, frame: int | None = None) -> DicomImage:
    """Read a grayscale DICOM image with pydicom.

    Parameters
    ----------
    path : path-like
    frame : int, optional
        Which frame of a multi-frame file (required for those).

    Notes
    -----
    Enhanced multi-frame files (e.g. Enhanced CT) keep the rescale and the window in their
    functional groups; these are used when the top level has none.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        Not a DICOM file (or a corrupt one), no pixel data, a compressed file whose codec is
        not installed, a colour image, or a multi-frame file without ``frame``.
    """
    # Optional extra (pip install tl-recon-course[medical]), imported only to read DICOM.
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no DICOM file at {path}.")
    try:
        ds = pydicom.dcmread(path)
    except (InvalidDicomError, EOFError, OSError, ValueError) as err:
        raise ValueError(f"could not read {path} as DICOM ({type(err).__name__}: {err}); the "
                         "file may be truncated or not DICOM at all.") from err
    if "PixelData" not in ds:
        raise ValueError(f"{path} holds no image (no PixelData): it may be a report, a "
                         "structure set or a dose file.")
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    if not photometric.startswith("MONOCHROME"):
        raise ValueError(f"{path} is a colour image ({photometric}); the course's medical "
                         "units use grayscale scans (CT, MR, X-ray).")
    try:
        pixels = ds.pixel_array
    except Exception as err:  # pydicom raises RuntimeError/NotImplementedError per codec
        raise ValueError(f"could not decode the pixels of {path} ({type(err).__name__}: "
                         f"{err}). A compressed transfer syntax needs its codec, e.g. "
                         "`pip install pylibjpeg pylibjpeg-libjpeg`.") from err
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        if frame is None:
            raise ValueError(f"{path} holds {frames} frames; choose one with frame=0 .. "
                             f"{frames - 1}.")
        if not 0 <= frame < frames:
            raise ValueError(f"frame must be 0 .. {frames - 1}, got {frame}.")
        pixels = pixels[frame]
    values = np.asarray(apply_modality_lut(pixels, ds), dtype=np.float64)
    center, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
    groups = _frame_groups(ds, frame or 0)
    if "RescaleIntercept" not in ds and "PixelValueTransformationSequence" in groups:
        rescale = groups["PixelValueTransformationSequence"][0]
        values = (float(rescale.get("RescaleSlope", 1.0)) * pixels.astype(np.float64)
                  + float(rescale.get("RescaleIntercept", 0.0)))
    if center is None and "FrameVOILUTSequence" in groups:
        voi = groups["FrameVOILUTSequence"][0]
        center, width = _first(voi.get("WindowCenter")), _first(voi.get("WindowWidth"))
    return DicomImage(
        pixels=values,
        modality=str(ds.get("Modality", "OT")),
        bits_stored=int(ds.get("BitsStored", pixels.dtype.itemsize * 8)),
        window=(center, width) if center is not None and width else None,
        invert=photometric == "MONOCHROME1",
        path=path,
    )


def window(image: np.ndarray, center: float, width: float, invert: bool = False) -> np.ndarray:
    """Map values to [0, 1] with a DICOM linear window of ``center`` and ``width``.

    Values below :math:`c - w/2` become 0, above :math:`c + w/2` become 1 (then ``1 - y`` if
    ``invert``, for MONOCHROME1). Example: a CT brain window is c = 40, w = 80 HU; a lung
    window c = -600, w = 1500 HU.
    """
    if width < 1:
        raise ValueError(f"the window width must be at least 1, got {width}.")
    y = np.clip((np.asarray(image, dtype=np.float64) - (center - 0.5)) / (width - 1) + 0.5,
                0.0, 1.0)
    return 1.0 - y if invert else y


def percentile_window(image: np.ndarray, low: float = 0.5,
                      high: float = 99.5) -> tuple[float, float]:
    """A (centre, width) spanning the ``low`` to ``high`` percentiles of the image's values.

    Robust to a few extreme pixels (metal, air outside the body), and what a viewer does when
    a file recommends no window.
    """
    lo, hi = np.percentile(image, [low, high])
    width = max(float(hi - lo), 1.0)
    return float(lo + hi) / 2, width


def read_nifti_slices(path: str | os.PathLike, axis: int = 2, step: int = 1,
                      min_foreground: float = 0.25) -> dict[int, np.ndarray]:
    """2-D slices of a NIfTI volume (read with nibabel), ``{slice index: float64 slice}``.

    The volume is first reoriented to the closest canonical (RAS+) orientation, so that
    ``axis`` 0, 1, 2 mean sagittal, coronal and axial slices whatever the scanner stored.
    A slice is kept if at least ``min_foreground`` of its pixels are above 10 % of the
    volume's maximum (mostly tissue, not background); ``step`` keeps every step-th slice, as
    neighbouring slices are nearly identical.

    Raises
    ------
    FileNotFoundError, ValueError
        A missing file, a file nibabel cannot read, or a volume that is not 3-D.
    """
    import nibabel as nib  # optional extra (tl-recon-course[medical]), only for NIfTI

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NIfTI file at {path}.")
    try:
        image = nib.as_closest_canonical(nib.load(path))
        volume = np.asarray(image.dataobj, dtype=np.float64)
    except Exception as err:  # nibabel raises ImageFileError, EOFError, zlib errors ...
        raise ValueError(f"could not read {path} as NIfTI ({type(err).__name__}: {err}); the "
                         "file may be truncated or not NIfTI.") from err
    if volume.ndim == 4 and volume.shape[3] == 1:
        volume = volume[..., 0]
    if volume.ndim != 3:
        raise ValueError(f"{path} holds a {volume.ndim}-D image of shape {volume.shape}; "
                         "read_nifti_slices needs a 3-D volume (choose a time point first).")
    if axis not in (0, 1, 2) or step < 1:
        raise ValueError(f"axis must be 0, 1 or 2 and step at least 1, got {axis} and {step}.")
    threshold = 0.1 * volume.max()
    slices = {}
    # Index a view with the slice axis first: np.take copies through a generic path that is
    # a hundred times slower on nibabel's Fortran-ordered volumes (11 s for the MNI template).
    stack = np.moveaxis(volume, axis, 0)
    for index in range(0, volume.shape[axis], step):
        cut = np.ascontiguousarray(stack[index])
        if (cut > threshold).mean() >= min_foreground:
            slices[index] = cut
    return slices
