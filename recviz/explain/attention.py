"""Attention over the history (self-attention for comirec-sa, routing coefficients for comirec-dr): the
per-interest rows the dashboard shows, their entropy, and the labels derived from them."""

from __future__ import annotations

import numpy as np


def attention_entropy(row: np.ndarray) -> float:
    """Entropy in nats of one attention row (0 = all weight on one item, log L = uniform)."""
    p = np.asarray(row, dtype=np.float64)
    p = p[p > 0]
    if p.size == 0:
        return 0.0
    p = p / p.sum()
    return float(-(p * np.log(p)).sum())


def most_attended(row: np.ndarray) -> int:
    """Position of the most-attended item (the most recent one on ties)."""
    row = np.asarray(row)
    return int(len(row) - 1 - np.argmax(row[::-1]))
