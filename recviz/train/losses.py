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
    return sampled_softmax_loss(user, item_emb[targets], item_emb[negatives], targets, negatives)


def sampled_softmax_loss(user: Tensor, target_emb: Tensor, negative_emb: Tensor, targets: Tensor,
                         negatives: Tensor) -> Tensor:
    """Cross-entropy of each target against the batch's shared negatives, from their rows only: user [B, d],
    target_emb [B, d], negative_emb [M, d]; accidental hits (a negative equal to the target) masked."""
    pos = (user * target_emb).sum(-1, keepdim=True)  # [B, 1]
    neg = user @ negative_emb.T  # [B, M]
    neg = neg.masked_fill(negatives[None, :] == targets[:, None], torch.finfo(neg.dtype).min)  # [B, M]
    logits = torch.cat([pos, neg], dim=1)  # [B, 1 + M]
    return F.cross_entropy(logits, torch.zeros(len(targets), dtype=torch.long, device=user.device))


def batch_loss(model, items: Tensor, mask: Tensor, targets: Tensor, negatives: Tensor | None,
               selection: str = "argmax", power: float = 2.0) -> Tensor:
    """The training loss of one batch through the contract (interests, item_embeddings). A model with its
    own interest weights (SINE) is trained on its own fused user vector ``Σ_k w_k v_k``, as it ranks."""
    interests = model.interests(items, mask)  # [B, K, d]
    if negatives is None:
        item_emb = model.item_embeddings()  # [N, d]
        user = _user_vector(model, items, mask, interests, item_emb[targets], selection, power)  # [B, d]
        return softmax_loss(user, item_emb, targets, None)
    # a sampled softmax reads only the targets' and negatives' rows: a step costs the batch, not the catalogue
    picked = item_rows(model, torch.cat([targets, negatives]))  # [B + M, d]
    target_emb, negative_emb = picked[: len(targets)], picked[len(targets):]  # [B, d], [M, d]
    user = _user_vector(model, items, mask, interests, target_emb, selection, power)  # [B, d]
    return sampled_softmax_loss(user, target_emb, negative_emb, targets, negatives)


def _user_vector(model, items: Tensor, mask: Tensor, interests: Tensor, target_emb: Tensor, selection: str,
                 power: float) -> Tensor:
    """The vector trained against each target, [B, d]: the model's own fused vector ``Σ_k w_k v_k`` when it
    has interest weights (SINE), else the selected interest."""
    if getattr(model, "has_interest_weights", False):
        return model.interest_weights(items, mask).unsqueeze(2).mul(interests).sum(dim=1)  # [B, d]
    return select_interest(interests, target_emb, selection, power)  # [B, d]


def item_rows(model, ids: Tensor) -> Tensor:
    """The item embeddings of ``ids`` [R] → [R, d]: the model's ``item_rows`` when it has one (the built-in
    models do), else rows of the whole ``item_embeddings()`` table (a plugin's model)."""
    own = getattr(model, "item_rows", None)
    return own(ids) if own is not None else model.item_embeddings()[ids]  # [R, d]
