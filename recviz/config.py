"""Frozen settings dataclasses (explain here; training and model settings beside them), JSON in and out."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recviz.errors import ConfigError
from recviz.options import (
    FUSIONS,
    METHODS,
    WEIGHTED,
    FusionName,
    MethodName,
    NumberRange,
    ParamView,
    all_params,
)


def _check_known_fields(cls: type, obj: dict[str, Any], what: str) -> None:
    """Raise :class:`ConfigError` naming every key of ``obj`` that is not a field of the dataclass ``cls``."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(obj) - known)
    if unknown:
        raise ConfigError(f"unknown {what} setting(s) {unknown}; known: {sorted(known)}")


# The option names, as declared by the descriptors of recviz.options (kept as tuples for older callers;
# the validation below reads the registries themselves).
FUSION_MODES: tuple[str, ...] = tuple(FUSIONS)
ATTRIBUTION_METHODS: tuple[str, ...] = tuple(METHODS)

# One table for every source of explain settings: the URL, saved scenarios, the CLI and the sidebar widgets.
# Read-only and live: each range is declared by its descriptor (recviz.options: a fusion's τ or λ, a method's
# steps, the general top-N, ...).
SETTING_RANGES: Mapping[str, NumberRange] = ParamView(lambda param: param.spec)
_PARAM_DEFAULTS = {name: param.default for name, param in all_params().items()}
MAX_TARGETS = 100          # explicit items to explain
# characters of a number written as text (a 5-million-digit "number" is refused unread)
MAX_NUMBER_TEXT = 32
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_number(value: Any, name: str, spec: NumberRange) -> int | float:
    """``value`` (a number or its text) as the setting ``name``: :class:`ConfigError` when it is not a finite
    number of the right kind (NaN, infinity, text, booleans) or lies outside ``spec``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{name} must be {spec.describe()}, got {type(value).__name__} {_shown(value)}")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_NUMBER_TEXT:
            raise ConfigError(f"{name} must be {spec.describe()}, got a {len(text):,}-character text")
        try:
            number: float = float(text)
        except ValueError:
            raise ConfigError(f"{name} must be {spec.describe()}, got {_shown(text)}") from None
    else:
        number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{name} must be {spec.describe()}, got {number} (not a finite number)")
    if spec.integer and not number.is_integer():
        raise ConfigError(f"{name} must be {spec.describe()}, got {number:g}")
    if not spec.low <= number <= spec.high:
        raise ConfigError(f"{name} must be {spec.describe()}, got {number:g}")
    return int(number) if spec.integer else number


def parse_id(value: Any, what: str = "an id") -> int:
    """An item or user id: a whole number (or its text, at most 19 digits), exactly, never through float."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63:
        return value
    text = value.strip() if isinstance(value, str) else None
    if text is not None and len(text) <= 20 and re.fullmatch(r"-?\d{1,19}", text) and abs(int(text)) < 2**63:
        return int(text)
    raise ConfigError(f"{what} must be a whole number, got {_shown(value)}")


def parse_flag(value: Any, name: str) -> bool:
    """A yes/no setting from a bool or its text (1/0, true/false, yes/no, on/off)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"{name} must be true or false (1 or 0), got {_shown(value)}")


def _shown(value: Any, limit: int = 40) -> str:
    """A short repr of a value a user supplied (long texts are cut, so a message never echoes megabytes)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clamp(value: Any, spec: NumberRange) -> int | float | None:
    """A finite number outside ``spec`` moved to its nearest end (None when ``value`` is not a number)."""
    try:
        number = parse_number(value, "", NumberRange(-math.inf, math.inf, spec.step, spec.integer))
    except ConfigError:
        return None
    number = min(max(number, spec.low), spec.high)
    return int(number) if spec.integer else float(number)


def _clean_one(name: str, value: Any) -> Any:
    """One explain setting checked and converted; raises :class:`ConfigError` saying what is wrong."""
    if name in SETTING_RANGES:
        return parse_number(value, name, SETTING_RANGES[name])
    if name == "fusion":
        if not isinstance(value, str) or value not in FUSIONS:
            raise ConfigError(f"unknown fusion mode {_shown(value)}; choose one of {', '.join(FUSIONS)}")
        return value
    if name == "methods":
        methods = [value] if isinstance(value, str) else value
        if not isinstance(methods, list | tuple):
            raise ConfigError(f"methods must be a list of names, got {_shown(value)}")
        bad = [m for m in methods if not isinstance(m, str) or m not in METHODS]
        if bad:
            raise ConfigError(f"unknown attribution method(s) {_shown(bad)}; choose from "
                              f"{', '.join(METHODS)}")
        return tuple(dict.fromkeys(methods))
    if name == "targets":
        if value is None:
            return None
        if not isinstance(value, list | tuple) or len(value) > MAX_TARGETS:
            raise ConfigError(f"targets must be a list of at most {MAX_TARGETS} item ids, "
                              f"got {_shown(value)}")
        return tuple(parse_id(t, "a target id") for t in value)
    if name == "exclude_history":
        return parse_flag(value, name)
    raise ConfigError(f"unknown explain setting {name!r}")


def clean_explain_settings(obj: Mapping[str, Any], *, lenient: bool) -> tuple[dict[str, Any], list[str]]:
    """The one validation of explain settings, whatever their source (URL, scenario, CLI flags, widgets).

    Returns the valid settings (field name → value, ready for :class:`ExplainSettings`) and one message per
    problem. ``lenient`` (the app): an out-of-range number is clamped to the nearest allowed value, any
    other bad value (NaN, infinity, wrong type, unknown choice) or unknown key is dropped, so the default
    applies; unknown attribution methods are dropped one by one. Not lenient (the CLI, files): any
    problem raises one :class:`ConfigError` listing them all.
    """
    known = {f.name for f in dataclasses.fields(ExplainSettings)}
    clean: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in obj.items():
        if name not in known:
            problems.append(f"unknown setting {_shown(name)} ignored (known: {', '.join(sorted(known))})")
            continue
        try:
            clean[name] = _clean_one(name, value)
            continue
        except (ConfigError, TypeError, ValueError) as exc:
            message = str(exc)
        if not lenient:
            problems.append(message)
            continue
        clamped = _clamp(value, SETTING_RANGES[name]) if name in SETTING_RANGES else None
        if clamped is not None:
            clean[name] = clamped
            problems.append(f"{message}; using {clamped:g}")
        elif name == "methods" and isinstance(value, list | tuple):
            clean[name] = tuple(dict.fromkeys(m for m in value if isinstance(m, str) and m in METHODS))
            problems.append(f"{message}; the others are kept")
        else:
            problems.append(f"{message}; using the default {_shown(getattr(ExplainSettings, name, None))}")
    if problems and not lenient:
        raise ConfigError("; ".join(problems))
    return clean, problems


@dataclass(frozen=True)
class ExplainSettings:
    """What :func:`recviz.explain.explain` computes. The defaults are what the app opens with; a numeric
    setting's default is its descriptor's (:mod:`recviz.options`).

    Every value is checked by :func:`clean_explain_settings` (the same rules for every source)."""

    top_n: int = _PARAM_DEFAULTS["top_n"]
    fusion: FusionName = WEIGHTED.name  # one of recviz.options.FUSIONS
    tau: float = _PARAM_DEFAULTS["tau"]  # temperature of the weighted fusion
    # λ of the diverse aggregation (0: max merge)
    diversity_lambda: float = _PARAM_DEFAULTS["diversity_lambda"]
    methods: tuple[MethodName, ...] = ATTRIBUTION_METHODS
    targets: tuple[int, ...] | None = None  # raw item ids to explain; None = the top `num_targets` fused
    num_targets: int = _PARAM_DEFAULTS["num_targets"]
    ig_steps: int = _PARAM_DEFAULTS["ig_steps"]
    random_orders: int = _PARAM_DEFAULTS["random_orders"]  # averaged for the faithfulness baseline
    exclude_history: bool = True        # no item of the whole history is listed ("show already-seen" off)
    seed: int = _PARAM_DEFAULTS["seed"]

    def __post_init__(self) -> None:
        clean, _ = clean_explain_settings(dataclasses.asdict(self), lenient=False)
        for name, value in clean.items():
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["methods"] = list(self.methods)
        out["targets"] = None if self.targets is None else list(self.targets)
        return out

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> ExplainSettings:
        _check_known_fields(cls, obj, "explain")
        return cls(**obj)


@dataclass(frozen=True)
class SearchBudget:
    """What a counterfactual search (:mod:`recviz.explain.counterfactual`) may spend, stated in its result:
    items per edit (removed or added) and candidate edits re-scored."""

    max_size: int = 5
    max_candidates: int = 200

    def __post_init__(self) -> None:
        if not 1 <= self.max_size <= 50:
            raise ConfigError(f"the counterfactual search's max size (items per edit) must be 1..50, "
                              f"got {self.max_size}")
        if not 1 <= self.max_candidates <= 10_000:
            raise ConfigError(f"the counterfactual search's max candidates (edits re-scored) must be "
                              f"1..10000, got {self.max_candidates}")


INTEREST_SELECTIONS: tuple[str, ...] = ("argmax", "label-aware")
# validation metrics early stopping can follow (those recviz.train evaluates after every epoch)
EARLY_STOP_METRICS: tuple[str, ...] = (*(f"{m}@{k}" for m in ("recall", "ndcg", "hitrate", "map")
                                         for k in (10, 20, 50)), "mrr")


@dataclass(frozen=True)
class TrainConfig:
    """What :func:`recviz.train.train` does: model, data, sampling, optimisation, early stopping, seeds.

    ``model_kwargs`` are the model's own settings (e.g. ``{"num_interests": 4, "dim": 64}``); the item count,
    ``max_length`` and the side-feature sizes are filled in by training.
    """

    model: str = "comirec-sa"
    model_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    side_features: bool = True          # genres + year bucket added to the item embedding
    min_rating: float | None = None     # keep ratings ≥ this (None: every interaction)
    kcore: int | None = None
    protocol: str = "user-split"        # or "leave-one-out"
    split_seed: int = 42
    max_length: int = 50
    batch_size: int = 128
    epochs: int = 20
    samples_per_epoch: int | None = None  # None: every training cut point once per epoch
    lr: float = 1e-3
    weight_decay: float = 0.0
    negatives: int = 1280               # shared sampled negatives per batch (≈ 10 × batch size), if not full
    full_softmax: bool = True           # softmax over the whole catalogue (cheap at ~10k items; off for big)
    selection: str = "argmax"           # interest trained per target: argmax (ComiRec) or label-aware (MIND)
    label_power: float = 2.0            # sharpness p of the label-aware attention softmax_k(p · v_k·e)
    patience: int = 4                   # epochs without a better validation `early_stop` before stopping
    early_stop: str = "recall@20"       # the validation metric that picks the best epoch (EARLY_STOP_METRICS)
    seed: int = 42
    threads: int = 1                    # torch CPU threads (fixed: the same command gives the same numbers)

    def __post_init__(self) -> None:
        if self.selection not in INTEREST_SELECTIONS:
            raise ConfigError(f"unknown interest selection {self.selection!r}; choose one of "
                              f"{', '.join(INTEREST_SELECTIONS)}")
        if self.early_stop not in EARLY_STOP_METRICS:
            raise ConfigError(f"unknown early-stopping metric {self.early_stop!r}; choose one of "
                              f"{', '.join(EARLY_STOP_METRICS)}")
        if self.protocol not in ("user-split", "leave-one-out"):
            raise ConfigError(f"unknown protocol {self.protocol!r}; choose user-split or leave-one-out")
        for name in ("max_length", "batch_size", "epochs", "negatives", "patience", "threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.samples_per_epoch is not None and self.samples_per_epoch < 1:
            raise ConfigError(f"samples_per_epoch must be positive, got {self.samples_per_epoch}")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ConfigError(f"lr must be positive and weight_decay non-negative, "
                              f"got {self.lr}, {self.weight_decay}")
        if self.label_power <= 0:
            raise ConfigError(f"label_power must be positive, got {self.label_power}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> TrainConfig:
        _check_known_fields(cls, obj, "training")
        return cls(**obj)
