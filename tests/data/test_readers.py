"""Each reader on a small hand-written fixture: exact interactions and catalogue entries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recviz.data import ColumnMapping, Item, load_dataset
from recviz.data.types import clean_title


def columns(frame: pd.DataFrame) -> dict[str, list]:
    return {c: frame[c].tolist() for c in ("user_id", "item_id", "rating", "timestamp")}


def test_interaction_dtypes_are_the_contract(ml_csv_dir: Path) -> None:
    frame = load_dataset(ml_csv_dir).interactions
    assert list(frame.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert [str(t) for t in frame.dtypes] == ["int64", "int64", "float64", "int64"]


def test_movielens_csv_upstream_titles(ml_csv_dir: Path) -> None:
    ds = load_dataset(ml_csv_dir)
    assert ds.format == "movielens-csv" and ds.name == "ds"
    assert columns(ds.interactions) == {
        "user_id": [1, 1, 1, 2, 2],
        "item_id": [10, 20, 30, 10, 30],
        "rating": [4.0, 3.5, 5.0, 2.0, 1.0],
        "timestamp": [100, 100, 50, 200, 300],
    }
    cat = ds.catalogue
    assert cat.ids == [10, 20, 30, 40, 50]  # file order, unrated 40 and 50 kept
    assert cat.get(10) == Item(10, "American President, The", 1995, ("Comedy", "Drama", "Romance"))
    assert cat.get(20) == Item(20, "Toy Story", 1995, ("Animation", "Children"))
    assert cat.get(30) == Item(30, "Untitled Thing", None, ())
    assert cat.get(50) == Item(50, "Movie 50", None, ("Drama",))
    assert ds.num_items == 3 and ds.num_users == 2


def test_movielens_csv_year_column_and_name(write) -> None:
    write("ratings.csv", "userId,movieId,rating,timestamp\n7,1,3.0,5\n")
    folder = write("movies.csv", 'movieId,title,year,genres\n1,"Usual Suspects, The",1995.0,Crime|Mystery\n')
    ds = load_dataset(folder, name="mine")
    assert ds.name == "mine"
    assert ds.catalogue.get(1) == Item(1, "Usual Suspects, The", 1995, ("Crime", "Mystery"))


def test_a_file_of_a_known_format_loads_its_directory(ml_csv_dir: Path) -> None:
    assert load_dataset(ml_csv_dir / "ratings.csv").num_interactions == 5


def test_movielens_100k(ml100k_dir: Path) -> None:
    ds = load_dataset(ml100k_dir)
    assert ds.format == "movielens-100k"
    assert columns(ds.interactions) == {
        "user_id": [1, 1, 2], "item_id": [10, 20, 267], "rating": [4.0, 3.0, 1.0],
        "timestamp": [881250949, 881250950, 891717742],
    }
    assert ds.catalogue.get(10) == Item(10, "Cité des enfants perdus, La", 1995, ("Adventure", "Sci-Fi"))
    # no year in the title: the release date gives it
    assert ds.catalogue.get(20) == Item(20, "Toy Story", 1993, ("Animation", "Children's", "Comedy"))
    # the placeholder title "unknown" and the "unknown" genre flag
    assert ds.catalogue.get(267) == Item(267, "Movie 267", None, ())


def test_movielens_1m_latin1_and_colons_in_titles(ml1m_dir: Path) -> None:
    ds = load_dataset(ml1m_dir)
    assert ds.format == "movielens-1m"
    assert columns(ds.interactions) == {
        "user_id": [1, 1, 2], "item_id": [10, 20, 10], "rating": [5.0, 3.0, 4.0],
        "timestamp": [978300760, 978302109, 978301968],
    }
    assert ds.catalogue.get(10) == Item(
        10, "Star Wars: Episode IV - A New Hope", 1977, ("Action", "Adventure", "Fantasy", "Sci-Fi")
    )
    assert ds.catalogue.get(20).title == "Cité des enfants perdus, La"


def test_movielens_1m_resaved_as_utf8_is_not_garbled(write) -> None:
    write("ratings.dat", "1::20::3::978302109\n")
    folder = write("movies.dat", "20::Cité des enfants perdus, La (1995)::Adventure|Sci-Fi\n", "utf-8")
    assert load_dataset(folder).catalogue.get(20).title == "Cité des enfants perdus, La"


def test_recbole_atomic_files(recbole_dir: Path) -> None:
    ds = load_dataset(recbole_dir)
    assert ds.format == "recbole"
    # float timestamps are truncated to whole seconds
    assert columns(ds.interactions) == {
        "user_id": [1, 1, 2], "item_id": [10, 20, 10], "rating": [4.0, 3.0, 5.0],
        "timestamp": [978300760, 978300761, 978300762],
    }
    assert ds.catalogue.get(10) == Item(10, "Toy Story", 1995, ("Animation", "Children's", "Comedy"))
    assert ds.catalogue.get(20) == Item(20, "Jumanji", None, ("Adventure",))


def test_recbole_without_item_file_or_timestamp(write) -> None:
    folder = write("x.inter", "user_id:token\titem_id:token\n5\t9\n5\t8\n6\t9\n")
    ds = load_dataset(folder)
    assert ds.interactions["user_id"].tolist() == [5, 5, 6]
    assert ds.interactions["item_id"].tolist() == [9, 8, 9]
    assert ds.interactions["timestamp"].tolist() == [0, 1, 2]  # row order is the time order
    assert np.isnan(ds.interactions["rating"].to_numpy()).all()
    assert ds.catalogue.ids == [9, 8] and ds.catalogue.get(8) == Item(8, "Movie 8", None, ())
    assert any("row order" in note for note in ds.notes)


def test_generic_csv_with_item_file(write) -> None:
    write("log.csv", "uid;iid;score;when\n1;100;2.5;30\n1;200;4;10\n")
    folder = write("items.csv", "iid;name;tags\n100;Heat (1995);Action,Crime\n200;;\n")
    mapping = ColumnMapping(user="uid", item="iid", rating="score", timestamp="when", sep=";",
                            items_path=folder / "items.csv", title="name", genres="tags", genre_sep=",")
    ds = load_dataset(folder / "log.csv", mapping)
    assert ds.format == "generic" and ds.name == "log"
    assert columns(ds.interactions) == {
        "user_id": [1, 1], "item_id": [100, 200], "rating": [2.5, 4.0], "timestamp": [30, 10],
    }
    assert ds.catalogue.get(100) == Item(100, "Heat", 1995, ("Action", "Crime"))
    assert ds.catalogue.get(200) == Item(200, "Movie 200", None, ())


def test_generic_parquet_with_datetimes(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "user": [3, 3, 4],
        "item": [7, 8, 7],
        "at": pd.to_datetime(["2001-09-09 01:46:40", "2001-09-09 01:46:41", "1970-01-01 00:00:10"]),
    })
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    ds = load_dataset(path, ColumnMapping(user="user", item="item", timestamp="at"))
    assert ds.interactions["timestamp"].tolist() == [1_000_000_000, 1_000_000_001, 10]
    assert np.isnan(ds.interactions["rating"].to_numpy()).all()
    assert ds.catalogue.ids == [7, 8]


def test_blank_lines_are_skipped(write) -> None:
    write("ratings.csv", "userId,movieId,rating,timestamp\n1,10,4.0,100\n\n1,20,3.5,101\n\n")
    folder = write("movies.csv", "movieId,title,genres\n10,A,Drama\n20,B,Drama\n")
    assert load_dataset(folder).interactions["item_id"].tolist() == [10, 20]


def test_fallback_titles_for_every_kind_of_missing() -> None:
    for raw in (None, float("nan"), pd.NA, "", "  ", "nan"):
        assert clean_title(raw, 7) == "Movie 7"
    assert clean_title("  Heat ", 7) == "Heat"


def test_excel_style_bom_and_crlf(write) -> None:
    write("ratings.csv", "\ufeffuserId,movieId,rating,timestamp\r\n1,10,4.0,100\r\n")
    folder = write("movies.csv", "\ufeffmovieId,title,genres\r\n10,Heat (1995),Action|Crime\r\n")
    ds = load_dataset(folder)
    assert ds.interactions["user_id"].tolist() == [1]
    assert ds.catalogue.get(10) == Item(10, "Heat", 1995, ("Action", "Crime"))


def test_generic_tsv_defaults_to_tabs(write) -> None:
    folder = write("log.tsv", "u\ti\n4\t2\n4\t3\n")
    ds = load_dataset(folder / "log.tsv", ColumnMapping(user="u", item="i"))
    assert ds.interactions["item_id"].tolist() == [2, 3] and ds.interactions["timestamp"].tolist() == [0, 1]
