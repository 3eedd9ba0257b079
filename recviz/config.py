"""Frozen settings dataclasses (explain here; training and model settings sit beside them), JSON in and out."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from recviz.errors import ConfigError


def _check_known_fields(cls: type, obj: dict[str, Any], what: str) -> None:
    """Raise :class:`ConfigError` naming every key of ``obj`` that is not a field of the dataclass ``cls``."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(obj) - known)
    if unknown:
        raise ConfigError(f"unknown {what} setting(s) {unknown}; known: {sorted(known)}")


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
        _check_known_fields(cls, obj, "explain")
        values = dict(obj)
        if "methods" in values:
            values["methods"] = tuple(values["methods"])
        if values.get("targets") is not None:
            values["targets"] = tuple(int(t) for t in values["targets"])
        return cls(**values)


INTEREST_SELECTIONS: tuple[str, ...] = ("argmax", "label-aware")


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
    full_softmax: bool = True           # softmax over the whole catalogue (cheap for ~10k items; off for big ones)
    selection: str = "argmax"           # interest trained per target: "argmax" (ComiRec) or "label-aware" (MIND)
    label_power: float = 2.0            # sharpness p of the label-aware attention softmax_k(p · v_k·e)
    patience: int = 4                   # epochs without a better validation Recall@20 before stopping
    seed: int = 42
    threads: int = 1                    # torch CPU threads (fixed: the same command gives the same numbers)

    def __post_init__(self) -> None:
        if self.selection not in INTEREST_SELECTIONS:
            raise ConfigError(f"unknown interest selection {self.selection!r}; choose one of "
                              f"{', '.join(INTEREST_SELECTIONS)}")
        if self.protocol not in ("user-split", "leave-one-out"):
            raise ConfigError(f"unknown protocol {self.protocol!r}; choose user-split or leave-one-out")
        for name in ("max_length", "batch_size", "epochs", "negatives", "patience", "threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.samples_per_epoch is not None and self.samples_per_epoch < 1:
            raise ConfigError(f"samples_per_epoch must be positive, got {self.samples_per_epoch}")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ConfigError(f"lr must be positive and weight_decay non-negative, got {self.lr}, {self.weight_decay}")
        if self.label_power <= 0:
            raise ConfigError(f"label_power must be positive, got {self.label_power}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> TrainConfig:
        _check_known_fields(cls, obj, "training")
        return cls(**obj)
