"""SASRec (Kang & McAuley, 2018) as a single-interest baseline: a causal Transformer over the history."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from recviz.models.layers import HistoryModel, TransformerBlock
from recviz.models.registry import register


@register("sasrec")
class SASRec(HistoryModel):
    """K = 1 interest: the output at the last real position of a causal Transformer (learned positions).

    ``attention()`` is the last layer's attention row of that position, averaged over heads; it is causal and
    key-masked, so it sums to 1 over the real items and is 0 on padding.
    """

    name = "sasrec"

    def __init__(self, num_items: int, dim: int = 64, max_length: int = 50, num_layers: int = 2,
                 heads: int = 2, dropout: float = 0.2, num_genres: int = 0,
                 num_year_buckets: int = 0) -> None:
        super().__init__(num_items, dim, 1, max_length, num_genres, num_year_buckets)
        self.num_layers, self.heads, self.dropout = num_layers, heads, dropout
        self.positions = nn.Parameter(torch.randn(max_length, dim) * dim ** -0.5)  # [L_max, d]
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(TransformerBlock(dim, heads, dropout) for _ in range(num_layers))
        self.ln = nn.LayerNorm(dim)

    def _run(self, embedded: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Output at the last real position [B, d] and the last layer's attention row there [B, L]."""
        B, L, _ = embedded.shape
        x = self.drop(embedded + self.positions[:L]) * mask[..., None].to(embedded.dtype)  # [B, L, d]
        att = torch.zeros(B, 1, L, L, dtype=x.dtype, device=x.device)  # [B, h, L, L]
        for block in self.blocks:
            x, att = block(x, mask, causal=True)  # [B, L, d], [B, h, L, L]
        last = (mask.sum(-1) - 1).clamp_min(0)  # [B]
        rows = torch.arange(B, device=x.device)
        out = self.ln(x[rows, last])  # [B, d]
        return out, att[rows, :, last].mean(1)  # [B, d], [B, L]

    def interests_from_embedded(self, embedded: Tensor, items: Tensor, mask: Tensor) -> Tensor:
        return self._run(embedded, mask)[0][:, None, :]  # [B, 1, d]

    def attention(self, items: Tensor, mask: Tensor) -> Tensor:
        if not self.blocks:
            raise ValueError("sasrec with num_layers=0 has no attention")
        return self._run(self.embed_history(items), mask)[1][:, None, :]  # [B, 1, L]
