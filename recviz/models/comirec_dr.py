"""ComiRec-DR / MIND: the dynamic-routing (capsule) multi-interest extractor.

Each history item ``h_l`` is mapped to a prediction ``û_{k,l}`` for interest ``k`` (one bilinear map per
interest, ComiRec-DR, or one shared map, MIND). For 3 iterations the routing logits ``b`` [K, L] give
coupling coefficients ``c = softmax_K(b)`` (zero on padding), the capsules are ``v_k = squash(Σ_l c_{k,l}
û_{k,l})`` and ``b += û·v``. With per-interest maps ``b`` starts at 0 (ComiRec); a shared map needs a
symmetry-breaking start, a fixed random buffer here (MIND samples one per call, which is not reproducible).

Squashed capsules have norm < 1 while item embeddings grow to norm ≈ 4-5, so raw dot products cannot get
sharp enough to rank ~10k items (training loss stalls). A learned scalar score scale ``exp(log_scale)``
multiplies the capsules (a temperature on the interest vectors); it leaves each interest's ranking unchanged.

Options (all off by default, which is ComiRec-DR): the shared context before routing (dropout, a GRU encoder:
:class:`recviz.models.layers.HistoryContext`) and learned positions added to the routed vectors
(``position="absolute"`` from the oldest kept item, ``"recency"`` from the most recent one).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from recviz.models.layers import POSITIONS, HistoryContext, HistoryModel, check_choice, position_ids
from recviz.models.registry import register


def squash(s: Tensor, eps: float = 1e-9) -> Tensor:
    """Capsule non-linearity: keeps the direction, maps the norm n to n² / (1 + n²)."""
    norm2 = (s * s).sum(-1, keepdim=True)  # [..., 1]
    return s * norm2 / (1 + norm2) / torch.sqrt(norm2 + eps)  # [..., d]


@register("comirec-dr")
class ComiRecDR(HistoryModel):
    """Dynamic-routing extractor.

    ``attention()`` returns the final coupling coefficients (those that built the interests). Routing
    normalises them over the interests for each item; the contract wants rows that sum to 1 over the history,
    so each interest's row is renormalised over the masked history: "the share of interest k's input that came
    from item l".
    """

    name = "comirec-dr"

    def __init__(self, num_items: int, dim: int = 64, num_interests: int = 4, max_length: int = 50,
                 iterations: int = 3, shared_map: bool = False, dropout: float = 0.0, encoder: str = "none",
                 position: str = "none", num_genres: int = 0, num_year_buckets: int = 0) -> None:
        super().__init__(num_items, dim, num_interests, max_length, num_genres, num_year_buckets)
        check_choice("position", position, POSITIONS)
        self.iterations, self.shared_map = iterations, shared_map
        self.dropout, self.encoder, self.position = dropout, encoder, position
        self.context = HistoryContext(dim, encoder, dropout)
        if position != "none":
            self.positions = nn.Parameter(torch.randn(max_length, dim) * dim ** -0.5)  # [L_max, d]
        maps = 1 if shared_map else num_interests
        self.maps = nn.Parameter(torch.randn(maps, dim, dim) * dim ** -0.5)  # [K or 1, d, d]
        init = torch.randn(num_interests, max_length, generator=torch.Generator().manual_seed(0))
        self.register_buffer("routing_init", init if shared_map else torch.zeros(num_interests, max_length))
        self.log_scale = nn.Parameter(torch.tensor(math.log(math.sqrt(dim))))  # score scale, starts at √d

    def _route(self, embedded: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Interests [B, K, d] and the final coupling coefficients [B, K, L] (softmax over K, 0 on
        padding)."""
        B, L, _ = embedded.shape
        h = self.context(embedded, mask)  # [B, L, d]
        if self.position != "none":
            pos = self.positions[position_ids(mask, self.position)]  # [B, L, d]
            h = h + pos * mask[..., None].to(h.dtype)  # [B, L, d]
        u_hat = torch.einsum("bld,kde->bkle", h, self.maps)  # [B, K or 1, L, d]
        u_hat = u_hat.expand(B, self.num_interests, L, self.dim)  # [B, K, L, d]
        # ComiRec's training trick: routing updates do not backpropagate. In eval mode gradients flow through
        # every iteration (same values), so Integrated Gradients on the history embedding stays complete.
        u_fixed = u_hat.detach() if self.training else u_hat  # [B, K, L, d]
        b = self.routing_init[:, :L].expand(B, -1, -1)  # [B, K, L]
        keep = mask[:, None, :].to(embedded.dtype)  # [B, 1, L]
        for it in range(self.iterations):
            c = torch.softmax(b, dim=1) * keep  # [B, K, L]
            last = it == self.iterations - 1
            u = u_hat if last else u_fixed  # [B, K, L, d]
            v = squash((c[..., None] * u).sum(2))  # [B, K, d]
            if not last:
                b = b + (u_fixed * v[:, :, None, :]).sum(-1)  # [B, K, L]
        return v, c

    def interests_from_embedded(self, embedded: Tensor, items: Tensor, mask: Tensor) -> Tensor:
        return self._route(embedded, mask)[0] * self.log_scale.exp()  # [B, K, d]

    def attention(self, items: Tensor, mask: Tensor) -> Tensor:
        _, c = self._route(self.embed_history(items), mask)  # [B, K, L]
        return c / c.sum(-1, keepdim=True).clamp_min(1e-12)  # [B, K, L]
