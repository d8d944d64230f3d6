"""Bad input and faults, organised by issue 12's principles, on files the tests make.

1. No file from a cache runs code.
2. Memory is bounded, and the bound is stated.
3. No write loses data (atomic writes, temporary files removed, even after SIGKILL).
4. No silent wrong result (NaN, alpha, bit depth, infinity).
5. Every error names the file and an action the user can take with the command's options.

Other test modules hold the cases of one module each (checkpoints: test_registry.py, the hub
cache: test_backbones.py, archives: test_domains.py); this one holds the cases that cross
modules, and the command line's.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from course_utils.data import io as course_io
from course_utils.data.downloads import DataUnavailableError, Entry, Registry, fetch_benchmark
from course_utils.data.io import (
    MAX_PIXELS,
    ImageFolder,
    ImageTooLarge,
    load_image,
    save_image,
    write_atomically,
    write_text,
)
from course_utils.degrade import jpeg_compress
from course_utils.evaluation.evaluate import evaluate_folder, evaluate_images, model_method
from course_utils.metrics import psnr_torch, ssim_torch
from course_utils.models import get_model, load_checkpoint, save_checkpoint
from course_utils.models.checkpoint import CheckpointError
from course_utils.zoo.recipes import Recipe

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "course_utils", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def png_header_only(path: Path, width: int, height: int, bit_depth: int = 8,
                    colour_type: int = 0) -> Path:
    """A PNG of a few dozen bytes whose header claims ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))
    return path


# --------------------------------------------------------------------------------------------
# 1. No file from a cache runs code
# --------------------------------------------------------------------------------------------


class _Payload:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):  # unpickling calls Path.touch(marker)
        return (Path.touch, (Path(self.marker),))


def test_a_pickled_checkpoint_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"
    torch.save({"weight": _Payload(marker)}, path)  # a pickle under a safetensors name
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    done = run_cli("evaluate", "--hr", tmp_path, "--scale", 2, "--checkpoint", path)
    assert done.returncode == 2 and str(path) in done.stderr
    assert not marker.exists(), "the pickled payload ran"


# --------------------------------------------------------------------------------------------
# 2. Memory is bounded, and the bound is stated
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("side", "bits", "colour"), [(9600, 8, 0), (14000, 8, 2), (9600, 16, 2)])
def test_a_decompression_bomb_is_refused_from_its_header(tmp_path, side, bits, colour):
    # 9600x9600 went through at 11.4 GB before; 14000x14000 raised Pillow's raw error; 16-bit
    # colour went through pypng, which has no limit. None of them is decoded now.
    path = png_header_only(tmp_path / "bomb.png", side, side, bits, colour)
    assert path.stat().st_size < 200
    with pytest.raises(ImageTooLarge, match=rf"{side}x{side} pixels .* was not decoded"):
        load_image(path)
    assert side * side > MAX_PIXELS


def test_the_pixel_limit_can_be_raised(tmp_path):
    path = tmp_path / "wide.png"
    Image.new("L", (300, 20)).save(path)
    with pytest.raises(ImageTooLarge, match="--max-pixels"):
        load_image(path, max_pixels=5000)
    assert load_image(path, max_pixels=6000).shape == (20, 300)
    folder = tmp_path / "hr"
    folder.mkdir()
    Image.new("RGB", (300, 40)).save(folder / "wide.png")
    done = run_cli("evaluate", "--hr", folder, "--scale", 2, "--max-pixels", 10000)
    assert done.returncode == 2 and "wide.png" in done.stderr and "--max-pixels" in done.stderr
    assert run_cli("evaluate", "--hr", folder, "--scale", 2, "--max-pixels", 20000).returncode == 0


def test_a_folder_is_read_one_image_at_a_time(tmp_path, monkeypatch, smooth):
    for name in ("a.png", "b.png", "c.png"):
        save_image(tmp_path / name, smooth(24, 24))
    reads = []
    real = course_io.load_image
    monkeypatch.setattr(course_io, "load_image",
                        lambda path, **kw: reads.append(Path(path).name) or real(path, **kw))
    folder = ImageFolder(tmp_path, "HR")
    assert reads == [], "nothing is decoded when the folder is listed"
    scored = []
    evaluate_images(folder, "sr-x2", lambda x, s: scored.append(len(reads)) or
                    np.repeat(np.repeat(x, s, 0), s, 1))
    assert scored == [1, 2, 3], "each image is read just before it is scored"


def test_a_checkpoint_config_cannot_ask_for_a_huge_model(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    good = save_checkpoint(tmp_path / "m.safetensors", get_model("espcn", scale=3))
    with safe_open(good, "pt") as f:
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    config = {**json.loads(meta["config"]), "scale": 1500}
    bad = tmp_path / "big.safetensors"
    save_file(tensors, bad, metadata={**meta, "config": json.dumps(config)})
    with pytest.raises(CheckpointError, match="scale = 1500 is outside the sane range"):
        load_checkpoint(bad)


# --------------------------------------------------------------------------------------------
# 3. No write loses data
# --------------------------------------------------------------------------------------------


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = write_text(tmp_path / "results.json", '{"old": true}')

    def full_disk(tmp):
        Path(tmp).write_text('{"new": tr')  # half a file, then the disk is full
        raise OSError(28, "No space left on device", tmp)

    with pytest.raises(OSError, match="No space left"):
        write_atomically(path, full_disk)
    assert json.loads(path.read_text()) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs (root only, where mounting is allowed): a real full disk."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                                            str(folder)], capture_output=True).returncode:
        pytest.skip("needs root and permission to mount a tmpfs (the simulated full disk "
                    "above covers the same code)")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_real_full_disk_keeps_the_old_files(full_disk):
    results = write_text(full_disk / "results.json", '{"old": true}')
    with pytest.raises(OSError, match="No space left"):
        write_text(results, "x" * 200_000)
    with pytest.raises(OSError, match="No space left"):  # an ESPCN x4 checkpoint is ~100 KB
        save_checkpoint(full_disk / "m.safetensors", get_model("espcn", scale=4))
    assert json.loads(results.read_text()) == {"old": True}
    assert sorted(p.name for p in full_disk.iterdir()) == ["results.json"]


def test_what_a_killed_writer_left_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "card.md"
    script = textwrap.dedent(f"""
        import os, signal
        from course_utils.data.io import write_atomically
        def die(tmp):
            open(tmp, "w").write("half")
            os.kill(os.getpid(), signal.SIGKILL)
        write_atomically({str(target)!r}, die)
    """)
    done = subprocess.run([sys.executable, "-c", script], env={**os.environ,
                          "PYTHONPATH": str(ROOT)}, capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL
    left = list(tmp_path.glob(".card.md.*.partial"))
    assert len(left) == 1 and not target.exists()
    write_text(target, "whole")
    assert target.read_text() == "whole" and not list(tmp_path.glob("*.partial"))


def test_written_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        card = write_text(tmp_path / "card.md", "x")
        model = save_checkpoint(tmp_path / "m.safetensors", get_model("espcn", scale=2))
    finally:
        os.umask(umask)
    assert card.stat().st_mode & 0o777 == 0o644 and model.stat().st_mode & 0o777 == 0o644


def test_pretrain_never_overwrites_its_checkpoint_with_the_card(tmp_path):
    done = run_cli("pretrain", "--model", "espcn", "--scale", 2, "--steps", 2, "--epochs", 1,
                   "--out", tmp_path / "x.md")
    assert done.returncode == 2 and "must end in .safetensors" in done.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("where", ["folder", "missing parent"])
def test_the_json_path_is_checked_before_the_work(tmp_path, smooth, where):
    hr = tmp_path / "hr"
    save_image(hr / "a.png", smooth(24, 24))
    target = tmp_path if where == "folder" else tmp_path / "new" / "r.json"
    done = run_cli("evaluate", "--hr", hr, "--scale", 2, "--json", target)
    if where == "folder":
        assert done.returncode == 2 and "is a folder" in done.stderr
        assert "results.json" in done.stderr and "Traceback" not in done.stderr
    else:  # a missing folder is made
        assert done.returncode == 0 and json.loads(target.read_text())["rows"]


def test_sigterm_stops_the_command_with_one_line(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        from course_utils import __main__ as cli
        def slow(args):
            print("started", flush=True)
            time.sleep(60)
        cli._evaluate = slow
        sys.exit(cli.main(["evaluate", "--scale", "2"]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ,
                            "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "started"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip() == "interrupted: evaluate stopped; no file was left half-written."


def test_a_killed_download_leaves_nothing_in_the_cache(http_server, tmp_path):
    content = b"benchmark bytes"
    import hashlib

    url = http_server.put("f.bin", content)
    registry = Registry([Entry("set/f.bin", url, hashlib.sha256(content).hexdigest())],
                        cache=tmp_path / "cache")
    folder = tmp_path / "cache" / "set"
    dead = folder / ".download-999999999-x"  # a killed process's staging folder
    dead.mkdir(parents=True)
    (dead / "tmpabcd").write_bytes(b"half")
    assert registry.fetch("set/f.bin").read_bytes() == content
    assert sorted(p.name for p in folder.iterdir()) == ["f.bin"]


# --------------------------------------------------------------------------------------------
# 4. No silent wrong result
# --------------------------------------------------------------------------------------------


def test_a_model_that_outputs_nan_is_not_scored(smooth):
    model = get_model("espcn", scale=2)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float("nan"))
    with pytest.raises(ValueError, match=r"photo: espcn-x2 returned NaN or inf values"):
        evaluate_images({"photo": smooth(24, 24)}, "sr-x2", model_method(model))


@pytest.mark.parametrize("do", ["save", "jpeg"])
def test_nan_is_not_cast_to_black(tmp_path, do):
    image = np.full((8, 8, 3), 0.5)
    image[2, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        save_image(tmp_path / "x.png", image) if do == "save" else jpeg_compress(image, 50)
    assert not list(tmp_path.iterdir())


def test_transparency_is_dropped_with_a_warning_that_names_the_file(tmp_path):
    rgba = np.zeros((24, 24, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 128
    Image.fromarray(rgba).save(tmp_path / "logo.png")
    with pytest.raises(ValueError, match="transparent pixels"):
        load_image(tmp_path / "logo.png")
    with pytest.warns(UserWarning, match=r"logo.png has transparent pixels: its alpha channel"):
        result = evaluate_folder(tmp_path, "sr-x2")
    assert [r["image"] for r in result.rows] == ["logo.png"]


@pytest.mark.parametrize("planar", [False, True])
def test_a_16_bit_colour_tiff_keeps_its_16_bits(tmp_path, planar):
    pixels = np.random.default_rng(0).integers(0, 65536, (12, 10, 3), dtype=np.uint16)
    stored = np.moveaxis(pixels, -1, 0) if planar else pixels
    tifffile.imwrite(tmp_path / "x.tif", stored, photometric="rgb",
                     planarconfig="separate" if planar else "contig")
    np.testing.assert_array_equal(load_image(tmp_path / "x.tif"), pixels / 65535)


def test_integer_tensors_are_refused_by_the_torch_metrics():
    a = torch.randint(0, 255, (1, 1, 16, 16))  # int64, torch.randint's default
    for metric in (psnr_torch, ssim_torch):
        with pytest.raises(TypeError, match="got torch.int64"):
            metric(a, a)
    u8 = a.to(torch.uint8)
    assert float(ssim_torch(u8, u8)) == pytest.approx(1.0)


def test_a_perfect_reconstruction_writes_valid_json(smooth):
    hr = smooth(24, 24)
    result = evaluate_images({"a": hr}, "jpeg-90", lambda x, s: hr)
    assert result.mean_psnr == np.inf
    text = json.dumps(result.to_dict(), allow_nan=False)
    data = json.loads(text)
    assert data["mean_psnr"] is None and data["rows"][0]["psnr"] is None
    assert data["mean_ssim"] == 1.0


# --------------------------------------------------------------------------------------------
# 5. Every error names the file and an action
# --------------------------------------------------------------------------------------------


def test_a_mask_larger_than_an_image_is_skipped_with_a_warning_that_names_it(tmp_path, smooth):
    save_image(tmp_path / "big.png", smooth(48, 48))
    save_image(tmp_path / "small.png", smooth(20, 30))
    done = run_cli("evaluate", "--hr", tmp_path, "--task", "inpaint", "--mask", "block:24")
    assert done.returncode == 0, done.stderr
    assert "skipped 1 of 2 images: small.png" in done.stdout
    assert ("warning: skipping small.png: a 24-pixel block does not fit in a 30x20 image with "
            "known pixels around it; use a smaller block or larger images") in done.stderr


def test_an_image_too_small_is_skipped_with_a_warning_and_a_summary(tmp_path, smooth):
    save_image(tmp_path / "big.png", smooth(40, 40))
    save_image(tmp_path / "tiny.png", smooth(5, 5))
    done = run_cli("evaluate", "--hr", tmp_path, "--scale", 3)
    assert done.returncode == 0, done.stderr
    assert "skipped 1 of 2 images: tiny.png" in done.stdout
    assert "warning: skipping tiny.png: it is 3x3 pixels" in done.stderr
    assert "at least 17x17" in done.stderr
    (tmp_path / "big.png").unlink()
    done = run_cli("evaluate", "--hr", tmp_path, "--scale", 3)
    assert done.returncode == 2 and "none of the 1 images could be scored: tiny.png" in done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["pretrain", "--model", "espcn", "--scale", "2", "--threads", "-1"],
     "argument --threads: must be greater than 0, got -1"),
    (["pretrain", "--model", "espcn", "--scale", "2", "--epochs", "0"],
     "argument --epochs: must be greater than 0, got 0"),
    (["pretrain", "--model", "espcn", "--scale", "2", "--lr=-1e-3"],
     "argument --lr: must be greater than 0"),
    (["evaluate", "--hr", ".", "--scale", "2", "--tile", "0"],
     "argument --tile: must be greater than 0, got 0"),
    (["evaluate", "--hr", ".", "--task", "deblur", "--kernel", "gaussian:2", "--noise=-0.01"],
     "argument --noise: must be 0 or more, got -0.01"),
    (["evaluate", "--hr", ".", "--task", "denoise-25", "--seed", "-3"],
     "argument --seed: must be 0 or more, got -3"),
    (["evaluate", "--hr", ".", "--task", "deblur", "--kernel", "disc:3"],
     "error: unknown kernel 'disc:3'; write gaussian:SIGMA"),
    (["pretrain", "--model", "espcn", "--scale", "2", "--steps", "5", "--epochs", "2"],
     "steps (5) must be a multiple of epochs (2)"),
])
def test_bad_numbers_get_one_line(args, message):
    done = run_cli(*args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_the_recipe_refuses_bad_numbers_in_python_too():
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        Recipe(epochs=0)


def test_a_malformed_registry_row_names_the_file(tmp_path):
    path = tmp_path / "registry.tsv"
    path.write_text("name\turl\tsha256\tlicence\nSet5/x\thttps://example.org/x\n")
    with pytest.raises(ValueError, match=rf"{path}: rows .* need at least name, url and sha256"):
        Registry.from_file(path)


def test_the_offline_benchmark_message_names_every_file_and_hr(tmp_path, closed_port):
    rows = [Entry(f"Set5/x2/{kind}/img_{i:03d}.png",
                  f"http://127.0.0.1:{closed_port}/{kind}/{i}.png", "0" * 64)
            for kind in ("HR", "LR") for i in range(1, 6)]
    registry = Registry(rows, cache=tmp_path / "cache")
    with pytest.raises(DataUnavailableError) as err:
        fetch_benchmark("Set5", 2, registry)
    message = str(err.value)
    assert "10 of the 10 files of Set5 x2" in message and "--hr DIR --scale 2" in message
    for entry in rows:
        assert entry.url in message and str(registry.path(entry.name)) in message



def test_pretrain_skips_images_too_small_for_a_patch(tmp_path, smooth):
    hr = tmp_path / "hr"
    save_image(hr / "big.png", smooth(120, 120))
    save_image(hr / "small.png", smooth(40, 40))  # x2 patches are 48 pixels (24 LR)
    out = tmp_path / "m.safetensors"
    done = run_cli("pretrain", "--model", "espcn", "--scale", 2, "--hr", hr, "--steps", 2,
                   "--epochs", 1, "--batch-size", 2, "--out", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"skipped 1 of 2 images of {hr}: small.png")
    assert "warning: skipping small.png: its training part" in done.stderr
    assert f"the checkpoint goes to {out}" in done.stdout
    assert load_checkpoint(out)[1]["reproduce"] == (
        f"python -m course_utils pretrain --model espcn --scale 2 --hr {hr} --steps 2 "
        "--epochs 1 --batch-size 2")
    (hr / "big.png").unlink()
    done = run_cli("pretrain", "--model", "espcn", "--scale", 2, "--hr", hr, "--out", out)
    assert done.returncode == 2 and f"no image of {hr} can train a model at x2" in done.stderr
