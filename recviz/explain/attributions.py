"""Attribution methods: one function per method, all with the same call shape (as in Captum), so a
table-driven test and the engine run every method the same way.

Each method answers, for each target t retrieved by interest j, "how much does each history item contribute
to s_j(t) = v_j · e_t", the score of the interest that retrieved the target (not the fused score, which mixes
interests). Values are [T, L], one per target and history position (oldest first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from captum.attr import LayerIntegratedGradients
from torch import Tensor, nn

from recviz.explain.scorer import HistoryScorer, Targets
from recviz.options import ATTENTION, INTEGRATED_GRADIENTS, OCCLUSION
from recviz.options import METHODS as DESCRIPTORS


@dataclass
class MethodResult:
    values: np.ndarray                          # [T, L]
    baseline_scores: np.ndarray | None = None   # [T] s_j(t) at the baseline (IG)
    deltas: np.ndarray | None = None            # [T] sum(values) − (score − baseline score) (IG)


class _HistoryEmbedding(nn.Module):
    """The contract's ``embed_history`` as a module, so Captum can hook its output (for the models in
    recviz.models this is exactly ``model.history_embedding``)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, items: Tensor) -> Tensor:
        return self.model.embed_history(items)  # [B, L, d]


def integrated_gradients(scorer: HistoryScorer, targets: Targets, steps: int = 50) -> MethodResult:
    """Captum ``LayerIntegratedGradients`` on the history embedding; baseline = every position at the padding
    index (its embedding is the zero row), the mask kept as in the real history. All steps of all targets run
    in one batched forward/backward pass. Completeness: sum(values) = s_j(t) − s_j(t | baseline) + delta."""
    model, T = scorer.model, len(targets)
    if not scorer.history_matters:  # nothing to integrate: the score is the same for every history
        return MethodResult(np.zeros((T, scorer.length)), targets.scores.copy(), np.zeros(T))
    layer = _HistoryEmbedding(model)
    items, mask = scorer.pack([scorer.history.tolist()])  # [1, Lp]
    items, mask = items.expand(T, -1), mask.expand(T, -1)  # [T, Lp]
    baseline = torch.zeros_like(items)  # [T, Lp] padding index everywhere

    def forward(items: Tensor, mask: Tensor, dense: Tensor, interest: Tensor) -> Tensor:
        vectors = model.interests_from_embedded(layer(items), items, mask)  # [B, K, d]
        return scorer.scores(vectors, dense, interest)  # [B]

    lig = LayerIntegratedGradients(forward, layer)
    with torch.enable_grad():
        attr, delta = lig.attribute(
            items, baselines=baseline, additional_forward_args=(mask, targets.dense, targets.interest),
            n_steps=steps, return_convergence_delta=True,
        )  # [T, Lp, d], [T]
    with torch.no_grad():
        base = forward(baseline, mask, targets.dense, targets.interest)  # [T]
    values = attr.detach().sum(-1)[:, : scorer.length]  # [T, L]
    return MethodResult(values.double().numpy(), base.double().numpy(), delta.detach().double().numpy())


def occlusion(scorer: HistoryScorer, targets: Targets, steps: int = 0) -> MethodResult:
    """Leave-one-out: s_j(t) on the full history minus s_j(t) with item i removed and the history re-packed.
    One batch of L histories serves every target.

    Removing the only item of a one-item history leaves the empty history; its score is the model's score
    for an all-padding input (one padding position, mask false; see ``HistoryScorer.pack_kept``), so the
    value is "s_j(t) − the score the model gives with no items at all". For popularity it is 0."""
    L = scorer.length
    keep = ~np.eye(L, dtype=bool)  # [L, L] row i drops position i
    vectors = scorer.interests_kept(keep)  # [L, K, d]
    rows = vectors.repeat(len(targets), 1, 1)  # [T*L, K, d]
    dense, interest = targets.repeat(L)  # [T*L]
    without = scorer.scores(rows, dense, interest).view(len(targets), L)  # [T, L]
    return MethodResult(targets.scores[:, None] - without.double().numpy())


def attention(scorer: HistoryScorer, targets: Targets, steps: int = 0) -> MethodResult:
    """The attention row of the interest that retrieved each target (rows sum to 1 over the history)."""
    att = scorer.attention  # [K, L]
    if att is None:
        raise ValueError("this model has no attention; check supports() first")
    return MethodResult(att[targets.interest.numpy()])


Method = Callable[[HistoryScorer, Targets, int], MethodResult]
# The compute function of each method descriptor (recviz.options.METHODS: names, labels, parameters, needs).
METHODS: dict[str, Method] = {
    INTEGRATED_GRADIENTS.name: integrated_gradients,
    OCCLUSION.name: occlusion,
    ATTENTION.name: attention,
}


def supports(model: nn.Module, method: str) -> bool:
    """Whether ``method`` can explain ``model``: what its descriptor needs (attention: a model with attention)
    read from the model contract's flags."""
    return DESCRIPTORS[method].supports(model)
