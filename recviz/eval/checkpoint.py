"""Evaluate a saved checkpoint: rebuild its data split from its record and run :func:`evaluate`.

The logic behind ``recviz evaluate``. The split is rebuilt exactly as training built it (same data file,
filters and seed, by :func:`recviz.models.checkpoint.rebuild_training`); the data's fingerprint must match
the one recorded, so a changed file is never silently evaluated.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from recviz.errors import ConfigError
from recviz.eval.evaluate import EvalResult, evaluate
from recviz.models.checkpoint import load_checkpoint, rebuild_training

SPLIT_PARTS: tuple[str, ...] = ("test", "valid")


@dataclass
class CheckpointEvaluation:
    """One checkpoint evaluated under one protocol: the result plus what was evaluated."""

    checkpoint: str
    model: str
    protocol: str
    part: str                       # "test" or "valid"
    exclude_history: bool
    result: EvalResult
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        r = self.result
        return {
            "protocol": self.protocol,
            "k": list(r.ks),
            "metrics": {name: round(value, 6) for name, value in r.metrics.items()},
            "checkpoint": self.checkpoint,
            "model": self.model,
            "split": self.part,
            "fusion": r.fusion,
            "exclude_history": self.exclude_history,
            "num_cases": r.num_cases,
            "skipped_cases": r.skipped_cases,
            "unknown_targets": r.unknown_targets,
            "unknown_history_items": r.unknown_history_items,
            "seconds": round(r.seconds, 3),
            "notes": [*self.notes, *r.notes],
            "evaluated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def evaluate_checkpoint(
    path: str | Path,
    protocol: str | None = None,
    ks: tuple[int, ...] = (10, 20, 50),
    fusion: str | None = None,
    exclude_history: bool = True,
    part: str = "test",
    data: str | Path | None = None,
) -> CheckpointEvaluation:
    """Load the checkpoint at ``path``, rebuild its split under ``protocol`` and evaluate ``part``.

    ``fusion`` defaults to the model's own (``model``) when it has interest weights (SINE), else ``max``."""
    if part not in SPLIT_PARTS:
        raise ConfigError(f"unknown split part {part!r}; choose one of {', '.join(SPLIT_PARTS)}")
    checkpoint = load_checkpoint(path)
    if fusion is None:
        fusion = "model" if getattr(checkpoint.model, "has_interest_weights", False) else "max"
    split = rebuild_training(checkpoint, protocol, data).split
    notes = []
    trained = checkpoint.record.data.protocol
    if trained != split.protocol:
        notes.append(
            f"trained under {trained} but evaluated under {split.protocol}: test targets may have been "
            "training data, so the figures can be optimistic"
        )
    cases = split.test if part == "test" else split.valid
    result = evaluate(checkpoint.model, cases, checkpoint.vocab, ks=ks, fusion=fusion,
                      exclude_history=exclude_history, catalogue=checkpoint.catalogue)
    return CheckpointEvaluation(str(checkpoint.path), checkpoint.name, split.protocol, part,
                                exclude_history, result, notes)


def format_table(evaluation: CheckpointEvaluation) -> str:
    """A plain-text table: one row per @K metric family with a column per K, then MRR and AUC."""
    r = evaluation.result
    families = ("recall", "ndcg", "hitrate", "map", "diversity", "coverage")
    head = f"{'metric':<10}" + "".join(f"{'@' + str(k):>10}" for k in r.ks)
    lines = [
        f"{evaluation.model} · {evaluation.protocol} · {evaluation.part} · {r.num_cases} cases · "
        f"fusion {r.fusion} · {'history excluded' if evaluation.exclude_history else 'history included'}",
        head,
        "-" * len(head),
    ]
    for fam in families:
        if f"{fam}@{r.ks[0]}" in r.metrics:
            lines.append(f"{fam:<10}" + "".join(f"{r.metrics[f'{fam}@{k}']:>10.4f}" for k in r.ks))
    for name in ("mrr", "auc"):
        lines.append(f"{name:<10}{r.metrics[name]:>10.4f}")
    lines += [f"note: {n}" for n in (*evaluation.notes, *r.notes)]
    return "\n".join(lines)
