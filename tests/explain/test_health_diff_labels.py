"""Interest health, history diffs and labels against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recviz.data import Catalogue, Item
from recviz.explain.attention import attention_entropy, most_attended
from recviz.explain.diff import history_changes, history_diff
from recviz.explain.health import cosine_matrix, effective_number, interest_health
from recviz.explain.labels import dominant_genres, interest_label


def test_cosine_matrix_by_hand():
    sim = cosine_matrix(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, -2.0]]))
    expected = np.array([[1, 1 / math.sqrt(2), 0], [1 / math.sqrt(2), 1, -1 / math.sqrt(2)],
                         [0, -1 / math.sqrt(2), 1]])
    np.testing.assert_allclose(sim, expected, atol=1e-6)


def test_effective_number():
    assert effective_number(np.array([1.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert effective_number(np.array([0.25] * 4)) == pytest.approx(4.0)
    assert effective_number(np.array([0.5, 0.5, 0.0])) == pytest.approx(2.0)


def test_collapse_flag_and_message():
    v = np.array([[1.0, 0.0, 0.0], [0.99, 0.05, 0.0], [0.0, 0.0, 1.0]])
    health = interest_health(v, np.array([0.5, 0.3, 0.2]))
    assert health.collapsed and "1 & 2" in health.message
    fine = interest_health(np.eye(3), np.array([0.5, 0.5, 0.0]))
    assert not fine.collapsed and fine.effective_number == pytest.approx(2.0)
    assert "3 distinct interests" in fine.message


def test_history_changes_counts_only_real_moves():
    removed, added, moved = history_changes([1, 2, 3, 4], [2, 3, 4, 5])
    assert (removed, added, moved) == ([1], [5], [])  # removing 1 shifts the rest but moves nothing
    removed, added, moved = history_changes([1, 2, 3, 4], [1, 3, 2, 4])
    assert (removed, added) == ([], []) and len(moved) == 1 and moved[0] in (2, 3)  # one swap = one move
    assert history_changes([1, 2, 3, 4, 5], [2, 3, 4, 5, 1])[2] == [1]  # oldest item re-added last
    assert history_changes([1, 2, 3, 4], [4, 3, 2, 1])[2] == [3, 2, 1]  # a reversal keeps one item


def test_history_diff_ranks_and_shift():
    diff = history_diff([1, 2], [2, 7], [10, 11, 12], [11, 13, 10],
                        np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 0.0], [1.0, 1.0]]))
    assert diff.entered == [13] and diff.left == [12]
    assert diff.rank_moves == {10: [1, 3], 11: [2, 1], 12: [3, None], 13: [None, 2]}
    assert diff.interest_shift == pytest.approx([1.0, 1 / math.sqrt(2)])
    assert diff.removed == [1] and diff.added == [7]


def test_attention_entropy_and_argmax():
    assert attention_entropy(np.array([1.0, 0.0])) == 0.0
    assert attention_entropy(np.array([0.25] * 4)) == pytest.approx(math.log(4))
    assert most_attended(np.array([0.4, 0.1, 0.4, 0.1])) == 2  # ties: the most recent


def test_labels_weight_genres_by_attention():
    cat = Catalogue([Item(1, "A", None, ("Comedy", "Romance")), Item(2, "B", None, ("Horror",)),
                     Item(3, "C", None, ("Comedy",))])
    assert dominant_genres([1, 2, 3], [0.5, 0.2, 0.3], cat) == ["Comedy", "Romance"]  # .25+.3 vs .25 vs .2
    assert dominant_genres([1, 2, 3], [0.0, 1.0, 0.0], cat, top=1) == ["Horror"]
    assert interest_label(["Comedy", "Romance"], "A") == "Comedy/Romance · A"
    assert interest_label([], None) == "Mixed"
