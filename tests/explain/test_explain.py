"""explain() end to end on real MovieLens histories: list consistency, bad input, JSON round-trip, diff."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recviz.config import ExplainSettings
from recviz.errors import UnknownItemError
from recviz.explain import explain
from recviz.explain.types import Explanation, SchemaError
from recviz.models.registry import MODEL_NAMES

FAST = ExplainSettings(num_targets=2, ig_steps=8, random_orders=2)


@pytest.fixture(scope="module")
def history(sequences):
    return next(s for s in sequences.items.values() if len(s) >= 20)[:20]


@pytest.fixture(scope="module")
def sa_exp(checkpoints, history):
    return explain(checkpoints["comirec-sa"], history, FAST, user_id=12)


def test_lists_are_consistent(sa_exp, history):
    exp = sa_exp
    K = len(exp.interests)
    assert [h.item_id for h in exp.history] == history
    assert [h.position for h in exp.history] == list(range(20))
    assert len(exp.per_interest) == K and all(len(lst) == FAST.top_n for lst in exp.per_interest)
    assert [f.rank for f in exp.fused] == list(range(1, FAST.top_n + 1))
    assert not set(f.item_id for f in exp.fused) & set(history)  # history items are excluded
    for f in exp.fused:
        for k, rank in enumerate(f.ranks_by_interest):
            listed = {r.item_id: r.rank for r in exp.per_interest[k]}
            assert rank == listed.get(f.item_id)
    weights = np.array([i.weight for i in exp.interests])
    assert weights.sum() == pytest.approx(1.0)
    counts = np.bincount([f.contributor for f in exp.fused], minlength=K) / len(exp.fused)
    np.testing.assert_allclose(weights, counts)
    shares = counts[counts > 0]
    assert exp.interest_health.effective_number == pytest.approx(np.exp(-(shares * np.log(shares)).sum()))


def test_interests_carry_attention_and_labels(sa_exp, history):
    for interest in sa_exp.interests:
        assert len(interest.attention) == len(history)
        assert sum(interest.attention) == pytest.approx(1.0, abs=1e-5)
        top = history[int(np.argmax(interest.attention))]
        assert interest.top_item_id == top
        assert interest.label.endswith(sa_exp.history[history.index(top)].title)


def test_attributions_cover_every_method_and_target(sa_exp):
    targets = [f.item_id for f in sa_exp.fused[:2]]
    contributor = {f.item_id: f.contributor for f in sa_exp.fused}
    got = {(a.method, a.target_item_id) for a in sa_exp.attributions}
    assert got == {(m, t) for m in FAST.methods for t in targets}
    for a in sa_exp.attributions:
        assert a.interest == contributor[a.target_item_id] and len(a.values) == 20
        if a.method == "integrated_gradients":
            gap = a.target_score - a.baseline_score
            assert sum(a.values) - gap == pytest.approx(a.convergence_delta, abs=1e-4)
    assert {(c.method, c.target_item_id) for c in sa_exp.faithfulness} == got
    assert all(len(c.scores) == len(c.ranks) == 20 for c in sa_exp.faithfulness)
    assert {"recommend", "integrated_gradients", "occlusion", "faithfulness", "total"} <= set(sa_exp.timing)


def test_json_round_trip(sa_exp, checkpoints, history):
    assert Explanation.from_json(sa_exp.to_json()) == sa_exp
    edited = explain(checkpoints["comirec-dr"], history[1:] + [history[0]], FAST, baseline_history=history,
                     edits={"order": "moved"})
    assert Explanation.from_json(edited.to_json()) == edited  # with a diff (int keys of rank_moves)


def test_from_json_rejects_other_versions_and_garbage(sa_exp):
    obj = json.loads(sa_exp.to_json())
    obj["schema_version"] = 99
    with pytest.raises(SchemaError, match="schema_version 99"):
        Explanation.from_json(json.dumps(obj))
    with pytest.raises(SchemaError, match="invalid JSON"):
        Explanation.from_json("{not json")
    del obj["fused"]
    obj["schema_version"] = sa_exp.schema_version
    with pytest.raises(SchemaError, match="malformed"):
        Explanation.from_json(json.dumps(obj))


def test_unknown_ids_are_all_listed(checkpoints, history):
    with pytest.raises(UnknownItemError) as err:
        explain(checkpoints["comirec-sa"], [*history[:3], -5, 999999999], FAST, baseline_history=[-7])
    assert err.value.unknown == [-5, 999999999, -7]


def test_empty_history_falls_back_to_popularity(checkpoints):
    ckpt = checkpoints["comirec-sa"]
    exp = explain(ckpt, [], FAST)
    assert exp.fallback == "popularity" and exp.interests == [] and exp.attributions == []
    assert any("empty" in n for n in exp.notices)
    top = np.argsort(-ckpt.item_counts[1:], kind="stable")[: FAST.top_n] + 1
    assert [f.item_id for f in exp.fused] == ckpt.vocab.decode(top.tolist())
    assert [f.score for f in exp.fused] == sorted((f.score for f in exp.fused), reverse=True)
    assert Explanation.from_json(exp.to_json()) == exp


def test_long_history_is_truncated_with_a_notice(checkpoints, sequences, long_user):
    ckpt = checkpoints["comirec-sa"]
    full = sequences.items[long_user]
    limit = ckpt.model.max_length
    exp = explain(ckpt, full, FAST, timestamps=sequences.timestamps[long_user])
    assert [h.item_id for h in exp.history] == full[-limit:]
    assert exp.history[0].timestamp == sequences.timestamps[long_user][-limit]
    assert any(f"the {len(full) - limit} oldest" in n for n in exp.notices)


def test_diff_against_the_baseline(checkpoints, history):
    ckpt = checkpoints["comirec-sa"]
    edited = history[2:] + [history[0]]
    exp = explain(ckpt, edited, FAST, baseline_history=history, edits={"remove": [history[1]]})
    base = explain(ckpt, history, FAST)
    d = exp.diff
    assert d.removed == [history[1]] and d.added == [] and d.moved == [history[0]]
    old = [f.item_id for f in base.fused]
    new = [f.item_id for f in exp.fused]
    assert d.entered == [i for i in new if i not in old] and d.left == [i for i in old if i not in new]
    assert len(d.interest_shift) == len(exp.interests)
    old_v, new_v = np.array([i.vector for i in base.interests]), np.array([i.vector for i in exp.interests])
    cos = (old_v * new_v).sum(1) / np.linalg.norm(old_v, axis=1) / np.linalg.norm(new_v, axis=1)
    np.testing.assert_allclose(d.interest_shift, cos, atol=1e-5)
    assert exp.edits == {"remove": [history[1]]}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_explains(checkpoints, history, name):
    exp = explain(checkpoints[name], history, FAST)
    ckpt = checkpoints[name]
    assert len(exp.interests) == ckpt.model.num_interests and len(exp.fused) == FAST.top_n
    if not ckpt.model.has_attention:
        assert all(i.attention is None for i in exp.interests)
        assert any("attention attribution was skipped" in n for n in exp.notices)
        assert {a.method for a in exp.attributions} == {"integrated_gradients", "occlusion"}
    # SINE's normalised interests are scale-free along IG's path: the notice says so (test_attributions.py)
    approximate = any("Integrated Gradients is approximate" in n for n in exp.notices)
    assert approximate == (name == "recbole-sine")


def test_explicit_targets_and_diverse_fusion(checkpoints, history):
    ckpt = checkpoints["comirec-sa"]
    far = ckpt.vocab.raw_ids[-1]
    settings = ExplainSettings(fusion="diverse", targets=(far,), ig_steps=4, random_orders=1)
    exp = explain(ckpt, history, settings)
    assert {a.target_item_id for a in exp.attributions} == {far}
    assert exp.fusion.mode == "diverse" and len(exp.fused) == 10
    with pytest.raises(UnknownItemError):
        explain(ckpt, history, ExplainSettings(targets=(-1,)))


def test_no_targets_means_no_attributions(checkpoints, history):
    exp = explain(checkpoints["comirec-sa"], history, ExplainSettings(num_targets=0))
    assert exp.attributions == [] and exp.faithfulness == [] and len(exp.fused) == 10


def test_diff_of_an_over_long_history_reports_only_the_real_edits(checkpoints):
    """Removing one recent item from a history longer than max_length slides an older item into the model's
    window; the diff must still say that exactly one item was removed and none added."""
    ckpt = checkpoints["comirec-sa"]
    long_history = ckpt.vocab.raw_ids[: ckpt.model.max_length + 5]
    edited = long_history[:-3] + long_history[-2:]
    exp = explain(ckpt, edited, FAST, baseline_history=long_history)
    assert exp.diff.removed == [long_history[-3]]
    assert exp.diff.added == [] and exp.diff.moved == []
    assert exp.history[0].item_id == edited[-ckpt.model.max_length]
