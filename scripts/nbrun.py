"""Headless notebook execution shared by scripts/build_html.py and benchmarks/notebooks.py.

:func:`notebook_client` returns an nbclient ``NotebookClient`` that

* runs the notebook in a kernel of the *current* Python environment (like nbval's
  ``--nbval-current-env``), whatever kernelspecs the user has installed, with the notebook's
  folder as working directory;
* does not emulate ipywidgets' ``Output`` widget. nbclient's emulation answers each captured
  output by sending a comm message on the shell socket from its IOPub task while the main task
  awaits the cell's ``execute_reply`` on that same socket; with an ``interactive`` explorer in a
  notebook this intermittently loses the reply, and the run hangs until the cell timeout
  (jupyter/nbclient#312; seen here with nbclient 0.11). Without the emulation, what the widget
  captures (the explorer's first figure) is kept as a plain output of the cell, which is what a
  static HTML copy should show anyway;
* sets ``COURSE_TEXT_PROGRESS=1`` for the kernel, so that training prints a line of text where
  a live notebook shows a progress widget (an executed copy keeps no live widgets).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from traitlets import default


class CurrentEnvKernelSpecManager(KernelSpecManager):
    """Every kernel name resolves to a kernel of the current Python environment."""

    def get_kernel_spec(self, kernel_name):
        spec = get_kernel_dict()
        spec["env"] = {**spec.get("env", {}), "COURSE_TEXT_PROGRESS": "1"}
        return self.kernel_spec_class(resource_dir=RESOURCES, **spec)


class CurrentEnvKernelManager(AsyncKernelManager):
    @default("kernel_spec_manager")
    def _default_kernel_spec_manager(self):
        return CurrentEnvKernelSpecManager(data_dir=self.data_dir)


class HeadlessNotebookClient(NotebookClient):
    def on_comm_open_jupyter_widget(self, msg: dict[str, Any]) -> None:
        return None  # no Output-widget emulation (see the module docstring)


def notebook_client(nb, path: Path, timeout: float | None, **kwargs: Any):
    """A client that executes ``nb`` (read from ``path``) with cwd = the notebook's folder.

    ``timeout``: seconds a single cell may run (None: no limit).
    """
    return HeadlessNotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        kernel_manager_class=CurrentEnvKernelManager,
        resources={"metadata": {"path": str(Path(path).resolve().parent)}},
        **kwargs,
    )
