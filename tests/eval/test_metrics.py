"""Metrics against hand-computed values (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recviz.eval import metrics as M

L2, L3, L4 = 1.0, 1 / math.log2(3), 0.5   # discounts 1/log2(r+1) at ranks 1, 2, 3


def test_hits_matrix_looks_up_targets_by_rank():
    ranked = np.array([[3, 1, 2], [0, 2, 1]])
    targets = np.array([[False, False, True, True], [False, True, False, False]])
    assert M.hits_matrix(ranked, targets).tolist() == [[True, False, True], [False, False, True]]


def test_several_targets_recall_ndcg_map_by_hand():
    # |T| = 3, hits at ranks 1 and 3 of a top-5 list
    hits = np.array([[1, 0, 1, 0, 0]], dtype=bool)
    n = np.array([3])
    assert M.recall_at_k(hits, n, 5)[0] == pytest.approx(2 / 3)
    assert M.recall_at_k(hits, n, 2)[0] == pytest.approx(1 / 3)
    # DCG@5 = 1 + 1/log2(4) = 1.5; IDCG@5 over min(3, 5) = 3 positions = 1 + 1/log2(3) + 1/2 = 2.1309
    assert M.ndcg_at_k(hits, n, 5)[0] == pytest.approx((L2 + L4) / (L2 + L3 + L4))
    # ComiRec's IDCG over the 2 hits would give 1.5 / (1 + 0.6309) = 0.9197: not what we compute
    assert M.ndcg_at_k(hits, n, 5)[0] < 0.75
    # NDCG@2: DCG = 1, IDCG over min(3, 2) = 2 positions = 1.6309
    assert M.ndcg_at_k(hits, n, 2)[0] == pytest.approx(1 / (L2 + L3))
    # AP@5 = (P@1·1 + P@3·1) / min(3, 5) = (1 + 2/3) / 3 = 0.5556
    assert M.map_at_k(hits, n, 5)[0] == pytest.approx((1 + 2 / 3) / 3)
    assert M.hit_rate_at_k(hits, 5)[0] == 1.0


def test_targets_beyond_k_and_more_targets_than_k():
    # row 0: one target, ranked 4th → nothing inside K = 3
    # row 1: |T| = 4 > K = 2, both slots hit → recall 2/4, NDCG 1 (ideal has only 2 slots), AP 1
    # row 2: one target at rank 2 → recall 1, NDCG 1/log2(3), AP 1/2
    hits = np.array([[0, 0, 0, 1], [1, 1, 0, 0], [0, 1, 0, 0]], dtype=bool)
    n = np.array([1, 4, 1])
    assert M.recall_at_k(hits, n, 3).tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert M.recall_at_k(hits, n, 2).tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert M.ndcg_at_k(hits, n, 2).tolist() == pytest.approx([0.0, 1.0, L3])
    assert M.map_at_k(hits, n, 2).tolist() == pytest.approx([0.0, 1.0, 0.5])
    assert M.hit_rate_at_k(hits, 3).tolist() == [0.0, 1.0, 1.0]
    # at K = 4 row 0's target counts: NDCG = (1/log2 5) / 1, AP = (1/4) / 1
    assert M.ndcg_at_k(hits, n, 4)[0] == pytest.approx(1 / math.log2(5))
    assert M.map_at_k(hits, n, 4)[0] == pytest.approx(0.25)


def test_mrr_counts_only_valid_items_and_breaks_ties_by_index():
    scores = np.array([[0.9, 0.5, 0.5, 0.1, 0.7]])
    targets = np.array([[False, False, True, False, False]])
    valid = np.array([[False, True, True, True, True]])    # index 0 is padding
    # ahead of item 2 (0.5): item 4 (0.7) and item 1 (0.5 tie, lower index); item 0 is not valid → rank 3
    assert M.first_target_rank(scores, targets, valid).tolist() == [3.0]
    assert M.mrr(scores, targets, valid)[0] == pytest.approx(1 / 3)
    # two targets: the better-ranked one (item 4, rank 1) decides
    targets2 = targets.copy()
    targets2[0, 4] = True
    assert M.mrr(scores, targets2, valid)[0] == 1.0
    # a target that is excluded cannot be ranked: reciprocal rank 0
    assert M.mrr(scores, np.array([[True, False, False, False, False]]), valid)[0] == 0.0


def test_auc_by_hand_with_ties():
    scores = np.array([[0.9, 0.5, 0.5, 0.1, 0.7]])
    targets = np.array([[False, False, True, False, False]])
    valid = np.array([[False, True, True, True, True]])
    # negatives {1: 0.5, 3: 0.1, 4: 0.7}: one strictly lower, one tie → (1 + 0.5) / 3
    assert M.auc(scores, targets, valid)[0] == pytest.approx(0.5)
    # all scores equal: every negative ties → 0.5
    flat = np.zeros((1, 6))
    assert M.auc(flat, np.eye(6, dtype=bool)[[2]], np.ones((1, 6), dtype=bool))[0] == 0.5


def test_auc_several_targets_is_the_mean_over_targets():
    scores = np.array([[0.0, 0.8, 0.2, 0.6, 0.4, 0.0]])
    targets = np.array([[False, False, True, True, False, False]])
    valid = np.array([[False, True, True, True, True, True]])
    # negatives {1: 0.8, 4: 0.4, 5: 0.0}; target 2 (0.2) beats 1 of 3, target 3 (0.6) beats 2 of 3
    assert M.auc(scores, targets, valid)[0] == pytest.approx((1 / 3 + 2 / 3) / 2)
    # perfect and worst rankings
    assert M.auc(scores, np.array([[False, True, False, False, False, False]]), valid)[0] == 1.0
    assert M.auc(scores, np.array([[False, False, False, False, False, True]]), valid)[0] == 0.0
    # no valid target → NaN (left out of the mean by evaluate)
    assert np.isnan(M.auc(scores, np.zeros((1, 6), dtype=bool), valid)[0])


def test_intra_list_diversity_and_coverage():
    # genres: 1 = {Comedy}, 2 = {Comedy, Drama}, 3 = {Horror}, 4 = {} ; columns Comedy, Drama, Horror
    genres = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=bool)
    # 1-2: J = 1/2 → 0.5; 1-3: 1; 2-3: 1 → mean (0.5 + 1 + 1) / 3
    ranked = np.array([[1, 2, 3], [1, 1, 2]])
    # second list: 1-1: 0; 1-2: 0.5; 1-2: 0.5 → 1/3
    assert M.intra_list_diversity(ranked, genres).tolist() == pytest.approx([2.5 / 3, 1 / 3])
    # an item without genres is at distance 1 from one with genres
    assert M.intra_list_diversity(np.array([[4, 3]]), genres)[0] == 1.0
    assert np.isnan(M.intra_list_diversity(np.array([[1]]), genres)[0])
    # distinct items recommended {1, 2, 3} over a catalogue of 10
    assert M.coverage(ranked, 10) == pytest.approx(0.3)
