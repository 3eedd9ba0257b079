"""SINE (Tan et al., WSDM 2021) exactly as RecBole 1.2.1 builds it (``recbole.model.sequential_recommender.
sine``): RecBole's multi-interest model, with its own user-level fusion of the interests.

For a history ``x_u`` (always ``max_length`` wide: SINE's softmaxes also run over the padding positions, as
in RecBole), SINE activates the K prototypes ``C_u`` closest to the history, assigns each item to them
(``P_k_t``, softmax over the K interests) and weighs the items per interest (``P_t_k``, softmax over
positions); interest k is ``δ_k = normalize(Σ_t P_k_t[t, k] · P_t_k[k, t] · x_t)``. The user-level weights
``w_k = softmax_k(δ_k · LN(C_apt) / τ)`` fuse them into RecBole's user vector ``v_u = Σ_k w_k δ_k``, so its
score of item i is ``Σ_k w_k · s_k(i)``, the mission's ``R_u = Σ_j w_uj R_uj``: recviz's ``model`` fusion.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from recviz.models.recbole_layers import RecBoleModel
from recviz.models.registry import register


@register("recbole-sine")
class RecBoleSINE(RecBoleModel):
    """K interests ``δ_k`` [B, K, d]; ``attention()`` is each interest's weight of each history item
    (``P_k_t · P_t_k``) over the real items, renormalised to sum to 1 (the share SINE's softmaxes gave the
    padding positions is left out); ``interest_weights()`` is ``w_k`` [B, K]."""

    name = "recbole-sine"
    has_interest_weights = True

    def __init__(self, num_items: int, dim: int = 64, num_interests: int = 3, max_length: int = 50,
                 prototype_size: int = 50, tau_ratio: float = 0.1, layer_norm_eps: float = 1e-12) -> None:
        super().__init__(num_items, dim, num_interests, max_length)
        if not 1 <= num_interests <= prototype_size:
            raise ValueError(f"num_interests ({num_interests}) must be between 1 and prototype_size "
                             f"({prototype_size})")
        self.prototype_size, self.tau_ratio, self.layer_norm_eps = prototype_size, tau_ratio, layer_norm_eps
        K, d = num_interests, dim
        self.w1 = nn.Parameter(torch.randn(d, d) * 0.01)  # [d, d]
        self.w2 = nn.Parameter(torch.randn(d) * 0.01)  # [d]
        self.w3 = nn.Parameter(torch.randn(d, d) * 0.01)  # [d, d]
        self.w4 = nn.Parameter(torch.randn(d) * 0.01)  # [d]
        self.C = nn.Embedding(prototype_size, d)  # [P, d] the prototypes
        nn.init.xavier_normal_(self.C.weight)
        self.w_k_1 = nn.Parameter(torch.randn(K, d, d) * 0.01)  # [K, d, d]
        self.w_k_2 = nn.Parameter(torch.randn(K, d) * 0.01)  # [K, d]
        self.ln2 = nn.LayerNorm(d, eps=layer_norm_eps)
        self.ln4 = nn.LayerNorm(d, eps=layer_norm_eps)

    def _forward(self, embedded: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """RecBole's ``SINE.forward`` up to the fusion: interests δ [B, K, d], weights w [B, K] and the
        per-interest item weights ``P_k_t · P_t_k`` [B, K, Lmax]."""
        K, d = self.num_interests, self.dim
        x_u, _ = self.full_width(embedded, mask)  # [B, Lmax, d]
        L = x_u.shape[1]
        # concept activation: the K prototypes closest to the attention-pooled history
        x = torch.matmul(torch.tanh(torch.matmul(x_u, self.w1)), self.w2)  # [B, Lmax]
        a = F.softmax(x, dim=1)  # [B, Lmax]  over every position, padding included
        z_u = torch.matmul(a.unsqueeze(2).transpose(1, 2), x_u).transpose(1, 2)  # [B, d, 1]
        s_u = torch.matmul(self.C.weight, z_u).squeeze(2)  # [B, P]
        idx = s_u.argsort(1)[:, -K:]  # [B, K]
        s_u_idx = s_u.sort(1)[0][:, -K:]  # [B, K]
        C_u = self.C(idx).mul(torch.sigmoid(s_u_idx.unsqueeze(2).repeat(1, 1, d)))  # [B, K, d]
        # intention assignment: each item's softmax over the K interests
        w3_x_u_norm = F.normalize(x_u.matmul(self.w3), p=2, dim=2)  # [B, Lmax, d]
        P_k_t = torch.bmm(w3_x_u_norm, self.ln2(C_u).transpose(1, 2))  # [B, Lmax, K]
        P_k_t_b = F.softmax(P_k_t, dim=2)  # [B, Lmax, K]
        # attention weighting: each interest's softmax over the positions
        a_k = x_u.unsqueeze(1).repeat(1, K, 1, 1).matmul(self.w_k_1)  # [B, K, Lmax, d]
        logits = torch.tanh(a_k).matmul(self.w_k_2.reshape(K, d, 1)).squeeze(3)  # [B, K, Lmax]
        P_t_k = F.softmax(logits, dim=2)  # [B, K, Lmax]
        # interest embedding generation
        mul_p = P_k_t_b.transpose(1, 2).mul(P_t_k)  # [B, K, Lmax]
        delta_k = x_u.unsqueeze(1).repeat(1, K, 1, 1).mul(mul_p.unsqueeze(3)).sum(2)  # [B, K, d]
        delta_k = F.normalize(delta_k, p=2, dim=2)  # [B, K, d]
        # prototype sequence and the user-level aggregation weights
        x_u_bar = P_k_t_b.matmul(C_u)  # [B, Lmax, d]
        C_apt = F.softmax(torch.tanh(x_u_bar.matmul(self.w3)).matmul(self.w4), dim=1)  # [B, Lmax]
        C_apt = self.ln4(C_apt.reshape(-1, 1, L).matmul(x_u_bar))  # [B, 1, d]
        e_k = delta_k.bmm(C_apt.reshape(-1, d, 1)) / self.tau_ratio  # [B, K, 1]
        return delta_k, F.softmax(e_k.squeeze(2), dim=1), mul_p  # [B, K, d], [B, K], [B, K, Lmax]

    def interests_from_embedded(self, embedded: Tensor, items: Tensor, mask: Tensor) -> Tensor:
        return self._forward(embedded, mask)[0]  # [B, K, d]

    def interest_weights(self, items: Tensor, mask: Tensor) -> Tensor:
        return self._forward(self.embed_history(items), mask)[1]  # [B, K]

    def attention(self, items: Tensor, mask: Tensor) -> Tensor:
        weight = self._forward(self.embed_history(items), mask)[2][:, :, : items.shape[1]]  # [B, K, L]
        weight = weight * mask[:, None, :].to(weight.dtype)  # [B, K, L] real items only
        return weight / weight.sum(-1, keepdim=True).clamp_min(torch.finfo(weight.dtype).tiny)  # [B, K, L]
