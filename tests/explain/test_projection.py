"""The interest map: placement maths, plain-array storage (no pickle) and the population view. No UMAP fit
here (numba compiles for ~20 s on the first fit): maps are built by hand or read from storage."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from recviz.cli import app
from recviz.errors import CheckpointError
from recviz.explain.projection import (
    CorruptMapError,
    InterestMapError,
    ItemMap,
    MissingMapError,
    StaleMapError,
    load_item_map,
    load_population,
    population_points,
    save_item_map,
    save_population,
    unit_rows,
)
from recviz.explain.types import Explanation
from recviz.explain.users import stored_map


def _square_map(neighbours: int = 2) -> ItemMap:
    emb = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]], dtype=np.float32)
    xy = np.array([[10.0, 0.0], [0.0, 10.0], [-10.0, 0.0], [0.0, -10.0]], dtype=np.float32)
    return ItemMap(np.array([11, 12, 13, 14]), xy, ["a", "b", "c", "d"], ["G"] * 4, emb, neighbours,
                   {"checkpoint_hash": "abc"})


def test_place_is_the_similarity_weighted_mean_of_the_nearest_items():
    m = _square_map(neighbours=2)
    v = np.array([[3.0, 1.0]])  # cosines: item 11 = 3/√10, item 12 = 1/√10; the others are negative
    w = np.array([3.0, 1.0]) / np.sqrt(10)
    expected = (w[0] * m.xy[0] + w[1] * m.xy[1]) / w.sum()
    np.testing.assert_allclose(m.place(v)[0], expected, rtol=1e-5)


def test_place_with_one_neighbour_lands_on_the_item_and_zero_lands_at_the_centre():
    m = _square_map(neighbours=1)
    np.testing.assert_allclose(m.place(m.embeddings * 3), m.xy)
    np.testing.assert_allclose(m.place(np.zeros((1, 2)))[0], m.xy.mean(0))
    assert m.place(np.zeros((0, 2))).shape == (0, 2)


def test_save_and_load_round_trip_without_pickle(tmp_path):
    m = _square_map()
    save_item_map(tmp_path, m)
    with np.load(tmp_path / "map.npz", allow_pickle=False) as arrays:
        assert all(arrays[k].dtype != object for k in arrays.files)
    back = load_item_map(tmp_path, expected_hash="abc")
    np.testing.assert_array_equal(back.item_ids, m.item_ids)
    np.testing.assert_array_equal(back.xy, m.xy)
    assert back.titles == m.titles and back.genres == m.genres and back.neighbours == m.neighbours
    np.testing.assert_array_equal(back.place(np.array([[1.0, 2.0]])), m.place(np.array([[1.0, 2.0]])))


def test_missing_stale_or_broken_maps_raise_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="recviz project"):
        load_item_map(tmp_path)
    save_item_map(tmp_path, _square_map())
    with pytest.raises(CheckpointError, match="other weights"):
        load_item_map(tmp_path, expected_hash="def")
    meta = json.loads((tmp_path / "map.json").read_text())
    meta["titles"] = meta["titles"][:2]
    (tmp_path / "map.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="inconsistent"):
        load_item_map(tmp_path)


def test_population_points_place_every_users_interests(tmp_path, checkpoints, sequences):
    ckpt = checkpoints["comirec-sa"]
    with torch.no_grad():
        table = ckpt.model.item_embeddings().numpy()[1:]  # [M, d]
    item_map = ItemMap(np.asarray(ckpt.vocab.raw_ids), unit_rows(table)[:, :2].copy(), [""] * len(table),
                       [""] * len(table), unit_rows(table))
    users = sequences.users()[:6]
    histories = {u: sequences.items[u] for u in users}
    pop = population_points(ckpt, item_map, histories, batch_size=4)
    K = ckpt.model.num_interests
    assert pop.xy.shape == (6 * K, 2)
    assert pop.user_ids.tolist() == [u for u in users for _ in range(K)]
    assert pop.interest.tolist() == list(range(K)) * 6
    items = ckpt.vocab.encode(histories[users[1]][-ckpt.model.max_length :])
    with torch.no_grad():
        vectors = ckpt.model.interests(torch.tensor([items]), torch.ones(1, len(items), dtype=torch.bool))[0]
    np.testing.assert_allclose(pop.xy[K : 2 * K], item_map.place(vectors.numpy()), atol=1e-5)
    save_population(tmp_path, pop)
    back = load_population(tmp_path)
    np.testing.assert_array_equal(back.xy, pop.xy)
    assert load_population(tmp_path / "nowhere") is None


# --- a stored map that is missing, stale or corrupt: told apart, never silently treated as absent -----------

FIX = "recviz project --checkpoint"


def _raises_kind(path, error: type[InterestMapError], *fragments: str,
                 expected_hash: str | None = "abc") -> str:
    with pytest.raises(error) as info:
        load_item_map(path, expected_hash=expected_hash)
    assert isinstance(info.value, CheckpointError) and info.value.kind == error.kind
    message = str(info.value)
    for fragment in (*fragments, f"{FIX} {path}"):
        assert fragment in message, message
    return message


def test_missing_map_is_told_apart(tmp_path):
    _raises_kind(tmp_path, MissingMapError, "has no interest map")
    ckpt = SimpleNamespace(path=tmp_path, hash="abc")
    assert stored_map(ckpt) is None  # none yet: nothing to warn about


def test_stale_map_says_so(tmp_path):
    save_item_map(tmp_path, _square_map())  # fitted on weights with hash "abc"
    _raises_kind(tmp_path, StaleMapError, "is stale", "other weights", "hash abc, model def",
                 expected_hash="def")
    with pytest.raises(StaleMapError, match="stale"):
        stored_map(SimpleNamespace(path=tmp_path, hash="def"))
    assert stored_map(SimpleNamespace(path=tmp_path, hash="abc")).titles == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("damage", "fragments"),
    [
        (lambda p: (p / "map.npz").write_bytes(b"\x00garbage" * 100), ("corrupt", "map.npz is unreadable")),
        (lambda p: (p / "map.npz").write_bytes((p / "map.npz").read_bytes()[:60]), ("corrupt", "map.npz")),
        (lambda p: (p / "map.json").write_text("{not json"), ("corrupt", "map.json is unreadable")),
        (lambda p: (p / "map.json").write_text("[1, 2]"), ("corrupt", "map.json is unreadable")),
        (lambda p: (p / "map.json").unlink(), ("corrupt", "map.json is missing beside map.npz")),
        (lambda p: _edit_meta(p, titles=["a", "b"]), ("corrupt", "inconsistent", "2 titles")),
        (lambda p: _edit_meta(p, neighbours=0), ("corrupt", "positive neighbour count")),
        (lambda p: _edit_meta(p, genres="GGGG"), ("corrupt", "lists of titles and genres")),
        (lambda p: np.savez(p / "map.npz", item_ids=np.arange(4), xy=np.zeros((3, 2)),
                            embeddings=np.ones((4, 2))),
         ("corrupt", "inconsistent", "xy (3, 2)")),
        (lambda p: np.savez(p / "map.npz", item_ids=np.arange(4), xy=np.full((4, 2), np.nan),
                            embeddings=np.ones((4, 2))), ("corrupt", "NaN or infinite")),
    ],
    ids=["garbage-npz", "truncated-npz", "json-not-json", "json-a-list", "json-missing", "lengths",
         "neighbours", "genres-not-a-list", "xy-rows", "nan-positions"],
)
def test_corrupt_map_says_so(tmp_path, damage, fragments):
    save_item_map(tmp_path, _square_map())
    damage(tmp_path)
    # corrupt wins over stale: a damaged file's recorded hash cannot be trusted either
    _raises_kind(tmp_path, CorruptMapError, *fragments, expected_hash="other")
    with pytest.raises(CorruptMapError):
        stored_map(SimpleNamespace(path=tmp_path, hash="abc"))


def _edit_meta(path, **changes) -> None:
    meta = json.loads((path / "map.json").read_text())
    meta.update(changes)
    (path / "map.json").write_text(json.dumps(meta))


def test_cli_warns_about_a_stale_map_and_reports_without_it(checkpoints, sequences, tmp_path):
    ckpt_dir = shutil.copytree(checkpoints["comirec-sa"].path, tmp_path / "ckpt")
    save_item_map(ckpt_dir, _square_map())  # hash "abc": not these weights
    user = sequences.users()[0]
    args = ["report", "--checkpoint", str(ckpt_dir), "--out", str(tmp_path / "out"), "--format", "json",
            "--ig-steps", "2", "--methods", "attention", "--users", str(user)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "warning: the interest map is left out" in result.stderr and "stale" in result.stderr
    assert f"{FIX} {ckpt_dir}" in result.stderr
    (report,) = (tmp_path / "out").glob("*.json")
    notices = Explanation.from_json(report.read_text()).notices
    assert any("interest map is left out" in n and "stale" in n for n in notices)
    (ckpt_dir / "map.npz").write_bytes(b"garbage")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0 and "corrupt" in result.stderr
