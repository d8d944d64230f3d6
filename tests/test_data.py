"""Tests of course_utils.data.io and course_utils.data.downloads: reading and writing images,
checksummed downloads.

Every file is written by the test itself (tmp_path); downloads come from a local HTTP server.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from pathlib import Path

import numpy as np
import png
import pytest
from PIL import Image

import course_utils
from course_utils import data
from course_utils.config import REPO
from course_utils.data import (
    DataUnavailableError,
    Registry,
    cache_dir,
    fetch_benchmark,
    list_images,
    load_image,
    save_image,
    write_text,
)
from course_utils.data.downloads import Entry
from course_utils.images import to_uint8

SELFEXSR = "https://raw.githubusercontent.com/jbhuang0604/SelfExSR/8f6dd8c1d20cb7e8792a7177b4f6fd677633f598/"


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def u8(rng):
    return rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)


# --------------------------------------------------------------------------------------------
# load_image
# --------------------------------------------------------------------------------------------


def test_load_gray_png(tmp_path, u8):
    path = tmp_path / "gray.png"
    Image.fromarray(u8[..., 0]).save(path)
    image = load_image(path)
    assert image.shape == (7, 9) and image.dtype == np.float64
    np.testing.assert_array_equal(image, u8[..., 0] / 255)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif"])
def test_load_rgb_lossless(tmp_path, u8, suffix):
    path = tmp_path / f"rgb{suffix}"
    Image.fromarray(u8).save(path)
    image = load_image(str(path))  # a str works as well as a Path
    assert image.shape == (7, 9, 3)
    np.testing.assert_array_equal(image, u8 / 255)


def test_load_jpeg(tmp_path, u8):
    path = tmp_path / "photo.jpg"
    Image.fromarray(u8).save(path, quality=90)
    image = load_image(path)
    assert image.shape == (7, 9, 3)
    np.testing.assert_array_equal(image, np.asarray(Image.open(path)) / 255)  # Pillow decodes
    assert image.min() >= 0 and image.max() <= 1


def test_load_16bit_gray_png(tmp_path, rng):
    values = rng.integers(0, 65536, (6, 5)).astype(np.uint16)
    values[0, 0], values[0, 1] = 0, 65535
    path = tmp_path / "gray16.png"
    Image.fromarray(values).save(path)
    image = load_image(path)
    assert image.shape == (6, 5)
    np.testing.assert_array_equal(image, values / 65535)


def test_load_16bit_rgb_png_keeps_all_bits(tmp_path, rng):
    values = rng.integers(0, 65536, (4, 6, 3)).astype(np.uint16)
    values[0, 0] = [1, 256, 65534]  # not representable in 8 bits
    path = tmp_path / "rgb16.png"
    png.from_array(values.reshape(4, -1), "RGB;16").save(str(path))
    image = load_image(path)
    assert image.shape == (4, 6, 3)
    np.testing.assert_array_equal(image, values / 65535)


def test_load_16bit_rgba_and_gray_alpha_png(tmp_path, rng):
    rgba = rng.integers(0, 65536, (4, 5, 4)).astype(np.uint16)
    rgba[..., 3] = 65535  # opaque: alpha dropped silently
    path = tmp_path / "rgba16.png"
    png.from_array(rgba.reshape(4, -1), "RGBA;16").save(str(path))
    np.testing.assert_array_equal(load_image(path), rgba[..., :3] / 65535)
    la = rng.integers(0, 65536, (4, 5, 2)).astype(np.uint16)
    la[..., 1] = 65535
    path = tmp_path / "la16.png"
    png.from_array(la.reshape(4, -1), "LA;16").save(str(path))
    image = load_image(path)
    assert image.shape == (4, 5)
    np.testing.assert_array_equal(image, la[..., 0] / 65535)


def test_load_1bit(tmp_path, rng):
    bits = rng.random((8, 11)) > 0.5
    path = tmp_path / "bits.png"
    Image.fromarray(bits).save(path)
    assert Image.open(path).mode == "1"
    image = load_image(path)
    assert image.dtype == np.float64
    np.testing.assert_array_equal(image, bits.astype(np.float64))


def _palette_image(indices: np.ndarray, palette: list[int]) -> Image.Image:
    im = Image.new("P", (indices.shape[1], indices.shape[0]))
    im.putpalette(palette)
    im.putdata(indices.ravel().tolist())
    return im


def test_load_palette_png(tmp_path, rng):
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]], dtype=np.uint8)
    indices = rng.integers(0, 4, (5, 7))
    path = tmp_path / "palette.png"
    _palette_image(indices, colours.ravel().tolist()).save(path)
    assert Image.open(path).mode == "P"
    image = load_image(path)
    assert image.shape == (5, 7, 3)
    np.testing.assert_array_equal(image, colours[indices] / 255)


def test_load_gray_palette_png_is_grayscale(tmp_path, rng):
    levels = np.array([0, 60, 200, 255], dtype=np.uint8)
    indices = rng.integers(0, 4, (5, 7))
    path = tmp_path / "gray_palette.png"
    _palette_image(indices, np.repeat(levels, 3).tolist()).save(path)
    image = load_image(path)
    assert image.shape == (5, 7)  # documented: grayscale if the palette is gray
    np.testing.assert_array_equal(image, levels[indices] / 255)


def test_load_palette_with_transparency(tmp_path):
    im = _palette_image(np.array([[0, 1], [1, 0]]), [255, 0, 0, 0, 0, 255])
    path = tmp_path / "palette_alpha.png"
    im.save(path, transparency=1)
    with pytest.raises(ValueError, match="transparent"):
        load_image(path)
    np.testing.assert_array_equal(load_image(path, alpha="white"),
                                  [[[1, 0, 0], [1, 1, 1]], [[1, 1, 1], [1, 0, 0]]])


def test_load_gray_palette_with_transparency(tmp_path):
    im = _palette_image(np.array([[0, 1], [2, 1]]), [0, 0, 0, 100, 100, 100, 200, 200, 200])
    path = tmp_path / "gray_palette_alpha.png"
    im.save(path, transparency=1)  # index 1 is fully transparent
    with pytest.raises(ValueError, match="transparent"):
        load_image(path)
    np.testing.assert_array_equal(load_image(path, alpha="drop") * 255, [[0, 100], [200, 100]])
    np.testing.assert_array_equal(load_image(path, alpha="white") * 255, [[0, 255], [200, 255]])


def test_load_cmyk_jpeg_as_rgb(tmp_path, rng):
    rgb = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(rgb).convert("CMYK").save(path, quality=95)
    assert Image.open(path).mode == "CMYK"
    image = load_image(path)
    assert image.shape == (16, 16, 3)
    assert np.abs(image * 255 - rgb).mean() < 6  # JPEG loss only; not inverted or garbled


def test_load_opaque_rgba_drops_alpha_silently(tmp_path, u8):
    rgba = np.dstack([u8, np.full(u8.shape[:2], 255, np.uint8)])
    path = tmp_path / "opaque.png"
    Image.fromarray(rgba).save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = load_image(path)
    np.testing.assert_array_equal(image, u8 / 255)


def test_load_transparent_rgba(tmp_path, u8, rng):
    alpha = rng.integers(0, 256, u8.shape[:2], dtype=np.uint8)
    alpha[0, 0] = 0
    path = tmp_path / "transparent.png"
    Image.fromarray(np.dstack([u8, alpha])).save(path)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*transparent.*alpha='drop'"):
        load_image(path)
    np.testing.assert_array_equal(load_image(path, alpha="drop"), u8 / 255)
    a = (alpha / 255)[..., None]
    np.testing.assert_allclose(load_image(path, alpha="white"), u8 / 255 * a + (1 - a),
                               atol=1e-12)
    with pytest.raises(ValueError, match="alpha must be 'raise', 'drop', 'warn' or 'white'"):
        load_image(path, alpha="black")


def test_load_gray_with_alpha(tmp_path, u8):
    gray = u8[..., 0]
    alpha = np.full(gray.shape, 255, np.uint8)
    path = tmp_path / "la.png"
    Image.fromarray(np.dstack([gray, alpha]), mode="LA").save(path)
    np.testing.assert_array_equal(load_image(path), gray / 255)  # opaque: plain gray
    alpha[1, 1] = 51
    Image.fromarray(np.dstack([gray, alpha]), mode="LA").save(path)
    with pytest.raises(ValueError, match="transparent"):
        load_image(path)
    white = load_image(path, alpha="white")
    assert white.shape == gray.shape
    assert white[1, 1] == pytest.approx(gray[1, 1] / 255 * 0.2 + 0.8)


@pytest.mark.parametrize("kind", ["8-bit", "16-bit colour"])
def test_truncated_png_raises_value_error_naming_the_file(tmp_path, rng, kind):
    path = tmp_path / "truncated.png"
    if kind == "8-bit":
        content = png_bytes(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8))
    else:
        buffer = io.BytesIO()
        values = rng.integers(0, 65536, (40, 40, 3)).astype(np.uint16)
        png.from_array(values.reshape(40, -1), "RGB;16").write(buffer)
        content = buffer.getvalue()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*truncated or corrupt"):
        load_image(path)


def test_not_an_image(tmp_path):
    path = tmp_path / "noise.png"
    path.write_bytes(np.random.default_rng(0).bytes(500))
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load_image(path)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=re.escape(str(empty))):
        load_image(empty)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.png"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        load_image(path)
    with pytest.raises(FileNotFoundError):
        load_image(tmp_path)  # a folder is not an image file


# --------------------------------------------------------------------------------------------
# save_image, list_images
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(9, 13, 3), (9, 13), (9, 13, 1)], ids=["rgb", "gray", "hw1"])
def test_save_image_round_trip(tmp_path, rng, shape):
    image = rng.random(shape)
    target = tmp_path / "deep" / "folder" / "out.png"  # parents are created
    assert save_image(target, image) == target
    loaded = load_image(target)
    expected = to_uint8(image) / 255
    np.testing.assert_array_equal(loaded, expected[..., 0] if shape[-1:] == (1,) else expected)
    # Written atomically: nothing but the image is left in the folder.
    assert [p.name for p in target.parent.iterdir()] == ["out.png"]


def test_save_image_format_follows_extension(tmp_path, rng):
    image = rng.random((8, 8, 3))
    save_image(tmp_path / "a.jpg", image)
    save_image(tmp_path / "b.bmp", image)
    assert Image.open(tmp_path / "a.jpg").format == "JPEG"
    assert Image.open(tmp_path / "b.bmp").format == "BMP"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg", "b.bmp"]


def test_list_images(tmp_path):
    for name in ("b.png", "a.JPG", "c.bmp", "README.txt", "notes", ".hidden.png"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.png").mkdir()  # a folder, whatever its name
    images, others = list_images(tmp_path)
    assert [p.name for p in images] == ["a.JPG", "b.png", "c.bmp"]
    assert [p.name for p in others] == ["README.txt", "notes"]
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        list_images(tmp_path / "b.png")


# --------------------------------------------------------------------------------------------
# Checksummed downloads (local HTTP server)
# --------------------------------------------------------------------------------------------

CONTENT = b"course data file\n" * 100


@pytest.fixture
def served(http_server, tmp_path):
    """A registry of one file served locally, cached in tmp_path/cache."""
    url = http_server.put("files/sample.bin", CONTENT)
    registry = Registry([Entry("sub/sample.bin", url, sha256(CONTENT))], cache=tmp_path / "cache")
    return http_server, registry


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_first_fetch_downloads_and_verifies(served, tmp_path):
    server, registry = served
    path = registry.fetch("sub/sample.bin")
    assert path == tmp_path / "cache" / "sub" / "sample.bin" == registry.path("sub/sample.bin")
    assert path.read_bytes() == CONTENT
    assert sha256(path.read_bytes()) == registry.entries["sub/sample.bin"].sha256
    assert files_under(tmp_path / "cache") == [path]


def test_second_fetch_uses_the_cache_when_offline(served):
    server, registry = served
    first = registry.fetch("sub/sample.bin")
    server.stop()
    assert registry.fetch("sub/sample.bin") == first
    assert first.read_bytes() == CONTENT


def test_manual_copy_in_the_cache_is_used(served):
    server, registry = served
    server.stop()
    target = registry.path("sub/sample.bin")
    target.parent.mkdir(parents=True)
    target.write_bytes(CONTENT)
    assert registry.fetch("sub/sample.bin").read_bytes() == CONTENT


def test_corrupted_cache_is_repaired(served):
    server, registry = served
    path = registry.fetch("sub/sample.bin")
    path.write_bytes(b"garbage")
    assert registry.fetch("sub/sample.bin") == path
    assert path.read_bytes() == CONTENT


def test_corrupted_cache_offline(served):
    server, registry = served
    path = registry.fetch("sub/sample.bin")
    path.write_bytes(b"garbage")
    server.stop()
    entry = registry.entries["sub/sample.bin"]
    with pytest.raises(DataUnavailableError) as info:
        registry.fetch("sub/sample.bin")
    message = str(info.value)
    assert entry.url in message
    assert str(path) in message and str(path.parent) in message
    assert "does not match its SHA-256" in message
    assert "COURSE_DATA_CACHE" in message


def test_hash_mismatch_leaves_nothing_behind(http_server, tmp_path):
    url = http_server.put("other.bin", b"these are not the registered bytes")
    cache = tmp_path / "cache"
    registry = Registry([Entry("set/file.bin", url, sha256(CONTENT))], cache=cache)
    with pytest.raises(DataUnavailableError, match="SHA-256") as info:
        registry.fetch("set/file.bin")
    message = str(info.value)
    assert url in message and sha256(CONTENT) in message
    assert "does not match" in message
    assert files_under(cache) == []  # no temporary file, nothing under the target name
    assert not registry.path("set/file.bin").exists()


def test_unreachable_url(tmp_path, closed_port):
    url = f"http://127.0.0.1:{closed_port}/data/file.bin"
    cache = tmp_path / "cache"
    registry = Registry([Entry("a/file.bin", url, sha256(CONTENT))], cache=cache)
    with pytest.raises(DataUnavailableError, match="could not download 'a/file.bin'") as info:
        registry.fetch("a/file.bin")
    message = str(info.value)
    assert url in message
    assert str(cache / "a") in message
    assert files_under(cache) == []


def test_missing_file_on_the_server(http_server, tmp_path):
    url = http_server.url("not-there.bin")
    registry = Registry([Entry("x.bin", url, sha256(CONTENT))], cache=tmp_path / "cache")
    with pytest.raises(DataUnavailableError, match="404"):
        registry.fetch("x.bin")


def test_fetch_with_progress_bar(served, capsys):
    _, registry = served
    assert registry.fetch("sub/sample.bin", progress=True).read_bytes() == CONTENT


def test_fetch_uses_the_data_folder_registry(http_server, tmp_path, monkeypatch):
    # fetch(name) reads data_dir()/registry.tsv; COURSE_DATA_DIR points it at a test folder.
    url = http_server.put("x.bin", CONTENT)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "registry.tsv").write_text(
        f"name\turl\tsha256\tlicence\nextra/x.bin\t{url}\t{sha256(CONTENT)}\tCC0\n")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_DATA_CACHE", str(tmp_path / "cache"))
    assert data.data_dir() == tmp_path / "data"
    path = data.fetch("extra/x.bin", progress=False)
    assert path == tmp_path / "cache" / "extra" / "x.bin"
    assert path.read_bytes() == CONTENT


def test_unknown_name(tmp_path):
    registry = Registry([Entry("Set5/x2/HR/img_001.png", "http://127.0.0.1:9/x", "0" * 64)],
                        cache=tmp_path)
    with pytest.raises(KeyError, match="'Set5/x2/HR/img_009.png' is not in the registry"):
        registry.fetch("Set5/x2/HR/img_009.png")
    assert "Set5/x2/HR/img_001.png" in registry
    assert [e.name for e in registry] == ["Set5/x2/HR/img_001.png"]


def test_cache_dir_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    registry = Registry([Entry("a/b.png", "http://127.0.0.1:9/b.png", "0" * 64)])
    assert registry.cache == tmp_path / "mine"
    assert registry.path("a/b.png") == tmp_path / "mine" / "a" / "b.png"
    monkeypatch.delenv("COURSE_DATA_CACHE")
    assert cache_dir() != tmp_path / "mine"
    assert "tl-recon-course" in str(cache_dir())


def test_registry_from_file(tmp_path):
    tsv = tmp_path / "registry.tsv"
    tsv.write_text("# a comment\nname\turl\tsha256\tlicence\n"
                   f"a.png\thttp://127.0.0.1:9/a.png\t{'a' * 64}\tCC0\n\n"
                   f"b.png\thttp://127.0.0.1:9/b.png\t{'b' * 64}\n")
    registry = Registry.from_file(tsv, cache=tmp_path)
    assert [e.name for e in registry] == ["a.png", "b.png"]
    assert registry.entries["a.png"].licence == "CC0"
    assert registry.entries["b.png"].sha256 == "b" * 64
    bad = tmp_path / "bad.tsv"
    bad.write_text("file\taddress\thash\n")
    with pytest.raises(ValueError, match="header name, url, sha256"):
        Registry.from_file(bad)
    short = tmp_path / "short.tsv"  # spaces instead of tabs: one column per row
    short.write_text("name\turl\tsha256\na.png http://127.0.0.1:9/a.png\n")
    with pytest.raises(ValueError, match=r"rows \['a.png http.*'\] need at least name, url "
                                         "and sha256 separated by tabs"):
        Registry.from_file(short)


def test_data_dir_is_the_package_assets_folder(tmp_path, monkeypatch):
    # package data of course_utils, so that a wheel install has it too (tests/test_install.py)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    assert data.data_dir() == Path(course_utils.__file__).resolve().parent / "assets"
    assert (data.data_dir() / "registry.tsv").is_file()
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert data.data_dir() == tmp_path
    with pytest.raises(DataUnavailableError, match=re.escape(f"registry {tmp_path}")
                       + r"/registry.tsv is missing. Unset COURSE_DATA_DIR"):
        data.default_registry()


def test_shipped_registry():
    tsv = Path(course_utils.__file__).resolve().parent / "assets" / "registry.tsv"
    registry = Registry.from_file(tsv)
    names = {e.name for e in registry}
    expected = {f"{bench}/x{s}/{kind}/img_{i:03d}.png"
                for bench, n in (("Set5", 5), ("Set14", 14)) for s in (2, 3, 4)
                for kind in ("HR", "LR") for i in range(1, n + 1)}
    assert expected <= names
    for bench, n in (("Set5", 5), ("Set14", 14)):
        for s in (2, 3, 4):
            for kind in ("HR", "LR"):
                assert sum(1 for m in names if m.startswith(f"{bench}/x{s}/{kind}/")) == n
    for entry in registry:
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256), entry.name
        if entry.name == "MedNIST/MedNIST.tar.gz":  # unit 05's optional extra medical images
            assert entry.url.startswith("https://github.com/Project-MONAI/"), entry.url
            assert "CC BY-SA 4.0" in entry.licence
            continue
        if entry.name.startswith("models/"):  # the course's own source models (unit 03)
            assert entry.url == (f"https://raw.githubusercontent.com/{REPO}/main/"
                                 "course_utils/assets/"
                                 f"{entry.name}"), entry.name
            continue
        assert entry.url.startswith(SELFEXSR), entry.name
        bench, scale, kind, file = entry.name.split("/")
        number = file.removesuffix(".png").removeprefix("img_")
        s = scale.removeprefix("x")
        # The documented layout: data/<Set>/image_SRF_<s>/img_NNN_SRF_<s>_{HR,LR}.png
        assert entry.url == f"{SELFEXSR}data/{bench}/image_SRF_{s}/img_{number}_SRF_{s}_{kind}.png"
    # Within one set and scale every file is a different file (HR images may repeat across
    # scales when their size is already a multiple of both).
    for bench in ("Set5", "Set14"):
        for s in (2, 3, 4):
            hashes = [e.sha256 for e in registry if e.name.startswith(f"{bench}/x{s}/")]
            assert len(set(hashes)) == len(hashes)
    assert {e.name for e in data.default_registry()} == names


@pytest.fixture
def fake_benchmark(http_server, tmp_path, rng):
    """A Set5 x2 registry whose 'images' are small PNGs served locally."""
    entries, images = [], {}
    for i in range(1, 6):
        hr = rng.integers(0, 256, (8 + 2 * i, 10, 3), dtype=np.uint8)
        lr = hr[::2, ::2]
        for kind, array in (("HR", hr), ("LR", lr)):
            content = png_bytes(array)
            name = f"Set5/x2/{kind}/img_{i:03d}.png"
            url = http_server.put(f"img_{i:03d}_SRF_2_{kind}.png", content)
            entries.append(Entry(name, url, sha256(content)))
            images[name] = array
    return Registry(entries, cache=tmp_path / "cache"), images


def test_fetch_benchmark_with_a_local_registry(fake_benchmark, tmp_path):
    registry, images = fake_benchmark
    hr_paths, lr_paths = fetch_benchmark("Set5", 2, registry=registry)
    assert len(hr_paths) == len(lr_paths) == 5
    assert {p.parent for p in hr_paths} == {tmp_path / "cache" / "Set5" / "x2" / "HR"}
    assert {p.parent for p in lr_paths} == {tmp_path / "cache" / "Set5" / "x2" / "LR"}
    assert [p.name for p in hr_paths] == [f"img_{i:03d}.png" for i in range(1, 6)]
    for i, (hr, lr) in enumerate(zip(hr_paths, lr_paths, strict=True), start=1):
        np.testing.assert_array_equal(load_image(hr), images[f"Set5/x2/HR/img_{i:03d}.png"] / 255)
        np.testing.assert_array_equal(load_image(lr), images[f"Set5/x2/LR/img_{i:03d}.png"] / 255)


def test_fetch_benchmark_errors(fake_benchmark):
    registry, _ = fake_benchmark
    with pytest.raises(ValueError, match="unknown benchmark 'Set6'.*Set14.*Set5"):
        fetch_benchmark("Set6", 2, registry=registry)
    with pytest.raises(ValueError, match="scales 2, 3 and 4, not 5"):
        fetch_benchmark("Set5", 5, registry=registry)
    with pytest.raises(ValueError, match="whole number"):
        fetch_benchmark("Set5", 2.5, registry=registry)
    with pytest.raises(TypeError, match="integer"):
        fetch_benchmark("Set5", "2", registry=registry)
    with pytest.raises(KeyError, match="Set5/x3/HR/img_001.png"):
        fetch_benchmark("Set5", 3, registry=registry)  # not in this registry


def test_save_image_refuses_a_name_that_is_not_an_image_format(tmp_path, rng):
    with pytest.raises(ValueError, match=r"\.txt is not an image format; use \.png"):
        save_image(tmp_path / "out.txt", rng.random((4, 4)))
    assert not list(tmp_path.iterdir()), "nothing is written"


def test_write_text_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "card.md"
    write_text(target, "old")

    def interrupted(self, text):
        Path.write_bytes(self, text[:3].encode())
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_text(target, "a new card")
    monkeypatch.undo()
    assert target.read_text() == "old", "the old file is whole"
    assert [p.name for p in tmp_path.iterdir()] == ["card.md"], "no temporary file is left"
