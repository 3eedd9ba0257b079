"""The context options before extraction (issue #15: GRU encoder, recency positions, dropout) through the
explain path: a saved and re-loaded checkpoint of each multi-interest model with every option on, explained
end to end, and its batched Integrated Gradients equal to Captum's per target."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recviz.config import ExplainSettings
from recviz.data import Vocab, load_dataset
from recviz.explain import explain
from recviz.explain.attributions import METHODS
from recviz.models.checkpoint import load_checkpoint, save_checkpoint
from recviz.models.registry import build_model
from tests.explain.conftest import SAMPLE
from tests.explain.test_batched import _captum_per_target, _setup

OPTIONS = {"encoder": "gru", "position": "recency", "dropout": 0.2}
FAST = ExplainSettings(num_targets=2, ig_steps=8, random_orders=2)


@pytest.fixture(scope="module")
def option_checkpoints(tmp_path_factory, sequences):
    dataset = load_dataset(SAMPLE)
    vocab = Vocab(i for u in sequences.users() for i in sequences.items[u])
    root = tmp_path_factory.mktemp("options")
    out = {}
    for name, extra in (("comirec-sa", {"hidden": 32}), ("comirec-dr", {})):
        torch.manual_seed(0)
        model = build_model(name, num_items=len(vocab), dim=16, **extra, **OPTIONS)
        save_checkpoint(root / name, model, vocab, dataset.catalogue, {})
        out[name] = load_checkpoint(root / name)
    return out


@pytest.mark.parametrize("name", ["comirec-sa", "comirec-dr"])
def test_explain_and_integrated_gradients_with_every_option(option_checkpoints, sequences, name):
    ckpt = option_checkpoints[name]
    assert {k: ckpt.record.model.to_dict()[k] for k in OPTIONS} == OPTIONS and not ckpt.model.training
    history = next(s for s in sequences.items.values() if len(s) >= 20)[:20]
    exp = explain(ckpt, history, FAST, user_id=1)
    assert len(exp.interests) == ckpt.model.num_interests
    for interest in exp.interests:
        assert sum(interest.attention) == pytest.approx(1.0, abs=1e-5)
    for a in exp.attributions:
        if a.method == "integrated_gradients":  # completeness: the values add up to the score gap
            assert sum(a.values) - (a.target_score - a.baseline_score) == pytest.approx(a.convergence_delta,
                                                                                        abs=1e-4)
    # deterministic in eval mode (dropout off): the same explanation twice
    again = explain(ckpt, history, FAST, user_id=1)
    assert [f.item_id for f in again.fused] == [f.item_id for f in exp.fused]

    scorer, targets = _setup(ckpt, history[:12])
    result = METHODS["integrated_gradients"](scorer, targets, 16)
    values, bases, deltas = _captum_per_target(scorer, targets, 16)
    np.testing.assert_allclose(result.values, values, rtol=0, atol=1e-5)
    np.testing.assert_allclose(result.deltas, deltas, rtol=0, atol=1e-5)
