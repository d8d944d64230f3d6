"""One registry for every model family, in the manner of torchvision's ``register_model``.

A family registers a *builder*, a function whose keyword arguments are its whole config::

    @register_model("espcn", task="sr", limits={"scale": (2, 8), "channels": {1, 3}})
    def espcn(scale: int, channels: int = 1, features: tuple[int, int] = (64, 32)) -> ESPCN:
        return ESPCN(scale, channels, features)

:func:`get_model` validates a config against the builder's signature and limits, builds the
model and records the config on it (``model.config``), so that
:func:`course_utils.models.checkpoint.save_checkpoint` can store it and
:func:`~course_utils.models.checkpoint.load_checkpoint` rebuild the model from a file without
running any code from it. :func:`list_models` gives the registered names; the shipped weights
of some of them are kept apart, in :mod:`course_utils.zoo`.

**Validation before building.** A config (from a user or from a checkpoint file) is checked
before anything is allocated: every key must be a parameter of the builder, every parameter
without a default must be given, each value must have the type of the parameter's default,
and numbers must lie within the family's limits (``(low, high)``, inclusive) or, without a
limit, within :data:`DEFAULT_INT_LIMIT` for integers. A string or number limit given as a
set lists the allowed values.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

__all__ = ["DEFAULT_INT_LIMIT", "ModelSpec", "check_config", "get_model", "list_models",
           "model_config", "model_spec", "register_model"]

#: Bounds of any integer parameter without a limit of its own (widths, kernel sizes ...).
DEFAULT_INT_LIMIT = (1, 1024)


@dataclass(frozen=True)
class ModelSpec:
    """A registered family: its builder, the kind of task it serves and its limits."""

    name: str
    builder: Callable[..., nn.Module]
    task: str  # "sr", "restoration", "compression" or "any" (SR or restoration: a scale of 1)
    limits: dict = field(default_factory=dict)

    @property
    def parameters(self) -> dict[str, inspect.Parameter]:
        return dict(inspect.signature(self.builder).parameters)

    @property
    def summary(self) -> str:
        """The builder's first docstring line."""
        return (inspect.getdoc(self.builder) or "").split("\n")[0]


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(name: str, *, task: str, limits: dict | None = None):
    """Decorator: register ``builder`` under ``name``; see the module docstring."""
    def register(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"a model named {name!r} is already registered.")
        params = inspect.signature(builder).parameters
        unbounded = [p for p in params.values()
                     if p.default is inspect.Parameter.empty and p.name not in (limits or {})]
        if unbounded:  # a required parameter needs a limit: nothing else says what is sane
            raise ValueError(f"{name}: give limits for the required parameters "
                             f"{[p.name for p in unbounded]}.")
        _REGISTRY[name] = ModelSpec(name, builder, task, dict(limits or {}))
        return builder

    return register


def list_models(task: str | None = None) -> list[str]:
    """Registered model names, sorted; ``task`` ("sr", "restoration", "compression") keeps
    the families that serve it (those registered for "any" serve SR and restoration)."""
    return sorted(n for n, s in _REGISTRY.items()
                  if task is None or s.task == task
                  or (s.task == "any" and task in ("sr", "restoration")))


def model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``name``; an unknown name lists the registered ones."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; registered: {', '.join(list_models())}.")
    return _REGISTRY[name]


def _expected_type(default, limit) -> type:
    """The type a value must have: its default's, else its limit's (a required parameter);
    ``object`` (anything) for a parameter whose default is None and that has no limit."""
    if default is not inspect.Parameter.empty and default is not None:
        example = default
    elif limit is not None:
        example = next(iter(limit)) if isinstance(limit, set | frozenset) else limit[0]
    else:
        return object
    return float if isinstance(example, float) else type(example)


def _has_type(value, kind: type) -> bool:
    if isinstance(value, bool) and kind is not bool:  # True is an int to Python, not to us
        return False
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


def _check_value(name: str, key: str, value, default, limit):
    if isinstance(default, tuple):  # e.g. ESPCN's features: each entry checked on its own
        if not isinstance(value, list | tuple) or len(value) != len(default):
            raise ValueError(f"{name}: {key} must be a sequence of {len(default)} values like "
                             f"{default}, got {value!r}.")
        return tuple(_check_value(name, f"{key}[{i}]", v, d, limit)
                     for i, (v, d) in enumerate(zip(value, default, strict=True)))
    kind = _expected_type(default, limit)
    if value is None and default is None:
        return value
    if not _has_type(value, kind):
        raise ValueError(f"{name}: {key} must be of type {kind.__name__}, got {value!r}.")
    if isinstance(limit, set | frozenset):
        if value not in limit:
            raise ValueError(f"{name}: {key} must be one of {sorted(limit, key=str)}, "
                             f"got {value!r}.")
        return value
    if kind not in (int, float):
        return value
    if kind is float and not math.isfinite(value):
        raise ValueError(f"{name}: {key} must be a finite number, got {value!r}.")
    low, high = limit if limit is not None else (
        DEFAULT_INT_LIMIT if kind is int else (-math.inf, math.inf))
    if not low <= value <= high:
        raise ValueError(f"{name}: {key} = {value!r} is outside the sane range {low} to "
                         f"{high}.")
    return value


def check_config(name: str, config: dict) -> dict:
    """Validate ``config`` for the family ``name`` and return it complete (defaults added).

    Raises
    ------
    ValueError
        An unknown family or key, a missing parameter, a value of the wrong type or out of
        its limits. Nothing is built.
    """
    spec = model_spec(name)
    params = spec.parameters
    unknown = sorted(set(config) - set(params))
    if unknown:
        raise ValueError(f"{name} has no parameters {unknown}; its parameters are "
                         f"{list(params)}.")
    missing = [k for k, p in params.items()
               if p.default is inspect.Parameter.empty and k not in config]
    if missing:
        raise ValueError(f"{name} needs the parameters {missing}.")
    checked = {}
    for key, param in params.items():
        value = config.get(key, param.default)
        checked[key] = _check_value(name, key, value, param.default, spec.limits.get(key))
    return checked


def get_model(name: str, **config) -> nn.Module:
    """Build a fresh model of the family ``name`` with ``config`` (validated first).

    The model carries ``model.config``, ``{"name": name, **complete config}``, what a
    checkpoint stores to rebuild it.

    Examples
    --------
    >>> model = get_model("espcn", scale=3)
    >>> model.config
    {'name': 'espcn', 'scale': 3, 'channels': 1, 'features': (64, 32)}
    """
    checked = check_config(name, config)
    model = model_spec(name).builder(**checked)
    model.config = {"name": name, **checked}
    return model


def model_config(model: nn.Module) -> dict:
    """What :func:`get_model` needs to rebuild ``model``: ``{"name": ..., **config}``."""
    config = getattr(model, "config", None)
    if not isinstance(config, dict) or config.get("name") not in _REGISTRY:
        raise ValueError(
            f"this {type(model).__name__} was not built by course_utils.models.get_model, so "
            "its config is unknown and it cannot be checkpointed; build it with "
            f"get_model(name, ...), name one of {', '.join(list_models())}.")
    return dict(config)
