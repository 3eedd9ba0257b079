"""evaluate() on a hand-built model (tests/eval/conftest.py) whose rankings are known in advance."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from recviz.data import Catalogue, EvalCase, Item
from recviz.errors import ConfigError
from recviz.eval import evaluate

# NextItemModel: item last+1 scores 2, last+2 scores 1, every other item 0 (ties → lower dense id first).
# Raw 10..70 = dense 1..7.
CASES = [
    # last = 2 → ranking (history 1, 2 excluded): 3, 4, 5, 6, 7; targets 3, 5 at ranks 1 and 3
    EvalCase(1, (10, 20), (30, 50)),
    # last = 4 → 5, 6, then zeros 1, 2, 3 (7 and 4 excluded); target 1 at rank 3; 99 is unknown
    EvalCase(2, (70, 40), (10, 99)),
    EvalCase(3, (99,), (10,)),          # no known history item → skipped
    EvalCase(4, (10,), (98, 99)),       # no known target → skipped
]
L3 = 1 / math.log2(3)


def expected() -> dict[str, float]:
    # case 1 (|T| = 2, hits at 1 and 3) and case 2 (|T| = 1 known, hit at 3)
    return {
        "recall@2": (1 / 2 + 0) / 2,
        "recall@3": (1 + 1) / 2,
        "hitrate@2": (1 + 0) / 2,
        "ndcg@2": (1 / (1 + L3) + 0) / 2,
        # case 1: (1 + 1/2) / (1 + 1/log2 3); case 2: (1/2) / 1
        "ndcg@3": ((1 + 0.5) / (1 + L3) + 0.5) / 2,
        # case 1: (1 + 2/3) / 2; case 2: (1/3) / 1
        "map@3": ((1 + 2 / 3) / 2 + 1 / 3) / 2,
        "mrr": (1 + 1 / 3) / 2,
        # case 1: negatives {4: 1, 6: 0, 7: 0}; target 3 (2) beats all → 1, target 5 (0) ties two → 1/3
        # case 2: negatives {2: 0, 3: 0, 5: 2, 6: 1}; target 1 (0) ties two → 1/4
        "auc": ((1 + 1 / 3) / 2 + 1 / 4) / 2,
        # top-3 lists {3, 4, 5} and {5, 6, 1}: 5 distinct of 7 items
        "coverage@3": 5 / 7,
    }


def test_evaluate_matches_the_hand_computed_answer(next_item):
    model, vocab = next_item
    result = evaluate(model, CASES, vocab, ks=(3, 2), batch_size=1)
    assert result.num_cases == 2
    assert result.skipped_cases == 2
    assert result.unknown_targets == 3          # 99 in case 2, 98 and 99 in case 4
    assert result.unknown_history_items == 1
    assert result.ks == (2, 3)
    for name, value in expected().items():
        assert result.metrics[name] == pytest.approx(value), name
    assert any("skipped" in note for note in result.notes)


def test_batching_does_not_change_the_result(next_item):
    model, vocab = next_item
    one = evaluate(model, CASES, vocab, ks=(2, 3), batch_size=1).metrics
    all_ = evaluate(model, CASES, vocab, ks=(2, 3), batch_size=256).metrics
    assert one == pytest.approx(all_)


def test_whole_history_is_excluded_even_beyond_max_length(next_item):
    model, vocab = next_item
    model.max_length = 1    # the model reads only the last item, but item 1 (raw 10) stays excluded
    result = evaluate(model, CASES[:1], vocab, ks=(3,))
    assert result.metrics["recall@3"] == 1.0    # ranking 3, 4, 5 (not 3, 4, 1)


def test_including_history_lets_history_items_rank(next_item):
    model, vocab = next_item
    # last = 1 → 2 scores 2, 3 scores 1; with history kept, item 1 ties at 0 and comes before 4
    case = [EvalCase(1, (10,), (10,))]
    assert evaluate(model, case, vocab, ks=(3,), exclude_history=True).metrics["recall@3"] == 0.0
    kept = evaluate(model, case, vocab, ks=(3,), exclude_history=False).metrics
    assert kept["recall@3"] == 1.0
    assert kept["mrr"] == pytest.approx(1 / 3)


def test_diversity_needs_the_catalogue(next_item):
    model, vocab = next_item
    # 30 and 40 share Drama; 50 is Horror: list {3, 4, 5} → (J(3,4) = 1 → 0) + 1 + 1 over 3 pairs
    catalogue = Catalogue(
        Item(r, f"Movie {r}", None, ("Horror",) if r in (50, 60) else ("Drama",)) for r in vocab.raw_ids
    )
    result = evaluate(model, CASES[:1], vocab, ks=(3,), catalogue=catalogue)
    assert result.metrics["diversity@3"] == pytest.approx(2 / 3)
    assert "diversity@3" not in evaluate(model, CASES[:1], vocab, ks=(3,)).metrics


def test_bad_settings_raise_project_errors(next_item):
    model, vocab = next_item
    with pytest.raises(ConfigError, match="diverse"):
        evaluate(model, CASES, vocab, fusion="diverse")
    with pytest.raises(ConfigError, match="positive"):
        evaluate(model, CASES, vocab, ks=(0,))
    with pytest.raises(ConfigError, match="none of the 1"):
        evaluate(model, CASES[2:3], vocab)


@pytest.fixture(scope="module")
def sample_cases():
    """40 user-split test cases of the shipped sample and a vocabulary over every item in them."""
    from pathlib import Path

    from recviz.data import Vocab, build_sequences, load_dataset, make_split

    data = load_dataset(Path(__file__).resolve().parents[2] / "sample_data" / "ml-latest-small")
    cases = make_split(build_sequences(data), "user-split", seed=42).test[:40]
    vocab = Vocab(sorted({i for c in cases for i in (*c.history, *c.targets)}))
    return cases, vocab, data.catalogue


@pytest.mark.parametrize("name", ["comirec-sa", "comirec-dr", "youtube-dnn", "sasrec", "popularity"])
def test_every_registered_model_evaluates_the_same_in_any_batching(name, sample_cases):
    from recviz.models.registry import MODEL_NAMES, build_model, model_arguments

    assert name in MODEL_NAMES
    cases, vocab, catalogue = sample_cases
    torch.manual_seed(0)
    extra = {"dim": 16} if "dim" in model_arguments(name) else {}
    model = build_model(name, num_items=len(vocab), max_length=30, **extra)
    if hasattr(model, "fit_counts"):   # popularity: counts of the history items stand in for training
        model.fit_counts(np.bincount([vocab.index(i) for c in cases for i in c.history],
                                     minlength=len(vocab)))
    # different batchings pad to different lengths: the figures must not move
    small = evaluate(model, cases, vocab, ks=(20,), catalogue=catalogue, batch_size=7).metrics
    large = evaluate(model, cases, vocab, ks=(20,), catalogue=catalogue, batch_size=256).metrics
    assert small == pytest.approx(large, abs=1e-6)
    assert 0.0 <= large["recall@20"] <= 1.0 and 0.0 <= large["auc"] <= 1.0
