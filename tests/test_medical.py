"""Tests of course_utils.data.medical on DICOM and NIfTI files the tests write (and
pydicom-data), including the rescale and window of enhanced DICOM's functional groups."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from course_utils.data.medical import percentile_window, read_dicom, read_nifti_slices, window


def write_dicom(path, pixels, **elements):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"  # CT Image Storage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, generate_uid()
    ds.Modality = "CT"
    frames = pixels.shape[0] if pixels.ndim == 3 else 1
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    for key, value in elements.items():
        setattr(ds, key, value)
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def ct(tmp_path):
    stored = np.arange(64 * 48, dtype=np.uint16).reshape(64, 48) % 4096
    path = write_dicom(tmp_path / "ct.dcm", stored, RescaleSlope=1, RescaleIntercept=-1024,
                       WindowCenter=[40, 400], WindowWidth=[80, 1500])
    return path, stored


def test_read_dicom_rescales_to_hounsfield_units(ct):
    path, stored = ct
    image = read_dicom(path)
    np.testing.assert_array_equal(image.pixels, stored - 1024.0)
    assert image.modality == "CT" and image.bits_stored == 12 and not image.invert
    assert image.window == (40.0, 80.0)  # the first of the recommended windows
    unit = image.to_unit()
    assert unit.min() == 0 and unit.max() == 1
    np.testing.assert_array_equal(unit, window(image.pixels, 40, 80))


def test_window_formula():
    x = np.array([-10.0, 0.0, 39.5, 40.0, 80.0, 100.0])
    y = window(x, center=40, width=81)
    np.testing.assert_allclose(y, np.clip((x - 39.5) / 80 + 0.5, 0, 1))
    assert y[2] == 0.5 and y[0] == 0 and y[-1] == 1
    np.testing.assert_allclose(window(x, 40, 81, invert=True), 1 - y)
    with pytest.raises(ValueError, match="at least 1"):
        window(x, 0, 0)


def test_percentile_window_ignores_outliers():
    rng = np.random.default_rng(0)
    image = rng.normal(100, 10, (64, 64))
    image[0, 0] = 3000  # a metal artefact
    center, width = percentile_window(image)
    assert 90 < center < 110 and 40 < width < 80


def test_multiframe_monochrome1_and_bad_files(tmp_path):
    frames = np.stack([np.full((8, 8), 100), np.full((8, 8), 200)])
    path = write_dicom(tmp_path / "mf.dcm", frames, PhotometricInterpretation="MONOCHROME1")
    with pytest.raises(ValueError, match="holds 2 frames; choose one with frame=0 .. 1"):
        read_dicom(path)
    second = read_dicom(path, frame=1)
    assert second.invert and (second.pixels == 200).all() and second.window is None
    with pytest.raises(ValueError, match="frame must be 0 .. 1"):
        read_dicom(path, frame=2)
    corrupt = tmp_path / "corrupt.dcm"
    corrupt.write_bytes(b"not a dicom file at all" * 10)
    with pytest.raises(ValueError, match="could not read .* as DICOM"):
        read_dicom(corrupt)
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError):
        read_dicom(truncated)
    with pytest.raises(FileNotFoundError):
        read_dicom(tmp_path / "missing.dcm")


def test_colour_dicom_is_refused():
    with pytest.raises(ValueError, match="colour image"):
        read_dicom(get_testdata_file("US1_UNCI.dcm"))


def test_real_scans_from_pydicom_data():
    chest = read_dicom(get_testdata_file("RG1_UNCI.dcm"))  # 15-bit chest radiograph
    assert chest.pixels.shape == (1955, 1841) and chest.invert and chest.bits_stored == 15
    head = read_dicom(get_testdata_file("693_UNCR.dcm"))  # head CT in HU
    assert head.modality == "CT" and head.pixels.min() < -500  # air is about -1000 HU
    unit = head.to_unit()
    assert 0 <= unit.min() and unit.max() <= 1 and unit.std() > 0.1


def test_nifti_slices(tmp_path):
    volume = np.zeros((20, 24, 10), np.int16)
    volume[4:16, 4:20, 2:8] = 1000  # a box of "tissue" in axial slices 2 to 7
    nib.save(nib.Nifti1Image(volume, np.eye(4)), tmp_path / "v.nii.gz")
    slices = read_nifti_slices(tmp_path / "v.nii.gz", axis=2)
    assert list(slices) == [2, 3, 4, 5, 6, 7] and slices[2].shape == (20, 24)
    assert list(read_nifti_slices(tmp_path / "v.nii.gz", axis=2, step=3)) == [3, 6]
    # a flipped affine is undone by the canonical reorientation
    flipped = np.diag([-1.0, 1, 1, 1])
    nib.save(nib.Nifti1Image(volume[::-1].copy(), flipped), tmp_path / "f.nii.gz")
    np.testing.assert_array_equal(read_nifti_slices(tmp_path / "f.nii.gz")[4], slices[4])
    (tmp_path / "bad.nii.gz").write_bytes(b"\x1f\x8b broken")
    with pytest.raises(ValueError, match="could not read .* as NIfTI"):
        read_nifti_slices(tmp_path / "bad.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((4, 4), np.int16), np.eye(4)), tmp_path / "2d.nii")
    with pytest.raises(ValueError, match="needs a 3-D volume"):
        read_nifti_slices(tmp_path / "2d.nii")


def test_dicom_without_pixels_is_refused(tmp_path):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR: a report
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, generate_uid()
    ds.Modality = "SR"
    path = tmp_path / "report.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(ValueError, match="holds no image"):
        read_dicom(path)


# --------------------------------------------------------------------------------------------
# Rescale and window from the functional groups of an enhanced (multi-frame) file
# --------------------------------------------------------------------------------------------


def _item(**sequences):
    item = Dataset()
    for keyword, elements in sequences.items():
        inner = Dataset()
        for key, value in elements.items():
            setattr(inner, key, value)
        setattr(item, keyword, [inner])
    return item


def test_functional_groups_rescale_and_per_frame_window(tmp_path):
    stored = np.arange(2 * 16 * 12, dtype=np.uint16).reshape(2, 16, 12) * 5
    shared = _item(PixelValueTransformationSequence={"RescaleIntercept": -1024,
                                                     "RescaleSlope": 1},
                   FrameVOILUTSequence={"WindowCenter": 40, "WindowWidth": 80})
    frame1 = _item(FrameVOILUTSequence={"WindowCenter": 300, "WindowWidth": 1500})
    path = write_dicom(tmp_path / "enhanced.dcm", stored,
                       SharedFunctionalGroupsSequence=[shared],
                       PerFrameFunctionalGroupsSequence=[_item(), frame1])

    first = read_dicom(path, frame=0)
    np.testing.assert_array_equal(first.pixels, stored[0] - 1024.0)
    assert first.window == (40.0, 80.0)
    second = read_dicom(path, frame=1)
    np.testing.assert_array_equal(second.pixels, stored[1] - 1024.0)
    assert second.window == (300.0, 1500.0)  # the frame's own window wins over the shared one


def test_top_level_rescale_and_window_win_over_functional_groups(tmp_path):
    stored = np.full((8, 8), 100, np.uint16)
    shared = _item(PixelValueTransformationSequence={"RescaleIntercept": -1024,
                                                     "RescaleSlope": 1},
                   FrameVOILUTSequence={"WindowCenter": 40, "WindowWidth": 80})
    path = write_dicom(tmp_path / "both.dcm", stored, RescaleIntercept=-1000, RescaleSlope=2,
                       WindowCenter=0, WindowWidth=500, SharedFunctionalGroupsSequence=[shared])
    scan = read_dicom(path)
    assert (scan.pixels == 2 * 100 - 1000).all() and scan.window == (0.0, 500.0)
