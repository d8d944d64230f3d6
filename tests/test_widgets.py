"""The one explorer pattern (course_utils.widgets): controls over a plain drawing function."""

from __future__ import annotations

import base64

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

from conftest import make_smooth
from course_utils.explore import sr_comparison_figure, super_resolve_compare
from course_utils.models import get_model
from course_utils.widgets import explorer, trained_model_explorer


def test_explorer_draws_the_function_of_the_controls_into_its_output_area():
    calls = []

    def draw(level=0.5, kind="a"):
        calls.append((level, kind))
        fig, ax = plt.subplots()
        ax.set_title(f"{kind} {level}")
        return fig

    box = explorer(draw, level=ipywidgets.FloatSlider(value=0.5, min=0, max=1), kind=["a", "b"])
    controls, area = box.children
    assert calls[-1] == (0.5, "a"), "drawn once with the initial values"
    assert len(area.outputs) == 1, "the figure is shown in the output area"
    slider = next(w for w in controls.children if isinstance(w, ipywidgets.FloatSlider))
    slider.value = 0.25
    assert calls[-1] == (0.25, "a")
    assert len(area.outputs) == 1, "the previous figure is replaced, not appended"
    assert not plt.get_fignums(), "figures are closed once handed to the output area"


def test_explorer_starts_at_the_functions_defaults_and_carries_a_snapshot():
    def draw(kind="b", size=3):
        fig, ax = plt.subplots()
        ax.set_title(f"{kind} {size}")
        return fig

    box = explorer(draw, kind=["a", "b", "c"], size=[1, 2])
    controls = box.children[0].children
    assert [w.value for w in controls[:2]] == ["b", 1], "a default among the options is used"
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle, "live: the widget"
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG"), "static copies: a PNG of the first figure"
    assert "snapshot" in bundle["text/plain"]
    controls[0].value = "c"
    assert base64.b64decode(box._repr_mimebundle_()["image/png"]) == png, "the first figure"


def test_explorer_shows_nothing_when_the_function_returns_none():
    box = explorer(lambda choice: None, choice=["x", "y"])
    assert box.children[1].outputs == ()


@pytest.fixture
def trained():
    model = get_model("espcn", scale=2, features=(4, 4))
    models = {("a", "scratch", 1): model, ("a", "scratch", 3): model,
              ("a", "fine-tune all", 3): model, ("b", "scratch", 2): model}
    heldout = {"a": {"one": make_smooth(24, 24, None, seed=1)},
               "b": {"two": make_smooth(24, 24, None, seed=2),
                     "three": make_smooth(24, 24, None, seed=3)}}
    return models, heldout


def test_trained_model_explorer_offers_only_what_was_trained(trained):
    models, heldout = trained
    box = trained_model_explorer(models, heldout, default_arm="fine-tune all")
    domain, arm, n_images, image = box.children[0].children[:4]
    assert (domain.value, arm.value, n_images.value) == ("a", "fine-tune all", 3)
    assert list(arm.options) == ["fine-tune all", "scratch"]
    arm.value = "scratch"
    assert list(n_images.options) == [1, 3] and n_images.value == 3, "all images by default"
    domain.value = "b"
    assert list(arm.options) == ["scratch"] and list(n_images.options) == [2]
    assert list(image.options) == ["two", "three"]
    assert len(box.children[1].outputs) == 1, "a figure for the current choice"


def test_sr_comparison_figure_scores_the_model(trained):
    models, heldout = trained
    hr = np.repeat(heldout["a"]["one"][..., None], 3, axis=2)
    fig = sr_comparison_figure(hr, models["a", "scratch", 1], label="scratch")
    out = super_resolve_compare(hr, models["a", "scratch", 1])
    titles = [ax.get_title() for ax in fig.axes]
    assert f"scratch\n{out['psnr']['model']:.2f} dB / {out['ssim']['model']:.4f}" in titles
    assert f"bicubic\n{out['psnr']['bicubic']:.2f} dB / {out['ssim']['bicubic']:.4f}" in titles
