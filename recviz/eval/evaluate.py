"""The evaluate() driver: full-catalogue ranking of every test case through the model contract, batched.

No sampled candidates: each case's fused scores over the whole catalogue are ranked (see
:mod:`recviz.models.scoring`), so Recall@K here is what a user of the model would see.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from recviz.data.splits import EvalCase
from recviz.data.types import Catalogue
from recviz.data.vocab import Vocab
from recviz.errors import ConfigError
from recviz.eval import metrics as M
from recviz.models.scoring import (
    SCORE_FUSIONS,
    banned_items,
    fused_ranking_scores,
    item_genre_matrix,
    pad_histories,
    score_items,
    seen_histories,
    top_k,
)


@dataclass
class EvalResult:
    """Mean metrics over the evaluated cases, and what was left out and why."""

    metrics: dict[str, float]          # "recall@20", "ndcg@20", "hitrate@20", "map@20", "mrr", "auc", ...
    num_cases: int                     # cases evaluated
    seconds: float
    skipped_cases: int = 0             # cases without a known target or without a known history item
    unknown_targets: int = 0           # target items not in the vocabulary (skipped)
    unknown_history_items: int = 0     # history items not in the vocabulary (dropped from the history)
    fusion: str = "max"
    ks: tuple[int, ...] = (10, 20, 50)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "metrics": dict(self.metrics),
            "num_cases": self.num_cases,
            "seconds": self.seconds,
            "skipped_cases": self.skipped_cases,
            "unknown_targets": self.unknown_targets,
            "unknown_history_items": self.unknown_history_items,
            "fusion": self.fusion,
            "k": list(self.ks),
            "notes": list(self.notes),
        }


@dataclass
class _Encoded:
    histories: list[list[int]]
    targets: list[list[int]]
    skipped: int
    unknown_targets: int
    unknown_history: int


def _encode_cases(cases: Sequence[EvalCase], vocab: Vocab) -> _Encoded:
    """Dense ids per case; unknown history items are dropped and unknown targets skipped (and counted)."""
    out = _Encoded([], [], 0, 0, 0)
    for case in cases:
        history = [vocab.index(i) for i in case.history if i in vocab]
        targets = list(dict.fromkeys(vocab.index(i) for i in case.targets if i in vocab))
        out.unknown_history += len(case.history) - len(history)
        out.unknown_targets += sum(1 for i in case.targets if i not in vocab)
        if not history or not targets:
            out.skipped += 1
            continue
        out.histories.append(history)
        out.targets.append(targets)
    return out


def evaluate(
    model,
    cases: list[EvalCase],
    vocab: Vocab,
    ks: Sequence[int] = (10, 20, 50),
    fusion: str = "max",
    exclude_history: bool = True,
    catalogue: Catalogue | None = None,
    batch_size: int = 256,
    tau: float = 1.0,
) -> EvalResult:
    """Mean Recall/NDCG/HitRate/MAP@K, MRR and AUC (and, with a catalogue, diversity@K and coverage@K).

    Histories are truncated to ``model.max_length`` (most recent kept). ``fusion`` is ``max`` (ComiRec's
    merge, the field's protocol) or ``weighted``; the diverse fusion re-ranks a short list and has no
    full-catalogue ranking to measure. Diversity needs ``catalogue`` for the items' genres.
    """
    if fusion not in SCORE_FUSIONS:
        raise ConfigError(
            f"cannot evaluate fusion {fusion!r}; choose one of {', '.join(SCORE_FUSIONS)} "
            "(the diverse fusion only re-ranks a top list)"
        )
    ks = tuple(sorted({int(k) for k in ks}))
    if not ks or ks[0] < 1:
        raise ConfigError(f"every k must be a positive integer, got {ks}")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be positive, got {batch_size}")
    start = time.perf_counter()
    enc = _encode_cases(cases, vocab)
    if not enc.histories:
        raise ConfigError(
            f"none of the {len(cases)} evaluation cases has a known history item and a known target; "
            "evaluate with the split the model was trained on"
        )
    genres = item_genre_matrix(vocab, catalogue)[0] if catalogue is not None else None  # [N, G]
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    recommended: dict[int, set[int]] = {k: set() for k in ks}

    def add(name: str, values: np.ndarray) -> None:
        finite = values[~np.isnan(values)]
        sums[name] = sums.get(name, 0.0) + float(finite.sum())
        counts[name] = counts.get(name, 0) + int(finite.size)

    was_training = model.training
    model.eval()
    try:
        for lo in range(0, len(enc.histories), batch_size):
            batch_histories = enc.histories[lo : lo + batch_size]
            items, mask = pad_histories(batch_histories, model.max_length)  # [B, L] most recent items
            seen = seen_histories(batch_histories)                   # [B, H] the whole history is excluded
            _, scores = score_items(model, items, mask)             # [B, K, N]
            num_items = scores.shape[-1]
            fused = fused_ranking_scores(scores, seen, fusion, tau, exclude_history).scores  # [B, N]
            ranked = top_k(fused, ks[-1])[1].numpy()                 # [B, Kmax]
            batch_targets = enc.targets[lo : lo + batch_size]
            target_mask = np.zeros((len(batch_targets), num_items), dtype=bool)  # [B, N]
            for b, t in enumerate(batch_targets):
                target_mask[b, t] = True
            num_targets = target_mask.sum(axis=1)                    # [B]
            valid = ~banned_items(seen, num_items, exclude_history).numpy()  # [B, N]
            scores_np = fused.numpy().astype(np.float64)             # [B, N]
            hits = M.hits_matrix(ranked, target_mask)                # [B, Kmax]
            for k in ks:
                add(f"recall@{k}", M.recall_at_k(hits, num_targets, k))
                add(f"ndcg@{k}", M.ndcg_at_k(hits, num_targets, k))
                add(f"hitrate@{k}", M.hit_rate_at_k(hits, k))
                add(f"map@{k}", M.map_at_k(hits, num_targets, k))
                if genres is not None:
                    add(f"diversity@{k}", M.intra_list_diversity(ranked[:, :k], genres))
                recommended[k].update(np.unique(ranked[:, :k]).tolist())
            add("mrr", M.mrr(scores_np, target_mask, valid))
            add("auc", M.auc(scores_np, target_mask, valid))
    finally:
        model.train(was_training)

    result = {name: sums[name] / counts[name] if counts[name] else float("nan") for name in sums}
    for k in ks:
        result[f"coverage@{k}"] = len(recommended[k]) / (len(vocab) - 1)
    notes = []
    if enc.skipped:
        notes.append(f"{enc.skipped} case(s) skipped: no target or no history item in the model's vocabulary")
    if enc.unknown_targets:
        notes.append(f"{enc.unknown_targets} target item(s) unknown to the model were not counted")
    if enc.unknown_history:
        notes.append(f"{enc.unknown_history} history item(s) unknown to the model were dropped")
    return EvalResult(
        metrics=result,
        num_cases=len(enc.histories),
        seconds=time.perf_counter() - start,
        skipped_cases=enc.skipped,
        unknown_targets=enc.unknown_targets,
        unknown_history_items=enc.unknown_history,
        fusion=fusion,
        ks=ks,
        notes=notes,
    )

