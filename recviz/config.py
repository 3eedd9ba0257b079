"""Frozen settings dataclasses (explain here; training and model settings sit beside them), JSON in and out."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from recviz.errors import ConfigError

FUSION_MODES: tuple[str, ...] = ("weighted", "max", "diverse")
ATTRIBUTION_METHODS: tuple[str, ...] = ("integrated_gradients", "occlusion", "attention")


@dataclass(frozen=True)
class ExplainSettings:
    """What :func:`recviz.explain.explain` computes. The defaults are what the app opens with."""

    top_n: int = 10
    fusion: str = "weighted"            # one of FUSION_MODES
    tau: float = 1.0                    # temperature of the weighted fusion
    diversity_lambda: float = 0.5       # λ of the diverse greedy aggregation (0 = plain max merge)
    methods: tuple[str, ...] = ATTRIBUTION_METHODS
    targets: tuple[int, ...] | None = None  # raw item ids to explain; None = the top `num_targets` fused
    num_targets: int = 5
    ig_steps: int = 50
    random_orders: int = 10             # random deletion orders averaged for the faithfulness baseline
    exclude_history: bool = True        # never recommend items already in the history
    seed: int = 0

    def __post_init__(self) -> None:
        if self.fusion not in FUSION_MODES:
            raise ConfigError(f"unknown fusion mode {self.fusion!r}; choose one of {', '.join(FUSION_MODES)}")
        bad = [m for m in self.methods if m not in ATTRIBUTION_METHODS]
        if bad:
            raise ConfigError(
                f"unknown attribution method(s) {bad}; choose from {', '.join(ATTRIBUTION_METHODS)}"
            )
        if self.top_n < 1 or self.top_n > 500:
            raise ConfigError(f"top_n must be between 1 and 500, got {self.top_n}")
        if self.tau <= 0:
            raise ConfigError(f"tau must be positive, got {self.tau}")
        if not 0.0 <= self.diversity_lambda <= 1.0:
            raise ConfigError(f"diversity_lambda must be in [0, 1], got {self.diversity_lambda}")
        if self.ig_steps < 2:
            raise ConfigError(f"ig_steps must be at least 2, got {self.ig_steps}")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["methods"] = list(self.methods)
        out["targets"] = None if self.targets is None else list(self.targets)
        return out

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> ExplainSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(obj) - known)
        if unknown:
            raise ConfigError(f"unknown explain setting(s) {unknown}; known: {sorted(known)}")
        values = dict(obj)
        if "methods" in values:
            values["methods"] = tuple(values["methods"])
        if values.get("targets") is not None:
            values["targets"] = tuple(int(t) for t in values["targets"])
        return cls(**values)
