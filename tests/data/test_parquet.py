"""The Parquet reader and the large-data helpers: round trip, wrong column types, nulls, timestamps,
refusing a load that would not fit in memory, the exact duplicate check and the column-backed catalogue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recviz.data import Catalogue, Item, dataset_info, load_dataset
from recviz.data.readers.common import duplicated_rows
from recviz.errors import DataError, UnknownItemError

INTER = {"user_id": [1, 1, 2, 2], "item_id": [10, 20, 10, 30], "rating": [4.0, 3.5, None, 5.0],
         "timestamp": [100, 50, 70, 80]}
ITEMS = {"item_id": [10, 20, 30], "title": ["Alpha", "  ", None], "year": [1999, None, 2001],
         "genres": ["Drama|Comedy", "Drama", None]}


def write(folder: Path, inter: dict | pa.Table = INTER, items: dict | pa.Table = ITEMS) -> Path:
    folder.mkdir(exist_ok=True)
    pq.write_table(inter if isinstance(inter, pa.Table) else pa.table(inter), folder / "interactions.parquet")
    pq.write_table(items if isinstance(items, pa.Table) else pa.table(items), folder / "items.parquet")
    return folder


def test_round_trip(tmp_path: Path) -> None:
    ds = load_dataset(write(tmp_path / "p"))
    assert ds.format == "parquet" and ds.name == "p"
    frame = ds.interactions
    assert [str(t) for t in frame.dtypes] == ["int64", "int64", "float64", "int64"]
    assert frame["item_id"].tolist() == [10, 20, 10, 30] and frame["timestamp"].tolist() == [100, 50, 70, 80]
    assert np.isnan(frame["rating"][2]) and frame["rating"][1] == 3.5
    assert ds.catalogue.get(10) == Item(10, "Alpha", 1999, ("Drama", "Comedy"))
    assert ds.catalogue.get(20) == Item(20, "Movie 20", None, ("Drama",))  # blank title → fallback
    assert ds.catalogue.get(30) == Item(30, "Movie 30", 2001, ())
    info = dataset_info(ds)
    assert info.interactions == 4 and info.genres == {"Drama": 2, "Comedy": 1}
    # one file of the pair, passed directly, reads the directory
    assert load_dataset(tmp_path / "p" / "interactions.parquet").num_interactions == 4


@pytest.mark.parametrize(("file", "column", "values", "needed"), [
    ("interactions", "item_id", ["10", "20", "10", "30"], "must be an integer"),
    ("interactions", "user_id", [1.0, 1.0, 2.0, 2.0], "must be an integer"),
    ("interactions", "timestamp", ["a", "b", "c", "d"],
     "must be integer Unix seconds or a Parquet timestamp"),
    ("interactions", "rating", ["good", "bad", "ok", "fine"], "must be a number"),
    ("items", "genres", [1, 2, 3], "must be text"),
    ("items", "year", ["1999", "2000", "2001"], "must be a number"),
])
def test_wrong_column_type_names_file_and_column(tmp_path: Path, file: str, column: str, values: list,
                                                 needed: str) -> None:
    inter, items = dict(INTER), dict(ITEMS)
    (inter if file == "interactions" else items)[column] = values
    folder = write(tmp_path / "p", inter, items)
    with pytest.raises(DataError, match=rf"{file}\.parquet: column {column} has type \w+, but it {needed}"):
        load_dataset(folder)


def test_missing_column_and_nulls_are_named(tmp_path: Path) -> None:
    folder = write(tmp_path / "a", {k: v for k, v in INTER.items() if k != "timestamp"})
    with pytest.raises(DataError, match=r"interactions\.parquet: missing column\(s\) timestamp"):
        load_dataset(folder)
    folder = write(tmp_path / "b", {**INTER, "user_id": [1, None, 2, None]})
    with pytest.raises(DataError, match=r"interactions\.parquet row 2: user_id is missing \(2 missing in "
                                        r"all\)"):
        load_dataset(folder)


def test_parquet_timestamps_and_implicit_feedback(tmp_path: Path) -> None:
    stamps = pa.array([100, 50, 70, 80], pa.int64()).cast(pa.timestamp("s")).cast(pa.timestamp("ms"))
    table = pa.table({"user_id": pa.array([1, 1, 2, 2], pa.int32()), "item_id": pa.array([10, 20, 10, 30],
                                                                                          pa.uint16()),
                      "timestamp": stamps})
    ds = load_dataset(write(tmp_path / "p", table))
    assert ds.interactions["timestamp"].tolist() == [100, 50, 70, 80]
    assert ds.interactions["rating"].isna().all()


def test_duplicates_and_unknown_items_are_errors(tmp_path: Path) -> None:
    folder = write(tmp_path / "a", {**INTER, "item_id": [10, 10, 10, 10], "timestamp": [5, 5, 6, 6],
                                    "user_id": [1, 1, 1, 2]})
    with pytest.raises(DataError, match=r"interactions\.parquet line 2 repeats line 1"):
        load_dataset(folder)
    folder = write(tmp_path / "b", {**INTER, "item_id": [10, 20, 10, 99]})
    with pytest.raises(DataError, match=r"item_id 99 is not in items\.parquet"):
        load_dataset(folder)
    folder = write(tmp_path / "c", INTER, {**ITEMS, "item_id": [10, 20, 10]})
    with pytest.raises(DataError, match=r"item_id 10 already appears"):
        load_dataset(folder)


def test_not_parquet_is_an_error(tmp_path: Path) -> None:
    folder = write(tmp_path / "p")
    (folder / "interactions.parquet").write_text("user_id,item_id\n1,2\n")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load_dataset(folder)


def test_refuses_a_load_too_large_for_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             ml_csv_dir: Path) -> None:
    folder = write(tmp_path / "p")
    monkeypatch.setattr("recviz.data.memory.available_bytes", lambda: 100)
    with pytest.raises(DataError, match=r"interactions\.parquet: 4 interactions need about 0\.0 GB of "
                                        r"memory to load, but only 0\.0 GB is available"):
        load_dataset(folder)
    with pytest.raises(DataError, match=r"ratings\.csv: about \d+ interactions need about .* only 0\.0 GB"):
        load_dataset(ml_csv_dir)
    monkeypatch.setattr("recviz.data.memory.available_bytes", lambda: 10**12)
    assert load_dataset(folder).num_interactions == 4


def test_memory_estimate_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recviz.data import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 2 * memory.GB)
    with pytest.raises(DataError, match=r"20,000,000 interactions need about 2\.2 GB .* only 2\.0 GB"):
        memory.check_fits(tmp_path / "x.parquet", 20_000_000)
    memory.check_fits(tmp_path / "x.parquet", 1_000_000)  # fits: no error
    csv = tmp_path / "r.csv"
    csv.write_text("userId,movieId,rating,timestamp\n" + "123,4567,4.5,1500000000\n" * 100_000)
    assert abs(memory.estimate_csv_rows(csv) - 100_001) < 100
    assert memory.available_bytes.__module__  # the real function is still importable (not patched here)


def test_duplicated_rows_equals_pandas() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"user_id": rng.integers(0, 30, 5000), "item_id": rng.integers(0, 30, 5000),
                          "timestamp": rng.integers(0, 5, 5000)})
    expected = frame.duplicated(["user_id", "item_id", "timestamp"]).to_numpy()
    assert expected.any() and not expected.all()
    assert np.array_equal(duplicated_rows(frame, ["user_id", "item_id", "timestamp"]), expected)
    unique = frame.drop_duplicates(["user_id", "item_id", "timestamp"])
    assert not duplicated_rows(unique, ["user_id", "item_id", "timestamp"]).any()


def test_column_catalogue_behaves_like_the_item_catalogue() -> None:
    items = [Item(7, "Heat", 1995, ("Crime", "Drama")), Item(3, "Alien", None, ("Sci-Fi",)),
             Item(5, "Her", 2013, ())]
    eager = Catalogue(items)
    lazy = Catalogue.from_columns(np.array([7, 3, 5]), ["Heat", "Alien", "Her"],
                                  np.array([1995, np.nan, 2013]), np.array([0, 1, 2]),
                                  [("Crime", "Drama"), ("Sci-Fi",), ()])
    for cat in (eager, lazy):
        assert list(cat) == items and cat.ids == [7, 3, 5] and len(cat) == 3
        assert cat.get(3) == items[1] and cat.title(99) == "Movie 99" and 5 in cat and 99 not in cat
        assert cat.all_genres() == ["Crime", "Drama", "Sci-Fi"]
        assert [i.item_id for i in cat.search("he")] == [5, 7]
        assert cat.to_records()[0] == {"item_id": 7, "title": "Heat", "year": 1995,
                                       "genres": ["Crime", "Drama"]}
        assert cat.id_array().tolist() == [7, 3, 5]
        assert cat.genre_counts() == {"Crime": 1, "Drama": 1, "Sci-Fi": 1}
        with pytest.raises(UnknownItemError):
            cat.get(99)
    assert lazy.to_frame().equals(eager.to_frame())
