"""Tests of course_utils.zoo (the shipped models, pretrain, model cards) and of the pretrain,
evaluate --model and models commands."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import asdict

import pytest
import torch

from conftest import make_smooth
from course_utils.__main__ import main
from course_utils.data import (
    DataUnavailableError,
    data_dir,
    default_registry,
    domain_images,
    save_image,
    split_for_validation,
)
from course_utils.evaluation import evaluate_images, model_method
from course_utils.evaluation.classical import classical_for
from course_utils.models import (
    CheckpointError,
    count_parameters,
    get_model,
    list_models,
    load_checkpoint,
    save_checkpoint,
    sha256_of,
)
from course_utils.tasks import get_task
from course_utils.zoo import (
    SHIPPED,
    Recipe,
    default_recipe,
    load_codec,
    load_pretrained,
    pretrain,
    shipped_model,
    zoo_rows,
)
from course_utils.zoo.cards import training_seconds
from course_utils.zoo.recipes import codec_heldout_scores

TINY = Recipe(steps=20, epochs=2, batch_size=8, patch_lr=8, threads=None)
SR_SHIPPED = [m for m in SHIPPED if get_task(m.task).scale > 1]
RESTORATION_SHIPPED = [m for m in SHIPPED
                       if get_task(m.task).scale == 1 and get_task(m.task).kind != "compress"]
CODEC_SHIPPED = [m for m in SHIPPED if get_task(m.task).kind == "compress"]
HEADER = "name\turl\tsha256\tlicence\n"


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setattr(warnings, "filters", list(warnings.filters))
    return lambda *args: main([str(a) for a in args])


@pytest.fixture
def photos():
    return {f"p{i}.png": make_smooth(60, 72, seed=i) for i in range(2)}


def test_split_for_validation_is_disjoint_and_aligned():
    # pretrain keeps the bottom strip of each photo for validation, cut on a multiple of s
    image = make_smooth(101, 30)
    top, bottom = split_for_validation(image, 3)
    assert top.shape[0] % 3 == 0 and top.shape[0] + bottom.shape[0] == 101
    assert bottom.shape[0] == pytest.approx(20, abs=3)


def test_pretrain_writes_checkpoint_and_card_and_is_reproducible(tmp_path, photos):
    out = tmp_path / "m.safetensors"
    model, card = pretrain("espcn", 2, photos, TINY, out=out, progress=False)
    assert out.exists() and out.with_suffix(".md").exists()
    text = out.with_suffix(".md").read_text()
    assert sha256_of(out) in text and "| **mean** |" in text and "coffee" in text
    assert card["recipe"]["steps"] == 20 and card["parameters"] == 21_284
    assert card["heldout"]["images"] == ["coffee", "flower", "grace_hopper"]
    assert len(card["history"]["val_psnr"]) == 2
    # the card's evaluation command names a model the evaluate command accepts
    command = re.search(r"`(python -m course_utils evaluate [^`]*)`", text).group(1)
    assert re.search(r"--model (\S+)", command).group(1) in [m.name for m in SHIPPED]
    # the card's held-out numbers are what the evaluation gives for the saved model
    loaded, meta = load_checkpoint(out)
    assert meta["heldout"]["psnr"] == card["heldout"]["psnr"]
    again, _ = pretrain("espcn", 2, photos, TINY, progress=False)
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_pretrain_a_restoration_model_scores_it_against_the_baselines(tmp_path, photos):
    out = tmp_path / "d.safetensors"
    recipe = Recipe(steps=4, epochs=2, batch_size=4, patch_lr=16, threads=None)
    model, card = pretrain("dncnn", "denoise-25-gray", photos, recipe, out=out, progress=False)
    assert card["task"] == "denoise-25-gray" and model.scale == 1
    assert model.config == get_model("dncnn", channels=1, depth=15, features=64,
                                     unshuffle=2).config  # the course's configuration
    h = card["heldout"]
    # every baseline of the kind: the degraded input, then the classical methods installed
    assert list(h["baselines"])[:4] == ["none", "nlm", "wavelet", "tv"]
    assert set(h["baselines"]) <= {"none", *classical_for("denoise")}
    heldout = domain_images("natural", "heldout")
    none = evaluate_images(heldout, "denoise-25-gray", "none")
    assert h["baselines"]["none"]["psnr"] == pytest.approx(none.mean_psnr, abs=1e-3)
    ours = evaluate_images(heldout, "denoise-25-gray", model_method(model))
    assert h["psnr"] == pytest.approx(ours.mean_psnr, abs=1e-3)
    assert [r["image"] for r in h["per_image"]] == ["coffee", "flower", "grace_hopper"]
    text = out.with_suffix(".md").read_text()
    assert "restoration model" in text and "| **this model** |" in text
    assert "NL-means" in text and sha256_of(out) in text
    assert card["reproduce"] == ("python -m course_utils pretrain --model dncnn --task "
                                 "denoise-25-gray --steps 4 --epochs 2 --batch-size 4 "
                                 "--patch-lr 16")
    _, meta = load_checkpoint(out)
    assert meta["heldout"]["baselines"] == h["baselines"]


def test_pretrain_rejects_bad_recipes(photos):
    with pytest.raises(ValueError, match="multiple of epochs"):
        pretrain("espcn", 2, photos, Recipe(steps=5, epochs=2), progress=False)
    with pytest.raises(ValueError, match="smaller than one"):
        pretrain("espcn", 2, {"tiny": make_smooth(12, 40)}, TINY, progress=False)


def fake_data_dir(tmp_path, monkeypatch, name="espcn", scale=3):
    folder = tmp_path / "data"
    path = save_checkpoint(folder / "models" / f"{name}_x{scale}.safetensors",
                           get_model(name, scale=scale), {"note": "fake"})
    (folder / "registry.tsv").write_text(
        HEADER + f"models/{name}_x{scale}.safetensors\thttps://example.invalid/m\t"
        f"{sha256_of(path)}\tMIT\n")
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    return path


def test_load_pretrained_verifies_the_hash(tmp_path, monkeypatch):
    path = fake_data_dir(tmp_path, monkeypatch)
    assert shipped_model("espcn_x3").path == path
    model, card = load_pretrained("espcn_x3")
    assert card["note"] == "fake" and not model.training and model.scale == 3
    path.write_bytes(path.read_bytes()[:-64])  # truncated
    with pytest.raises(CheckpointError, match="does not match its registered SHA-256"):
        load_pretrained("espcn_x3")


def test_load_pretrained_missing_file_offline(tmp_path, monkeypatch):
    fake_data_dir(tmp_path, monkeypatch).unlink()
    with pytest.raises(DataUnavailableError, match="download the file by hand"):
        load_pretrained("espcn_x3")


def test_load_pretrained_missing_from_the_registry(tmp_path, monkeypatch):
    fake_data_dir(tmp_path, monkeypatch)
    with pytest.raises(DataUnavailableError, match=r"models/espcn_x2.safetensors is not in"):
        load_pretrained("espcn_x2")


@pytest.mark.parametrize("name", ["espcn_x5", "srcnn-915_x3", "espcn"])
def test_load_pretrained_unknown(name):
    with pytest.raises(ValueError, match=f"no shipped model '{name}'; shipped: espcn_x2"):
        load_pretrained(name)


def test_shipped_names_files_and_tasks():
    assert [m.name for m in SHIPPED] == ["espcn_x2", "espcn_x3", "espcn_x4",
                                         "fsrcnn_x2", "fsrcnn_x3", "fsrcnn_x4",
                                         "dncnn_denoise-25-gray", "dncnn_jpeg-10-gray",
                                         "factorized-codec_compress-0.0018",
                                         "factorized-codec_compress-0.0035",
                                         "factorized-codec_compress-0.0067",
                                         "factorized-codec_compress-0.025"]
    espcn_x3 = shipped_model("espcn_x3")
    assert espcn_x3.file == "models/espcn_x3.safetensors" and espcn_x3.task == "sr-x3"
    assert espcn_x3.path == data_dir() / "models" / "espcn_x3.safetensors"
    denoiser = shipped_model("dncnn_denoise-25-gray")
    assert denoiser.file == "models/dncnn_denoise-25-gray.safetensors"
    assert get_task(denoiser.task).gray


# --- the shipped models themselves ----------------------------------------------------------


@pytest.fixture(scope="module")
def heldout():
    return domain_images("natural", "heldout")


@pytest.mark.parametrize("shipped", SHIPPED, ids=lambda m: m.name)
def test_shipped_models_are_registered_and_documented(shipped):
    entry = default_registry().entries[shipped.file]
    assert sha256_of(shipped.path) == entry.sha256
    card = shipped.path.with_suffix(".md").read_text()
    assert entry.sha256 in card and "Training time" in card
    model, meta = load_pretrained(shipped.name)
    assert meta["config"] == model.config == get_model(shipped.architecture,
                                                       **shipped.config).config
    if get_task(shipped.task).scale == 1:  # (the SR cards predate the "task" key)
        assert meta["task"] == shipped.task
    # the default recipe made it (threads change the speed, not the model), or, for a model
    # fine-tuned in stages, made its first stage from random weights; its card lists them all
    recipe = {k: v for k, v in meta["recipe"].items() if k != "threads"}
    recipe.setdefault("clip_grad_norm", None)  # checkpoints from before clipping existed
    default = asdict(default_recipe(shipped.architecture, shipped.task))
    stages = meta.get("earlier_stages") or []
    if stages and recipe != {k: v for k, v in default.items() if k != "threads"}:
        first = stages[0]["reproduce"].split()
        assert first[:6] == ["python", "-m", "course_utils", "pretrain", "--model",
                             shipped.architecture]
        assert not {"--init", "--steps", "--epochs", "--lr", "--batch-size",
                    "--clip-grad-norm"} & set(first)
        assert all(f"`{stage['reproduce']}`" in card for stage in stages)
        assert f"({len(stages) + 1} stages" in card
    else:
        assert recipe == {k: v for k, v in default.items() if k != "threads"}
    assert data_dir() in shipped.path.parents


@pytest.mark.parametrize("shipped", SR_SHIPPED, ids=lambda m: m.name)
def test_shipped_models_beat_bicubic_on_every_heldout_photo(shipped, heldout):
    model, meta = load_pretrained(shipped.name)
    ours = evaluate_images(heldout, shipped.task, model_method(model))
    bicubic = evaluate_images(heldout, shipped.task, "bicubic")
    for a, b in zip(ours.rows, bicubic.rows, strict=True):
        assert a["psnr"] > b["psnr"] + 0.3 and a["ssim"] > b["ssim"]
    # the model card's numbers are reproduced by the evaluation
    assert ours.mean_psnr == pytest.approx(meta["heldout"]["psnr"], abs=0.01)
    assert bicubic.mean_psnr == pytest.approx(meta["heldout"]["bicubic_psnr"], abs=0.01)


#: The course's quality targets for its source models (unit 03's issue): the mean gain over
#: bicubic on the held-out photos, standard recipe, at each scale.
TARGET_GAIN_DB = {2: 2.0, 3: 1.5, 4: 1.0}


@pytest.mark.parametrize("shipped", SR_SHIPPED, ids=lambda m: m.name)
def test_shipped_models_meet_the_quality_targets(shipped):
    heldout = load_pretrained(shipped.name)[1]["heldout"]  # reproduced by the test above
    gain = heldout["psnr"] - heldout["bicubic_psnr"]
    assert gain >= TARGET_GAIN_DB[shipped.config["scale"]]


@pytest.mark.parametrize("shipped", RESTORATION_SHIPPED, ids=lambda m: m.name)
def test_shipped_restoration_models_beat_the_input_and_the_scikit_image_baselines(shipped,
                                                                                 heldout):
    model, meta = load_pretrained(shipped.name)
    card = meta["heldout"]
    ours = evaluate_images(heldout, shipped.task, model_method(model))
    none = evaluate_images(heldout, shipped.task, "none")
    for a, b in zip(ours.rows, none.rows, strict=True):
        assert a["psnr"] > b["psnr"] + 0.5 and a["ssim"] > b["ssim"]
    # the model card's numbers are reproduced by the evaluation (bit for bit the same inputs)
    assert ours.mean_psnr == pytest.approx(card["psnr"], abs=0.01)
    assert none.mean_psnr == pytest.approx(card["baselines"]["none"]["psnr"], abs=0.01)
    # on the mean it beats every scikit-image method; BM3D (when the card has it) it does
    # not yet: the targets (+1 dB over NL-means and wavelet, within 0.2 dB of BM3D)
    # are measured and reported by benchmarks/restoration.py, and not met by this model
    for method, scores in card["baselines"].items():
        if method != "bm3d":
            assert card["psnr"] > scores["psnr"], method


def test_shipped_codecs_reproduce_their_cards_and_trade_rate_for_quality(heldout):
    scores = []
    for shipped in CODEC_SHIPPED:
        codec, lmbda = load_codec(shipped.name)
        card = load_pretrained(shipped.name)[1]["heldout"]
        measured = codec_heldout_scores(codec.model, heldout)
        # the same bytes on disk and the same decoded images as when the card was written
        assert measured["bpp"] == card["bpp"]
        assert measured["psnr"] == pytest.approx(card["psnr"], abs=0.01)
        assert measured["baselines"]["jpeg"]["bpp"] == card["baselines"]["jpeg"]["bpp"]
        # the entropy model's estimate is the rate of the file, within 2 %
        assert measured["estimated_bpp"] == pytest.approx(measured["bpp"], rel=0.02)
        assert lmbda == get_task(shipped.task).lmbda
        scores.append((lmbda, measured["bpp"], measured["psnr"]))
    # a larger lambda weighs distortion more: more bits, higher PSNR
    scores.sort()
    for (_, bpp_a, psnr_a), (_, bpp_b, psnr_b) in zip(scores[:-1], scores[1:], strict=True):
        assert bpp_a < bpp_b and psnr_a < psnr_b


def test_load_codec_refuses_a_model_that_is_not_a_codec(tmp_path):
    with pytest.raises(ValueError, match="espcn_x3 is not a codec; the shipped codecs are "
                                         "factorized-codec_compress-0.0018"):
        load_codec("espcn_x3")
    path = tmp_path / "sr.safetensors"
    save_checkpoint(path, get_model("espcn", scale=2), {"task": "sr-x2"})
    with pytest.raises(ValueError, match="sr.safetensors holds no learned codec"):
        load_codec(path)


def test_zoo_rows_describe_the_shipped_files():
    rows = zoo_rows()
    assert len(rows) == 12
    assert [r["name"] for r in rows] == [m.name for m in SHIPPED]
    strengths = {"denoise-25-gray": "25-gray", "jpeg-10-gray": "10-gray"} | {
        f"compress-{lmbda}": lmbda for lmbda in ("0.0018", "0.0035", "0.0067", "0.025")}
    for row, shipped in zip(rows, SHIPPED, strict=True):
        scale = get_task(shipped.task).scale
        assert row["architecture"] == shipped.architecture
        assert row["task"] == shipped.task
        assert row["scale or strength"] == (f"x{scale}" if scale > 1
                                            else strengths[shipped.task])
        assert row["file"] == f"course_utils/assets/{shipped.file}"
        assert row["sha256"] == sha256_of(shipped.path)
        assert row["parameters"] == count_parameters(load_pretrained(shipped.name)[0])


def test_zoo_rows_of_an_unregistered_file(tmp_path, monkeypatch):
    fake_data_dir(tmp_path, monkeypatch)  # its registry lists espcn_x3 only
    rows = {r["name"]: r for r in zoo_rows()}
    assert rows["espcn_x2"]["sha256"] == "unregistered"
    assert rows["espcn_x3"]["sha256"] == sha256_of(shipped_model("espcn_x3").path)


# --- command line ---------------------------------------------------------------------------


def test_cli_models(cli, capsys):
    assert cli("models", "--json") == 0
    assert json.loads(capsys.readouterr().out) == zoo_rows()
    assert cli("models") == 0
    table = capsys.readouterr().out
    for row in zoo_rows():
        assert row["name"] in table and row["sha256"] in table
    assert f"architectures in the registry: {', '.join(list_models())}" in table


def test_cli_pretrain_on_a_folder_then_evaluate_the_checkpoint(cli, tmp_path, photos, capsys):
    for name, image in photos.items():
        save_image(tmp_path / "hr" / name, image)
    out = tmp_path / "mine.safetensors"
    assert cli("pretrain", "--model", "fsrcnn-s", "--scale", 2, "--hr", tmp_path / "hr",
               "--steps", 10, "--epochs", 1, "--batch-size", 4, "--out", out) == 0
    assert "held-out natural photos" in capsys.readouterr().out
    report = tmp_path / "r.json"
    assert cli("evaluate", "--hr", tmp_path / "hr", "--scale", 2, "--checkpoint", out,
               "--json", report, "--tile", 16) == 0
    printed = capsys.readouterr().out
    assert "mine.safetensors" in printed and "p1.png" in printed
    assert len(json.loads(report.read_text())["rows"]) == 2
    assert cli("evaluate", "--hr", tmp_path / "hr", "--scale", 3, "--checkpoint", out) == 2
    assert "ask for sr-x3, but the model was trained for sr-x2" in capsys.readouterr().err


def test_cli_evaluate_shipped_model(cli, tmp_path, photos, capsys):
    for name, image in photos.items():
        save_image(tmp_path / "hr" / name, image)
    assert cli("evaluate", "--hr", tmp_path / "hr", "--model", "espcn_x4") == 0
    assert "espcn_x4 (shipped)" in capsys.readouterr().out
    assert cli("evaluate", "--hr", tmp_path / "hr", "--scale", 5, "--model", "espcn_x4") == 2
    assert "ask for sr-x5, but the model was trained for sr-x4" in capsys.readouterr().err
    assert cli("evaluate", "--hr", tmp_path / "hr", "--model", "espcn_x2",
               "--method", "bicubic") == 2
    assert "only one of --method, --model" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: not a shipped name
        cli("evaluate", "--hr", tmp_path / "hr", "--model", "espcn")
    assert "invalid choice: 'espcn'" in capsys.readouterr().err


def test_cli_corrupt_checkpoint(cli, tmp_path, photos, capsys):
    save_image(tmp_path / "hr" / "a.png", photos["p0.png"])
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 10)
    assert cli("evaluate", "--hr", tmp_path / "hr", "--scale", 2,
               "--checkpoint", tmp_path / "bad.safetensors") == 2
    assert "not a readable safetensors checkpoint" in capsys.readouterr().err


def test_cli_pretrain_a_denoiser_then_score_it_at_another_sigma(cli, tmp_path, photos, capsys):
    for name, image in photos.items():
        save_image(tmp_path / "hr" / name, image)
    out = tmp_path / "den.safetensors"
    assert cli("pretrain", "--model", "dncnn", "--task", "denoise", "--sigma", 25, "--gray",
               "--hr", tmp_path / "hr", "--steps", 2, "--epochs", 1, "--batch-size", 2,
               "--out", out) == 0
    printed = capsys.readouterr().out
    assert "training dncnn for denoise-25-gray" in printed and "none " in printed
    _, meta = load_checkpoint(out)
    assert meta["task"] == "denoise-25-gray"
    # a restoration model may be scored at another strength of its kind, gray as it was
    assert cli("evaluate", "--hr", tmp_path / "hr", "--checkpoint", out, "--task", "denoise",
               "--sigma", 15, "--tile", 24) == 0
    assert "task: denoise-15-gray" in capsys.readouterr().out
    assert cli("evaluate", "--hr", tmp_path / "hr", "--checkpoint", out, "--task", "jpeg",
               "--quality", 10) == 2
    assert "trained for denoise-25-gray" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "dncnn", "--scale", 2], "dncnn is a restoration network"),
    (["--model", "espcn", "--task", "denoise-25"], "espcn is an SR network"),
    (["--model", "dncnn"], "give the task"),
])
def test_cli_pretrain_needs_a_task_of_the_models_kind(cli, capsys, args, message):
    assert cli("pretrain", *args) == 2
    assert message in capsys.readouterr().err


def test_pretrain_from_another_model_fine_tunes_its_weights(tmp_path, photos):
    # transfer learning: a JPEG remover started from a (tiny) denoiser's weights
    recipe = Recipe(steps=2, epochs=1, batch_size=2, patch_lr=16, threads=None)
    start = tmp_path / "den.safetensors"
    denoiser, _ = pretrain("dncnn", "denoise-25-gray", photos, recipe, out=start,
                           progress=False)
    zero = Recipe(steps=1, epochs=1, batch_size=2, patch_lr=16, lr=1e-12, threads=None)
    model, card = pretrain("dncnn", "jpeg-10-gray", photos, zero, init=start, progress=False)
    assert card["initialised_from"] == {"model": str(start), "task": "denoise-25-gray"}
    assert f"--init {start}" in card["reproduce"]
    weights = [k for k in denoiser.state_dict() if k.endswith("weight")]
    for key in weights:  # a step of lr 1e-12 leaves the denoiser's weights where they were
        torch.testing.assert_close(model.state_dict()[key], denoiser.state_dict()[key],
                                   atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="is a dncnn model, not espcn"):
        pretrain("espcn", 2, photos, TINY, init=start, progress=False)


def test_a_model_trained_in_stages_lists_every_stage_and_their_total_time(tmp_path, photos):
    # stage 1 from random weights, stages 2 and 3 each fine-tune the checkpoint before
    recipe = Recipe(steps=1, epochs=1, batch_size=2, patch_lr=16, threads=None)
    files = [tmp_path / f"stage{i}.safetensors" for i in (1, 2, 3)]
    cards = []
    for i, out in enumerate(files):
        cards.append(pretrain("dncnn", "denoise-25-gray", photos, recipe, out=out,
                              init=files[i - 1] if i else None, progress=False)[1])
    assert cards[0]["earlier_stages"] == []
    assert [s["reproduce"] for s in cards[2]["earlier_stages"]] == [cards[0]["reproduce"],
                                                                   cards[1]["reproduce"]]
    assert f"--init {files[0]}" in cards[1]["reproduce"]
    assert load_checkpoint(files[2])[1]["earlier_stages"] == cards[2]["earlier_stages"]
    text = files[2].with_suffix(".md").read_text()
    assert "(3 stages, each fine-tuning the one before)" in text
    assert f"  1. `{cards[0]['reproduce']}`" in text and f"  3. `{cards[2]['reproduce']}`." in text
    assert training_seconds(cards[2]) == pytest.approx(sum(c["training_seconds"] for c in cards))
    assert f"**{training_seconds(cards[2]) / 60:.0f} min in all** (3 stages)" in text
