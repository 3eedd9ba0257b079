"""SASRec exactly as RecBole 1.2.1 builds it (``recbole.model.sequential_recommender.sasrec``): item plus
learned position embeddings, LayerNorm and dropout, post-norm Transformer layers with RecBole's causal
-10000 mask, and the output at the last real position as the one interest (K = 1).

Unlike recviz's own ``sasrec`` (pre-norm, nanoGPT style), this is RecBole's architecture, so a RecBole
export loads here and scores the same (``recviz import recbole``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from recviz.models.base import NoAttentionError
from recviz.models.recbole_layers import (
    RecBoleModel,
    TransformerEncoder,
    causal_mask,
    gather_indexes,
    last_positions,
)
from recviz.models.registry import register


@register("recbole-sasrec")
class RecBoleSASRec(RecBoleModel):
    """K = 1: the last layer's output at the last real item. ``attention()`` is that position's attention
    row in the last layer, averaged over heads (0 on padding, summing to 1 over the history)."""

    name = "recbole-sasrec"

    def __init__(self, num_items: int, dim: int = 64, max_length: int = 50, n_layers: int = 2,
                 n_heads: int = 2, inner_size: int = 256, hidden_dropout_prob: float = 0.5,
                 attn_dropout_prob: float = 0.5, hidden_act: str = "gelu",
                 layer_norm_eps: float = 1e-12) -> None:
        super().__init__(num_items, dim, 1, max_length)
        self.n_layers, self.n_heads, self.inner_size = n_layers, n_heads, inner_size
        self.hidden_dropout_prob, self.attn_dropout_prob = hidden_dropout_prob, attn_dropout_prob
        self.hidden_act, self.layer_norm_eps = hidden_act, layer_norm_eps
        self.position_embedding = nn.Embedding(max_length, dim)
        self.trm_encoder = TransformerEncoder(n_layers, n_heads, dim, inner_size, hidden_dropout_prob,
                                              attn_dropout_prob, hidden_act, layer_norm_eps)
        self.LayerNorm = nn.LayerNorm(dim, eps=layer_norm_eps)
        self.dropout = nn.Dropout(hidden_dropout_prob)
        self.has_attention = n_layers > 0

    def _run(self, embedded: Tensor, mask: Tensor) -> tuple[Tensor, Tensor | None]:
        """Output at the last real position [B, d] and the last layer's attention probabilities there,
        averaged over heads [B, max_length] (None without layers)."""
        x, wide = self.full_width(embedded, mask)  # [B, Lmax, d], [B, Lmax]
        x = self.dropout(self.LayerNorm(x + self.position_embedding.weight[: x.shape[1]]))  # [B, Lmax, d]
        out, probs = self.trm_encoder(x, causal_mask(wide))  # [B, Lmax, d], [B, h, Lmax, Lmax]
        last = last_positions(wide)  # [B]
        rows = torch.arange(len(last), device=last.device)
        row = None if probs is None else probs[rows, :, last].mean(1)  # [B, Lmax]
        return gather_indexes(out, last), row

    def interests_from_embedded(self, embedded: Tensor, items: Tensor, mask: Tensor) -> Tensor:
        return self._run(embedded, mask)[0][:, None, :]  # [B, 1, d]

    def attention(self, items: Tensor, mask: Tensor) -> Tensor:
        _, row = self._run(self.embed_history(items), mask)
        if row is None:
            raise NoAttentionError("recbole-sasrec with n_layers=0 has no attention")
        return row[:, None, : items.shape[1]]  # [B, 1, L]

