"""``explain()``: one history through one checkpoint → one :class:`Explanation`, everything the dashboard
shows and every report holds. Pure Python and torch, no Streamlit; scoring and fusion come from
``recviz.models.scoring`` so the lists here are the lists the metrics measured.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import torch

from recviz.caching import CheckpointCache
from recviz.config import ExplainSettings
from recviz.errors import UnknownItemError
from recviz.explain.attention import attention_entropy, most_attended
from recviz.explain.attributions import METHODS, supports
from recviz.explain.diff import history_diff
from recviz.explain.faithfulness import deletion_curves
from recviz.explain.health import interest_health
from recviz.explain.labels import dominant_genres, interest_label
from recviz.explain.projection import ItemMap
from recviz.explain.scorer import CatalogueMoments, HistoryScorer
from recviz.explain.types import (
    Attribution,
    Explanation,
    FusedItem,
    FusionSettings,
    HistoryEntry,
    Interest,
    RankedItem,
)
from recviz.models.checkpoint import Checkpoint
from recviz.models.scoring import (
    fuse,
    interest_scores,
    item_genre_matrix,
    pad_histories,
    recommend,
    seen_histories,
)

DEFAULT_SETTINGS = ExplainSettings()
def _embeddings(checkpoint: Checkpoint) -> torch.Tensor:
    with torch.no_grad():
        return checkpoint.model.item_embeddings().detach()  # [N, d]


_ITEM_TABLES: CheckpointCache[torch.Tensor] = CheckpointCache(_embeddings)
_MOMENTS: CheckpointCache[CatalogueMoments] = CheckpointCache(
    lambda checkpoint: CatalogueMoments.of(_item_table(checkpoint))  # [d], [d, d]
)
_GENRE_MATRICES: CheckpointCache[np.ndarray] = CheckpointCache(
    lambda checkpoint: item_genre_matrix(checkpoint.vocab, checkpoint.catalogue)[0]  # [N, G]
)


class _Clock:
    """Milliseconds per stage, in the order the stages ran."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = round(self.laps.get(stage, 0.0) + 1000 * (now - self.last), 3)
        self.last = now

    def done(self) -> dict[str, float]:
        return {**self.laps, "total": round(1000 * (time.perf_counter() - self.start), 3)}


@dataclass
class _Ranking:
    """Recommendations for one history, in raw ids (what both the history and its baseline need)."""

    vectors: np.ndarray                 # [K, d]
    per_interest: list[list[tuple[int, float]]]  # [K][n] (raw id, score)
    fused: list[tuple[int, float, int]]          # [n] (raw id, fused score, contributor)
    weights: np.ndarray | None = None   # [K] the model's own interest weights (SINE), else None


def _item_table(checkpoint: Checkpoint) -> torch.Tensor:
    """The checkpoint's item embeddings [N, d] (side features included), computed once per checkpoint: the
    weights of a loaded checkpoint never change, and every explanation needs the table twice."""
    return _ITEM_TABLES.get(checkpoint)


def _moments(checkpoint: Checkpoint) -> CatalogueMoments | None:
    """The catalogue's score moments for a checkpoint with an item index (a large catalogue), else None:
    below the index threshold every figure is computed over the catalogue itself, as it always was."""
    return None if checkpoint.item_index is None else _MOMENTS.get(checkpoint)


def _genre_matrix(checkpoint: Checkpoint) -> np.ndarray:
    return _GENRE_MATRICES.get(checkpoint)  # [N, G]


def _rank(checkpoint: Checkpoint, dense: list[int], settings: ExplainSettings, seen: list[int]) -> _Ranking:
    """Lists for the window ``dense`` the model reads; ``seen`` is the whole (edited) history, all of it
    excluded from every list unless ``settings.exclude_history`` is off (the rule evaluation follows)."""
    model = checkpoint.model
    items, mask = pad_histories([dense], model.max_length)  # [1, L]
    recs = recommend(
        model, items, mask, settings.top_n, fusion=settings.fusion, tau=settings.tau,
        diversity_lambda=settings.diversity_lambda, exclude_history=settings.exclude_history,
        item_genres=_genre_matrix(checkpoint) if settings.fusion == "diverse" else None,
        seen=seen_histories([seen]), item_table=_item_table(checkpoint),  # [1, H], [N, d]
        index=checkpoint.item_index,
    )
    decode = checkpoint.vocab.decode
    per = []
    per_ids, per_scores = recs.per_interest_ids[0].tolist(), recs.per_interest_scores[0].tolist()  # [K][n]
    for ids, scores in zip(per_ids, per_scores, strict=True):
        kept = [(i, s) for i, s in zip(ids, scores, strict=True) if i > 0 and np.isfinite(s)]  # never padding
        per.append(list(zip(decode([i for i, _ in kept]), [s for _, s in kept], strict=True)))
    rows = zip(recs.fused_ids[0].tolist(), recs.fused_scores[0].tolist(), recs.contributor[0].tolist(),
               strict=True)
    fused = [(i, s, c) for i, s, c in rows if i > 0 and np.isfinite(s)]
    fused = [(r, s, c) for r, (_, s, c) in zip(decode([i for i, _, _ in fused]), fused, strict=True)]
    own = None if recs.interest_weights is None else recs.interest_weights[0].numpy()  # [K]
    return _Ranking(recs.interest_vectors[0].numpy(), per, fused, own)


def _truncate(history: list[int], stamps: list[int | None] | None, limit: int, what: str,
              notices: list[str]) -> tuple[list[int], list[int | None] | None]:
    if len(history) <= limit:
        return history, stamps
    dropped = len(history) - limit
    notices.append(f"{what} has {len(history)} items but the model reads at most {limit}: the {dropped} "
                   "oldest item(s) were dropped and the interests, attention and attributions use the "
                   f"{limit} most recent; the lists still leave out every item of the whole history.")
    return history[-limit:], None if stamps is None else stamps[-limit:]


def _check_known(vocab, history: list[int], baseline: list[int], targets: list[int]) -> None:
    unknown = list(dict.fromkeys(i for i in [*history, *baseline, *targets] if i not in vocab))
    if unknown:
        raise UnknownItemError(unknown)


def _entry(catalogue, item_id: int, score: float, rank: int) -> RankedItem:
    return RankedItem(item_id, catalogue.title(item_id), list(catalogue.genres(item_id)), float(score), rank)


def _popularity(checkpoint: Checkpoint, top_n: int) -> list[FusedItem]:
    """The ``top_n`` most-interacted training items: the fallback for an empty history."""
    counts = checkpoint.item_counts[1:]  # [N-1]
    order = np.argsort(-counts, kind="stable")[:top_n] + 1  # dense ids, ties: lower index first
    raw = checkpoint.vocab.decode(order.tolist())
    cat = checkpoint.catalogue
    return [FusedItem(r, cat.title(r), list(cat.genres(r)), float(checkpoint.item_counts[d]), rank, -1, [])
            for rank, (r, d) in enumerate(zip(raw, order.tolist(), strict=True), start=1)]


def _interests(ranking: _Ranking, attention: np.ndarray | None, history: list[int], catalogue,
               weights: np.ndarray, map_xy: np.ndarray | None) -> list[Interest]:
    out = []
    for k, vector in enumerate(ranking.vectors):
        if attention is not None:
            row = attention[k]  # [L]
            genres = dominant_genres(history, row.tolist(), catalogue)
            top = history[most_attended(row)]
            anchor, att, entropy = catalogue.title(top), row.tolist(), attention_entropy(row)
        else:  # no attention: describe the interest by its own list
            listed = [i for i, _ in ranking.per_interest[k]]
            genres = dominant_genres(listed, [1.0 / (r + 1) for r in range(len(listed))], catalogue)
            top, anchor, att, entropy = None, catalogue.title(listed[0]) if listed else None, None, None
        out.append(Interest(
            k, interest_label(genres, anchor), vector.astype(float).tolist(), float(weights[k]), att, entropy,
            genres, top, None if map_xy is None else map_xy[k].astype(float).tolist(),
        ))
    return out


def explain(
    checkpoint: Checkpoint,
    history: Sequence[int],
    settings: ExplainSettings = DEFAULT_SETTINGS,
    *,
    user_id: int | None = None,
    baseline_history: Sequence[int] | None = None,
    edits: dict | None = None,
    item_map: ItemMap | None = None,
    timestamps: Sequence[int | None] | None = None,
) -> Explanation:
    """Explain what ``checkpoint`` recommends for ``history`` (raw item ids, oldest first) and why.

    Attributions explain, for each target, the score of the interest that retrieved it, ``s_j(t) = v_j·e_t``
    (j = the target's contributor under the chosen fusion): the fused score mixes interests, s_j is what
    one interest's attention and vector produce. Unknown ids raise :class:`UnknownItemError` listing them
    all; an empty history gives a popularity fallback (``fallback="popularity"``) and a history longer than
    the model's ``max_length`` is cut to its most recent items, both with a notice. ``baseline_history`` adds
    a diff (the history before ``edits``); ``item_map`` places the interests on the interest map;
    ``timestamps`` (aligned with ``history``, None where unknown) go into the history entries.
    """
    clock = _Clock()
    model, vocab, cat = checkpoint.model, checkpoint.vocab, checkpoint.catalogue
    model.eval()
    history = [int(i) for i in history]
    stamps = None if timestamps is None else [None if t is None else int(t) for t in timestamps]
    baseline = None if baseline_history is None else [int(i) for i in baseline_history]
    _check_known(vocab, history, baseline or [], list(settings.targets or []))
    notices: list[str] = []
    edited_from = (baseline, history)  # untruncated: the edits are between the whole histories
    history, stamps = _truncate(history, stamps, model.max_length, "The history", notices)
    if baseline is not None:
        baseline, _ = _truncate(baseline, None, model.max_length, "The baseline history", notices)
    exp = Explanation(
        model_name=checkpoint.name, checkpoint=checkpoint.path.name, checkpoint_hash=checkpoint.hash,
        dataset=checkpoint.record.data.name, user_id=user_id,
        history=[HistoryEntry(i, cat.title(i), list(cat.genres(i)), p, None if stamps is None else stamps[p])
                 for p, i in enumerate(history)],
        interests=[], interest_health=interest_health(np.zeros((0, 0)), np.zeros(0)), per_interest=[],
        fused=[], fusion=FusionSettings(settings.fusion, settings.tau, settings.diversity_lambda,
                                        settings.top_n, settings.exclude_history),
        attributions=[], faithfulness=[], settings=settings.to_dict(), edits=dict(edits or {}),
        notices=notices, created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    clock.lap("prepare")
    if not history:
        exp.fused, exp.fallback = _popularity(checkpoint, settings.top_n), "popularity"
        notices.append("The history is empty, so the model cannot form interests: the list shows the "
                       f"{len(exp.fused)} most popular training items instead (popularity fallback), with no "
                       "interests, attention or attributions.")
    else:
        _explain_history(exp, checkpoint, history, vocab.encode(edited_from[1]), settings, item_map, clock)
    if baseline is not None:
        _add_diff(exp, checkpoint, baseline, edited_from, settings, item_map)
        clock.lap("diff")
    exp.timing = clock.done()
    return exp


def _explain_history(exp: Explanation, checkpoint: Checkpoint, history: list[int], seen: list[int],
                     settings: ExplainSettings, item_map: ItemMap | None, clock: _Clock) -> None:
    """``history`` is the window the model reads (raw ids), ``seen`` the whole history (dense ids)."""
    model, vocab, cat = checkpoint.model, checkpoint.vocab, checkpoint.catalogue
    dense = vocab.encode(history)
    ranking = _rank(checkpoint, dense, settings, seen)
    K = len(ranking.vectors)
    exp.per_interest = [[_entry(cat, i, s, r) for r, (i, s) in enumerate(lst, start=1)]
                        for lst in ranking.per_interest]
    listed = [{i: r for r, (i, _) in enumerate(lst, start=1)} for lst in ranking.per_interest]
    exp.fused = [FusedItem(i, cat.title(i), list(cat.genres(i)), float(s), r, int(c),
                           [m.get(i) for m in listed]) for r, (i, s, c) in enumerate(ranking.fused, start=1)]
    clock.lap("recommend")

    scorer = HistoryScorer(model, dense, _item_table(checkpoint), _moments(checkpoint))
    attention = scorer.attention  # [K, L] or None
    if attention is None:
        exp.notices.append(f"{checkpoint.name} has no attention over the history, so there is no attention "
                           "heatmap and interests are labelled by their own lists.")
    clock.lap("attention")
    weights = np.bincount([f.contributor for f in exp.fused], minlength=K)[:K] / max(len(exp.fused), 1)  # [K]
    if ranking.weights is not None:  # a model with its own user-level weights (SINE): those are its weights
        weights = ranking.weights.astype(np.float64)  # [K]
    map_xy = None if item_map is None else item_map.place(ranking.vectors)  # [K, 2]
    exp.interests = _interests(ranking, attention, history, cat, weights, map_xy)
    exp.interest_health = interest_health(ranking.vectors, weights)
    clock.lap("interests")

    targets = _targets(checkpoint, scorer, ranking, exp.fused, settings)
    if len(targets) == 0:
        return
    if not scorer.history_matters:
        exp.notices.append(f"{checkpoint.name} ignores the history, so every attribution is 0 and deleting "
                           "items never changes a score.")
    values: dict[str, np.ndarray] = {}
    for method in settings.methods:
        if not supports(model, method):
            exp.notices.append(f"The {method} attribution was skipped: {checkpoint.name} has no attention.")
            continue
        result = METHODS[method](scorer, targets, settings.ig_steps)
        values[method] = result.values
        if result.deltas is not None:
            _check_convergence(exp, targets.scores - result.baseline_scores, result.deltas, checkpoint.name)
        for t, item in enumerate(targets.item_ids):
            exp.attributions.append(Attribution(
                item, method, result.values[t].tolist(), int(targets.interest[t]), float(targets.scores[t]),
                None if result.baseline_scores is None else float(result.baseline_scores[t]),
                None if result.deltas is None else float(result.deltas[t]),
            ))
        clock.lap(method)
    exp.faithfulness = deletion_curves(scorer, targets, values, settings.random_orders, settings.seed)
    if not scorer.full_ranks and exp.faithfulness:
        exp.notices.append(f"The catalogue has {len(vocab) - 1:,} items, so the deletion curves show the "
                           "target's score after each deletion but not its rank in the whole catalogue (a "
                           "full ranking per step); the faithfulness yardstick (the catalogue's score mean "
                           "and spread) is exact.")
    clock.lap("faithfulness")


def _check_convergence(exp: Explanation, gaps: np.ndarray, deltas: np.ndarray, model_name: str) -> None:
    """A notice when IG's completeness gap exceeds 5 % of the score change it explains."""
    share = np.abs(deltas) / np.maximum(np.abs(gaps), 1e-9)  # [T]
    if share.max() > 0.05:
        exp.notices.append(
            f"Integrated Gradients is approximate here: its values miss up to {100 * share.max():.0f} % of "
            f"the score change (convergence delta) for {int((share > 0.05).sum())} target(s). More steps "
            f"help when the cause is too few steps; if {model_name} stops gradients inside the model (e.g. "
            "detached routing), more steps do not, and occlusion is the reliable method."
        )


def _targets(checkpoint: Checkpoint, scorer: HistoryScorer, ranking: _Ranking, fused: list[FusedItem],
             settings: ExplainSettings):
    """The items to explain (settings.targets, else the top ``num_targets`` fused) and their interests:
    the fused list's contributor, or for an item outside the list the contributor under the same fusion
    over the whole catalogue (the max merge for "diverse", whose contributors are max-merge ones)."""
    vocab = checkpoint.vocab
    vectors = torch.as_tensor(ranking.vectors)  # [K, d]
    top = [f.item_id for f in fused[: settings.num_targets]]
    ids = list(settings.targets) if settings.targets is not None else top
    in_list = {f.item_id: f.contributor for f in fused}
    if any(i not in in_list for i in ids):
        mode = "max" if settings.fusion == "diverse" else settings.fusion
        dense = torch.as_tensor(vocab.encode(ids), dtype=torch.long)  # [T] fusion is per item: score these
        scores = interest_scores(vectors[None], scorer.table.index_select(0, dense))  # [1, K, T]
        own = None if ranking.weights is None else torch.as_tensor(ranking.weights)[None]  # [1, K]
        contributor = fuse(scores, mode, settings.tau, own).contributor[0]  # [T]
        in_list = {**{i: int(contributor[t]) for t, i in enumerate(ids)}, **in_list}
    return scorer.targets(vectors, ids, vocab.encode(ids), [in_list[i] for i in ids])


def _add_diff(exp: Explanation, checkpoint: Checkpoint, baseline: list[int],
              edited_from: tuple[list[int], list[int]], settings: ExplainSettings,
              item_map: ItemMap | None) -> None:
    """Compare with the baseline history: edits, fused entries/exits and rank moves, interest shifts.

    ``baseline`` is what the model reads (truncated); ``edited_from`` holds the whole baseline and edited
    histories, so an old item that slides into the model's window after a removal is not reported as added.
    """
    if baseline:
        old = _rank(checkpoint, checkpoint.vocab.encode(baseline), settings,
                    checkpoint.vocab.encode(edited_from[0]))
        old_fused, old_vectors = [i for i, _, _ in old.fused], old.vectors
    else:
        old_fused = [f.item_id for f in _popularity(checkpoint, settings.top_n)]
        old_vectors = np.zeros((0, 0))
    vectors = np.asarray([i.vector for i in exp.interests]) if exp.interests else np.zeros((0, 0))
    old_xy = item_map.place(old_vectors) if item_map is not None and len(old_vectors) else None
    new_fused = [f.item_id for f in exp.fused]
    exp.diff = history_diff(*edited_from, old_fused, new_fused, old_vectors, vectors, old_xy)
