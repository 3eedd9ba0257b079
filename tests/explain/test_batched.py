"""The batched explanation paths (issue #10 point 4) against their one-at-a-time references, on a real
(saved and re-loaded) checkpoint of every registered model:

- Integrated Gradients (one forward over the path shared by every target, one backward batched over the
  targets) = Captum's ``LayerIntegratedGradients`` on ``embed_history``, run separately for each target;
- the deletion curves (every method, target, step and random order in one deduplicated batch, ranks counted
  in catalogue chunks) = each curve re-scored history by history through ``model.interests`` with the whole
  catalogue ranked in one row;
- the pieces they rest on: ranks with exact ties and chunk boundaries, edited copies embedded by table
  lookup only when that is what the model's embedding does, and the byte-packed row deduplication.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import LayerIntegratedGradients
from torch import Tensor, nn

from recviz.explain.attributions import METHODS, supports
from recviz.explain.faithfulness import deletion_curves, deletion_order, normalised_area, unique_rows
from recviz.explain.scorer import HistoryScorer, Targets
from recviz.models.registry import MODEL_NAMES
from recviz.models.scoring import fuse, interest_scores, pad_histories

STEPS = 50


@pytest.fixture(scope="module")
def history(sequences):
    return sequences.items[sequences.users()[11]][:12]


def _setup(ckpt, history_raw) -> tuple[HistoryScorer, Targets]:
    """Targets: the top non-history item of every interest (so each interest retrieves one) and the top 2
    fused items (so some interests retrieve two targets, whose curves share their deleted histories)."""
    dense = ckpt.vocab.encode(history_raw)
    scorer = HistoryScorer(ckpt.model, dense)
    vectors = scorer.interests([dense])[0]  # [K, d]
    per = interest_scores(vectors[None], scorer.table)[0].clone()  # [K, N]
    per[:, 0] = -np.inf
    per[:, torch.as_tensor(dense)] = -np.inf
    fused = fuse(per[None], "max")
    ids, interest = [], []
    for k in range(len(vectors)):
        ids.append(int(per[k].argmax()))
        interest.append(k)
    for i in torch.topk(fused.scores[0], len(ids) + 2).indices.tolist():
        if i not in ids and len(ids) < len(vectors) + 2:
            ids.append(i)
            interest.append(int(fused.contributor[0, i]))
    return scorer, scorer.targets(vectors, ckpt.vocab.decode(ids), ids, interest)


class _Embedding(nn.Module):
    """``embed_history`` as a module Captum can hook (what attributions.py used before it was batched)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, items: Tensor) -> Tensor:
        return self.model.embed_history(items)  # [B, L, d]


def _captum_per_target(scorer: HistoryScorer, targets: Targets, steps: int):
    """Captum LayerIntegratedGradients, a call per target: values [T, L], baseline scores [T], deltas [T]."""
    model, layer = scorer.model, _Embedding(scorer.model)
    items, mask = scorer.pack([scorer.history.tolist()])  # [1, Lp]

    def forward(items: Tensor, mask: Tensor, dense: Tensor, interest: Tensor) -> Tensor:
        return scorer.scores(model.interests_from_embedded(layer(items), items, mask), dense, interest)  # [B]

    lig = LayerIntegratedGradients(forward, layer)
    values, bases, deltas = [], [], []
    for t in range(len(targets)):
        args = (mask, targets.dense[t : t + 1], targets.interest[t : t + 1])
        attr, delta = lig.attribute(items, baselines=torch.zeros_like(items), additional_forward_args=args,
                                    n_steps=steps, return_convergence_delta=True)  # [1, Lp, d], [1]
        with torch.no_grad():
            bases.append(float(forward(torch.zeros_like(items), *args)[0]))
        values.append(attr.detach().sum(-1)[0, : scorer.length].double().numpy())
        deltas.append(float(delta[0]))
    return np.stack(values), np.array(bases), np.array(deltas)


HISTORY_MODELS = [n for n in MODEL_NAMES if n != "popularity"]  # popularity has no gradient to integrate


@pytest.mark.parametrize("name", HISTORY_MODELS)
def test_batched_integrated_gradients_equal_captum_per_target(checkpoints, history, name):
    scorer, targets = _setup(checkpoints[name], history)
    assert len(set(targets.interest.tolist())) == checkpoints[name].model.num_interests  # every interest
    result = METHODS["integrated_gradients"](scorer, targets, STEPS)
    values, bases, deltas = _captum_per_target(scorer, targets, STEPS)
    np.testing.assert_allclose(result.values, values, rtol=0, atol=1e-5)
    np.testing.assert_allclose(result.baseline_scores, bases, rtol=0, atol=1e-5)
    np.testing.assert_allclose(result.deltas, deltas, rtol=0, atol=1e-5)
    # completeness holds for the batched values as it does for Captum's
    gaps = targets.scores - result.baseline_scores  # [T]
    np.testing.assert_allclose(result.values.sum(1) - gaps, result.deltas, atol=1e-4)


class _DataDependentBackward(torch.autograd.Function):
    """Identity whose backward branches on a tensor's value, which a vmapped (batched) backward cannot do."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        return x.clone()

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        if grad.abs().max() > 1e30:  # is_nonzero: no batching rule
            raise AssertionError("unreachable")
        return grad


def test_integrated_gradients_fall_back_to_one_backward_per_target(checkpoints, history, monkeypatch):
    """A model whose backward vmap cannot batch still gets exact IG (one backward per target)."""
    model = checkpoints["comirec-sa"].model
    plain = model.interests_from_embedded
    monkeypatch.setattr(model, "interests_from_embedded",
                        lambda e, items, mask: _DataDependentBackward.apply(plain(e, items, mask)))
    scorer, targets = _setup(checkpoints["comirec-sa"], history)
    result = METHODS["integrated_gradients"](scorer, targets, 16)
    values, bases, deltas = _captum_per_target(scorer, targets, 16)
    np.testing.assert_allclose(result.values, values, rtol=0, atol=1e-5)
    np.testing.assert_allclose(result.deltas, deltas, rtol=0, atol=1e-5)


def _curve_reference(scorer: HistoryScorer, j: int, item: int, orders: np.ndarray):
    """Scores and ranks [len(orders), L] of one target under each deletion order, one history at a time
    through ``model.interests``, the whole catalogue ranked in one row (ties counted against the target)."""
    dense, L = scorer.history.tolist(), scorer.length
    scores, ranks = np.zeros((len(orders), L)), np.zeros((len(orders), L), dtype=int)
    for o, order in enumerate(orders):
        for k in range(L):
            v = scorer.interests([[dense[p] for p in sorted(order[k:])]])[0, j]  # [d]
            every = v @ scorer.table[1:].T  # [N-1]
            scores[o, k] = float(v @ scorer.table[item])
            ranks[o, k] = int((every >= every[item - 1]).sum())
    return scores, ranks


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_batched_deletion_curves_equal_per_curve_rescoring(checkpoints, history, name):
    ckpt = checkpoints[name]
    scorer, targets = _setup(ckpt, history[:8])
    values = {m: METHODS[m](scorer, targets, 8).values for m in METHODS if supports(ckpt.model, m)}
    curves = deletion_curves(scorer, targets, values, random_orders=3, seed=5)
    expected = [(m, i) for m in values for i in targets.item_ids]  # method-major, then target
    assert [(c.method, c.target_item_id) for c in curves] == expected
    rng = np.random.default_rng(5)
    random = np.stack([rng.permutation(scorer.length) for _ in range(3)])  # [R, L] as deletion_curves draws
    for c, curve in enumerate(curves):
        t = c % len(targets)
        j, item = int(targets.interest[t]), int(targets.dense[t])
        order = deletion_order(values[curve.method][t])[None]  # [1, L]
        scores, ranks = _curve_reference(scorer, j, item, order)
        np.testing.assert_allclose(curve.scores, scores[0], rtol=0, atol=1e-5)
        assert curve.ranks == ranks[0].tolist()
        area = normalised_area(scores[0], targets.center[t], targets.spread[t])
        assert curve.area == pytest.approx(float(area), abs=1e-5)
        rand, _ = _curve_reference(scorer, j, item, random)
        np.testing.assert_allclose(curve.random_scores, rand.mean(0), rtol=0, atol=1e-5)
        assert curve.random_area == pytest.approx(
            float(normalised_area(rand, targets.center[t], targets.spread[t]).mean()), abs=1e-5)


@pytest.mark.parametrize("chunk", [1, 7, 512, 100_000])
def test_ranks_count_ties_against_the_target_in_every_chunking(checkpoints, history, chunk):
    """Integer-valued vectors and table make every score exact, so duplicated table rows tie exactly: each
    tie counts against the target; rows sharing a (history, interest) pair and targets in the first and last
    chunk are all covered."""
    ckpt = checkpoints["comirec-sa"]
    scorer = HistoryScorer(ckpt.model, ckpt.vocab.encode(history))
    gen = torch.Generator().manual_seed(0)
    N, d = scorer.table.shape
    table = torch.randint(-3, 4, (N, d), generator=gen).float()  # [N, d]
    table[0] = 0
    table[[5, 9, N - 1]] = table[2].clone()  # items 5, 9 and the last tie with item 2 on every vector
    scorer.table = table
    vectors = torch.randint(-3, 4, (4, 2, d), generator=gen).float()  # [R=4, K=2, d]
    rows = torch.tensor([0, 0, 0, 1, 3, 3, 2, 0])
    interest = torch.tensor([1, 1, 0, 0, 1, 1, 0, 1])
    dense = torch.tensor([2, 1, 2, N - 1, 9, 3, 2, 5])
    got = scorer.ranks(vectors, dense, interest, rows, chunk=chunk)
    every = vectors[rows, interest] @ table[1:].T  # [B, N-1]
    own = every.gather(1, (dense - 1)[:, None])  # [B, 1]
    assert got.tolist() == (every >= own).sum(1).tolist()
    assert got.tolist() == scorer.ranks(vectors[rows], dense, interest, chunk=chunk).tolist()  # rows default


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_edited_copies_are_embedded_by_lookup_exactly_when_the_model_does(checkpoints, history, name):
    ckpt = checkpoints[name]
    scorer = HistoryScorer(ckpt.model, ckpt.vocab.encode(history))
    assert scorer.embeds_by_lookup  # every recviz model embeds a history by its table rows
    keep = np.random.default_rng(3).random((9, len(history))) < 0.5
    keep[:, 0] = True
    expected = scorer.interests(scorer.subsets(keep))  # [9, K, d] via model.interests on pad_histories
    torch.testing.assert_close(scorer.interests_kept(keep), expected, rtol=0, atol=1e-6)


def test_a_positional_history_embedding_is_not_replaced_by_the_table(checkpoints, history, monkeypatch):
    model = checkpoints["comirec-sa"].model
    plain = model.embed_history
    monkeypatch.setattr(model, "embed_history",
                        lambda items: plain(items) + 0.1 * torch.arange(items.shape[1])[None, :, None])
    scorer = HistoryScorer(model, checkpoints["comirec-sa"].vocab.encode(history))
    assert not scorer.embeds_by_lookup
    keep = ~np.eye(len(history), dtype=bool)
    items, mask = pad_histories(scorer.subsets(keep), model.max_length)
    with torch.no_grad():
        expected = model.interests(items, mask)  # [L, K, d] with the positional embedding
    torch.testing.assert_close(scorer.interests_kept(keep), expected, rtol=0, atol=1e-6)


def test_unique_rows_matches_numpy_unique():
    rows = np.random.default_rng(0).random((300, 13)) < 0.3  # 13 columns: packing pads the last byte
    rows[100:110] = rows[5]
    unique, inverse = unique_rows(rows)
    expected = np.unique(rows, axis=0)
    assert len(unique) == len(expected) and {r.tobytes() for r in unique} == {r.tobytes() for r in expected}
    np.testing.assert_array_equal(unique[inverse], rows)
