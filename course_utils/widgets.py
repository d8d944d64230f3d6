"""The one pattern of the course's interactive explorers (ipywidgets).

An explorer is a plain function that draws a figure from some values, plus controls for those
values. :func:`explorer` wires them up: every change of a control calls the function and shows
its figure in an output area of its own. The figure is handed to the output area explicitly
rather than captured from ``plt.show()``: headless runners (nbconvert, nbclient) can hang when
a widget captures a large figure (jupyter/nbconvert#1921); in JupyterLab both look the same.
The functions themselves live in :mod:`course_utils.explore`, where the tests call them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
from torch import nn

from .explore import sr_comparison_figure

__all__ = ["explorer", "trained_model_explorer"]


def explorer(draw: Callable[..., plt.Figure | None], **controls) -> ipywidgets.VBox:
    """Controls over ``draw(**values) -> figure``, and the area that shows the figure.

    Parameters
    ----------
    draw : callable
        Takes one keyword argument per control and returns a matplotlib figure (or ``None``
        after printing why there is nothing to draw).
    **controls
        ipywidgets controls (``Dropdown``, ``FloatSlider`` ...) or the abbreviations of
        ``ipywidgets.interactive`` (a list of options, a ``(min, max, step)`` tuple).

    Returns
    -------
    ipywidgets.VBox : the controls above the figure; ``display`` it.
    """
    area = ipywidgets.Output()

    def update(**values) -> None:
        figure = draw(**values)
        area.outputs = ()
        if figure is not None:
            area.append_display_data(figure)
            plt.close(figure)

    return ipywidgets.VBox([ipywidgets.interactive(update, **controls), area])


def trained_model_explorer(models: Mapping[tuple[str, str, int], nn.Module],
                           heldout: Mapping[str, Mapping[str, np.ndarray]],
                           default_arm: str | None = None) -> ipywidgets.VBox:
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
