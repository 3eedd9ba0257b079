"""Deletion curves: the mask and area maths by hand, and the curves against brute-force re-scoring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recviz.explain.faithfulness import deletion_curves, deletion_order, keep_masks, normalised_area
from recviz.explain.scorer import HistoryScorer
from recviz.models.scoring import pad_histories


def test_keep_masks_delete_in_order():
    masks = keep_masks(np.array([[2, 0, 1]]))[0]  # delete position 2, then 0, then 1
    expected = np.array([[1, 1, 1], [1, 1, 0], [0, 1, 0]], dtype=bool)
    np.testing.assert_array_equal(masks, expected)


def test_deletion_order_is_descending_and_stable_on_ties():
    np.testing.assert_array_equal(deletion_order(np.array([0.1, 0.5, 0.1, 0.9])), [3, 1, 0, 2])


def test_normalised_area_by_hand():
    # z-scores (s - 1)/2 = [2, 1, 0] over x = [0, .5, 1]: trapezoid = .5*(2+1)/2 + .5*(1+0)/2 = 1.0
    assert normalised_area(np.array([5.0, 3.0, 1.0]), 1.0, 2.0) == pytest.approx(1.0)
    # a one-point curve: its z-score
    assert normalised_area(np.array([4.0]), 0.0, 2.0) == pytest.approx(2.0)
    # batched, with per-curve statistics
    np.testing.assert_allclose(normalised_area(np.array([[1.0, 1.0], [2.0, 0.0]]), np.array([0.0, 0.0]),
                                               np.array([1.0, 2.0])), [1.0, 0.5])


def test_pack_kept_equals_pad_histories(checkpoints, sequences):
    ckpt = checkpoints["comirec-sa"]
    dense = ckpt.vocab.encode(sequences.items[sequences.users()[2]][:9])
    scorer = HistoryScorer(ckpt.model, dense)
    keep = np.random.default_rng(0).random((20, 9)) < 0.6
    keep[:, 4] = True  # every row keeps an item
    items, mask = scorer.pack_kept(keep)
    ref_items, ref_mask = pad_histories(scorer.subsets(keep), ckpt.model.max_length)
    assert torch.equal(items, ref_items) and torch.equal(mask, ref_mask)


@pytest.mark.parametrize("name", ["comirec-sa", "comirec-dr", "sasrec"])
def test_curves_match_brute_force_rescoring(checkpoints, sequences, name):
    ckpt = checkpoints[name]
    dense = ckpt.vocab.encode(sequences.items[sequences.users()[7]][:8])
    scorer = HistoryScorer(ckpt.model, dense)
    vectors = scorer.interests([dense])[0]  # [K, d]
    targets = scorer.targets(vectors, ckpt.vocab.decode([5, 9]), [5, 9], [0, vectors.shape[0] - 1])
    values = np.random.default_rng(1).normal(size=(2, 8))
    curves = deletion_curves(scorer, targets, {"occlusion": values}, random_orders=3, seed=0)
    assert [c.target_item_id for c in curves] == targets.item_ids
    for t, curve in enumerate(curves):
        order = deletion_order(values[t])
        j, item = int(targets.interest[t]), int(targets.dense[t])
        assert curve.scores[0] == pytest.approx(targets.scores[t], abs=1e-5)
        for k in range(8):
            kept = [dense[p] for p in sorted(order[k:])]
            v = scorer.interests([kept])[0, j]  # [d]
            every = v @ scorer.table[1:].T  # [N-1]
            assert curve.scores[k] == pytest.approx(float(v @ scorer.table[item]), abs=1e-5)
            assert curve.ranks[k] == int((every >= every[item - 1]).sum())
        assert curve.area == pytest.approx(
            float(normalised_area(np.array(curve.scores), targets.center[t], targets.spread[t])))
        assert len(curve.random_scores) == 8 and curve.random_scores[0] == pytest.approx(curve.scores[0])


def test_random_reference_is_seeded(checkpoints, sequences):
    ckpt = checkpoints["comirec-sa"]
    dense = ckpt.vocab.encode(sequences.items[sequences.users()[7]][:10])
    scorer = HistoryScorer(ckpt.model, dense)
    vectors = scorer.interests([dense])[0]
    targets = scorer.targets(vectors, ckpt.vocab.decode([3]), [3], [1])
    values = {"attention": np.zeros((1, 10))}
    a = deletion_curves(scorer, targets, values, 5, seed=0)[0]
    b = deletion_curves(scorer, targets, values, 5, seed=0)[0]
    c = deletion_curves(scorer, targets, values, 5, seed=1)[0]
    assert a.random_scores == b.random_scores and a.random_area == b.random_area
    assert a.random_scores != c.random_scores
