"""Most-popular baseline written against the contract: every user gets the same scores log(1 + count)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from recviz.models.base import NoAttentionError
from recviz.models.layers import HistoryModel
from recviz.models.registry import register


class CountEmbedding(nn.Module):
    """Item id → [log(1 + training count)] (d = 1); the counts are a buffer, so checkpoints carry them."""

    def __init__(self, num_items: int) -> None:
        super().__init__()
        self.register_buffer("log_counts", torch.zeros(num_items, 1))  # [N, 1]

    def forward(self, items: Tensor) -> Tensor:
        return self.log_counts[items]  # [B, L, 1]

    def table(self) -> Tensor:
        return self.log_counts  # [N, 1]


@register("popularity")
class Popularity(HistoryModel):
    """K = 1, d = 1: item embedding = log1p(count), interest = 1, so ``v·e_i = log(1 + count_i)``.

    The history does not matter, so there is no attention: ``attention()`` raises ``NoAttentionError``.
    """

    name = "popularity"
    has_attention = False

    def __init__(self, num_items: int, max_length: int = 50) -> None:
        super().__init__(num_items, 1, 1, max_length)
        self.history_embedding = CountEmbedding(num_items)

    def fit_counts(self, counts: np.ndarray) -> Popularity:
        """Set the item counts ([N] training interactions per dense index); returns self."""
        if counts.shape != (self.num_items,):
            raise ValueError(f"counts must have shape ({self.num_items},), got {counts.shape}")
        self.history_embedding.log_counts.copy_(
            torch.log1p(torch.as_tensor(counts, dtype=torch.float32))[:, None])
        return self

    def interests_from_embedded(self, embedded: Tensor, items: Tensor, mask: Tensor) -> Tensor:
        return torch.ones(embedded.shape[0], 1, 1, dtype=embedded.dtype, device=embedded.device)  # [B, 1, 1]

    def attention(self, items: Tensor, mask: Tensor) -> Tensor:
        raise NoAttentionError("the popularity baseline ignores the history, so it has no attention")
