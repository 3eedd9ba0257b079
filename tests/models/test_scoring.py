"""Scoring and fusion: hand-built score tensors, real genres from the shipped sample, a real model."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from recviz.data import Catalogue, Item, Vocab
from recviz.errors import ConfigError, EmptyHistoryError
from recviz.eval.metrics import intra_list_diversity
from recviz.models.registry import build_model
from recviz.models.scoring import (
    diverse_rerank,
    fuse,
    genre_distance,
    interest_scores,
    item_genre_matrix,
    pad_histories,
    recommend,
    top_k,
)

MOVIES = Path(__file__).resolve().parents[2] / "sample_data" / "ml-latest-small" / "movies.csv"


@pytest.fixture(scope="module")
def sample():
    """The sample's catalogue and a vocabulary over its first 400 movies (dense 1..400)."""
    frame = pd.read_csv(MOVIES).head(400)
    catalogue = Catalogue(
        Item(int(r.movieId), str(r.title), None, tuple(str(r.genres).split("|"))) for r in frame.itertuples()
    )
    vocab = Vocab(frame["movieId"].tolist())
    genres, names = item_genre_matrix(vocab, catalogue)
    return catalogue, vocab, genres, names


def test_pad_histories_left_aligns_and_keeps_the_most_recent():
    items, mask = pad_histories([[5, 6, 7, 8], [9]], max_length=3)
    assert items.tolist() == [[6, 7, 8], [9, 0, 0]]
    assert mask.tolist() == [[True, True, True], [True, False, False]]
    with pytest.raises(EmptyHistoryError, match="history 1"):
        pad_histories([[1], []], max_length=3)
    with pytest.raises(ConfigError, match="padding"):
        pad_histories([[1, 0, 2]], max_length=3)


def test_interest_scores_are_dot_products():
    v = torch.tensor([[[1.0, 2.0], [0.0, -1.0]]])          # [1, 2, 2]
    e = torch.tensor([[0.0, 0.0], [3.0, 1.0], [1.0, 1.0]])  # [3, 2]
    # interest 0: 0, 1·3 + 2·1 = 5, 3 ; interest 1: 0, -1, -1
    assert interest_scores(v, e).tolist() == [[[0.0, 5.0, 3.0], [0.0, -1.0, -1.0]]]


def test_weighted_fusion_equals_the_formula():
    # two interests, two items: s(item 0) = (1, 3), s(item 1) = (-1, -3)
    s = torch.tensor([[[1.0, -1.0], [3.0, -3.0]]])          # [B=1, K=2, N=2]
    # contributor = argmax_j w_j·s_j. τ = 1, item 1: w = (0.88, 0.12), w·s = (-0.88, -0.36) → interest 1
    # contributes most although interest 0 has the larger score; τ = 2: w = (0.73, 0.27), w·s = (-0.73,
    # -0.81) → interest 0. Item 0 goes to interest 1 at both temperatures (w·s = (0.12, 2.64), (0.27, 2.19)).
    for tau, contributor in ((1.0, [[1, 1]]), (2.0, [[1, 0]])):
        out = fuse(s, "weighted", tau)
        for i, (a, b) in enumerate(((1.0, 3.0), (-1.0, -3.0))):
            wa, wb = math.exp(a / tau), math.exp(b / tau)
            # R(i) = Σ_j softmax_j(s_j/τ) · s_j
            assert out.scores[0, i].item() == pytest.approx((wa * a + wb * b) / (wa + wb), rel=1e-6)
        assert out.contributor.tolist() == contributor
    mx = fuse(s, "max")
    assert mx.scores.tolist() == [[3.0, -1.0]]
    assert mx.contributor.tolist() == [[1, 0]]
    with pytest.raises(ConfigError, match="diverse"):
        fuse(s, "diverse")


def test_top_k_breaks_ties_by_lower_index():
    s = torch.tensor([[1.0, 3.0, 3.0, 2.0, 3.0], [0.0, float("nan"), 0.0, float("-inf"), 0.0]])
    values, ids = top_k(s, 2)
    assert ids.tolist() == [[1, 2], [0, 2]]
    assert values.tolist() == [[3.0, 3.0], [0.0, 0.0]]
    _, ids = top_k(s, 5)
    assert ids.tolist() == [[1, 2, 4, 3, 0], [0, 2, 4, 1, 3]]   # NaN counts as -inf, then index order
    assert top_k(s, 99)[1].shape == (2, 5)


def test_genre_distance_is_one_minus_jaccard():
    g = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]], dtype=bool)
    d = genre_distance(g)
    assert d[0, 1] == pytest.approx(0.5)      # {A} vs {A, B}: J = 1/2
    assert d[0, 2] == 1.0 and d[2, 3] == 1.0  # disjoint; one empty set
    assert d[3, 4] == 0.0 and d[1, 1] == 0.0  # two empty sets count as identical


def test_item_genre_matrix_on_the_sample(sample):
    catalogue, vocab, genres, names = sample
    toy_story = genres[vocab.index(1)]         # Adventure|Animation|Children|Comedy|Fantasy
    assert sorted(np.asarray(names)[toy_story]) == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]
    assert not genres[0].any()                 # padding
    assert genres.shape == (len(vocab), len(names))


def test_diverse_by_hand():
    # items 1 {A}, 2 {A}, 3 {B}; max-merge scores 1.0, 0.9, 0.5 → normalised 1, 0.8, 0
    s = torch.tensor([[[float("-inf"), 1.0, 0.2, 0.5], [float("-inf"), 0.0, 0.9, 0.1]]])  # [1, 2, 4]
    g = np.array([[0, 0], [1, 0], [1, 0], [0, 1]], dtype=bool)
    assert diverse_rerank(s, g, 3, 0.0).ids.tolist() == [[1, 2, 3]]
    # λ = 1: after item 1, item 2 scores 0.8 + 1·0 and item 3 scores 0 + 1·1 → item 3 second
    out = diverse_rerank(s, g, 3, 1.0)
    assert out.ids.tolist() == [[1, 3, 2]]
    assert out.scores.tolist() == [pytest.approx([1.0, 0.5, 0.9])]  # raw max-merge scores
    assert out.contributor.tolist() == [[0, 0, 1]]
    assert diverse_rerank(s, g, 3, 0.1).ids.tolist() == [[1, 2, 3]]  # 0.8 > 0 + 0.1
    # equal scores normalise to 1: λ = 0 keeps id order, λ = 0.5 prefers item 3 (1 + 0.5) to item 2 (1 + 0)
    flat = torch.tensor([[[float("-inf"), 0.5, 0.5, 0.5]]])
    assert diverse_rerank(flat, g, 3, 0.0).ids.tolist() == [[1, 2, 3]]
    assert diverse_rerank(flat, g, 3, 0.5).ids.tolist() == [[1, 3, 2]]


def test_diverse_lambda_zero_is_max_merge_and_lambda_raises_diversity(sample):
    _, _, genres, _ = sample
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(32, 4, genres.shape[0], generator=gen)    # [B, K, N]
    s[:, :, 0] = float("-inf")                               # padding
    merged_ids = top_k(fuse(s[:, :, 1:], "max").scores, 10)[1] + 1  # [B, 10] max-merge order
    plain = diverse_rerank(s, genres, 10, 0.0).ids
    assert torch.equal(plain, merged_ids)
    diversity = [
        intra_list_diversity(diverse_rerank(s, genres, 10, lam).ids.numpy(), genres).mean()
        for lam in (0.0, 0.5, 1.0)
    ]
    assert diversity[0] < diversity[1] < diversity[2]


def test_recommend_with_a_real_model(sample):
    _, vocab, genres, _ = sample
    torch.manual_seed(0)
    model = build_model("comirec-sa", num_items=len(vocab), dim=16, num_interests=3, max_length=20).eval()
    items, mask = pad_histories([[1, 2, 3, 4, 5], [10, 11]], model.max_length)
    rec = recommend(model, items, mask, top_n=8, fusion="max")
    assert rec.per_interest_ids.shape == (2, 3, 8) and rec.fused_ids.shape == (2, 8)
    assert rec.interest_vectors.shape == (2, 3, 16)
    for b, history in enumerate(([1, 2, 3, 4, 5], [10, 11])):
        banned = {0, *history}
        assert not banned & set(rec.fused_ids[b].tolist())
        assert not banned & set(rec.per_interest_ids[b].flatten().tolist())
    # the fused list is the top of max_j v_j·e_i over the allowed items, recomputed by hand
    with torch.no_grad():
        s = torch.einsum("bkd,nd->bkn", model.interests(items, mask), model.item_embeddings())
    manual = s.max(dim=1)
    for b, history in enumerate(([1, 2, 3, 4, 5], [10, 11])):
        allowed = [i for i in range(1, len(vocab)) if i not in history]
        best = sorted(allowed, key=lambda i: -manual.values[b, i].item())[:8]
        assert rec.fused_ids[b].tolist() == best
        assert rec.contributor[b].tolist() == manual.indices[b, best].tolist()
    assert (rec.per_interest_scores[..., :-1] >= rec.per_interest_scores[..., 1:]).all()
    weighted = recommend(model, items, mask, top_n=8, fusion="weighted", tau=0.5)
    w_scores = fuse(s, "weighted", 0.5).scores
    assert weighted.fused_scores[0].tolist() == pytest.approx(w_scores[0, weighted.fused_ids[0]].tolist())
    same = recommend(model, items, mask, top_n=8, fusion="diverse", diversity_lambda=0.0, item_genres=genres)
    assert torch.equal(same.fused_ids, rec.fused_ids)
    with pytest.raises(ConfigError, match="genres"):
        recommend(model, items, mask, top_n=8, fusion="diverse")
    kept = recommend(model, items, mask, top_n=len(vocab) - 1, fusion="max", exclude_history=False)
    assert set(kept.fused_ids[0].tolist()) == set(range(1, len(vocab)))  # everything but padding
