"""A large catalogue, at small sizes (the index threshold and the map's sample lowered by their settings):
explain() through the item index gives the exact explanation on the targets' scores; the map is fitted on a
sample and places the rest without refitting; the catalogue picture becomes a density layer."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from recviz.config import ExplainSettings
from recviz.explain import explain
from recviz.explain.projection import build_item_map, load_item_map, save_item_map
from recviz.models import load_checkpoint
from recviz.models.item_index import THRESHOLD_ENV
from recviz.viz import raster

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
from test_item_index import ITEMS, write_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(THRESHOLD_ENV, "2000")
        path = write_checkpoint(tmp_path_factory.mktemp("big") / "ckpt")
        return load_checkpoint(path)


def test_explain_through_the_index_equals_exact_on_the_targets_scores(indexed):
    assert indexed.item_index is not None
    exact_ckpt = dataclasses.replace(indexed, item_index=None)
    history = list(range(5, 3000, 61))[:30]  # raw ids
    settings = ExplainSettings(fusion="max", num_targets=3, ig_steps=8, random_orders=3)
    fast, exact = explain(indexed, history, settings), explain(exact_ckpt, history, settings)
    assert [f.item_id for f in fast.fused] == [f.item_id for f in exact.fused]
    assert np.allclose([f.score for f in fast.fused], [f.score for f in exact.fused], atol=1e-6)
    pairs = [(a.target_item_id, a.method) for a in fast.attributions]
    assert pairs == [(a.target_item_id, a.method) for a in exact.attributions]
    for a, b in zip(fast.attributions, exact.attributions, strict=True):
        assert a.target_score == b.target_score and np.allclose(a.values, b.values, atol=1e-6)
    assert len(fast.faithfulness) == len(exact.faithfulness) > 0
    for a, b in zip(fast.faithfulness, exact.faithfulness, strict=True):
        assert a.scores == b.scores and np.isclose(a.area, b.area, rtol=1e-5, atol=1e-6)
        assert np.isclose(a.random_area, b.random_area, rtol=1e-5, atol=1e-6)
        assert a.ranks == [] and len(b.ranks) == len(b.scores)  # ranks need a full ranking per step
    assert any("not its rank in the whole catalogue" in n for n in fast.notices)
    assert not any("not its rank" in n for n in exact.notices)


def test_an_item_outside_the_list_is_explained_with_its_contributor(indexed):
    exact_ckpt = dataclasses.replace(indexed, item_index=None)
    history, target = list(range(10, 400, 13)), 2999
    settings = ExplainSettings(targets=(target,), ig_steps=4, random_orders=0, methods=("occlusion",))
    fast, exact = explain(indexed, history, settings), explain(exact_ckpt, history, settings)
    assert fast.attributions[0].interest == exact.attributions[0].interest
    assert fast.attributions[0].values == exact.attributions[0].values


@pytest.mark.slow
def test_the_map_is_fitted_on_a_sample_and_places_the_rest(indexed, tmp_path):
    item_map = build_item_map(indexed, sample=600, batch=1000, progress=False)
    rows = np.arange(ITEMS)
    anchors = item_map.anchors
    assert anchors is not None and len(anchors) == 600 and len(item_map.embeddings) == 600
    assert item_map.xy.shape == (ITEMS, 2) and np.isfinite(item_map.xy).all()
    assert item_map.meta["fitted_on"] == 600
    # placed items land among their own cluster's sampled items: the nearest anchor on the map shares it
    cluster = cluster_of(ITEMS)
    rest = np.setdiff1d(rows, anchors)
    d = ((item_map.xy[rest, None, :] - item_map.xy[None, anchors, :]) ** 2).sum(-1)  # [R, A]
    agree = (cluster[anchors][d.argmin(1)] == cluster[rest]).mean()
    assert agree > 0.8, agree
    save_item_map(tmp_path, dataclasses.replace(item_map, meta={**item_map.meta}))
    loaded = load_item_map(tmp_path)
    assert np.array_equal(loaded.anchors, anchors) and np.array_equal(loaded.xy, item_map.xy)
    vectors = item_map.embeddings[:2] * 3.0  # two items' directions: each lands where its item is
    assert np.allclose(loaded.place(vectors), item_map.place(vectors))
    assert np.linalg.norm(loaded.place(vectors)[0] - item_map.xy[anchors[0]]) < np.ptp(item_map.xy[:, 0]) / 4


def cluster_of(items: int) -> np.ndarray:
    """The cluster of each item of ``clustered(items, dim, seed=0)``: its generator's first draw, repeated."""
    rng = np.random.default_rng(0)
    sizes = np.arange(1, 31) ** -1.0
    return rng.choice(30, items, p=sizes / sizes.sum())


def test_a_large_catalogue_is_drawn_as_a_density_layer(monkeypatch):
    rng = np.random.default_rng(0)
    xy = np.vstack([rng.normal(0, 0.3, (400, 2)), rng.normal(5, 0.3, (400, 2))])  # two blobs
    layers = [(np.arange(400), "#ff0000"), (np.arange(400, 800), "#0000ff")]
    dots = raster.rasterise(xy, layers, pixel=0.05, radius=2.0, opacity=0.45)
    monkeypatch.setattr(raster, "DENSITY_POINTS", 100)
    dense = raster.rasterise(xy, layers, pixel=0.05, radius=2.0, opacity=0.45)
    assert dense.size == dots.size and dense.x_range == dots.x_range  # same picture frame
    assert dense.png == raster.rasterise(xy, layers, pixel=0.05, radius=2.0, opacity=0.45).png
    a, b = decode_alpha(dots), decode_alpha(dense)
    covered_a, covered_b = a > 0, b > 0
    assert (covered_a & covered_b).sum() / (covered_a | covered_b).sum() > 0.7  # the same places drawn
    assert b.max() > 200  # dense places are nearly opaque, as many stacked translucent dots
    w, h = dense.size
    assert b.reshape(h, w)[h // 2, w // 2] == 0  # nothing between the blobs


def decode_alpha(picture: raster.Raster) -> np.ndarray:
    """The alpha channel [H*W] of a PNG written by :func:`raster.png_bytes` (one IDAT, filter 0)."""
    import zlib

    data = picture.png
    start = data.index(b"IDAT") + 4
    length = int.from_bytes(data[start - 8 : start - 4], "big")
    w, h = picture.size
    raw = np.frombuffer(zlib.decompress(data[start : start + length]), np.uint8).reshape(h, 1 + 4 * w)
    return raw[:, 1:].reshape(h, w, 4)[..., 3].reshape(-1)
