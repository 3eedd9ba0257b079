"""Edge histories through the public ``explain()``, every registered model × every attribution method in one
table-driven test (issue #8 point 5): one item, exactly the model's window, window + 1, one item repeated,
one item twice among others, and unknown ids mixed in.

Each case checks real behaviour against the model itself, not just "no exception": one finite value per
position the model reads, the target score and IG's baseline recomputed from the model, IG completeness,
occlusion = brute-force leave-one-out (removing the only item = the model's all-padding input, as
``occlusion`` documents), attention = the retrieving interest's row, the fused list, the deletion curves
(one point per position, 0..L−1 items deleted, as faithfulness.py documents) and the notices of models
without attention or history. The checkpoints use a window of 6 (not the default 50), which keeps the test
fast and catches code that assumes the default.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from recviz.config import ATTRIBUTION_METHODS, ExplainSettings
from recviz.data import Vocab, load_dataset
from recviz.errors import UnknownItemError
from recviz.explain import explain
from recviz.explain.attributions import supports
from recviz.models.checkpoint import load_checkpoint, save_checkpoint
from recviz.models.registry import MODEL_NAMES, build_model
from recviz.models.scoring import pad_histories

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "ml-latest-small"
WINDOW = 6
TINY = {"comirec-sa": {"dim": 16, "hidden": 32}, "comirec-dr": {"dim": 16}, "youtube-dnn": {"dim": 16},
        "sasrec": {"dim": 16, "num_layers": 1}, "popularity": {},
        "recbole-sine": {"dim": 16}, "recbole-sasrec": {"dim": 16, "n_layers": 1, "inner_size": 32},
        "recbole-gru4rec": {"dim": 16, "hidden_size": 16}}  # other models (plugins): their defaults
NUM_TARGETS = 3
SCALE_FREE = {"recbole-sine"}  # normalised interests: IG from the all-zero baseline misses the score's jump
UNKNOWN = (-5, 0, 10**9)  # never MovieLens ids (checked below)

# kind → history built from 8 distinct known raw ids ``a`` (oldest first); "unknown" mixes in UNKNOWN,
# one of them twice and one at the oldest position, which truncation would drop (still reported).
HISTORIES = {
    "one item": lambda a: a[:1],
    "exactly the window": lambda a: a[:WINDOW],
    "window + 1": lambda a: a[: WINDOW + 1],
    "one item repeated": lambda a: [a[3]] * 5,
    "one item twice": lambda a: [a[1], a[2], a[1], a[4]],
    "unknown ids": lambda a: [UNKNOWN[2], *a[:3], UNKNOWN[0], a[3], UNKNOWN[1], UNKNOWN[0], *a[4:WINDOW]],
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, sequences):
    """name → (loaded checkpoint with max_length = WINDOW, 8 distinct known raw ids from a real history)."""
    dataset = load_dataset(SAMPLE)
    vocab = Vocab(i for u in sequences.users() for i in sequences.items[u])
    counts = np.zeros(len(vocab), dtype=np.int64)
    for u in sequences.users():
        np.add.at(counts, vocab.encode(sequences.items[u]), 1)
    assert not any(u in vocab for u in UNKNOWN)
    user = next(u for u in sequences.users() if len(set(sequences.items[u])) >= 8)
    known = list(dict.fromkeys(sequences.items[user]))[:8]
    root = tmp_path_factory.mktemp("edge-checkpoints")
    out = {}
    for name in MODEL_NAMES:
        torch.manual_seed(0)
        model = build_model(name, num_items=len(vocab), max_length=WINDOW, **TINY.get(name, {}))
        if name == "popularity":
            model.fit_counts(counts)
        save_checkpoint(root / name, model, vocab, dataset.catalogue, {"data": {"name": "ml-latest-small"}},
                        item_counts=counts)
        out[name] = load_checkpoint(root / name)
    return out, known


def _interests(model, dense: list[int]) -> torch.Tensor:
    """The model's interest vectors [K, d] for a dense history; the empty history is the all-padding input
    (one padding position, mask false), the convention ``occlusion`` documents for removing the only item."""
    if dense:
        items, mask = pad_histories([dense], model.max_length)
    else:
        items, mask = torch.zeros(1, 1, dtype=torch.long), torch.zeros(1, 1, dtype=torch.bool)
    with torch.no_grad():
        return model.interests(items, mask)[0]


@pytest.mark.parametrize("kind", list(HISTORIES))
@pytest.mark.parametrize("method", ATTRIBUTION_METHODS)
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_edge_history(tiny, name, method, kind):
    checkpoints, known = tiny
    ckpt = checkpoints[name]
    model, vocab = ckpt.model, ckpt.vocab
    history = HISTORIES[kind](known)
    settings = ExplainSettings(methods=(method,), num_targets=NUM_TARGETS, ig_steps=8, random_orders=3)

    if kind == "unknown ids":
        with pytest.raises(UnknownItemError) as err:
            explain(ckpt, history, settings)
        expected = [UNKNOWN[2], UNKNOWN[0], UNKNOWN[1]]  # each once, in order of first appearance
        assert err.value.unknown == expected
        listed = str(err.value).split(": ", 1)[1].split(".", 1)[0]  # "Unknown item id(s): a, b, c. They..."
        assert [int(i) for i in listed.split(", ")] == expected
        return

    exp = explain(ckpt, history, settings)
    read = history[-WINDOW:]  # what the model reads: the most recent WINDOW items
    L = len(read)
    assert [h.item_id for h in exp.history] == read and [h.position for h in exp.history] == list(range(L))
    assert any("oldest item(s) were dropped" in n for n in exp.notices) == (len(history) > WINDOW)
    assert exp.fallback is None

    # the fused list: top_n distinct known items, none of them in the history (exclude_history)
    fused = [f.item_id for f in exp.fused]
    assert len(fused) == settings.top_n and [f.rank for f in exp.fused] == list(range(1, settings.top_n + 1))
    assert len(set(fused)) == len(fused) and not set(fused) & set(history) and all(i in vocab for i in fused)

    # interests: an attention row over the L read positions summing to 1, or the documented notice
    assert len(exp.interests) == model.num_interests
    no_attention = any("has no attention over the history" in n for n in exp.notices)
    assert no_attention == (not model.has_attention)
    for interest in exp.interests:
        if model.has_attention:
            assert len(interest.attention) == L and sum(interest.attention) == pytest.approx(1.0, abs=1e-5)
            assert interest.top_item_id in read
        else:
            assert interest.attention is None
    assert any("ignores the history" in n for n in exp.notices) == (name == "popularity")

    if not supports(model, method):  # attention on a model without attention: skipped with a notice
        assert method == "attention" and not model.has_attention
        assert any(f"The {method} attribution was skipped" in n for n in exp.notices)
        assert exp.attributions == [] and exp.faithfulness == []
        return

    # attributions: one finite value per read position, for each of the top fused targets
    targets = fused[:NUM_TARGETS]
    assert [(a.method, a.target_item_id) for a in exp.attributions] == [(method, t) for t in targets]
    assert all(a.interest == f.contributor for a, f in zip(exp.attributions, exp.fused, strict=False))
    dense = vocab.encode(read)
    vectors = _interests(model, dense)  # [K, d]
    with torch.no_grad():
        table = model.item_embeddings()  # [N, d]
    for a in exp.attributions:
        values = np.asarray(a.values)
        assert values.shape == (L,) and np.isfinite(values).all()
        j, e = a.interest, table[vocab.index(a.target_item_id)]
        assert a.target_score == pytest.approx(float(vectors[j] @ e), abs=1e-5)
        if name == "popularity":
            assert np.all(values == 0.0)
        if method == "integrated_gradients":
            items, mask = pad_histories([dense], WINDOW)
            with torch.no_grad():  # IG's baseline: every position at the padding row, the mask kept
                base = float(model.interests_from_embedded(model.embed_history(torch.zeros_like(items)),
                                                           items, mask)[0, j] @ e)
            assert a.baseline_score == pytest.approx(base, abs=1e-5)
            gap = a.target_score - base
            assert values.sum() - gap == pytest.approx(a.convergence_delta, abs=1e-5)
            if name not in SCALE_FREE:  # completeness, 8 steps suffice here (SINE: see test_attributions.py)
                assert abs(values.sum() - gap) <= 1e-3 * max(1.0, abs(gap))
        elif method == "occlusion":
            for p in range(L):  # brute-force leave-one-out; the only item removed → the all-padding input
                without = float(_interests(model, dense[:p] + dense[p + 1 :])[j] @ e)
                assert values[p] == pytest.approx(a.target_score - without, abs=1e-5)
        else:
            assert a.values == exp.interests[j].attention
    if name not in SCALE_FREE:
        assert not any("Integrated Gradients is approximate" in n for n in exp.notices)

    # the same item at several positions: youtube-dnn's mean cannot tell the copies apart
    if name == "youtube-dnn" and kind == "one item repeated":
        values = np.asarray([a.values for a in exp.attributions])  # [T, L]
        if method == "occlusion":
            np.testing.assert_allclose(values, 0.0, atol=1e-5)  # dropping one copy leaves the mean as it was
        else:
            np.testing.assert_allclose(values, values[:, :1].repeat(L, 1), atol=1e-6)

    # deletion curves: L points (0..L−1 items deleted, the last item always stays), starting at the score
    curves = exp.faithfulness
    assert [(c.method, c.target_item_id) for c in curves] == [(method, t) for t in targets]
    for c, a in zip(curves, exp.attributions, strict=True):
        assert len(c.scores) == len(c.ranks) == len(c.random_scores) == L
        assert np.isfinite(c.scores).all() and np.isfinite([c.area, c.random_area]).all()
        assert c.scores[0] == pytest.approx(a.target_score, abs=1e-5)
        assert all(1 <= r <= len(vocab) - 1 for r in c.ranks)
        if L == 1 or name == "popularity":  # one order only, or scores that never move
            np.testing.assert_allclose(c.random_scores, c.scores, atol=1e-5)
            assert c.area == pytest.approx(c.random_area, abs=1e-5)
        if name == "popularity":
            np.testing.assert_allclose(c.scores, c.scores[0], atol=1e-6)
