"""ComiRec-SA: the self-attentive multi-interest extractor (Cen et al., KDD 2020).

``A = softmax_L(W2 · tanh(W1 · (H + P)ᵀ))`` over the masked history gives K attention rows; the interests
are ``V = A · H``. Before extraction ``H`` may pass through the shared context (dropout, a GRU encoder:
:class:`recviz.models.layers.HistoryContext`) and optional Transformer encoder layers (bidirectional, over
the masked history). ``P`` is indexed from the oldest kept item (``position="absolute"``, ComiRec), from the
most recent one (``"recency"``) or left out (``"none"``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from recviz.models.layers import (
    POSITIONS,
    HistoryContext,
    HistoryModel,
    TransformerBlock,
    check_choice,
    masked_softmax,
    position_ids,
)
from recviz.models.registry import register


@register("comirec-sa")
class ComiRecSA(HistoryModel):
    """Self-attentive extractor; ``attention()`` is ``A`` itself (rows sum to 1 over the mask)."""

    name = "comirec-sa"

    def __init__(self, num_items: int, dim: int = 64, num_interests: int = 4, max_length: int = 50,
                 hidden: int = 256, num_layers: int = 0, heads: int = 2, dropout: float = 0.0,
                 encoder: str = "none", position: str = "absolute",
                 num_genres: int = 0, num_year_buckets: int = 0) -> None:
        super().__init__(num_items, dim, num_interests, max_length, num_genres, num_year_buckets)
        check_choice("position", position, POSITIONS)
        self.hidden, self.num_layers, self.heads, self.dropout = hidden, num_layers, heads, dropout
        self.encoder_kind, self.position = encoder, position
        self.context = HistoryContext(dim, encoder, dropout)
        if position != "none":
            self.positions = nn.Parameter(torch.randn(max_length, dim) * dim ** -0.5)  # [L_max, d]
        self.encoder = nn.ModuleList(TransformerBlock(dim, heads, dropout) for _ in range(num_layers))
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, num_interests, bias=False)

    def config(self) -> dict:
        return {**super().config(), "encoder": self.encoder_kind}

    def _encode(self, embedded: Tensor, mask: Tensor) -> Tensor:
        h = self.context(embedded, mask)  # [B, L, d]
        for block in self.encoder:
            h, _ = block(h, mask, causal=False)  # [B, L, d]
        return h

    def _attend(self, h: Tensor, mask: Tensor) -> Tensor:
        keys = h if self.position == "none" else h + self.positions[position_ids(mask, self.position)]
        logits = self.w2(torch.tanh(self.w1(keys)))  # [B, L, K]
        return masked_softmax(logits.transpose(1, 2), mask[:, None, :])  # [B, K, L]

    def interests_from_embedded(self, embedded: Tensor, items: Tensor, mask: Tensor) -> Tensor:
        h = self._encode(embedded, mask)  # [B, L, d]
        return self._attend(h, mask) @ h  # [B, K, d]

    def attention(self, items: Tensor, mask: Tensor) -> Tensor:
        return self._attend(self._encode(self.embed_history(items), mask), mask)  # [B, K, L]
