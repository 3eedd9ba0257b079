"""Models by name: ``@register("name")`` on the class, ``build_model(name, **kwargs)`` to make one.

Other packages add models as plugins: a class registered under the entry-point group ``recviz.models``
(``[project.entry-points."recviz.models"] my-model = "my_package.model:MyModel"``) is found through
``importlib.metadata`` the first time a model is looked up, after the built-in ones (which a plugin cannot
replace). A plugin that fails to import, or whose class breaks the contract, is skipped with a warning, and
looking its name up says why (docs/extending.md).
"""

from __future__ import annotations

import importlib.metadata
import inspect
import warnings
from collections.abc import Callable

from torch import nn

from recviz.errors import ConfigError

ENTRY_POINT_GROUP = "recviz.models"
# what a plugin class must define (the contract, recviz.models.base.MultiInterestModel)
CONTRACT_METHODS = ("item_embeddings", "interests", "attention", "embed_history", "interests_from_embedded",
                    "config")
_REGISTRY: dict[str, type[nn.Module]] = {}
_PLUGIN_PROBLEMS: dict[str, str] = {}   # entry-point name → why it was skipped
_plugins_loaded = False


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
        if name in _PLUGIN_PROBLEMS:
            raise ConfigError(f"model {name!r} comes from a plugin that could not be loaded: "
                              f"{_PLUGIN_PROBLEMS[name]}; fix or reinstall the plugin package") from None
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(sorted(_REGISTRY))} "
                          "(a model of another package enters as a plugin: see docs/extending.md)") from None


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
    """Import the model modules so their ``@register`` lines run, then the plugins (idempotent)."""
    from recviz.models import (  # noqa: F401
        comirec_dr,
        comirec_sa,
        popularity,
        recbole_gru4rec,
        recbole_sasrec,
        recbole_sine,
        sasrec,
        youtube_dnn,
    )

    _load_plugins()


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _load_plugins() -> None:
    """Register every plugin class of the ``recviz.models`` entry-point group once; a broken one is skipped
    with a warning and its problem kept for :func:`model_class`'s message."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry in _entry_points():
        try:
            cls = entry.load()
        except Exception as exc:  # any failure of another package's import is reported, not raised
            problem = f"importing {entry.value} failed ({type(exc).__name__}: {exc})"
        else:
            problem = plugin_problem(entry.name, cls)
            if problem is None:
                _REGISTRY[entry.name] = cls
                continue
        _PLUGIN_PROBLEMS[entry.name] = problem
        warnings.warn(f"recviz skipped the model plugin {entry.name!r}: {problem}", stacklevel=2)


def plugin_problem(name: str, cls: object) -> str | None:
    """Why ``cls`` cannot be registered as model ``name`` from a plugin, or None when it can."""
    if not (inspect.isclass(cls) and issubclass(cls, nn.Module)):
        return f"{cls!r} is not a torch.nn.Module class"
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        taken = _REGISTRY[name]
        return f"the name {name!r} is already taken by {taken.__module__}.{taken.__name__}"
    if getattr(cls, "name", None) != name:
        return (f"{cls.__name__}.name is {getattr(cls, 'name', None)!r} but the entry point is {name!r}; "
                "they must be equal (checkpoints record the class's name)")
    missing = [m for m in CONTRACT_METHODS if not callable(getattr(cls, m, None))]
    if missing:
        return f"{cls.__name__} lacks the model contract's {', '.join(missing)} (recviz.models.base)"
    return None


def plugin_problems() -> dict[str, str]:
    """The plugins that were skipped and why (entry-point name → problem)."""
    _load_all()
    return dict(_PLUGIN_PROBLEMS)


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
