"""Interest health: are the K interests distinct, and how many does the fused list actually use?"""

from __future__ import annotations

import numpy as np

from recviz.explain.projection import unit_rows
from recviz.explain.types import InterestHealth

COLLAPSE_COSINE = 0.95


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Pairwise cosine similarity of the rows of ``vectors`` [K, d] → [K, K] (zero rows: similarity 0)."""
    unit = unit_rows(vectors)  # [K, d]
    return np.clip(unit @ unit.T, -1.0, 1.0)  # [K, K]


def effective_number(weights: np.ndarray) -> float:
    """exp(entropy of the normalised weights): 1 when one interest does everything, K when all share
    equally."""
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        return 0.0
    p = w[w > 0] / w.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def interest_health(vectors: np.ndarray, weights: np.ndarray,
                    threshold: float = COLLAPSE_COSINE) -> InterestHealth:
    """Similarity matrix, effective number of interests and a collapse flag (some pair's cosine >
    threshold)."""
    K = len(vectors)
    if K == 0:
        return InterestHealth([], 0.0, False, "No interests: the history is empty.")
    sim = cosine_matrix(vectors)  # [K, K]
    eff = effective_number(weights)
    pairs = [(i, j, float(sim[i, j])) for i in range(K) for j in range(i + 1, K) if sim[i, j] > threshold]
    if pairs:
        shown = ", ".join(f"{i + 1} & {j + 1} (cosine {c:.2f})" for i, j, c in pairs[:5])
        message = (
            f"Collapsed interests: {shown} point the same way, so the model effectively has fewer than "
            f"{K} distinct interests. The fused list draws on {eff:.1f} of {K} interests."
        )
    elif K == 1:
        message = "Single-interest model: one vector describes the whole history."
    else:
        message = (
            f"{K} distinct interests (largest pairwise cosine {sim[~np.eye(K, dtype=bool)].max():.2f}); "
            f"the fused list draws on {eff:.1f} of {K}."
        )
    return InterestHealth(sim.astype(float).tolist(), eff, bool(pairs), message)
