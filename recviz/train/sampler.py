"""Training samples, ComiRec style: for a user's sequence and a cut point t, history = seq[max(0, t-L):t]
and target = seq[t]. Every cut point t ≥ 1 of every training sequence is one sample; an epoch visits them in
a seeded random order (optionally a random subset), so the same seed gives the same batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from recviz.models.scoring import pad_histories


@dataclass
class Batch:
    items: Tensor    # [B, L] dense ids, left-aligned
    mask: Tensor     # [B, L] true on real items
    targets: Tensor  # [B] dense ids


class CutPointSampler:
    """All (history, target) pairs of dense-id sequences, padded once and served in shuffled batches."""

    def __init__(self, sequences: list[list[int]], max_length: int) -> None:
        histories: list[list[int]] = []
        targets: list[int] = []
        for seq in sequences:
            for t in range(1, len(seq)):
                histories.append(seq[max(0, t - max_length) : t])
                targets.append(seq[t])
        if not targets:
            raise ValueError("no training sequence has two or more items; nothing to train on")
        self.items, self.mask = pad_histories(histories, max_length)  # [S, L]
        self.targets = torch.as_tensor(targets, dtype=torch.long)  # [S]

    def __len__(self) -> int:
        return len(self.targets)

    def epoch(self, rng: np.random.Generator, batch_size: int, samples: int | None = None) -> Iterator[Batch]:
        """Batches of one epoch in an order drawn from ``rng``; ``samples`` caps how many are visited."""
        order = torch.as_tensor(rng.permutation(len(self))[: samples or len(self)])  # [S']
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]  # [B]
            mask = self.mask[idx]  # [B, L]
            width = max(1, int(mask.sum(-1).max()))  # trim columns that are padding for the whole batch
            yield Batch(self.items[idx, :width], mask[:, :width], self.targets[idx])
