"""QueryPool: K learned queries, each attending over the history; interest k is its attention-weighted mean.

``A[k, t] = softmax_t(q_k · tanh(W e_t) / √d)`` over the real items, ``v_k = Σ_t A[k, t] e_t``. It is
deliberately small: the point is the plugin mechanics. Subclassing :class:`recviz.models.layers.HistoryModel`
gives the contract's plumbing (the item table, ``embed_history`` through the layer Captum hooks,
``interests`` and ``config()`` read back from the constructor's arguments); the model writes only its
layers, ``interests_from_embedded`` and ``attention``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from recviz.models.layers import HistoryModel, masked_softmax


class QueryPool(HistoryModel):
    """K query vectors attend over the history (rows of ``attention()`` sum to 1 over the real items)."""

    name = "example-query-pool"  # must equal the entry point's name in pyproject.toml
    has_attention = True

    def __init__(self, num_items: int, dim: int = 32, num_interests: int = 3, max_length: int = 50) -> None:
        super().__init__(num_items, dim, num_interests, max_length)
        self.keys = nn.Linear(dim, dim, bias=False)
        self.queries = nn.Parameter(torch.randn(num_interests, dim) / math.sqrt(dim))  # [K, d]

    def attention_from_embedded(self, embedded: Tensor, mask: Tensor) -> Tensor:
        keys = torch.tanh(self.keys(embedded))  # [B, L, d]
        logits = torch.einsum("kd,bld->bkl", self.queries, keys) / math.sqrt(self.dim)  # [B, K, L]
        return masked_softmax(logits, mask[:, None, :])  # [B, K, L]

    def interests_from_embedded(self, embedded: Tensor, items: Tensor, mask: Tensor) -> Tensor:
        return self.attention_from_embedded(embedded, mask) @ embedded  # [B, K, d]

    def attention(self, items: Tensor, mask: Tensor) -> Tensor:
        return self.attention_from_embedded(self.embed_history(items), mask)  # [B, K, L]
