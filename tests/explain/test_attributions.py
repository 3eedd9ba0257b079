"""Every registered model × every attribution method through the same checks (Captum's table-driven style):
attention rows sum to 1, IG completeness, occlusion = brute-force leave-one-out, attention = the retrieving
interest's row."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recviz.explain.attributions import METHODS, supports
from recviz.explain.scorer import HistoryScorer
from recviz.models.registry import MODEL_NAMES
from recviz.models.scoring import fuse, interest_scores

SCALE_FREE = {"recbole-sine"}  # each interest is normalised: its score does not grow along IG's path


def _setup(ckpt, history_raw, num_targets=3):
    """Scorer for the history and its top fused (max-merge) items as targets."""
    dense = ckpt.vocab.encode(history_raw)
    scorer = HistoryScorer(ckpt.model, dense)
    vectors = scorer.interests([dense])[0]  # [K, d]
    fused = fuse(interest_scores(vectors[None], scorer.table), "max")
    scores = fused.scores[0].clone()
    scores[0] = -np.inf
    scores[torch.as_tensor(dense)] = -np.inf
    top = torch.topk(scores, num_targets).indices.tolist()
    targets = scorer.targets(vectors, ckpt.vocab.decode(top), top, fused.contributor[0, top].tolist())
    return scorer, targets


@pytest.fixture(scope="module")
def history(sequences):
    return sequences.items[sequences.users()[5]][:30]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_attention_rows_sum_to_one_over_the_history(checkpoints, history, name):
    ckpt = checkpoints[name]
    scorer, _ = _setup(ckpt, history)
    if not ckpt.model.has_attention:
        assert scorer.attention is None
        return
    att = scorer.attention  # [K, L]
    assert att.shape == (ckpt.model.num_interests, len(history))
    np.testing.assert_allclose(att.sum(1), 1.0, atol=1e-5)
    assert (att >= 0).all()


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_gives_one_finite_value_per_target_and_item(checkpoints, history, name, method):
    ckpt = checkpoints[name]
    if not supports(ckpt.model, method):
        assert method == "attention" and not ckpt.model.has_attention
        return
    scorer, targets = _setup(ckpt, history)
    result = METHODS[method](scorer, targets, 16)
    assert result.values.shape == (len(targets), len(history))
    assert np.isfinite(result.values).all()


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_integrated_gradients_completeness(checkpoints, history, name):
    """sum(attributions) = s(history) − s(baseline) + the reported delta; the delta is small wherever the
    model's gradients are exact (comirec-dr detaches its routing only while training) and its score is not
    scale-free: SINE normalises each interest, so along IG's straight path from the all-zero baseline its
    score is flat and jumps at the baseline itself; IG then misses most of the score, the delta reports it
    and explain() says occlusion is the method to trust."""
    scorer, targets = _setup(checkpoints[name], history)
    result = METHODS["integrated_gradients"](scorer, targets, 50)
    gap = targets.scores - result.baseline_scores  # [T]
    sums = result.values.sum(1)  # [T]
    np.testing.assert_allclose(sums - gap, result.deltas, atol=1e-4)
    if name not in SCALE_FREE:
        assert np.all(np.abs(result.deltas) <= 0.01 * np.maximum(1.0, np.abs(gap)))
    if name != "popularity":
        assert np.abs(sums).max() > 0  # the history matters to every model but popularity


def test_integrated_gradients_baseline_is_the_padding_embedding(checkpoints, history):
    """The baseline score is the model's score with every history embedding replaced by the padding row."""
    ckpt = checkpoints["comirec-sa"]
    scorer, targets = _setup(ckpt, history)
    result = METHODS["integrated_gradients"](scorer, targets, 8)
    items, mask = scorer.pack([scorer.history.tolist()])
    with torch.no_grad():
        zero = ckpt.model.embed_history(torch.zeros_like(items))  # [1, L, d] padding rows
        assert float(zero.abs().max()) == 0.0
        vectors = ckpt.model.interests_from_embedded(zero, items, mask)  # [1, K, d]
    expected = scorer.scores(vectors.expand(len(targets), -1, -1), targets.dense, targets.interest)
    np.testing.assert_allclose(result.baseline_scores, expected.numpy(), atol=1e-6)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_occlusion_equals_brute_force_leave_one_out(checkpoints, history, name):
    ckpt = checkpoints[name]
    scorer, targets = _setup(ckpt, history[:12])
    result = METHODS["occlusion"](scorer, targets, 0)
    dense = scorer.history.tolist()
    for i in range(len(dense)):
        without = dense[:i] + dense[i + 1 :]
        vectors = scorer.interests([without])[0]  # [K, d]
        for t in range(len(targets)):
            j, item = int(targets.interest[t]), int(targets.dense[t])
            expected = targets.scores[t] - float(vectors[j] @ scorer.table[item])
            assert result.values[t, i] == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_attention_method_is_the_retrieving_interests_row(checkpoints, history, name):
    if not checkpoints[name].model.has_attention:  # popularity, recbole-gru4rec: the method is not offered
        assert not supports(checkpoints[name].model, "attention")
        return
    scorer, targets = _setup(checkpoints[name], history)
    result = METHODS["attention"](scorer, targets, 0)
    for t in range(len(targets)):
        np.testing.assert_array_equal(result.values[t], scorer.attention[int(targets.interest[t])])


def test_popularity_ignores_the_history(checkpoints, history):
    scorer, targets = _setup(checkpoints["popularity"], history)
    assert not scorer.history_matters
    assert not supports(checkpoints["popularity"].model, "attention")
    for method in ("integrated_gradients", "occlusion"):
        assert np.abs(METHODS[method](scorer, targets, 8).values).max() == 0.0
