"""Training losses against the model contract: pick the interest that answers the target, then a sampled
(or full) softmax over items."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def select_interest(interests: Tensor, target_emb: Tensor, selection: str, power: float = 2.0) -> Tensor:
    """The user vector trained against each target, [B, d].

    ``argmax`` (ComiRec): the interest with the highest score for the target (hard choice, no gradient through
    the choice). ``label-aware`` (MIND): ``Σ_k softmax_k(p · v_k·e_t) v_k``; we scale the scores by p
    instead of MIND's ``pow(v·e, p)``, which flips the sign of negative scores for even p; p → ∞ tends to
    argmax.
    """
    scores = torch.einsum("bkd,bd->bk", interests, target_emb)  # [B, K]
    if selection == "argmax":
        best = scores.detach().argmax(-1)  # [B]
        return interests[torch.arange(len(best)), best]  # [B, d]
    if selection == "label-aware":
        weights = torch.softmax(power * scores, dim=-1)  # [B, K]
        return torch.einsum("bk,bkd->bd", weights, interests)  # [B, d]
    raise ValueError(f"unknown interest selection {selection!r}")


def softmax_loss(user: Tensor, item_emb: Tensor, targets: Tensor, negatives: Tensor | None) -> Tensor:
    """Cross-entropy of the target among items: all items 1..N-1 (``negatives`` None) or the target plus a
    set of negatives shared by the batch (uniformly drawn, so no logQ correction; accidental hits masked)."""
    if negatives is None:
        logits = user @ item_emb.T  # [B, N]
        logits[:, 0] = torch.finfo(logits.dtype).min  # the padding row is never a candidate
        return F.cross_entropy(logits, targets)
    pos = (user * item_emb[targets]).sum(-1, keepdim=True)  # [B, 1]
    neg = user @ item_emb[negatives].T  # [B, M]
    neg = neg.masked_fill(negatives[None, :] == targets[:, None], torch.finfo(neg.dtype).min)  # [B, M]
    logits = torch.cat([pos, neg], dim=1)  # [B, 1 + M]
    return F.cross_entropy(logits, torch.zeros(len(targets), dtype=torch.long, device=user.device))


def batch_loss(model, items: Tensor, mask: Tensor, targets: Tensor, negatives: Tensor | None,
               selection: str = "argmax", power: float = 2.0) -> Tensor:
    """The training loss of one batch through the contract (interests, item_embeddings). A model with its
    own interest weights (SINE) is trained on its own fused user vector ``Σ_k w_k v_k``, as it ranks."""
    item_emb = model.item_embeddings()  # [N, d]
    interests = model.interests(items, mask)  # [B, K, d]
    if getattr(model, "has_interest_weights", False):
        user = model.interest_weights(items, mask).unsqueeze(2).mul(interests).sum(dim=1)  # [B, d]
    else:
        user = select_interest(interests, item_emb[targets], selection, power)  # [B, d]
    return softmax_loss(user, item_emb, targets, negatives)
