"""Ranking metrics on plain numpy arrays, one value per evaluation case (the caller averages).

Notation: for a case, ``T`` is its target set, ``R_K`` its top-K list, ``hit(r)`` is 1 when the item at
rank ``r`` (1-based) is a target. Top-K metrics take ``hits`` [B, ≥K] bool (see :func:`hits_matrix`) and
``num_targets`` [B]; full-ranking metrics take ``scores`` [B, N], ``targets`` [B, N] bool and ``valid``
[B, N] bool (false on excluded items: padding and, when excluded, the history). Ties in the full ranking
go to the lower item index, as in :func:`recviz.models.scoring.top_k`.
"""

from __future__ import annotations

import numpy as np

from recviz.models.scoring import genre_distance


def hits_matrix(ranked: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``hits[b, r] = ranked[b, r] ∈ T_b``: ranked ids [B, K] against the target mask [B, N] → [B, K] bool."""
    return np.take_along_axis(targets, ranked, axis=1)


def recall_at_k(hits: np.ndarray, num_targets: np.ndarray, k: int) -> np.ndarray:
    """Recall@K = |R_K ∩ T| / |T|."""
    return hits[:, :k].sum(axis=1) / num_targets


def hit_rate_at_k(hits: np.ndarray, k: int) -> np.ndarray:
    """HitRate@K = 1 if |R_K ∩ T| > 0 else 0."""
    return hits[:, :k].any(axis=1).astype(np.float64)


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))                        # [K] 1/log2(r+1), r = 1..K


def ndcg_at_k(hits: np.ndarray, num_targets: np.ndarray, k: int) -> np.ndarray:
    """NDCG@K = DCG@K / IDCG@K, DCG@K = Σ_{r≤K} hit(r)/log2(r+1), IDCG@K = Σ_{r≤min(|T|,K)} 1/log2(r+1).

    The ideal list puts ``min(|T|, K)`` targets first. ComiRec's published evaluation summed the ideal DCG
    over the number of *hits* instead, so a user with one hit at rank 1 out of five targets scored 1.0;
    here that user scores 1/IDCG with IDCG over five positions.
    """
    disc = _discounts(k)                                             # [K]
    dcg = (hits[:, :k] * disc[: hits[:, :k].shape[1]]).sum(axis=1)   # [B]
    ideal = np.concatenate([[0.0], np.cumsum(disc)])                 # [K+1] IDCG for 0..K targets
    return dcg / ideal[np.minimum(num_targets, k)]


def map_at_k(hits: np.ndarray, num_targets: np.ndarray, k: int) -> np.ndarray:
    """MAP@K per case: AP@K = Σ_{r≤K} Precision@r · hit(r) / min(|T|, K)."""
    h = hits[:, :k].astype(np.float64)                               # [B, K]
    precision = np.cumsum(h, axis=1) / np.arange(1, h.shape[1] + 1)  # [B, K]
    return (precision * h).sum(axis=1) / np.minimum(num_targets, k)


def first_target_rank(scores: np.ndarray, targets: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """1-based rank of the best-ranked valid target in the full ranking of valid items; inf without one.

    rank = 1 + #{valid i : s_i > s_t} + #{valid i : s_i = s_t, i < t} for the best target t.
    """
    target_scores = np.where(targets & valid, scores, -np.inf)       # [B, N]
    best = target_scores.argmax(axis=1)                              # [B] lowest index among best ties
    rows = np.arange(scores.shape[0])
    s_best = scores[rows, best][:, None]                             # [B, 1]
    index = np.arange(scores.shape[1])[None, :]                      # [1, N]
    ahead = valid & ((scores > s_best) | ((scores == s_best) & (index < best[:, None])))  # [B, N]
    rank = 1.0 + ahead.sum(axis=1)
    return np.where((targets & valid).any(axis=1), rank, np.inf)


def item_ranks(scores: np.ndarray, valid: np.ndarray, items: np.ndarray) -> np.ndarray:
    """1-based rank of each of ``items`` [T] in one full ranking ``scores`` [N] of the ``valid`` [N] items, by
    :func:`first_target_rank`'s rule (ties to the lower index), without sorting the catalogue: [T]."""
    s_t = scores[items][:, None]                                     # [T, 1]
    index = np.arange(scores.shape[0])[None, :]                      # [1, N]
    ahead = valid[None, :] & ((scores[None, :] > s_t) | ((scores[None, :] == s_t) & (index < items[:, None])))
    return 1 + ahead.sum(axis=1)                                     # [T]


def mrr(scores: np.ndarray, targets: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Reciprocal rank 1 / rank(first target) in the full ranking (0 when no target can be ranked)."""
    return 1.0 / first_target_rank(scores, targets, valid)


def auc(scores: np.ndarray, targets: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """AUC over the full catalogue per case: mean over valid targets t of
    (#{negatives n: s_n < s_t} + 0.5 · #{negatives n: s_n = s_t}) / #negatives,
    where negatives are the valid non-target items. NaN for a case without valid targets or negatives.
    """
    out = np.full(scores.shape[0], np.nan)
    negative = valid & ~targets                                      # [B, N]
    positive = valid & targets                                       # [B, N]
    for b in range(scores.shape[0]):
        neg = np.sort(scores[b, negative[b]])                        # [n_neg]
        pos = scores[b, positive[b]]                                 # [n_pos]
        if neg.size == 0 or pos.size == 0:
            continue
        below = np.searchsorted(neg, pos, side="left")               # [n_pos] strictly lower
        tied = np.searchsorted(neg, pos, side="right") - below       # [n_pos]
        out[b] = np.mean((below + 0.5 * tied) / neg.size)
    return out


def intra_list_diversity(ranked: np.ndarray, item_genres: np.ndarray) -> np.ndarray:
    """Mean pairwise genre distance within each list: 2/(K(K−1)) Σ_{a<b} (1 − Jaccard(G_a, G_b)).

    ``ranked`` [B, K] dense ids, ``item_genres`` [N, G] bool; the distance is
    :func:`recviz.models.scoring.genre_distance` (the one the diverse fusion maximises). NaN for K < 2.
    """
    k = ranked.shape[1]
    if k < 2:
        return np.full(ranked.shape[0], np.nan)
    dist = genre_distance(item_genres[ranked])                       # [B, K, K]
    return dist.sum(axis=(1, 2)) / (k * (k - 1))                     # diagonal is 0, pairs counted twice


def coverage(ranked: np.ndarray, catalogue_size: int) -> float:
    """Catalogue coverage = |∪_b R_K(b)| / catalogue size (distinct items recommended to anyone)."""
    return float(np.unique(ranked).size) / catalogue_size
