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


class HistoryScorer:
    """Packs histories the model's way (left-aligned, most recent ``max_length``) and scores targets."""

    def __init__(self, model: torch.nn.Module, history: Sequence[int]) -> None:
        self.model = model
        self.history = np.asarray(list(history), dtype=np.int64)  # [L] dense ids, oldest first
        with torch.no_grad():
            self.table = model.item_embeddings().detach()  # [N, d]

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
        order = np.argsort(~keep, axis=1, kind="stable")  # [B, L] kept positions first, in history order
        kept = np.take_along_axis(keep, order, axis=1)  # [B, L]
        width = max(1, int(kept.sum(1).max()))
        items = np.where(kept, self.history[order], 0)[:, :width]  # [B, L']
        return torch.from_numpy(np.ascontiguousarray(items)), torch.from_numpy(np.ascontiguousarray(kept[:, :width]))

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
                parts.append(self.model.interests(items, mask))  # [b, K, d]
        back = torch.from_numpy(np.argsort(order, kind="stable"))  # [B] inverse permutation
        return torch.cat(parts)[back]  # [B, K, d]

    def scores(self, vectors: Tensor, dense: Tensor, interest: Tensor) -> Tensor:
        """s_j(t) per row: vectors [B, K, d], dense [B], interest [B] → [B]."""
        chosen = vectors[torch.arange(len(dense)), interest]  # [B, d]
        return (chosen * self.table[dense]).sum(-1)  # [B]

    def ranks(self, vectors: Tensor, dense: Tensor, interest: Tensor) -> Tensor:
        """The target's rank (1-based, ties counted against it) in interest j's ranking of the whole catalogue."""
        chosen = vectors[torch.arange(len(dense)), interest]  # [B, d]
        every = chosen @ self.table[1:].T  # [B, N-1]
        own = every.gather(1, (dense - 1)[:, None])  # [B, 1]
        return (every >= own).sum(1, dtype=torch.int32).long()  # [B] (int32 sum: 2x faster than bool→int64)

    @cached_property
    def history_matters(self) -> bool:
        """False for models whose interests ignore the history (popularity): every attribution is then 0."""
        items, mask = self.pack([self.history.tolist()])
        with torch.enable_grad():
            embedded = self.model.embed_history(items).detach().requires_grad_()  # [1, L, d]
            return bool(self.model.interests_from_embedded(embedded, items, mask).requires_grad)

    def targets(self, vectors: Tensor, item_ids: Sequence[int], dense: Sequence[int], interest: Sequence[int]) -> Targets:
        """Targets with their score s_j(t) and the catalogue statistics of interest j, from the full
        history's interest vectors [K, d]."""
        dense_t = torch.as_tensor(list(dense), dtype=torch.long)  # [T]
        interest_t = torch.as_tensor(list(interest), dtype=torch.long)  # [T]
        catalogue = (vectors @ self.table[1:].T).double()  # [K, N-1]
        scores = (vectors[interest_t] * self.table[dense_t]).sum(-1)  # [T]
        return Targets(
            [int(i) for i in item_ids], dense_t, interest_t, scores.double().numpy(),
            catalogue.mean(1)[interest_t].numpy(), catalogue.std(1)[interest_t].numpy(),
        )

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
