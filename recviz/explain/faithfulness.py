"""Deletion curves: remove history items in an attribution's order and watch the target's score and rank.

An attribution is faithful when deleting its top items makes the score fall fast. The curve has L points,
0..L−1 items deleted (no model forms interests from an empty history, so the last item always stays). Its
normalised area is the trapezoid area over ``k/(L−1)`` ∈ [0, 1] of the target's z-score ``(s_k − μ)/σ``,
where μ and σ are the mean and standard deviation of the retrieving interest's scores over the whole
catalogue on the full history: one yardstick for every method and order on a target, and comparable across
targets and models. A top recommendation starts a few σ above the catalogue mean; lower area = the score
falls sooner = more faithful. The reference is the mean over ``random_orders`` random orders drawn with a
fixed seed.
"""

from __future__ import annotations

import numpy as np
import torch

from recviz.explain.scorer import HistoryScorer, Targets
from recviz.explain.types import DeletionCurve


def deletion_order(values: np.ndarray) -> np.ndarray:
    """Positions by decreasing attribution [.., L]; ties keep the older item first (stable)."""
    return np.argsort(-np.asarray(values), axis=-1, kind="stable")


def keep_masks(orders: np.ndarray) -> np.ndarray:
    """For orders [B, L], the kept positions after deleting 0..L−1 items: [B, L, L] bool."""
    B, L = orders.shape
    step = np.empty_like(orders)
    np.put_along_axis(step, orders, np.arange(L)[None, :].repeat(B, 0), axis=1)  # [B, L] when each goes
    return step[:, None, :] >= np.arange(L)[None, :, None]  # [B, L, L]


def unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(rows, axis=0, return_inverse=True)`` for bool rows [B, L], on the rows packed into bytes
    (one sort of B short strings instead of a lexicographic sort over L columns): [U, L], [B]."""
    packed = np.ascontiguousarray(np.packbits(rows, axis=1))  # [B, ceil(L/8)]
    keys = packed.view(np.dtype((np.void, packed.shape[1])))[:, 0]  # [B] one opaque key per row
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return rows[first], inverse.reshape(-1)


def normalised_area(scores: np.ndarray, center: np.ndarray | float, spread: np.ndarray | float) -> np.ndarray:
    """Trapezoid area of the z-score (s_k − μ)/σ over k/(L−1) ∈ [0, 1] for curves [.., L] (μ, σ broadcast
    over [..]); a one-point curve's area is its z-score."""
    s = np.asarray(scores, dtype=np.float64)
    mu = np.expand_dims(np.asarray(center, dtype=np.float64), -1)
    sigma = np.expand_dims(np.maximum(np.asarray(spread, dtype=np.float64), 1e-12), -1)
    z = (s - mu) / sigma  # [.., L]
    if s.shape[-1] < 2:
        return z[..., 0]
    return np.trapezoid(z, dx=1.0 / (s.shape[-1] - 1), axis=-1)


def deletion_curves(
    scorer: HistoryScorer, targets: Targets, attributions: dict[str, np.ndarray], random_orders: int,
    seed: int,
) -> list[DeletionCurve]:
    """One curve per (method, target), each carrying the random reference (mean area and mean score curve).

    Every deleted-history variant of every method and random order goes into ONE batch, deduplicated
    (the full history, and orders that agree on their first items, are shared), so the model runs once;
    the scores and ranks of every method's curves are then taken in one call each.
    """
    L, T, M = scorer.length, len(targets), len(attributions)
    if T == 0 or L == 0:
        return []
    rng = np.random.default_rng(seed)
    random = None  # [R, L] the random orders
    if random_orders > 0:
        random = np.stack([rng.permutation(L) for _ in range(random_orders)])
    blocks = [keep_masks(deletion_order(v)).reshape(T * L, L) for v in attributions.values()]  # [T*L, L] each
    if random is not None:
        blocks.append(keep_masks(random).reshape(random_orders * L, L))  # [R*L, L]
    unique, inverse = unique_rows(np.concatenate(blocks))  # [U, L], [rows]
    vectors = scorer.interests_kept(unique)  # [U, K, d]
    inverse = torch.from_numpy(inverse)

    rand_area = rand_mean = None
    if random is not None:
        rows = inverse[M * T * L :]  # [R*L] rows of `unique`, shared by every target
        dense, interest = targets.repeat(random_orders * L)  # [T*R*L]
        rand = scorer.scores(vectors, dense, interest, rows.repeat(T)).double().numpy()
        rand = rand.reshape(T, random_orders, L)
        rand_area = normalised_area(rand, targets.center[:, None], targets.spread[:, None]).mean(1)  # [T]
        rand_mean = rand.mean(1)  # [T, L]
    out: list[DeletionCurve] = []
    rows = inverse[: M * T * L]  # [M*T*L] rows of `unique`, method-major then target then step
    dense, interest = (x.repeat(M) for x in targets.repeat(L))  # [M*T*L]
    all_scores = scorer.scores(vectors, dense, interest, rows).double().numpy().reshape(M, T, L)
    all_ranks = None  # a large catalogue's curves carry scores only (see HistoryScorer.full_ranks)
    if scorer.full_ranks:
        all_ranks = scorer.ranks(vectors, dense, interest, rows).numpy().reshape(M, T, L)
    for m, method in enumerate(attributions):
        scores = all_scores[m]  # [T, L]
        ranks = np.zeros((T, 0), dtype=np.int64) if all_ranks is None else all_ranks[m]  # [T, L] or [T, 0]
        areas = normalised_area(scores, targets.center, targets.spread)  # [T]
        for t, item in enumerate(targets.item_ids):
            out.append(DeletionCurve(
                item, method, scores[t].tolist(), [int(r) for r in ranks[t]], float(areas[t]),
                None if rand_area is None else float(rand_area[t]),
                None if rand_mean is None else rand_mean[t].tolist(),
            ))
    return out
