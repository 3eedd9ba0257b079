"""Options that describe themselves: every fusion mode and attribution method is one descriptor (its name,
label, help text, parameters with their ranges and defaults, and what a model needs for it), as LIT's
components declare their specs.

Everything else is built from these registries: the settings validation and its range table
(``recviz.config``), the sidebar's widgets, the CLI's options and help, the report's and the app's captions,
and which models a method can explain (``recviz.explain.attributions.supports``). A name or label is spelled
here and nowhere else. This module imports nothing heavy (no torch, no streamlit): it is the base layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar


@dataclass(frozen=True)
class NumberRange:
    """The allowed values of a numeric setting: what the app's widgets offer and every source is held to."""

    low: float
    high: float
    step: float
    integer: bool

    def describe(self) -> str:
        fmt = (lambda v: f"{v:.0f}") if self.integer else (lambda v: f"{v:g}")
        return f"{'a whole number' if self.integer else 'a number'} from {fmt(self.low)} to {fmt(self.high)}"


@dataclass(frozen=True)
class Param:
    """A numeric explain setting: ``name`` is its :class:`recviz.config.ExplainSettings` field (and the CLI's
    ``--name`` flag, ``_`` written ``-``)."""

    name: str
    spec: NumberRange
    default: int | float
    label: str           # the widget's label, e.g. "Temperature τ"
    help: str
    symbol: str = ""     # its short name in captions ("τ = 1"); empty: the label

    def __post_init__(self) -> None:
        if not self.spec.low <= self.default <= self.spec.high:
            raise ValueError(f"the default {self.default} of {self.name} is not {self.spec.describe()}")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def caption(self, value: float) -> str:
        """``τ = 1``: the parameter and its value, as captions show them."""
        return f"{self.symbol or self.label} = {value:g}"


@dataclass(frozen=True)
class Needs:
    """A capability a model must have for a method: a true ``flag`` of the model contract
    (:class:`recviz.models.base.MultiInterestModel`), and what it means in words."""

    flag: str
    text: str            # e.g. "a model with attention"


@dataclass(frozen=True)
class FusionMode:
    """How the interests' scores become one list."""

    name: str
    label: str
    help: str
    params: tuple[Param, ...] = ()
    scores_every_item: bool = True   # False: it re-ranks a top list, so evaluation cannot use it
    needs: tuple[Needs, ...] = ()    # what a model must have for it (nothing: every model)

    def supports(self, model: object) -> bool:
        """Whether ``model`` can be fused this way (read from the model contract's flags)."""
        return all(bool(getattr(model, need.flag, False)) for need in self.needs)


@dataclass(frozen=True)
class AttributionMethod:
    """How much each history item drives a recommendation."""

    name: str
    label: str
    help: str
    params: tuple[Param, ...] = ()
    needs: tuple[Needs, ...] = ()    # what a model must have for it (nothing: every model)

    def supports(self, model: object) -> bool:
        """Whether this method can explain ``model`` (read from the model contract's flags)."""
        return all(bool(getattr(model, need.flag, False)) for need in self.needs)


HAS_ATTENTION = Needs("has_attention", "a model with attention")
HAS_INTEREST_WEIGHTS = Needs("has_interest_weights", "a model with its own interest weights, e.g. SINE")

# --- the settings that belong to no single option -----------------------------------------------------------
TOP_N = Param("top_n", NumberRange(1, 50, 1, True), 10, "Recommendations per list (top-N)",
              "Length of the fused and per-interest lists")
NUM_TARGETS = Param("num_targets", NumberRange(0, 20, 1, True), 5, "Recommendations explained",
                    "How many of the top fused items are explained when none is chosen (0: no attributions)")
RANDOM_ORDERS = Param("random_orders", NumberRange(0, 100, 1, True), 10, "Random deletion orders",
                      "Random deletion orders averaged for the faithfulness baseline")
SEED = Param("seed", NumberRange(0, 2**31 - 1, 1, True), 0, "Seed", "Seed of the random deletion orders")
GENERAL_PARAMS: tuple[Param, ...] = (TOP_N, NUM_TARGETS, RANDOM_ORDERS, SEED)

# --- fusion modes -------------------------------------------------------------------------------------------
TAU = Param("tau", NumberRange(0.1, 5.0, 0.1, False), 1.0, "Temperature τ",
            "Low τ: each item follows its best interest; high τ: interests are averaged", symbol="τ")
DIVERSITY_LAMBDA = Param("diversity_lambda", NumberRange(0.0, 1.0, 0.05, False), 0.5, "Diversity λ",
                         "0: plain max merge; 1: genre diversity only", symbol="λ")

WEIGHTED = FusionMode("weighted", "Weighted", "softmax over interests of each item's score (temperature τ)",
                      params=(TAU,))
MAX = FusionMode("max", "Max", "the best interest's score (ComiRec's merge)")
DIVERSE = FusionMode("diverse", "Diverse",
                     "ComiRec's greedy aggregation trading score for genre diversity (λ)",
                     params=(DIVERSITY_LAMBDA,), scores_every_item=False)
MODEL = FusionMode("model", "Model's own",
                   "the model's own user-level interest weights w_j, Σ_j w_j·s_j(i) (SINE)",
                   needs=(HAS_INTEREST_WEIGHTS,))

# --- attribution methods ------------------------------------------------------------------------------------
IG_STEPS = Param("ig_steps", NumberRange(2, 500, 1, True), 50, "Integrated Gradients steps",
                 "Steps on the path from the all-padding baseline to the history (more: a smaller "
                 "convergence δ, slower)")

INTEGRATED_GRADIENTS = AttributionMethod(
    "integrated_gradients", "Integrated Gradients",
    "gradients on the history embedding integrated from an all-padding history; the values add up to the "
    "score change", params=(IG_STEPS,))
OCCLUSION = AttributionMethod("occlusion", "Occlusion (leave-one-out)",
                              "the score drop when the item is removed from the history")
ATTENTION = AttributionMethod("attention", "Attention",
                              "the attention weight of the interest that retrieved the recommendation",
                              needs=(HAS_ATTENTION,))

# The registries, in the order every list shows them (the first fusion is not the default: ExplainSettings'
# is). Consumers read them when they run, so an option added here appears everywhere.
FUSIONS: dict[str, FusionMode] = {f.name: f for f in (WEIGHTED, MAX, DIVERSE, MODEL)}
METHODS: dict[str, AttributionMethod] = {m.name: m for m in (INTEGRATED_GRADIENTS, OCCLUSION, ATTENTION)}

# The built-in names as types, for signatures (a test checks they match the registries above)
FusionName = Literal["weighted", "max", "diverse", "model"]
MethodName = Literal["integrated_gradients", "occlusion", "attention"]


def all_params() -> dict[str, Param]:
    """Every numeric explain setting by name: the general ones, then each fusion's and each method's. A
    parameter two options share must be the same :class:`Param` (one range, one default)."""
    out: dict[str, Param] = {}
    for param in (*GENERAL_PARAMS, *(p for f in FUSIONS.values() for p in f.params),
                  *(p for m in METHODS.values() for p in m.params)):
        if out.setdefault(param.name, param) != param:
            raise ValueError(f"the setting {param.name!r} is declared twice, differently")
    return out


def param_owner(name: str) -> FusionMode | AttributionMethod | None:
    """The fusion or method that declares parameter ``name`` (None for a general setting)."""
    return next((o for o in (*FUSIONS.values(), *METHODS.values()) if any(p.name == name for p in o.params)),
                None)


V = TypeVar("V")


class ParamView(Mapping[str, V], Generic[V]):
    """A read-only view of :func:`all_params` (name → ``pick(param)``), always current with the registries."""

    def __init__(self, pick: Callable[[Param], V]) -> None:
        self._pick = pick

    def __getitem__(self, name: str) -> V:
        return self._pick(all_params()[name])

    def __iter__(self) -> Iterator[str]:
        return iter(all_params())

    def __len__(self) -> int:
        return len(all_params())

    def __repr__(self) -> str:
        return repr(dict(self))


def method_label(name: str) -> str:
    """A method's label (an unknown name written as words)."""
    method = METHODS.get(name)
    return method.label if method else name.replace("_", " ").capitalize()


def fusion_help(*, flags: bool = False) -> str:
    """One sentence per fusion mode: ``name: help``; with ``flags`` (the CLI), each parameter's flag and
    range too."""
    parts = []
    for fusion in FUSIONS.values():
        text = f"{fusion.name}: {fusion.help}" + "".join(f" (needs {n.text})" for n in fusion.needs)
        if flags and fusion.params:
            text += ", set by " + " and ".join(f"{p.flag} ({p.spec.describe()})" for p in fusion.params)
        parts.append(text)
    return "; ".join(parts)


def methods_help(*, names: bool = False) -> str:
    """One sentence per attribution method: ``label: help (needs ...)``; with ``names`` (the CLI), the name
    a user types instead of the label."""
    return "; ".join(
        f"{m.name if names else m.label}: {m.help}" + "".join(f" (needs {n.text})" for n in m.needs)
        for m in METHODS.values()
    )


def param_help(param: Param) -> str:
    """A parameter's help for the CLI: what it does, its range and the option it belongs to."""
    owner = param_owner(param.name)
    kind = " fusion" if isinstance(owner, FusionMode) else " method"
    used = f"; used by the {owner.name}{kind}" if owner else ""
    return f"{param.label}. {param.help} ({param.spec.describe()}{used})."


def fusion_caption(mode: str, values: Any) -> str:
    """The parameters of fusion ``mode`` with their values read from ``values`` (anything with those
    attributes, e.g. ``FusionSettings``): ``"τ = 1"``; empty for a fusion without parameters."""
    fusion = FUSIONS.get(mode)
    return ", ".join(p.caption(getattr(values, p.name)) for p in fusion.params) if fusion else ""
