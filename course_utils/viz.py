"""Figures and tables in one consistent style.

* :func:`compare` shows images side by side, each with a zoomed inset of the same region,
  and optional captions such as PSNR/SSIM;
* :func:`show_maps` shows scalar maps (SSIM maps, error maps) with colour bars;
* :func:`plot_data_efficiency` draws held-out PSNR against the number of training images,
  mean and standard deviation over seeds, one line per arm;
* :class:`Table` renders rows of metrics as HTML in a notebook and as text elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .checks import check_image
from .images import to_float

__all__ = ["STYLE", "Table", "compare", "plot_data_efficiency", "show_maps", "use_style"]

#: The course's matplotlib settings.
STYLE = {
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 9,
    "image.interpolation": "nearest",  # show pixels as they are, never smoothed
}


def use_style() -> None:
    """Apply :data:`STYLE` to matplotlib (notebooks call this once in their setup)."""
    plt.rcParams.update(STYLE)


def _display(image: np.ndarray) -> np.ndarray:
    # uint8/uint16 (e.g. make_lr's output) to [0, 1]; noisy inputs clipped for display.
    return np.clip(to_float(image), 0.0, 1.0)


def compare(
    images: Mapping[str, np.ndarray],
    zoom: tuple[int, int, int, int] | None = None,
    captions: Mapping[str, str] | None = None,
    ncols: int | None = None,
    panel_size: float = 3.2,
    title: str | None = None,
    errors_from: str | None = None,
) -> plt.Figure:
    """Show images side by side, each with a zoomed view of the same region.

    Parameters
    ----------
    images : mapping of title -> image
        Float images in [0, 1] (values outside are clipped for display); uint8/uint16
        images are shown on the same scale. They may differ in
        size (an LR input beside HR outputs): the zoom box is scaled to each image's size,
        relative to the largest.
    zoom : (top, left, height, width), optional
        Region of the largest image to magnify, drawn as a box on the full view and shown
        enlarged underneath it.
    captions : mapping of title -> str, optional
        A line under each title, e.g. ``"31.2 dB / 0.88"``.
    ncols : int, optional
        Panels per row (all in one row by default).
    errors_from : str, optional
        The title of the ground truth among ``images``. With a ``zoom``, a third row shows
        each image's absolute error :math:`|\\hat y - y|` in the zoomed region (mean over
        colour channels), all on one colour scale: on smooth regions, where the zooms look
        alike, the error maps still show where the methods differ.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not images:
        raise ValueError("compare needs at least one image.")
    for name, im in images.items():
        check_image(np.asarray(im), name)
    if errors_from is not None and errors_from not in images:
        raise ValueError(f"errors_from={errors_from!r} is not one of the images: "
                         f"{list(images)}.")
    names = list(images)
    ncols = ncols or len(names)
    nrows_panels = int(np.ceil(len(names) / ncols))
    reference = max((np.asarray(im).shape[:2] for im in images.values()), key=lambda s: s[0])
    # Row heights follow the shapes shown, so that no empty band separates image and zoom.
    heights = [reference[0] / reference[1]]
    if zoom:
        heights.append(zoom[2] / zoom[3])
        if errors_from is not None:
            heights.append(zoom[2] / zoom[3])
    rows_per_panel = len(heights)
    fig, axes = plt.subplots(
        nrows_panels * rows_per_panel, ncols,
        figsize=(panel_size * ncols,
                 nrows_panels * (panel_size * sum(heights) + 0.45 * rows_per_panel + 0.3)),
        squeeze=False, layout="constrained",
        gridspec_kw={"height_ratios": heights * nrows_panels},
    )
    truth = _display(images[errors_from]) if errors_from is not None else None
    error_maps = {}
    for k, name in enumerate(names):
        image = _display(images[name])
        r, c = divmod(k, ncols)
        ax = axes[r * rows_per_panel, c]
        gray = image.ndim == 2
        ax.imshow(image, cmap="gray" if gray else None, vmin=0, vmax=1)
        caption = f"\n{captions[name]}" if captions and name in captions else ""
        ax.set_title(f"{name}{caption}")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        if zoom:
            fy = image.shape[0] / reference[0]
            fx = image.shape[1] / reference[1]
            factors = (fy, fx, fy, fx)
            top, left, h, w = (int(round(v * f)) for v, f in zip(zoom, factors, strict=True))
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, ec="yellow", lw=1.5))
            zax = axes[r * rows_per_panel + 1, c]
            zax.imshow(image[top:top + h, left:left + w], cmap="gray" if gray else None,
                       vmin=0, vmax=1)
            zax.set_title("zoom", fontsize=8)
            zax.set_xticks([])
            zax.set_yticks([])
            zax.grid(False)
            for side in zax.spines.values():
                side.set_edgecolor("yellow")
            if truth is not None:
                eax = axes[r * rows_per_panel + 2, c]
                eax.axis("off")
                if image.shape == truth.shape and name != errors_from:
                    error = np.abs(image - truth)[top:top + h, left:left + w]
                    error_maps[eax] = error.mean(axis=-1) if error.ndim == 3 else error
    if error_maps:
        top_error = max(float(np.percentile(e, 99)) for e in error_maps.values()) or 1e-3
        for eax, error in error_maps.items():
            eax.imshow(error, cmap="magma", vmin=0, vmax=top_error)
            eax.set_title(f"|error| in the zoom (0 to {top_error:.2g})", fontsize=8)
    for k in range(len(names), nrows_panels * ncols):
        r, c = divmod(k, ncols)
        for j in range(rows_per_panel):
            axes[r * rows_per_panel + j, c].axis("off")
    if title:
        fig.suptitle(title)
    return fig


def show_maps(
    maps: Mapping[str, np.ndarray],
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    label: str = "",
    panel_size: float = 3.2,
    title: str | None = None,
) -> plt.Figure:
    """Show 2-D scalar maps side by side with a shared colour scale and one colour bar."""
    if not maps:
        raise ValueError("show_maps needs at least one map.")
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in maps.items()}
    for name, m in arrays.items():
        if m.ndim != 2:
            raise ValueError(f"map {name!r} must be 2-D, got shape {m.shape}.")
    vmin = min(m.min() for m in arrays.values()) if vmin is None else vmin
    vmax = max(m.max() for m in arrays.values()) if vmax is None else vmax
    fig, axes = plt.subplots(1, len(arrays), figsize=(panel_size * len(arrays), panel_size),
                             squeeze=False, layout="constrained")
    for ax, (name, m) in zip(axes[0], arrays.items(), strict=True):
        shown = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.colorbar(shown, ax=list(axes[0]), shrink=0.8, label=label)
    if title:
        fig.suptitle(title)
    return fig


def plot_data_efficiency(rows: Sequence[Mapping], baselines: Mapping[str, float] | None = None,
                         ax: plt.Axes | None = None, title: str | None = None) -> plt.Axes:
    """Held-out PSNR against the number of training images, with error bars.

    Parameters
    ----------
    rows : sequence of dict
        With keys ``"arm"``, ``"images"``, ``"PSNR (dB)"`` and ``"± PSNR"`` (the standard
        deviation over seeds), as ``course_utils.experiments.runner.summarize(results,
        by_images=True)`` makes them.
    baselines : {label: PSNR}, optional
        Untrained methods (bicubic, the source model zero-shot), drawn as horizontal lines.
    ax : matplotlib Axes, optional
    title : str, optional
    """
    if not rows:
        raise ValueError("plot_data_efficiency needs at least one row.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for arm in dict.fromkeys(r["arm"] for r in rows):
        mine = sorted((r for r in rows if r["arm"] == arm), key=lambda r: r["images"])
        ax.errorbar([r["images"] for r in mine], [r["PSNR (dB)"] for r in mine],
                    yerr=[r["± PSNR"] for r in mine], marker="o", capsize=3, label=arm)
    for (label, value), style in zip((baselines or {}).items(), ("--", ":", "-."), strict=False):
        ax.axhline(value, color="gray", linestyle=style, label=label)
    ax.set_xscale("log", base=2)
    sizes = sorted({r["images"] for r in rows})
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.minorticks_off()
    ax.set(xlabel="target training images", ylabel="held-out PSNR (dB)", title=title)
    ax.legend()
    return ax


class Table:
    """Rows of results shown as an HTML table in notebooks and as text in a terminal.

    Parameters
    ----------
    rows : sequence of dict
        One dict per row; the keys of the first row give the columns.
    formats : mapping of column -> format spec, optional
        E.g. ``{"PSNR (dB)": ".2f", "SSIM": ".4f"}``; floats default to ``.4g``.
    title : str, optional

    Examples
    --------
    >>> Table([{"method": "bicubic", "PSNR (dB)": 28.4}], {"PSNR (dB)": ".2f"})
    """

    def __init__(self, rows: Sequence[Mapping], formats: Mapping[str, str] | None = None,
                 title: str | None = None) -> None:
        if not rows:
            raise ValueError("a Table needs at least one row.")
        self.rows = [dict(r) for r in rows]
        self.columns = list(self.rows[0])
        self.formats = dict(formats or {})
        self.title = title

    def _cell(self, column: str, value) -> str:
        if isinstance(value, (float, np.floating)):
            return format(float(value), self.formats.get(column, ".4g"))
        return str(value)

    def column(self, name: str) -> list:
        """The values of one column, in row order."""
        return [r[name] for r in self.rows]

    def __str__(self) -> str:
        cells = [[self._cell(c, r.get(c, "")) for c in self.columns] for r in self.rows]
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(self.columns)]
        line = " | ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True))
        rule = "-|-".join("-" * w for w in widths)
        body = [" | ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
        head = [self.title, ""] if self.title else []
        return "\n".join([*head, line, rule, *body])

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{self._cell(c, r.get(c, ''))}</td>" for c in self.columns)
            + "</tr>"
            for r in self.rows
        )
        caption = f"<caption>{self.title}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        return str(self)
