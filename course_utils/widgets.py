"""The one pattern of the course's interactive explorers (ipywidgets).

An explorer is a plain function that draws a figure from some values, plus controls for those
values. :func:`explorer` wires them up: every change of a control calls the function and shows
its figure in an output area of its own. The figure is handed to the output area explicitly
rather than captured from ``plt.show()``: headless runners (nbconvert, nbclient) can hang when
a widget captures a large figure (jupyter/nbconvert#1921); in JupyterLab both look the same.
The functions themselves live in :mod:`course_utils.explore`, where the tests call them.

Widget views need a live kernel, or the widget JavaScript in a saved copy, to show anything.
Each explorer is therefore displayed together with a PNG snapshot of its first figure (the
function's default values): JupyterLab shows the live controls, while an HTML copy without the
widget script (``make html``), GitHub's viewer or a copy read offline show the snapshot.
"""

from __future__ import annotations

import base64
import inspect
import io
from collections.abc import Callable, Mapping

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
from torch import nn

from .explore import sr_comparison_figure

__all__ = ["Explorer", "explorer", "trained_model_explorer"]


class Explorer(ipywidgets.VBox):
    """An explorer's controls and figure, displayed with a PNG snapshot of its first figure.

    JupyterLab renders the widget view and ignores the snapshot; a renderer without the widget
    script falls back to the snapshot (``image/png`` in the same display bundle).
    """

    snapshot: bytes | None = None

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs)
        if self.snapshot is not None:
            bundle["image/png"] = base64.b64encode(self.snapshot).decode("ascii")
            bundle["text/plain"] = ("A static snapshot of the explorer at its default values; "
                                    "run the notebook to use its controls.")
        return bundle


def _with_defaults(draw: Callable, controls: dict) -> dict:
    """A list of options becomes a dropdown that starts at ``draw``'s default for it, if any
    (``ipywidgets.interactive`` would start at the first option)."""
    defaults = {name: p.default for name, p in inspect.signature(draw).parameters.items()
                if p.default is not inspect.Parameter.empty}
    out = {}
    for name, control in controls.items():
        if isinstance(control, list) and defaults.get(name, object()) in control:
            control = ipywidgets.Dropdown(options=control, value=defaults[name],
                                          description=name)
        out[name] = control
    return out


def explorer(draw: Callable[..., plt.Figure | None], **controls) -> Explorer:
    """Controls over ``draw(**values) -> figure``, and the area that shows the figure.

    Parameters
    ----------
    draw : callable
        Takes one keyword argument per control and returns a matplotlib figure (or ``None``
        after printing why there is nothing to draw).
    **controls
        ipywidgets controls (``Dropdown``, ``FloatSlider`` ...) or the abbreviations of
        ``ipywidgets.interactive`` (a list of options, a ``(min, max, step)`` tuple).

    A list of options starts at ``draw``'s default value for that argument, if it has one.

    Returns
    -------
    Explorer : the controls above the figure, with a snapshot of the first figure for static
        copies; ``display`` it.
    """
    area = ipywidgets.Output()
    box = Explorer()

    def update(**values) -> None:
        figure = draw(**values)
        area.outputs = ()
        if figure is not None:
            if box.snapshot is None:  # the first figure: the default values
                buffer = io.BytesIO()
                figure.savefig(buffer, format="png", bbox_inches="tight")
                box.snapshot = buffer.getvalue()
            area.append_display_data(figure)
            plt.close(figure)

    box.children = [ipywidgets.interactive(update, **_with_defaults(draw, controls)), area]
    return box


def trained_model_explorer(models: Mapping[tuple[str, str, int], nn.Module],
                           heldout: Mapping[str, Mapping[str, np.ndarray]],
                           default_arm: str | None = None) -> Explorer:
    """Pick a domain, an arm, its number of training images and a held-out image; see the
    model's reconstruction beside bicubic (:func:`~course_utils.explore.sr_comparison_figure`).

    Parameters
    ----------
    models : {(domain, arm, n_images): trained model}
    heldout : {domain: {image name: HR image}}
    default_arm : the arm selected first in every domain, if it has one
    """
    domain = ipywidgets.Dropdown(options=sorted({d for d, _, _ in models}), description="domain")
    arm = ipywidgets.Dropdown(description="arm")
    n_images = ipywidgets.Dropdown(description="images")
    image = ipywidgets.Dropdown(description="image")

    def arms_of_domain(*_) -> None:
        arms = sorted({a for d, a, _ in models if d == domain.value})
        arm.options = arms
        arm.value = default_arm if default_arm in arms else arms[0]
        image.options = list(heldout[domain.value])
        image.value = image.options[0]
        sizes_of_arm()

    def sizes_of_arm(*_) -> None:
        n_images.options = sorted(n for d, a, n in models if (d, a) == (domain.value, arm.value))
        n_images.value = n_images.options[-1]  # all of them

    domain.observe(arms_of_domain, "value")
    arm.observe(sizes_of_arm, "value")
    arms_of_domain()

    def draw(domain: str, arm: str, n_images: int, image: str) -> plt.Figure | None:
        if (domain, arm, n_images) not in models or image not in heldout[domain]:
            return None  # the dropdowns are still being updated to a new domain or arm
        return sr_comparison_figure(heldout[domain][image], models[domain, arm, n_images],
                                    label=arm, title=f"{domain}: {image}, {arm}, "
                                                     f"{n_images} training images")

    return explorer(draw, domain=domain, arm=arm, n_images=n_images, image=image)
