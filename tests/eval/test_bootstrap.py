"""Bootstrap intervals (recviz.eval.bootstrap) against cases worked out by hand, and the per-case values
evaluate() hands them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recviz.errors import ConfigError
from recviz.eval import bootstrap_ci, evaluate
from tests.eval.test_evaluate import CASES, L3


def test_interval_of_a_hand_computed_distribution():
    """values [0, 0, 0, 1]: a resample's mean is Binomial(4, 1/4) / 4, so P(mean = 0) = 81/256 ≈ 0.32 and
    P(mean ≤ 0.5) = 243/256 ≈ 0.95, P(mean ≤ 0.75) = 255/256: the 2.5 % quantile is 0, the 97.5 % one 0.75."""
    ci = bootstrap_ci(np.array([0.0, 0.0, 0.0, 1.0]), resamples=20_000, seed=1)
    assert ci.mean == 0.25 and ci.low == 0.0 and ci.high == 0.75 and ci.level == 0.95
    narrow = bootstrap_ci(np.array([0.0, 0.0, 0.0, 1.0]), level=0.5, resamples=20_000, seed=1)
    assert narrow.low == 0.0 and narrow.high == 0.5  # P(mean ≤ 0.25) = 189/256 ≈ 0.738 < 0.75
    assert str(ci) == "0.2500 [0.0000, 0.7500]"


def test_constant_values_give_a_point_and_nan_is_left_out():
    ci = bootstrap_ci(np.array([0.3, 0.3, np.nan, 0.3]), resamples=200)
    assert ci.mean == pytest.approx(0.3) and ci.low == pytest.approx(0.3) and ci.high == pytest.approx(0.3)


def test_groups_are_resampled_separately():
    """Two groups, each constant: every resample keeps one group's cases per group, so the mean of group
    means never moves; pooled, the same eight values spread over [0, 1]."""
    groups = [np.zeros(4), np.ones(4)]
    ci = bootstrap_ci(groups, resamples=500)
    assert (ci.mean, ci.low, ci.high) == (0.5, 0.5, 0.5)
    pooled = bootstrap_ci(np.concatenate(groups), resamples=500)
    assert pooled.mean == 0.5 and pooled.low < 0.5 < pooled.high


def test_bad_inputs_are_config_errors():
    with pytest.raises(ConfigError, match="empty"):
        bootstrap_ci(np.array([np.nan]))
    with pytest.raises(ConfigError, match="level"):
        bootstrap_ci(np.array([1.0]), level=1.0)
    with pytest.raises(ConfigError, match="empty"):
        bootstrap_ci([np.ones(3), np.array([])])


def test_evaluate_keeps_each_cases_value(next_item):
    """The two evaluated cases of tests/eval/test_evaluate.py: NDCG@3 is (1 + 1/2)/(1 + 1/log2 3) and 1/2,
    in case order, and their mean is the reported metric."""
    model, vocab = next_item
    result = evaluate(model, CASES, vocab, ks=(3,), batch_size=1)
    ndcg = result.per_case["ndcg@3"]
    assert ndcg == pytest.approx([1.5 / (1 + L3), 0.5])
    assert result.metrics["ndcg@3"] == pytest.approx(ndcg.mean())
    assert set(result.per_case) >= {"recall@3", "hitrate@3", "mrr", "auc"}
    assert "coverage@3" not in result.per_case and "per_case" not in result.to_dict()
    assert all(len(v) == result.num_cases for v in result.per_case.values())
    assert not math.isnan(float(result.per_case["auc"].mean()))
