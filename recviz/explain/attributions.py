"""Attribution methods: one function per method, all with the same call shape (as in Captum), so a
table-driven test and the engine run every method the same way.

Each method answers, for each target t retrieved by interest j, "how much does each history item contribute
to s_j(t) = v_j · e_t", the score of the interest that retrieved the target (not the fused score, which mixes
interests). Values are [T, L], one per target and history position (oldest first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor, nn

from recviz.explain.scorer import HistoryScorer, Targets
from recviz.options import ATTENTION, INTEGRATED_GRADIENTS, OCCLUSION
from recviz.options import METHODS as DESCRIPTORS


@dataclass
class MethodResult:
    values: np.ndarray                          # [T, L]
    baseline_scores: np.ndarray | None = None   # [T] s_j(t) at the baseline (IG)
    deltas: np.ndarray | None = None            # [T] sum(values) − (score − baseline score) (IG)


@lru_cache(maxsize=16)
def gauss_legendre(steps: int) -> tuple[Tensor, Tensor]:
    """Captum's default quadrature ("gausslegendre") rescaled to [0, 1]: (weights, points), [S] each. Cached:
    numpy's solve costs about a millisecond."""
    points, weights = np.polynomial.legendre.leggauss(steps)  # on [-1, 1]
    return torch.tensor(0.5 * weights).float(), torch.tensor(0.5 * (1 + points)).float()


def integrated_gradients(scorer: HistoryScorer, targets: Targets, steps: int = 50) -> MethodResult:
    """Integrated Gradients on the history embedding: what Captum's ``LayerIntegratedGradients`` computes on
    ``embed_history`` (its default Gauss-Legendre steps and weights, ``multiply_by_inputs``), with baseline =
    every position at the padding index (its embedding is the zero row), the mask kept as in the real history.
    Completeness: sum(values) = s_j(t) − s_j(t | baseline) + delta.

    Every target integrates along the same path, so the path's ``steps`` points run through the model ONCE
    and a single backward pass, batched over the T targets (``is_grads_batched``), gives every target's
    gradients at every step: one forward of S rows and one backward instead of Captum's T×S rows each way."""
    model, T = scorer.model, len(targets)
    if T == 0 or not scorer.history_matters:  # nothing to integrate: the score is the same for every history
        return MethodResult(np.zeros((T, scorer.length)), targets.scores.copy(), np.zeros(T))
    items, mask = scorer.pack([scorer.history.tolist()])  # [1, Lp]
    sizes, alphas = gauss_legendre(steps)  # [S], [S]
    with torch.no_grad():
        ends = model.embed_history(torch.cat([items, torch.zeros_like(items)]))  # [2, Lp, d] history, padding
        end, start = ends[:1], ends[1:]  # [1, Lp, d] each
        path = start + alphas[:, None, None] * (end - start)  # [S, Lp, d] baseline → history
        both = model.interests_from_embedded(ends, items.expand(2, -1), mask.expand(2, -1))  # [2, K, d]
    path.requires_grad_()
    with torch.enable_grad():
        ids, kept = items.expand(steps, -1), mask.expand(steps, -1)  # [S, Lp] the history at every step
        vectors = model.interests_from_embedded(path, ids, kept)  # [S, K, d]
        seeds = torch.zeros(T, *vectors.shape)  # [T, S, K, d] d s_j(t) / d vectors: e_t at interest j
        seeds[torch.arange(T), :, targets.interest] = scorer.table[targets.dense][:, None, :]
        try:
            (grads,) = torch.autograd.grad(vectors, path, seeds, retain_graph=True, is_grads_batched=True)
        except RuntimeError:  # a backward vmap cannot batch (data-dependent branching): one per target
            grads = torch.stack([torch.autograd.grad(vectors, path, s, retain_graph=True)[0] for s in seeds])
    attr = (grads * sizes[None, :, None, None]).sum(1) * (end - start)  # [T, Lp, d]
    full, base = (scorer.scores(both, targets.dense, targets.interest, torch.full((T,), r)) for r in (0, 1))
    delta = attr.reshape(T, -1).sum(1) - (full - base)  # [T]
    values = attr.sum(-1)[:, : scorer.length]  # [T, L]
    return MethodResult(values.double().numpy(), base.double().numpy(), delta.double().numpy())


def occlusion(scorer: HistoryScorer, targets: Targets, steps: int = 0) -> MethodResult:
    """Leave-one-out: s_j(t) on the full history minus s_j(t) with item i removed and the history re-packed.
    One batch of L histories serves every target.

    Removing the only item of a one-item history leaves the empty history; its score is the model's score
    for an all-padding input (one padding position, mask false; see ``HistoryScorer.pack_kept``), so the
    value is "s_j(t) − the score the model gives with no items at all". For popularity it is 0."""
    L = scorer.length
    keep = ~np.eye(L, dtype=bool)  # [L, L] row i drops position i
    vectors = scorer.interests_kept(keep)  # [L, K, d]
    dense, interest = targets.repeat(L)  # [T*L]
    without = scorer.scores(vectors, dense, interest, torch.arange(L).repeat(len(targets)))  # [T*L]
    return MethodResult(targets.scores[:, None] - without.view(len(targets), L).double().numpy())


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
