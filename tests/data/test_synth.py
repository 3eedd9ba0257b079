"""The synthetic generator: same seed → same bytes, schema, Zipf popularity, 1–5 clusters per user, drift,
nothing half-written, and the CLI command."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from recviz.cli import app
from recviz.data import load_dataset
from recviz.data.synth import FILES, MAX_USER_CLUSTERS, PHASES, SynthConfig, generate, synth, write
from recviz.errors import ConfigError, DataError

SMALL = SynthConfig(users=600, items=1500, clusters=12, interactions=30_000, seed=3)


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def data():
    return generate(SMALL)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    synth(SMALL, tmp_path / "a")
    synth(SMALL, tmp_path / "b")
    synth(SynthConfig(**{**SMALL.__dict__, "seed": 4}), tmp_path / "c")
    a, b, c = (digests(tmp_path / x) for x in "abc")
    assert set(a) == {*FILES, "synth.json"}
    assert a == b
    assert a["interactions.parquet"] != c["interactions.parquet"]


def test_files_schema_and_counts(tmp_path: Path) -> None:
    result = synth(SMALL, tmp_path / "s")
    inter = pq.read_table(tmp_path / "s" / "interactions.parquet")
    assert inter.schema.names == ["user_id", "item_id", "rating", "timestamp"]
    assert [str(t) for t in inter.schema.types] == ["int64", "int64", "float", "int64"]
    assert inter.num_rows == SMALL.interactions
    users = inter.column("user_id").to_numpy()
    items = inter.column("item_id").to_numpy()
    assert len(np.unique(users)) == SMALL.users and items.min() >= 1 and items.max() <= SMALL.items
    ratings = inter.column("rating").to_numpy()
    assert ratings.min() >= 0.5 and ratings.max() <= 5 and np.all(ratings * 2 == np.round(ratings * 2))
    catalogue = pq.read_table(tmp_path / "s" / "items.parquet")
    assert catalogue.schema.names == ["item_id", "title", "year", "genres"]
    assert catalogue.num_rows == SMALL.items
    clusters = pq.read_table(tmp_path / "s" / "item_clusters.parquet").column("cluster").to_numpy()
    assert sorted(np.unique(clusters)) == list(range(SMALL.clusters))  # every cluster has items
    genres = catalogue.column("genres").to_numpy(zero_copy_only=False)
    # genre labels are a function of the cluster: one label per cluster
    assert all(len(set(genres[clusters == c])) == 1 for c in range(SMALL.clusters))
    truth = pq.read_table(tmp_path / "s" / "user_clusters.parquet").to_pandas()
    assert set(truth["phase"]) == set(range(PHASES))
    sums = truth.groupby(["user_id", "phase"])["weight"].sum()
    assert np.allclose(sums, 1.0, atol=1e-5) and len(sums) == SMALL.users * PHASES
    assert result.generate_s > 0 and result.files["interactions.parquet"] > 0


def test_timestamps_strictly_increase_within_each_user(data) -> None:
    same_user = data.user_id[1:] == data.user_id[:-1]
    assert np.all(np.diff(data.user_id) >= 0)
    assert np.all(np.diff(data.timestamp)[same_user] > 0)


def test_popularity_is_power_law_within_clusters(data) -> None:
    counts = np.bincount(data.item_id, minlength=SMALL.items + 1)[1:]
    top = np.sort(counts)[::-1]
    # Zipf(1): the top 5 % of items take far more than 5 % of the interactions, and the head is steep
    assert top[: SMALL.items // 20].sum() / counts.sum() > 0.3
    assert top[0] > 20 * np.median(counts)
    # log-log slope of count vs rank inside the largest cluster is about -1 (the exponent)
    big = np.bincount(data.item_cluster).argmax()
    ranked = np.sort(counts[data.item_cluster == big])[::-1][:30].astype(float)
    slope = np.polyfit(np.log(np.arange(1, 31)), np.log(ranked + 1), 1)[0]
    assert -1.5 < slope < -0.5


def test_users_mix_one_to_five_clusters(data) -> None:
    k = (data.user_clusters >= 0).sum(1)
    assert set(k.tolist()) == set(range(1, MAX_USER_CLUSTERS + 1))
    for row in data.user_clusters:  # the planted clusters of a user are distinct
        real = row[row >= 0]
        assert len(set(real.tolist())) == len(real)
    inside = (data.user_clusters[data.user_id - 1] == data.item_cluster[data.item_id - 1][:, None]).any(1)
    assert 0.9 < inside.mean() < 0.99  # 5 % noise by default
    # users with 4-5 planted clusters really interact with several of them
    seen = {u: len(set(data.item_cluster[data.item_id[(data.user_id == u + 1) & inside] - 1].tolist()))
            for u in np.flatnonzero(k >= 4)[:50]}
    assert np.mean(list(seen.values())) >= 3


def _first_last_dominant_change(cfg: SynthConfig) -> float:
    """Share of multi-cluster users whose most common cluster differs between their first and last third."""
    d = generate(cfg)
    cluster = d.item_cluster[d.item_id - 1]
    changed, users = 0, 0
    for u in np.flatnonzero((d.user_clusters >= 0).sum(1) >= 2):
        c = cluster[d.user_id == u + 1]
        if len(c) < 30:
            continue
        third = len(c) // 3
        users += 1
        changed += np.bincount(c[:third]).argmax() != np.bincount(c[-third:]).argmax()
    return changed / users


def test_drift_changes_users_interests_over_time(data) -> None:
    start, end = data.cluster_weights(np.zeros(SMALL.users), np.arange(SMALL.users)), data.cluster_weights(
        np.ones(SMALL.users), np.arange(SMALL.users))
    multi = (data.user_clusters >= 0).sum(1) >= 2
    assert np.abs(start - end)[multi].sum(1).mean() > 0.3
    drifting = _first_last_dominant_change(SMALL)
    steady = _first_last_dominant_change(SynthConfig(**{**SMALL.__dict__, "drift_width": 100.0}))
    assert drifting > 0.5 and drifting > steady + 0.25  # without drift only sampling noise flips it


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="clusters need at least as many items"):
        SynthConfig(users=10, items=5, clusters=6, interactions=100)
    with pytest.raises(ConfigError, match="cannot give each"):
        SynthConfig(users=10, items=50, clusters=5, interactions=5)


def test_nothing_half_written_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data) -> None:
    calls, original = [], pq.write_table

    def failing(table: pa.Table, where, **kwargs) -> None:  # the first file is written, the second fails
        calls.append(where)
        if len(calls) == 2:
            raise OSError("disk full")
        original(table, where, **kwargs)

    monkeypatch.setattr("recviz.data.synth.pq.write_table", failing)
    with pytest.raises(OSError, match="disk full"):
        write(data, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its temporary twin


def test_refuses_a_non_empty_output(tmp_path: Path, data) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="not an empty directory"):
        write(data, tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_cli_synth_then_info(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["data", "synth", "--users", "50", "--items", "80", "--clusters", "4",
                                      "--interactions", "1000", "--seed", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "interactions.parquet" in result.output
    info = CliRunner().invoke(app, ["data", "info", str(out)])
    assert info.exit_code == 0, info.output
    assert "1,000" in info.output and "(parquet)" in info.output
    again = CliRunner().invoke(app, ["data", "synth", "--out", str(out)])  # main() turns it into exit 2
    assert isinstance(again.exception, DataError) and "not an empty directory" in str(again.exception)


def test_loaded_back_through_the_reader(tmp_path: Path, data) -> None:
    write(data, tmp_path / "s")
    ds = load_dataset(tmp_path / "s")
    assert ds.format == "parquet" and ds.num_interactions == SMALL.interactions
    assert np.array_equal(ds.interactions["item_id"].to_numpy(), data.item_id)
    assert np.array_equal(ds.interactions["timestamp"].to_numpy(), data.timestamp)
    assert np.allclose(ds.interactions["rating"].to_numpy(), data.rating)
    assert len(ds.catalogue) == SMALL.items and ds.catalogue.get(1).title.endswith("#1")
