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
    model_fusion_scores,
    model_weights,
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
    # metric name → [num_cases] one value per evaluated case, in case order (NaN where undefined): what
    # recviz.eval.bootstrap resamples; coverage@k is a catalogue-level figure and has none
    per_case: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

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
    merge, the field's protocol), ``weighted`` or ``model`` (the model's own weights, SINE's); the diverse
    fusion re-ranks a short list and has no full-catalogue ranking to measure. Diversity needs ``catalogue``
    for the items' genres.
    """
    ks = _checked_settings(fusion, ks, batch_size)
    start = time.perf_counter()
    enc = _encode_cases(cases, vocab)
    if not enc.histories:
        raise ConfigError(
            f"none of the {len(cases)} evaluation cases has a known history item and a known target; "
            "evaluate with the split the model was trained on"
        )
    genres = item_genre_matrix(vocab, catalogue)[0] if catalogue is not None else None  # [N, G]
    totals = _Totals(ks, genres)
    was_training = model.training
    model.eval()
    try:
        for lo in range(0, len(enc.histories), batch_size):
            totals.add_batch(_rank_batch(
                model, enc.histories[lo : lo + batch_size], enc.targets[lo : lo + batch_size], ks[-1],
                fusion, tau, exclude_history,
            ))
    finally:
        model.train(was_training)
    return EvalResult(
        metrics=totals.means(num_items=len(vocab) - 1),
        num_cases=len(enc.histories),
        seconds=time.perf_counter() - start,
        skipped_cases=enc.skipped,
        unknown_targets=enc.unknown_targets,
        unknown_history_items=enc.unknown_history,
        fusion=fusion,
        ks=ks,
        notes=_notes(enc),
        per_case=totals.per_case(),
    )


def _checked_settings(fusion: str, ks: Sequence[int], batch_size: int) -> tuple[int, ...]:
    """The cut-offs, sorted and deduplicated; raises ConfigError for a fusion, k or batch size that cannot
    be evaluated."""
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
    return ks


@dataclass
class _RankedBatch:
    """One batch of cases ranked over the whole catalogue, as the metrics read it."""

    ranked: np.ndarray       # [B, Kmax] dense ids of the top items, best first
    target_mask: np.ndarray  # [B, N] True at each case's targets
    num_targets: np.ndarray  # [B]
    valid: np.ndarray        # [B, N] items that may be recommended (not padding, not excluded history)
    scores: np.ndarray       # [B, N] fused scores, float64


def _rank_batch(model, histories: list[list[int]], targets: list[list[int]], k_max: int, fusion: str,
                tau: float, exclude_history: bool) -> _RankedBatch:
    """Score and rank one batch of dense histories over the whole catalogue."""
    items, mask = pad_histories(histories, model.max_length)  # [B, L] most recent items
    seen = seen_histories(histories)                          # [B, H] the whole history is excluded
    vectors, scores = score_items(model, items, mask)        # [B, K, d], [B, K, N]
    weights = model_weights(model, items, mask) if fusion == "model" else None  # [B, K]
    exact = model_fusion_scores(model, vectors, weights, fusion)  # [B, N] the model's own fused scores
    num_items = scores.shape[-1]
    fused = fused_ranking_scores(scores, seen, fusion, tau, exclude_history, weights, exact).scores  # [B, N]
    ranked = top_k(fused, k_max)[1].numpy()                   # [B, Kmax]
    target_mask = np.zeros((len(targets), num_items), dtype=bool)  # [B, N]
    for b, t in enumerate(targets):
        target_mask[b, t] = True
    return _RankedBatch(
        ranked=ranked,
        target_mask=target_mask,
        num_targets=target_mask.sum(axis=1),                                   # [B]
        valid=~banned_items(seen, num_items, exclude_history).numpy(),         # [B, N]
        scores=fused.numpy().astype(np.float64),                               # [B, N]
    )


class _Totals:
    """Running sums of the per-case metrics (NaN cases left out of the mean) and the items recommended
    at each k (for coverage)."""

    def __init__(self, ks: tuple[int, ...], genres: np.ndarray | None) -> None:
        self.ks, self.genres = ks, genres
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.values: dict[str, list[np.ndarray]] = {}
        self.recommended: dict[int, set[int]] = {k: set() for k in ks}

    def add(self, name: str, values: np.ndarray) -> None:
        self.values.setdefault(name, []).append(np.asarray(values, dtype=np.float64))
        finite = values[~np.isnan(values)]
        self.sums[name] = self.sums.get(name, 0.0) + float(finite.sum())
        self.counts[name] = self.counts.get(name, 0) + int(finite.size)

    def add_batch(self, batch: _RankedBatch) -> None:
        hits = M.hits_matrix(batch.ranked, batch.target_mask)  # [B, Kmax]
        for k in self.ks:
            self.add(f"recall@{k}", M.recall_at_k(hits, batch.num_targets, k))
            self.add(f"ndcg@{k}", M.ndcg_at_k(hits, batch.num_targets, k))
            self.add(f"hitrate@{k}", M.hit_rate_at_k(hits, k))
            self.add(f"map@{k}", M.map_at_k(hits, batch.num_targets, k))
            if self.genres is not None:
                self.add(f"diversity@{k}", M.intra_list_diversity(batch.ranked[:, :k], self.genres))
            self.recommended[k].update(np.unique(batch.ranked[:, :k]).tolist())
        self.add("mrr", M.mrr(batch.scores, batch.target_mask, batch.valid))
        self.add("auc", M.auc(batch.scores, batch.target_mask, batch.valid))

    def per_case(self) -> dict[str, np.ndarray]:
        """Every case's value of each metric, [num_cases], in case order."""
        return {name: np.concatenate(parts) for name, parts in self.values.items()}

    def means(self, num_items: int) -> dict[str, float]:
        """Mean of each metric, then coverage@k: the share of the ``num_items`` items ever recommended."""
        result = {name: self.sums[name] / self.counts[name] if self.counts[name] else float("nan")
                  for name in self.sums}
        for k in self.ks:
            result[f"coverage@{k}"] = len(self.recommended[k]) / num_items
        return result


def _notes(enc: _Encoded) -> list[str]:
    """What was left out of the evaluation and why, in sentences."""
    notes = []
    if enc.skipped:
        notes.append(f"{enc.skipped} case(s) skipped: no target or no history item in the model's vocabulary")
    if enc.unknown_targets:
        notes.append(f"{enc.unknown_targets} target item(s) unknown to the model were not counted")
    if enc.unknown_history:
        notes.append(f"{enc.unknown_history} history item(s) unknown to the model were dropped")
    return notes
