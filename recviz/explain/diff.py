"""What changed between a baseline history and an edited one, in the history and in the recommendations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recviz.explain.types import HistoryDiff


def history_changes(baseline: Sequence[int],
                    history: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
    """(removed, added, moved) item ids. Moved: the fewest kept items whose moving explains the new order
    (those outside a longest common subsequence), so deleting or moving one item does not count every
    later item as moved."""
    old, new = list(dict.fromkeys(baseline)), list(dict.fromkeys(history))
    old_set, new_set = set(old), set(new)
    removed = [i for i in old if i not in new_set]
    added = [i for i in new if i not in old_set]
    kept_old = [i for i in old if i in new_set]
    kept_new = [i for i in new if i in old_set]
    stay = set(_longest_increasing([kept_old.index(i) for i in kept_new]))
    moved = [i for p, i in enumerate(kept_new) if p not in stay]
    return removed, added, moved


def _longest_increasing(values: list[int]) -> list[int]:
    """Positions of one longest strictly increasing subsequence of ``values`` (O(n²); n ≤ max_length)."""
    if not values:
        return []
    best = [1] * len(values)
    prev = [-1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i] and best[j] + 1 > best[i]:
                best[i], prev[i] = best[j] + 1, j
    i, out = max(range(len(values)), key=lambda p: (best[p], -p)), []
    while i >= 0:
        out.append(i)
        i = prev[i]
    return out[::-1]


def row_cosines(a: np.ndarray, b: np.ndarray) -> list[float]:
    """Cosine similarity of matching rows of ``a`` and ``b`` [K, d] (1.0 where both rows are zero)."""
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)  # [K]
    out = []
    for k in range(min(len(a), len(b))):
        if na[k] == 0 or nb[k] == 0:
            out.append(1.0 if na[k] == nb[k] else 0.0)
        else:
            out.append(float(np.clip(a[k] @ b[k] / (na[k] * nb[k]), -1.0, 1.0)))
    return out


def history_diff(
    baseline: Sequence[int], history: Sequence[int], baseline_fused: Sequence[int], fused: Sequence[int],
    baseline_vectors: np.ndarray, vectors: np.ndarray, baseline_map_xy: np.ndarray | None = None,
) -> HistoryDiff:
    """The full diff: history edits, fused items that entered/left, rank moves and interest shifts."""
    removed, added, moved = history_changes(baseline, history)
    old_rank = {i: r for r, i in enumerate(baseline_fused, start=1)}
    new_rank = {i: r for r, i in enumerate(fused, start=1)}
    entered = [i for i in fused if i not in old_rank]
    left = [i for i in baseline_fused if i not in new_rank]
    moves = {i: [old_rank.get(i), new_rank.get(i)] for i in dict.fromkeys([*baseline_fused, *fused])
             if old_rank.get(i) != new_rank.get(i)}
    return HistoryDiff(
        removed=removed, added=added, moved=moved, entered=entered, left=left, rank_moves=moves,
        interest_shift=row_cosines(np.asarray(baseline_vectors), np.asarray(vectors)),
        baseline_map_xy=(None if baseline_map_xy is None
                         else np.asarray(baseline_map_xy).astype(float).tolist()),
    )
