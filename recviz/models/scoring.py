"""Scoring and fusion, written once against the model contract (DESIGN.md, "The model contract").

Training, evaluation and explanations all go through these functions, so a ranking shown in the dashboard
is the ranking the metrics measured:

- ``pad_histories``: dense-id histories → left-aligned padded batch (most recent ``max_length`` kept);
- ``interest_scores``: ``s_j(i) = v_j · e_i`` for every interest and every catalogue item;
- ``fuse``: one score per item, ``weighted`` (the seed's attention-weighted fusion), ``max`` (ComiRec) or
  ``model``: the model's own user-level interest weights (SINE; see :class:`recviz.models.base.OwnFusion`);
- ``diverse_rerank``: ComiRec's greedy aggregation trading score for genre diversity with a factor λ;
- ``top_k``: full-catalogue top-k with deterministic ties (lower dense index first);
- ``recommend``: all of the above for one batch, returned as :class:`Recommendations`.

All ids here are dense indices (0 = padding, never recommended).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from recviz.data.types import Catalogue
from recviz.data.vocab import PAD, Vocab
from recviz.errors import ConfigError, EmptyHistoryError
from recviz.models.item_index import ItemIndex
from recviz.options import FUSIONS

SCORE_FUSIONS: tuple[str, ...] = tuple(f.name for f in FUSIONS.values() if f.scores_every_item)
NEG_INF = float("-inf")


@dataclass
class FusedScores:
    """One score per catalogue item and the interest that contributed most to it. The contributor is
    computed when first asked for (most callers rank by ``scores`` alone), or for some items only with
    :meth:`contributor_at`."""

    scores: Tensor        # [B, N] float
    parts: Tensor         # [B, K, N] each interest's term of the fused score; argmax over K = contributor
    best: Tensor | None = None  # [B, N] parts.amax(1), when already known (the max fusion)

    @functools.cached_property
    def contributor(self) -> Tensor:
        """[B, N] long: the interest index of the largest term (ties to the lower interest)."""
        return first_argmax(self.parts, self.best)

    def contributor_at(self, ids: Tensor) -> Tensor:
        """The contributors of items ``ids`` [B, n] only: [B, n] (what a top-n list needs)."""
        if "contributor" in self.__dict__:
            return self.contributor.gather(1, ids)
        picked = self.parts.gather(2, ids[:, None, :].expand(-1, self.parts.shape[1], -1))  # [B, K, n]
        return first_argmax(picked)


@dataclass
class RankedList:
    """A fused top-n list: ids in rank order, their fused scores and contributing interests."""

    ids: Tensor           # [B, n] long, dense ids
    scores: Tensor        # [B, n] float
    contributor: Tensor   # [B, n] long


@dataclass
class Recommendations:
    """Per-interest and fused top-n lists for a batch of histories (dense ids)."""

    per_interest_ids: Tensor     # [B, K, n]
    per_interest_scores: Tensor  # [B, K, n]
    fused_ids: Tensor            # [B, n]
    fused_scores: Tensor         # [B, n]
    contributor: Tensor          # [B, n]  interest that contributed most to each fused item
    interest_vectors: Tensor     # [B, K, d]
    interest_weights: Tensor | None = None  # [B, K] the model's own weights (OwnFusion models), else None


def pad_histories(histories: Sequence[Sequence[int]], max_length: int) -> tuple[Tensor, Tensor]:
    """Left-aligned padded batch of dense-id histories, keeping the most recent ``max_length`` items.

    Position 0 is the oldest kept item, padding (0) follows the last real item; ``mask`` is true on real
    items. ``L`` is the longest kept history of the batch. An empty history raises
    :class:`EmptyHistoryError`: no model can form interests from nothing.
    """
    if max_length < 1:
        raise ConfigError(f"max_length must be at least 1, got {max_length}")
    if len(histories) == 0:
        raise EmptyHistoryError("no histories given; pass at least one history")
    kept = [list(h)[-max_length:] for h in histories]
    empty = [b for b, h in enumerate(kept) if not h]
    if empty:
        raise EmptyHistoryError(
            f"history {empty[0]} of the batch is empty; add at least one item the model knows"
        )
    length = max(len(h) for h in kept)
    items = torch.zeros(len(kept), length, dtype=torch.long)         # [B, L]
    for b, h in enumerate(kept):
        items[b, : len(h)] = torch.as_tensor(h, dtype=torch.long)
    mask = items != PAD                                               # [B, L]
    if int(mask.sum()) != sum(len(h) for h in kept):
        raise ConfigError("a history contains the padding index 0; histories must hold dense ids ≥ 1")
    return items, mask


def seen_histories(histories: Sequence[Sequence[int]]) -> Tensor:
    """Whole dense-id histories as one padded batch [B, H] (H = the longest; nothing cut to a model's
    window): what :func:`recommend` and evaluation ban. An empty history is one padding column."""
    length = max([1, *(len(h) for h in histories)])
    seen = torch.zeros(len(histories), length, dtype=torch.long)     # [B, H]
    for b, h in enumerate(histories):
        if len(h):
            seen[b, : len(h)] = torch.as_tensor(list(h), dtype=torch.long)
    return seen


def interest_scores(interests: Tensor, item_emb: Tensor) -> Tensor:
    """``s_j(i) = v_j · e_i`` for every interest ``j`` and catalogue item ``i``: [B, K, d] × [N, d] →
    [B, K, N]."""
    return torch.einsum("bkd,nd->bkn", interests, item_emb)          # [B, K, N]


def model_weights(model, items: Tensor, mask: Tensor) -> Tensor | None:
    """The model's own user-level interest weights [B, K] (no gradients), or None for a model fused by
    recviz's fusions only (see :class:`recviz.models.base.OwnFusion`)."""
    if not getattr(model, "has_interest_weights", False):
        return None
    with torch.no_grad():
        return model.interest_weights(items, mask)                   # [B, K]


def own_fusion_scores(vectors: Tensor, weights: Tensor, item_emb: Tensor) -> Tensor:
    """The ``model`` fusion computed as the model computes it: its user vector ``u = Σ_k w_k v_k`` (summed
    in RecBole's order) scored against every item, ``u · e_i``: [B, K, d], [B, K], [N, d] → [B, N]. Equal to
    ``Σ_k w_k s_k(i)`` up to float rounding, and to the model's own scores to the last bit."""
    user = weights.unsqueeze(2).mul(vectors).sum(dim=1)              # [B, d]
    return torch.matmul(user, item_emb.transpose(0, 1))              # [B, N]


def fuse(scores: Tensor, mode: str = "weighted", tau: float = 1.0, weights: Tensor | None = None,
         fused: Tensor | None = None) -> FusedScores:
    """Fuse per-interest scores [B, K, N] into one score per item.

    - ``weighted``: ``R(i) = Σ_j w_j(i)·s_j(i)`` with ``w_j(i) = softmax_j(s_j(i)/τ)``;
      contributor = ``argmax_j w_j(i)·s_j(i)``.
    - ``max`` (ComiRec's merge): ``R(i) = max_j s_j(i)``; contributor = ``argmax_j s_j(i)``.
    - ``model``: the model's own user-level weights ``weights`` [B, K] (:func:`model_weights`),
      ``R(i) = Σ_j w_j·s_j(i)``; contributor = ``argmax_j w_j·s_j(i)``. ``fused`` [B, N], when given, are
      these scores as the model computes them (:func:`own_fusion_scores`), used instead of the sum.

    Ties between interests go to the lower interest index. ``diverse`` is a re-ranking of a list, not a
    score per item: use :func:`diverse_rerank`.
    """
    if mode == "model":
        if weights is None:
            raise ConfigError("the 'model' fusion uses the model's own interest weights, and this model has "
                              "none (e.g. recbole-sine has); choose the weighted or max fusion")
        parts = weights[:, :, None] * scores                          # [B, K, N]
        return FusedScores(parts.sum(dim=1) if fused is None else fused, parts)
    if mode == "weighted":
        if tau <= 0:
            raise ConfigError(f"tau must be positive, got {tau}")
        weights = torch.softmax(scores / tau, dim=1)                  # [B, K, N]
        parts = weights * scores                                      # [B, K, N]
        return FusedScores(parts.sum(dim=1), parts)                   # [B, N], [B, K, N]
    if mode == "max":
        best = scores.amax(dim=1)                                     # [B, N]
        return FusedScores(best, scores, best)
    raise ConfigError(
        f"unknown score fusion {mode!r}; choose one of {', '.join(SCORE_FUSIONS)} "
        "(the 'diverse' fusion re-ranks a list: use recommend(..., fusion='diverse'))"
    )


def first_argmax(parts: Tensor, best: Tensor | None = None) -> Tensor:
    """``parts.argmax(dim=1)`` for [B, K, N] with ties to the lower interest, ~5x faster on the CPU: a
    strided reduction over a small K is slow, K contiguous comparisons are not. ``best`` [B, N] is
    ``parts.amax(1)``."""
    best = parts.amax(dim=1) if best is None else best                # [B, N]
    index = torch.zeros(best.shape, dtype=torch.long)                 # [B, N]
    for j in range(parts.shape[1] - 1, 0, -1):                        # the lowest index wins ties: last write
        index.masked_fill_(parts[:, j] == best, j)                    # [B, N]
    index.masked_fill_(parts[:, 0] == best, 0)                        # [B, N]
    return index


def banned_items(items: Tensor, num_items: int, exclude_history: bool = True) -> Tensor:
    """Items that must never be recommended: the padding row, and the history items when excluded."""
    banned = torch.zeros(items.shape[0], num_items, dtype=torch.bool)  # [B, N]
    banned[:, PAD] = True
    if exclude_history:
        banned.scatter_(1, items, True)                               # padding positions hit column 0 only
    return banned


def top_k(scores: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Top-``k`` values and indices along the last axis, ties broken by the lower index first.

    ``torch.topk`` gives the k-th value; every item strictly above it is in, and the tied items at the
    boundary are taken lowest index first, so the result never depends on the kernel's tie order.
    NaN counts as -inf.
    """
    shape = scores.shape
    n = shape[-1]
    k = min(int(k), n)
    if k < 1:
        raise ConfigError(f"k must be at least 1, got {k}")
    flat = scores.reshape(-1, n)                                     # [R, N]
    flat = flat.masked_fill(torch.isnan(flat), NEG_INF)              # [R, N]
    kth = torch.topk(flat, k, dim=1).values[:, -1:]                  # [R, 1]
    above = flat > kth                                               # [R, N]
    tied = flat == kth                                               # [R, N]
    need = k - above.sum(dim=1, keepdim=True)                        # [R, 1]
    chosen = above | (tied & (tied.cumsum(dim=1) <= need))           # [R, N] exactly k per row
    idx = chosen.nonzero()[:, 1].view(-1, k)                         # [R, k] ascending index
    vals = flat.gather(1, idx)                                       # [R, k]
    order = torch.sort(vals, dim=1, descending=True, stable=True).indices  # [R, k]
    out_shape = (*shape[:-1], k)
    return vals.gather(1, order).view(out_shape), idx.gather(1, order).view(out_shape)


def item_genre_matrix(vocab: Vocab, catalogue: Catalogue) -> tuple[np.ndarray, list[str]]:
    """Multi-hot genres per dense index: [N, G] bool (row 0, padding, is empty) and the genre names."""
    names = catalogue.all_genres()
    column = {g: c for c, g in enumerate(names)}
    matrix = np.zeros((len(vocab), len(names)), dtype=bool)          # [N, G]
    for dense, raw in enumerate(vocab.raw_ids, start=1):
        for genre in catalogue.genres(raw):
            if genre in column:
                matrix[dense, column[genre]] = True
    return matrix, names


def genre_distance(genres: np.ndarray) -> np.ndarray:
    """Pairwise ``1 − Jaccard`` of genre sets: [..., P, G] bool → [..., P, P].

    Two items without any genre count as identical (distance 0); one empty set against a non-empty one
    has distance 1. The one definition of genre diversity (reranking and the diversity metric use it).
    """
    g = genres.astype(np.float32)                                    # [..., P, G]
    inter = g @ np.swapaxes(g, -1, -2)                               # [..., P, P]
    size = g.sum(axis=-1)                                            # [..., P]
    union = size[..., :, None] + size[..., None, :] - inter          # [..., P, P]
    jaccard = np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
    return 1.0 - jaccard


def diverse_rerank(
    scores: Tensor, item_genres: np.ndarray | Tensor, top_n: int, diversity_lambda: float
) -> RankedList:
    """ComiRec's greedy aggregation with genre diversity.

    Candidates are the union of the per-interest top-``n`` lists of ``scores`` [B, K, N] (banned items
    already at -inf); each candidate's score is its max-merge score ``max_j s_j(i)``. Scores are min-max
    normalised to [0, 1] over each user's finite candidates (1 when they are all equal), so λ means the
    same for every model and user. Step ``t`` picks the candidate maximising
    ``norm_score(i) + λ · mean_{p picked} (1 − Jaccard(genres(i), genres(p)))`` (the diversity term is 0
    for the first pick); ties go to the lower dense id. With λ = 0 this is exactly the max-merge order.
    Returned scores are the raw max-merge scores of the picked items.
    """
    if not 0.0 <= diversity_lambda:
        raise ConfigError(f"diversity_lambda must be non-negative, got {diversity_lambda}")
    genres = item_genres.numpy() if isinstance(item_genres, Tensor) else np.asarray(item_genres)
    if genres.shape[0] != scores.shape[-1]:
        raise ConfigError(
            f"item_genres has {genres.shape[0]} rows but the model scores {scores.shape[-1]} items; "
            "build it with item_genre_matrix(vocab, catalogue) from the same checkpoint"
        )
    n = min(int(top_n), scores.shape[-1])
    merged = fuse(scores, "max")                                     # [B, N]
    batch = scores.shape[0]
    cand = top_k(scores, n)[1].reshape(batch, -1).numpy()            # [B, P] dense ids
    cand_score = np.take_along_axis(merged.scores.numpy(), cand, 1)  # [B, P]
    order = np.argsort(cand, axis=1, kind="stable")                  # [B, P]
    sorted_ids = np.take_along_axis(cand, order, 1)                  # [B, P]
    dup_sorted = np.zeros_like(sorted_ids, dtype=bool)
    dup_sorted[:, 1:] = sorted_ids[:, 1:] == sorted_ids[:, :-1]
    available = np.ones_like(cand, dtype=bool)                       # [B, P]
    np.put_along_axis(available, order, ~dup_sorted, 1)

    finite = np.isfinite(cand_score) & available
    lo = np.where(finite, cand_score, np.inf).min(axis=1, keepdims=True)    # [B, 1]
    hi = np.where(finite, cand_score, -np.inf).max(axis=1, keepdims=True)   # [B, 1]
    spread = hi > lo                                                 # [B, 1]
    scaled = np.where(spread, (cand_score - lo) / np.where(spread, hi - lo, 1.0), 1.0)  # [B, P]
    norm = np.where(finite, scaled, NEG_INF)                         # [B, P]

    dist = genre_distance(genres[cand])                              # [B, P, P]
    div_sum = np.zeros(cand.shape, dtype=np.float64)                 # [B, P]
    picked = np.zeros((batch, n), dtype=np.int64)                    # [B, n] positions in cand
    rows = np.arange(batch)
    big = np.iinfo(np.int64).max
    for step in range(n):
        objective = norm + diversity_lambda * div_sum / max(step, 1)  # [B, P]
        best = np.where(available, objective, NEG_INF).max(axis=1, keepdims=True)  # [B, 1]
        ties = available & (objective == best)                       # [B, P]
        choice = np.where(ties, cand, big).argmin(axis=1)            # [B] lower dense id among ties
        picked[:, step] = choice
        available[rows, choice] = False
        div_sum += dist[rows, choice]                                # [B, P]
    ids = torch.from_numpy(np.take_along_axis(cand, picked, 1))      # [B, n]
    return RankedList(ids, merged.scores.gather(1, ids), merged.contributor_at(ids))


def score_items(model, items: Tensor, mask: Tensor,
                item_table: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Interest vectors [B, K, d] and per-interest scores [B, K, N] of a padded batch (no gradients).
    ``item_table`` is ``model.item_embeddings()`` when the caller already has it (it is not recomputed)."""
    with torch.no_grad():
        vectors = model.interests(items, mask)                       # [B, K, d]
        table = model.item_embeddings() if item_table is None else item_table  # [N, d]
        scores = interest_scores(vectors, table)                     # [B, K, N]
    return vectors, scores


def fused_ranking_scores(
    scores: Tensor, items: Tensor, fusion: str = "max", tau: float = 1.0, exclude_history: bool = True,
    weights: Tensor | None = None, fused: Tensor | None = None, banned: Tensor | None = None,
) -> FusedScores:
    """Fused score of every item for full-catalogue ranking, banned items at -inf (see :func:`banned_items`).

    ``items`` [B, L] are the histories whose items are banned (the whole history, which may be longer than
    what the model reads). ``weights`` and ``fused``: the ``model`` fusion's (see :func:`fuse`). ``banned``
    [B, N], when given, is the ban itself (for scores over a subset of the catalogue's columns).

    Fusion runs on the raw scores (softmax over interests needs finite values), the ban is applied after.
    """
    merged = fuse(scores, fusion, tau, weights, fused)               # [B, N]
    if banned is None:
        banned = banned_items(items, scores.shape[-1], exclude_history)  # [B, N]
    return FusedScores(merged.scores.masked_fill(banned, NEG_INF), merged.parts, merged.best)


def recommend(
    model,
    items: Tensor,
    mask: Tensor,
    top_n: int,
    fusion: str = "weighted",
    tau: float = 1.0,
    diversity_lambda: float = 0.0,
    exclude_history: bool = True,
    item_genres: np.ndarray | Tensor | None = None,
    seen: Tensor | None = None,
    item_table: Tensor | None = None,
    index: ItemIndex | None = None,
) -> Recommendations:
    """Per-interest and fused top-``top_n`` lists over the full catalogue for a padded batch.

    Banned items (padding, and history items when ``exclude_history``) score -inf before any top-k.
    The history is ``seen`` [B, H] (padded dense ids) when given: the user's *whole* history, which may be
    longer than the ``items`` window the model reads; without it, only ``items`` is banned. Evaluation
    bans the whole history, so every list shown must do the same (see :func:`seen_histories`).
    ``fusion`` is ``weighted`` / ``max`` / ``model`` (see :func:`fuse`) or ``diverse`` (see
    :func:`diverse_rerank`, which needs ``item_genres`` from :func:`item_genre_matrix`).

    With ``index`` (a large checkpoint's :class:`~recviz.models.item_index.ItemIndex`), only the union of
    every interest's top candidates is scored: see :func:`indexed_scores`.
    """
    if top_n < 1:
        raise ConfigError(f"top_n must be at least 1, got {top_n}")
    if seen is not None and seen.shape[0] != items.shape[0]:
        raise ConfigError(f"seen has {seen.shape[0]} histories but items has {items.shape[0]}; "
                          "pass one per row")
    history = items if seen is None else seen                        # [B, L] or [B, H]
    if index is None:
        vectors, scores = score_items(model, items, mask, item_table)  # [B, K, d], [B, K, N]
        columns, table = None, item_table
        banned = banned_items(history, scores.shape[-1], exclude_history)  # [B, N]
    else:
        depth = top_n + int((history > 0).sum(1).max())              # banned items may fill a top
        vectors, scores, columns, table = indexed_scores(model, items, mask, index, depth, item_table)
        banned = banned_items(history, index.record.rows + 1, exclude_history)[:, columns]  # [B, P]
    weights = model_weights(model, items, mask)                      # [B, K] or None
    exact = model_fusion_scores(model, vectors, weights, fusion, table)  # [B, N] or None
    masked = scores.masked_fill(banned[:, None, :], NEG_INF)         # [B, K, N]
    per_scores, per_ids = top_k(masked, top_n)                       # [B, K, n]
    if fusion == "diverse":
        if item_genres is None:
            raise ConfigError("the 'diverse' fusion needs item genres; "
                              "pass item_genre_matrix(vocab, catalogue)")
        genres = item_genres if columns is None else np.asarray(item_genres)[columns.numpy()]  # [N, G]
        fused = diverse_rerank(masked, genres, top_n, diversity_lambda)
    else:
        merged = fused_ranking_scores(scores, history, fusion, tau, exclude_history, weights, exact,
                                      banned)                        # [B, N]
        values, ids = top_k(merged.scores, top_n)                    # [B, n]
        fused = RankedList(ids, values, merged.contributor_at(ids))
    if columns is not None:  # candidate positions -> dense ids
        per_ids, fused.ids = columns[per_ids], columns[fused.ids]   # [B, K, n], [B, n]
    return Recommendations(per_ids, per_scores, fused.ids, fused.scores, fused.contributor, vectors, weights)


def indexed_scores(model, items: Tensor, mask: Tensor, index: ItemIndex, depth: int,
                   item_table: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Interest vectors [B, K, d], exact per-interest scores [B, K, P] of the candidates, the candidates'
    dense ids [P] (ascending: ties still go to the lower dense id) and their table rows [P, d].

    The candidates are the union, over the batch and the interests, of each interest's top-``depth`` from
    ``index`` (exact for recviz's bounded IVF search). Re-scoring the union keeps every shown score what the
    model computes, and the fused list of the ``max`` fusion exact whenever each interest's candidates hold
    its true top items (an item in the max-fused top-n is in the top-n of the interest that gives its score);
    the other fusions rank the same candidates, so an item outside every interest's top-``depth`` cannot
    enter their fused lists.
    """
    with torch.no_grad():
        vectors = model.interests(items, mask)                       # [B, K, d]
        _, found = index.search(vectors.reshape(-1, vectors.shape[-1]).numpy(), depth)  # [B*K, depth]
        columns = torch.from_numpy(found).long().unique()            # [P'] sorted, may hold 0
        columns = columns[columns > 0]                               # [P] never padding
        if item_table is None:
            table = model.item_embeddings().index_select(0, columns)  # [P, d]
        else:
            table = item_table.index_select(0, columns)              # [P, d]
        scores = interest_scores(vectors, table)                     # [B, K, P]
    return vectors, scores, columns, table


def model_fusion_scores(model, vectors: Tensor, weights: Tensor | None, fusion: str,
                        item_table: Tensor | None = None) -> Tensor | None:
    """The ``model`` fusion's scores [B, N] as the model computes them (:func:`own_fusion_scores`), for
    ``fuse(..., fused=...)``; None for another fusion or a model without weights."""
    if fusion != "model" or weights is None:
        return None
    with torch.no_grad():
        table = model.item_embeddings() if item_table is None else item_table  # [N, d]
        return own_fusion_scores(vectors, weights, table)            # [B, N]
