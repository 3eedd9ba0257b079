"""Training samples, ComiRec style: for a user's sequence and a cut point t, history = seq[max(0, t-L):t]
and target = seq[t]. Every cut point t ≥ 1 of every training sequence is one sample; an epoch visits them in
a seeded random order (optionally a random subset), so the same seed gives the same batches.

Memory: the sequences are held once, as one flat array with offsets (CSR); a sample is only the position of
its target in that array and its history length (12 bytes), and each batch is gathered and padded when it
is served. 20M interactions take about 320 MB, where padding every sample up front took S × L × 9 bytes
(9 GB at L = 50).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from recviz.data.vocab import Vocab
from recviz.errors import ConfigError, UnknownItemError


@dataclass
class Batch:
    items: Tensor    # [B, L] dense ids, left-aligned
    mask: Tensor     # [B, L] true on real items
    targets: Tensor  # [B] dense ids


class CutPointSampler:
    """All (history, target) pairs of dense-id sequences, served in shuffled batches padded on demand."""

    def __init__(self, sequences: Sequence[Sequence[int]], max_length: int) -> None:
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        flat = np.fromiter(itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum()))
        self._setup(flat, lengths, max_length)

    @classmethod
    def from_csr(cls, flat: np.ndarray, lengths: np.ndarray, max_length: int) -> CutPointSampler:
        """The sampler of sequences laid end to end in ``flat`` ([T] dense ids), ``lengths`` ([U]) each."""
        sampler = cls.__new__(cls)
        sampler._setup(flat, lengths, max_length)
        return sampler

    def _setup(self, flat: np.ndarray, lengths: np.ndarray, max_length: int) -> None:
        if max_length < 1:
            raise ConfigError(f"max_length must be at least 1, got {max_length}")
        lengths = np.asarray(lengths, dtype=np.int64)
        if int(lengths.sum()) != len(flat):
            raise ValueError(f"sequence lengths sum to {int(lengths.sum())}, the flat array has {len(flat)}")
        self.max_length = max_length
        self._flat = np.ascontiguousarray(flat, dtype=np.int32 if len(flat) == 0 or flat.max() < 2**31
                                          else np.int64)  # [T]
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)  # [T] start of each position's sequence
        since_start = np.arange(len(flat), dtype=np.int64) - starts  # [T]
        keep = since_start > 0  # every position but a sequence's first is a target
        del starts
        self._pos = np.flatnonzero(keep)  # [S] flat position of each sample's target
        self._len = np.minimum(since_start[keep], max_length).astype(np.int32)  # [S] history length
        if not len(self._pos):
            raise ValueError("no training sequence has two or more items; nothing to train on")

    def __len__(self) -> int:
        return len(self._pos)

    @property
    def nbytes(self) -> int:
        """Memory held by the sampler's arrays."""
        return self._flat.nbytes + self._pos.nbytes + self._len.nbytes

    @property
    def targets(self) -> Tensor:
        """Every sample's target, [S] (in sample order)."""
        return torch.from_numpy(self._flat[self._pos].astype(np.int64))

    @property
    def items(self) -> Tensor:
        """Every sample's padded history, [S, L'] (materialised: for inspection of small sets)."""
        return self.batch(np.arange(len(self))).items

    @property
    def mask(self) -> Tensor:
        """Every sample's history mask, [S, L'] (materialised: for inspection of small sets)."""
        return self.batch(np.arange(len(self))).mask

    def batch(self, idx: np.ndarray) -> Batch:
        """Samples ``idx`` ([B]) gathered and padded to the batch's longest history (columns that would be
        padding for the whole batch are never made)."""
        pos, length = self._pos[idx], self._len[idx]  # [B], [B]
        width = max(1, int(length.max()))
        cols = np.arange(width)  # [W]
        mask = cols[None, :] < length[:, None]  # [B, W]
        src = np.where(mask, (pos - length)[:, None] + cols[None, :], 0)  # [B, W] flat positions
        items = np.where(mask, self._flat[src], 0)  # [B, W]
        return Batch(torch.from_numpy(items.astype(np.int64)), torch.from_numpy(mask),
                     torch.from_numpy(self._flat[pos].astype(np.int64)))

    def epoch(self, rng: np.random.Generator, batch_size: int, samples: int | None = None, rank: int = 0,
              world_size: int = 1) -> Iterator[Batch]:
        """Batches of one epoch in an order drawn from ``rng``; ``samples`` caps how many are visited.

        With several processes, every rank draws the same order (the same seed) and ``batch_size`` is the
        total batch: each batch is cut into ``world_size`` disjoint parts (sizes differ by at most one) and
        rank r gets part r, so the ranks together see exactly the batches one process would. A last batch
        smaller than ``world_size`` is left out on every rank alike.
        """
        order = rng.permutation(len(self))[: samples or len(self)]  # [S']
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]  # [B]
            if world_size > 1:
                if len(idx) < world_size:
                    return
                idx = np.array_split(idx, world_size)[rank]  # [B / world]
            yield self.batch(idx)


def dense_sequences(sequences: Iterable[Sequence[int]], vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """Raw-id sequences as one flat dense-id array ([T] int64) and their lengths ([U]), without a Python
    list per sequence. Vectorised (a binary search) when ``vocab`` lists its raw ids in sorted order, as
    training's vocabulary does; raises :class:`UnknownItemError` for ids outside it."""
    seqs = sequences if isinstance(sequences, list | tuple) else list(sequences)
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    raw = np.fromiter(itertools.chain.from_iterable(seqs), dtype=np.int64, count=int(lengths.sum()))
    ids = vocab.as_array()[1:]  # [N-1] raw ids by dense index - 1
    if len(ids) and np.all(ids[1:] > ids[:-1]):
        dense = np.searchsorted(ids, raw)  # [T]
        found = dense < len(ids)
        found[found] = ids[dense[found]] == raw[found]
        if not found.all():
            raise UnknownItemError(list(dict.fromkeys(raw[~found].tolist())))
        return dense + 1, lengths
    return np.asarray(vocab.encode(raw.tolist()), dtype=np.int64), lengths
