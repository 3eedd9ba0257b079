"""One history seen through one model: packs edited copies of it and scores targets, always in batches.

Every explanation method and the deletion curves go through here, so "the score" means the same thing
everywhere: the score of the interest that retrieved the target, ``s_j(t) = v_j · e_t``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from torch import Tensor

from recviz.models.base import NoAttentionError
from recviz.models.scoring import pad_histories


@dataclass
class Targets:
    """The items being explained and the interest that retrieved each (the one whose score is attributed)."""

    item_ids: list[int]      # [T] raw ids
    dense: Tensor            # [T] dense indices
    interest: Tensor         # [T] interest index j
    scores: np.ndarray       # [T] s_j(t) on the full history
    center: np.ndarray       # [T] mean of interest j's scores over the catalogue (faithfulness yardstick)
    spread: np.ndarray       # [T] their standard deviation

    def __len__(self) -> int:
        return len(self.item_ids)

    def repeat(self, n: int) -> tuple[Tensor, Tensor]:
        """(dense, interest) with each target repeated ``n`` times in a row: [T*n], [T*n]."""
        return self.dense.repeat_interleave(n), self.interest.repeat_interleave(n)


@dataclass(frozen=True)
class CatalogueMoments:
    """Mean [d] and unbiased covariance [d, d] (float64) of the catalogue's item embeddings, padding excluded.

    The mean and standard deviation of any vector's scores over the whole catalogue follow without scoring
    it: ``mean_i v·e_i = v·μ`` and ``std_i v·e_i = sqrt(vᵀ Σ v)``. A large catalogue's faithfulness yardstick
    comes from here (O(d²) per target instead of O(N·d)).
    """

    mean: Tensor   # [d]
    cov: Tensor    # [d, d]

    @classmethod
    def of(cls, table: Tensor, chunk: int = 131_072) -> CatalogueMoments:
        """Moments of ``table`` [N, d] rows 1.. (row 0 is padding), accumulated in float64 by chunks."""
        rows = table[1:]  # [M, d]
        total = torch.zeros(rows.shape[1], dtype=torch.float64)  # [d]
        outer = torch.zeros(rows.shape[1], rows.shape[1], dtype=torch.float64)  # [d, d]
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk].double()  # [c, d]
            total += part.sum(0)
            outer += part.T @ part  # [d, d]
        n = len(rows)
        mean = total / n  # [d]
        cov = (outer - n * torch.outer(mean, mean)) / max(n - 1, 1)  # [d, d]
        return cls(mean, cov)

    def center_spread(self, vectors: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of each vector's [T, d] scores over the catalogue: [T], [T]."""
        v = vectors.double()  # [T, d]
        var = ((v @ self.cov) * v).sum(-1).clamp_min(0)  # [T]
        return (v @ self.mean).numpy(), var.sqrt().numpy()


def _pick(vectors: Tensor, interest: Tensor, rows: Tensor | None = None) -> Tensor:
    """``vectors[rows, interest]`` for vectors [R, K, d] (rows default 0..B-1) → [B, d], as one index_select
    on the flattened vectors (advanced indexing copies the same rows several times slower)."""
    rows = torch.arange(len(interest)) if rows is None else rows
    flat = vectors.reshape(-1, vectors.shape[-1])  # [R*K, d]
    return flat.index_select(0, rows * vectors.shape[1] + interest)  # [B, d]


class HistoryScorer:
    """Packs histories the model's way (left-aligned, most recent ``max_length``) and scores targets."""

    def __init__(self, model: torch.nn.Module, history: Sequence[int], table: Tensor | None = None,
                 moments: CatalogueMoments | None = None) -> None:
        """``table``: ``model.item_embeddings()`` when the caller already has it (else it is computed).
        ``moments``: a large catalogue's :class:`CatalogueMoments`; with them the targets' yardstick comes
        from the moments and :attr:`full_ranks` is off (no full-catalogue ranking per deletion step)."""
        self.model = model
        self.moments = moments
        self.history = np.asarray(list(history), dtype=np.int64)  # [L] dense ids, oldest first
        if table is None:
            with torch.no_grad():
                table = model.item_embeddings().detach()  # [N, d]
        self.table = table  # [N, d]

    @property
    def full_ranks(self) -> bool:
        """Whether :meth:`ranks` should run: each call scores the whole catalogue once per (row, interest),
        which is what a large catalogue (one with :class:`CatalogueMoments`) cannot afford per step."""
        return self.moments is None

    @property
    def length(self) -> int:
        return len(self.history)

    def pack(self, histories: Sequence[Sequence[int]]) -> tuple[Tensor, Tensor]:
        return pad_histories(histories, self.model.max_length)  # [B, L], [B, L]

    def interests(self, histories: Sequence[Sequence[int]]) -> Tensor:
        items, mask = self.pack(histories)
        with torch.no_grad():
            return self.model.interests(items, mask)  # [B, K, d]

    def subsets(self, keep: np.ndarray) -> list[list[int]]:
        """The history with only the positions where ``keep`` [B, L] is true, as lists."""
        return [self.history[row].tolist() for row in keep]

    def pack_kept(self, keep: np.ndarray) -> tuple[Tensor, Tensor]:
        """``pad_histories(self.subsets(keep))`` without the Python loop (thousands of rows per explanation):
        kept items moved left in order, padding after.

        A row that keeps nothing (occluding the only item of a one-item history) is the empty history, which
        ``pad_histories`` refuses: it becomes one padding position with a false mask, the model's input for
        "no items" (every model's interests then come from masked-out padding alone, e.g. zero vectors for
        comirec-sa/-dr, the MLP's bias for youtube-dnn, the final LayerNorm of a zero state for sasrec). The
        batch is always at least one position wide: a zero-width batch is outside the model contract (sasrec
        indexes its last real position and failed on it with IndexError)."""
        counts = keep.sum(1)  # [B] items each row keeps
        width = max(1, int(counts.max()))
        rows, cols = np.nonzero(keep)  # row-major: each row's kept positions in history order
        starts = np.repeat(np.cumsum(counts) - counts, counts)  # [nnz] index of each row's first kept item
        slots = np.arange(len(rows)) - starts  # [nnz] where each kept item goes in its row
        items = np.zeros((len(keep), width), dtype=np.int64)  # [B, L'] padding 0
        items[rows, slots] = self.history[cols]
        mask = np.arange(width)[None, :] < counts[:, None]  # [B, L']
        return torch.from_numpy(items), torch.from_numpy(mask)

    def interests_kept(self, keep: np.ndarray, buckets: int = 8) -> Tensor:
        """Interest vectors of the history restricted to each row of ``keep`` [B, L]: [B, K, d].

        Rows are grouped by how many items they keep and each group is padded only to its own longest row,
        so short histories do not pay for full-width padding (about half the work for deletion curves).
        """
        order = np.argsort(keep.sum(1), kind="stable")  # [B] shortest rows first
        parts = []
        with torch.no_grad():
            for part in np.array_split(order, min(buckets, len(order))):
                items, mask = self.pack_kept(keep[part])  # [b, L'] with L' this group's longest row
                parts.append(self._interests_packed(items, mask))  # [b, K, d]
        back = torch.from_numpy(np.argsort(order, kind="stable"))  # [B] inverse permutation
        return torch.cat(parts)[back]  # [B, K, d]

    @cached_property
    def embeds_by_lookup(self) -> bool:
        """Whether ``embed_history`` of this history (and of padding) is exactly its rows of the scoring
        table, as for every model built on ``HistoryEmbedding``: edited copies of the history are then
        embedded by indexing the table instead of re-running the embedding (with its side features) on
        every position of every copy. Checked, not assumed, so a model whose history embedding adds
        positions or context keeps its own ``embed_history``."""
        ids = torch.from_numpy(np.append(self.history, 0))[None]  # [1, L+1] the history, then padding
        with torch.no_grad():
            return torch.equal(self.model.embed_history(ids), self.table[ids])

    def _interests_packed(self, items: Tensor, mask: Tensor) -> Tensor:
        """``model.interests(items, mask)`` for a batch of edited copies of the history: [B, K, d]."""
        if self.embeds_by_lookup:
            embedded = self.table.index_select(0, items.reshape(-1)).view(*items.shape, -1)  # [B, L, d]
            return self.model.interests_from_embedded(embedded, items, mask)  # [B, K, d]
        return self.model.interests(items, mask)  # [B, K, d]

    def scores(self, vectors: Tensor, dense: Tensor, interest: Tensor, rows: Tensor | None = None) -> Tensor:
        """s_j(t) per row: row b scores ``vectors[rows[b], interest[b]]`` (``rows`` defaults to 0..B-1),
        vectors [R, K, d], dense [B], interest [B] → [B]."""
        return (_pick(vectors, interest, rows) * self.table.index_select(0, dense)).sum(-1)  # [B]

    def ranks(self, vectors: Tensor, dense: Tensor, interest: Tensor, rows: Tensor | None = None,
              chunk: int = 512) -> Tensor:
        """The target's rank (1-based, ties counted against it) in interest j's ranking of the catalogue:
        1 + the number of other items scoring at least s_j(t) (as ``scores`` computes it), for row b's
        vector ``vectors[rows[b], interest[b]]`` (``rows`` default 0..B-1): vectors [R, K, d], rest [B] → [B].

        Rows that share a (row, interest) pair (the curves of targets retrieved by one interest under one
        order, the full history of every curve) are scored against the catalogue once, and the catalogue is
        walked in chunks, each block counted while it is in cache: the [B, N] scores are never stored.
        """
        rows = torch.arange(len(dense)) if rows is None else rows
        if len(dense) == 0:
            return torch.zeros(0, dtype=torch.long)
        K = vectors.shape[1]
        pairs, which = torch.unique(rows * K + interest, return_inverse=True)  # [P], [B]
        chosen = _pick(vectors, pairs % K, pairs // K)  # [P, d]
        own = self.scores(vectors, dense, interest, rows)[:, None]  # [B, 1] s_j(t), as the curves show it
        catalogue = self.table[1:]  # [N-1, d]
        by_column = torch.argsort(dense - 1)  # [B] rows in the order of their target's column in `catalogue`
        column = (dense - 1)[by_column]  # [B] ascending
        bounds = torch.searchsorted(column, torch.arange(0, len(catalogue) + chunk, chunk)).tolist()
        counts = torch.zeros(len(dense), dtype=torch.float64)  # [B]
        for c, start in enumerate(range(0, len(catalogue), chunk)):
            block = (chosen @ catalogue[start : start + chunk].T).index_select(0, which)  # [B, c]
            mine = slice(bounds[c], bounds[c + 1])  # the rows whose target is in this chunk
            block[by_column[mine], column[mine] - start] = torch.inf  # itself: counted once, however rounded
            counts += block.ge_(own).sum(1)  # [B] (ge_ in place on floats: 3x faster than a bool tensor)
        return counts.long()  # [B]

    @cached_property
    def history_matters(self) -> bool:
        """False for models whose interests ignore the history (popularity): every attribution is then 0."""
        items, mask = self.pack([self.history.tolist()])
        with torch.enable_grad():
            embedded = self.model.embed_history(items).detach().requires_grad_()  # [1, L, d]
            return bool(self.model.interests_from_embedded(embedded, items, mask).requires_grad)

    def targets(self, vectors: Tensor, item_ids: Sequence[int], dense: Sequence[int],
                interest: Sequence[int]) -> Targets:
        """Targets with their score s_j(t) and the catalogue statistics of interest j, from the full
        history's interest vectors [K, d]."""
        dense_t = torch.as_tensor(list(dense), dtype=torch.long)  # [T]
        interest_t = torch.as_tensor(list(interest), dtype=torch.long)  # [T]
        scores = (vectors[interest_t] * self.table[dense_t]).sum(-1)  # [T]
        if self.moments is not None:
            center, spread = self.moments.center_spread(vectors[interest_t])  # [T], [T]
        else:
            catalogue = (vectors @ self.table[1:].T).double()  # [K, N-1]
            center, spread = catalogue.mean(1)[interest_t].numpy(), catalogue.std(1)[interest_t].numpy()
        return Targets([int(i) for i in item_ids], dense_t, interest_t, scores.double().numpy(), center,
                       spread)

    @cached_property
    def attention(self) -> np.ndarray | None:
        """The model's attention of each interest over the history [K, L], or None without attention."""
        if not getattr(self.model, "has_attention", False):
            return None
        items, mask = self.pack([self.history.tolist()])
        try:
            with torch.no_grad():
                att = self.model.attention(items, mask)  # [1, K, Lp]
        except NoAttentionError:
            return None
        return att[0, :, : self.length].cpu().numpy().astype(np.float64)  # [K, L]
