"""Tests of course_utils.viz: comparison figures, scalar maps, tables (Agg backend)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course_utils.viz import STYLE, Table, compare, show_maps, use_style


def test_compare_panels(smooth):
    images = {"HR": smooth(40, 40), "bicubic": smooth(40, 40, seed=1), "gray": smooth(40, 40, None)}
    fig = compare(images, captions={"bicubic": "30.12 dB / 0.912"}, title="x2")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["HR", "bicubic\n30.12 dB / 0.912", "gray"]
    assert fig._suptitle.get_text() == "x2"


def test_compare_with_zoom_and_mixed_sizes(smooth):
    hr, lr = smooth(48, 64), smooth(12, 16)
    fig = compare({"LR": lr, "HR": hr}, zoom=(8, 16, 16, 24))
    assert len(fig.axes) == 4  # a zoom row under the panels
    axes = np.array(fig.axes).reshape(2, 2)
    # The zoomed views show the box, scaled to each image's size (LR is 4x smaller).
    assert axes[1, 0].images[0].get_array().shape[:2] == (4, 6)
    assert axes[1, 1].images[0].get_array().shape[:2] == (16, 24)
    boxes = [p for p in axes[0, 1].patches if isinstance(p, Rectangle)]
    assert len(boxes) == 1 and (boxes[0].get_width(), boxes[0].get_height()) == (24, 16)


def test_compare_grid_turns_off_unused_axes(smooth):
    images = {f"im{i}": smooth(20, 20, seed=i) for i in range(3)}
    fig = compare(images, zoom=(0, 0, 5, 5), ncols=2)
    assert len(fig.axes) == 8  # 2 panel rows x (image + zoom) x 2 columns
    visible = [ax.axison for ax in fig.axes]
    assert visible.count(False) == 2  # the empty fourth slot and its zoom


def test_compare_clips_for_display(smooth):
    image = smooth(10, 10) * 3 - 1  # outside [0, 1]
    fig = compare({"x": image})
    shown = fig.axes[0].images[0].get_array()
    assert shown.min() >= 0 and shown.max() <= 1


def test_compare_shows_uint8_on_the_unit_scale():
    lr = np.full((6, 6, 3), 51, dtype=np.uint8)  # e.g. make_lr's output
    fig = compare({"LR": lr, "gray16": np.full((6, 6), 65535, dtype=np.uint16)})
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), 0.2)
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), 1.0)


def test_compare_errors():
    with pytest.raises(ValueError, match="at least one image"):
        compare({})
    with pytest.raises(ValueError, match="sr has 4 channels"):
        compare({"sr": np.zeros((8, 8, 4))})


def test_show_maps(rng):
    maps = {"SSIM map": rng.random((20, 30)), "error": rng.random((20, 30)) * 2}
    fig = show_maps(maps, label="value", title="maps")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3  # two maps and one colour bar
    shared = [ax.images[0].get_clim() for ax in fig.axes[:2]]
    assert shared[0] == shared[1]  # one colour scale for all maps
    low = min(m.min() for m in maps.values())
    high = max(m.max() for m in maps.values())
    assert shared[0] == pytest.approx((low, high))
    fixed = show_maps({"a": maps["error"]}, vmin=0, vmax=1)
    assert fixed.axes[0].images[0].get_clim() == (0, 1)


def test_show_maps_errors(rng):
    with pytest.raises(ValueError, match="at least one map"):
        show_maps({})
    with pytest.raises(ValueError, match=r"map 'rgb' must be 2-D, got shape \(4, 4, 3\)"):
        show_maps({"rgb": rng.random((4, 4, 3))})


def test_table_text_and_html():
    rows = [{"method": "bicubic", "PSNR (dB)": 30.4567, "SSIM": 0.868213, "n": 5},
            {"method": "nearest", "PSNR (dB)": 27.1, "SSIM": np.float32(0.80011), "n": 14}]
    table = Table(rows, {"PSNR (dB)": ".2f", "SSIM": ".4f"}, title="Set5 x3")
    text = str(table)
    lines = text.splitlines()
    assert lines[0] == "Set5 x3"
    assert lines[2].split(" | ")[0].strip() == "method"
    for cell in ("bicubic", "30.46", "0.8682", "27.10", "0.8001", "14"):
        assert cell in text
    assert "30.4567" not in text
    assert repr(table) == text
    html = table._repr_html_()
    assert html.startswith("<table>") and "<caption>Set5 x3</caption>" in html
    assert "<th>PSNR (dB)</th>" in html and "<td>30.46</td>" in html and "<td>0.8001</td>" in html
    assert table.column("n") == [5, 14]


def test_table_default_float_format_and_missing_cells():
    table = Table([{"a": 1 / 3, "b": "x"}, {"a": 12345.678}])
    text = str(table)
    assert "0.3333" in text and "1.235e+04" in text  # default .4g
    assert text.splitlines()[-1].rstrip().endswith("|")  # missing "b" is an empty cell


def test_table_needs_rows():
    with pytest.raises(ValueError, match="at least one row"):
        Table([])


def test_use_style():
    with matplotlib.rc_context():  # restores the settings afterwards
        matplotlib.rcParams["axes.grid"] = False
        use_style()
        for key, value in STYLE.items():
            assert matplotlib.rcParams[key] == value
