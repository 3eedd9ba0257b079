"""Models by name: ``@register("name")`` on the class, ``build_model(name, **kwargs)`` to make one."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from torch import nn

from recviz.errors import ConfigError

_REGISTRY: dict[str, type[nn.Module]] = {}


def register(name: str) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator that makes a model buildable by ``name``."""

    def wrap(cls: type[nn.Module]) -> type[nn.Module]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"model name {name!r} is registered twice")
        _REGISTRY[name] = cls
        return cls

    return wrap


def model_class(name: str) -> type[nn.Module]:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(sorted(_REGISTRY))}") from None


def model_arguments(name: str) -> dict[str, object]:
    """Constructor arguments of model ``name`` and their defaults (``inspect.Parameter.empty``: required)."""
    params = inspect.signature(model_class(name).__init__).parameters
    return {p.name: p.default for p in params.values() if p.name != "self"}


def build_model(name: str, **kwargs: object) -> nn.Module:
    """A fresh model ``name`` built from keyword arguments; unknown or missing arguments raise ConfigError."""
    cls = model_class(name)
    known = model_arguments(name)
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise ConfigError(f"model {name!r} has no setting(s) {unknown}; its settings are {sorted(known)}")
    missing = sorted(k for k, v in known.items() if v is inspect.Parameter.empty and k not in kwargs)
    if missing:
        raise ConfigError(f"model {name!r} needs setting(s) {missing}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot build model {name!r} with {kwargs}: {exc}") from None


def _load_all() -> None:
    """Import the model modules so their ``@register`` lines run (idempotent)."""
    from recviz.models import comirec_dr, comirec_sa, popularity, sasrec, youtube_dnn  # noqa: F401


def model_names() -> tuple[str, ...]:
    """Every registered model's name, in registration order: the one place model names are spelled is
    each class's ``@register`` line."""
    _load_all()
    return tuple(_REGISTRY)


def __getattr__(name: str) -> tuple[str, ...]:
    """``MODEL_NAMES``: :func:`model_names`, computed on first use (the model modules import this one)."""
    if name == "MODEL_NAMES":
        return model_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
