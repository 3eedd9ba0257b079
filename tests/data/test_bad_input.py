"""Bad input in every format raises DataError naming the file, the line or column, and what to do."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recviz.data import ColumnMapping, load_dataset
from recviz.errors import DataError

HEADER = "userId,movieId,rating,timestamp\n"
MOVIES = "movieId,title,genres\n10,Heat (1995),Action\n20,Jumanji (1995),Children\n"
U_ITEM = "10|Heat (1995)|01-Jan-1995||url" + "|0" * 19 + "\n"


def fails(path: Path, *fragments: str, mapping: ColumnMapping | None = None) -> str:
    """Loading raises DataError whose message contains every fragment (case-insensitive)."""
    with pytest.raises(DataError) as info:
        load_dataset(path, mapping)
    message = str(info.value)
    for fragment in fragments:
        assert fragment.lower() in message.lower(), message
    return message


# --- MovieLens CSV ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        ("userId,movieId,rating\n1,10,4\n", ("ratings.csv", "missing column", "timestamp")),
        (HEADER + "1,10,4,100\n1,20,4,yesterday\n", ("ratings.csv line 3", "timestamp", "'yesterday'")),
        (HEADER + "1,10,4,100\n1,20,4,101\n2,10,four,5\n", ("ratings.csv line 4", "rating", "'four'")),
        (HEADER + "1,10,4,100\n\n,20,4,100\n", ("ratings.csv line 4", "userId", "missing")),
        (HEADER + "1,10.5,4,100\n", ("ratings.csv line 2", "movieId", "whole number")),
        (HEADER + "1,10,4,100\n1,20,4,100,7\n", ("ratings.csv", "line 3", "saw 5")),
        ("", ("ratings.csv", "empty")),
        (HEADER, ("ratings.csv", "no data rows")),
        (HEADER.replace(",", ";") + "1;10;4;100\n", ("ratings.csv line 1", "comma-separated", "semicolon")),
        (HEADER + "1,10,4,100\n1,20,4,100\n1,10,5,100\n", ("ratings.csv line 4 repeats line 2", "duplicate")),
        (HEADER + "1,10,4,100\n1,99,4,100\n1,98,5,100\n", ("ratings.csv line 3", "movieId 99", "movies.csv",
                                                          "2 unknown id(s)")),
    ],
    ids=["missing-column", "timestamp", "rating", "missing-value", "float-id", "ragged", "empty",
         "header-only", "separator", "duplicate", "unknown-item"],
)
def test_movielens_csv_ratings(write, ratings: str, expected: tuple[str, ...]) -> None:
    write("movies.csv", MOVIES)
    fails(write("ratings.csv", ratings), *expected)


def test_movielens_csv_not_utf8(write) -> None:
    write("ratings.csv", HEADER + "1,10,4,100\n")
    folder = write("movies.csv", MOVIES.encode() + "30,Cité,Drama\n".encode("latin-1"))
    fails(folder, "movies.csv line 4", "not valid UTF-8", "re-save")


def test_utf16_file(write) -> None:
    write("movies.csv", MOVIES)
    fails(write("ratings.csv", HEADER + "1,10,4,100\n", "utf-16"), "ratings.csv", "UTF-16")


def test_duplicate_item_in_item_file(write) -> None:
    write("ratings.csv", HEADER + "1,10,4,100\n")
    fails(write("movies.csv", MOVIES + "10,Heat again,Action\n"), "movies.csv line 4", "movieId 10", "line 2")


def test_movies_file_missing_genres_column(write) -> None:
    write("ratings.csv", HEADER + "1,10,4,100\n")
    fails(write("movies.csv", "movieId,title\n10,Heat\n"), "movies.csv", "missing column", "genres")


# --- MovieLens 100K and 1M ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"u.data": "1,10,4,5\n", "u.item": U_ITEM}, ("u.data line 1", "tab-separated", "comma")),
        ({"u.data": "1\t10\t4\t5\n1\t10\tx\t6\n", "u.item": U_ITEM}, ("u.data line 2", "rating", "'x'")),
        ({"u.data": "1\t10\t4\t5\n1\t10\t4\t5\n", "u.item": U_ITEM}, ("u.data line 2 repeats line 1",)),
        ({"u.data": "1\t11\t4\t5\n", "u.item": U_ITEM}, ("u.data line 1", "11", "not in u.item")),
        ({"u.data": "1\t10\t4\t5\n", "u.item": U_ITEM + "20|B|||\n"}, ("u.item line 2", "24", "fields")),
        ({"u.data": "1\t10\t4\t5\n", "u.item": U_ITEM.encode("utf-16")}, ("u.item", "UTF-16")),
        ({"u.data": "", "u.item": U_ITEM}, ("u.data", "empty")),
        ({"u.data": "1\t10\t4\t5\n"}, ("found u.data but not u.item",)),
    ],
    ids=["separator", "rating", "duplicate", "unknown-item", "short-item-line", "utf16-item", "empty",
         "missing-item-file"],
)
def test_movielens_100k(write, files: dict[str, str | bytes], expected: tuple[str, ...]) -> None:
    folder = None
    for name, text in files.items():
        folder = write(name, text, "latin-1")
    fails(folder, *expected)


@pytest.mark.parametrize(
    ("ratings", "movies", "expected"),
    [
        ("1,10,4,5\n", "10::A (1995)::Drama\n", ("ratings.dat line 1", "'::'-separated", "comma")),
        ("1::10::4::5\n1::10::4::x\n", "10::A (1995)::Drama\n", ("ratings.dat line 2", "timestamp", "'x'")),
        ("1::10::4::5\n", "10::A (1995)::Drama\n20::B\n", ("movies.dat line 2", "MovieID::Title::Genres")),
        ("1::10::4::5\n1::11::4::5\n", "10::A (1995)::Drama\n", ("ratings.dat line 2", "MovieID 11",
                                                                  "movies.dat")),
        ("1::10::4::5\n", "", ("movies.dat", "empty")),
    ],
    ids=["separator", "timestamp", "short-movie-line", "unknown-item", "empty-movies"],
)
def test_movielens_1m(write, ratings: str, movies: str, expected: tuple[str, ...]) -> None:
    write("ratings.dat", ratings, "latin-1")
    fails(write("movies.dat", movies, "latin-1"), *expected)


def test_movielens_1m_utf16_is_not_latin1(write) -> None:
    write("ratings.dat", "1::10::4::5\n", "latin-1")
    fails(write("movies.dat", "10::A (1995)::Drama\n", "utf-16"), "movies.dat", "UTF-16")


# --- RecBole ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inter", "expected"),
    [
        ("user_id\titem_id\n1\t2\n", ("a.inter line 1", "user_id, item_id", ":type")),
        ("user_id:token\tuser:token\n1\t2\n", ("a.inter", "missing column", "item_id")),
        ("user_id:token\titem_id:token\nu1\t2\n",
         ("a.inter line 2", "user_id:token", "'u1'", "whole number")),
        ("user_id:token,item_id:token\n1,2\n", ("a.inter line 1", "tab-separated", "comma")),
        ("user_id:token\titem_id:token\ttimestamp:float\n1\t2\t5\n1\t2\t5.0\n",
         ("a.inter line 3 repeats line 2",)),
        ("user_id:token\titem_id:token\n1\t3\n", ("a.inter line 2", "item_id 3", "a.item")),
    ],
    ids=["untyped-header", "missing-column", "string-token", "separator", "duplicate", "unknown-item"],
)
def test_recbole(write, inter: str, expected: tuple[str, ...]) -> None:
    write("a.item", "item_id:token\tmovie_title:token_seq\n2\tHeat\n")
    fails(write("a.inter", inter), *expected)


def test_recbole_two_inter_files(write) -> None:
    write("a.inter", "user_id:token\titem_id:token\n1\t2\n")
    fails(write("b.inter", "user_id:token\titem_id:token\n1\t2\n"), "a.inter, b.inter", "one data set")


# --- generic files and detection ----------------------------------------------------------------------------


def test_generic_mapping_names_a_missing_column(write) -> None:
    folder = write("log.csv", "u,i\n1,2\n")
    fails(folder / "log.csv", "log.csv", "missing column", "item",
          mapping=ColumnMapping(user="u", item="item"))


def test_generic_item_file_lacks_mapped_columns(write) -> None:
    write("log.csv", "u,i\n1,2\n")
    folder = write("items.csv", "i,name\n2,Heat\n")
    mapping = ColumnMapping(user="u", item="i", items_path=folder / "items.csv")
    fails(folder / "log.csv", "items.csv", "missing column", "title", mapping=mapping)


def test_generic_parquet_non_numeric_row(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pd.DataFrame({"u": ["1", "2", "x"], "i": [1, 2, 3]}).to_parquet(path)
    fails(path, "log.parquet line 3", "'x'", mapping=ColumnMapping(user="u", item="i"))


def test_generic_multi_character_separator(write) -> None:
    folder = write("log.txt", "u::i::t\n1::2::10\n1::3::11\n")
    ds = load_dataset(folder / "log.txt", ColumnMapping(user="u", item="i", timestamp="t", sep="::"))
    assert ds.interactions["item_id"].tolist() == [2, 3]


def test_single_file_needs_a_mapping(write) -> None:
    fails(write("log.csv", "u,i\n1,2\n") / "log.csv", "log.csv", "ColumnMapping", "--user")


def test_mapping_needs_a_file_not_a_directory(write) -> None:
    fails(write("log.csv", "u,i\n1,2\n"), "pass the file", mapping=ColumnMapping(user="u", item="i"))


def test_half_a_format_names_the_missing_file(write) -> None:
    fails(write("ratings.csv", HEADER + "1,10,4,100\n"), "found ratings.csv but not movies.csv")


def test_unknown_directory_lists_what_it_found(write) -> None:
    fails(write("notes.txt", "hello"), "notes.txt", "ratings.csv + movies.csv", "NAME.inter")


def test_missing_path(tmp_path: Path) -> None:
    fails(tmp_path / "nope", "nope", "no such file")


# --- absurd numbers and unknown RecBole types ---------------------------------------------------------------

HUGE = "9" * 5_000_000  # five million digits: Python's int() refuses it, float64 reads it as inf


def fails_fast(path: Path, *fragments: str, mapping: ColumnMapping | None = None) -> str:
    """Like :func:`fails`, and the error comes at once (no hang on a five-million-digit field)."""
    start = time.perf_counter()
    message = fails(path, *fragments, mapping=mapping)
    assert time.perf_counter() - start < 20, "an absurd field must be refused quickly"
    assert len(message) < 1000, "the message shows the start of the field, not all of it"
    return message


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        (HEADER + f"1,10,4,100\n1,20,4,{HUGE}\n", ("ratings.csv line 3", "timestamp", "too large",
                                                   "5000000 characters")),
        (HEADER + f"1,10,4,100\n1,20,4,-{'9' * 400}\n", ("ratings.csv line 3", "timestamp", "too large")),
        (HEADER + f"1,10,4,100\n1,20,4,{'9' * 25}\n", ("ratings.csv line 3", "timestamp", "too large")),
        (HEADER + f"1,10,4,100\n{HUGE},20,4,100\n", ("ratings.csv line 3", "userId", "too large")),
        (HEADER + f"1,10,4,100\n{'9' * 25},20,4,100\n", ("ratings.csv line 3", "userId", "too large")),
        (HEADER + f"1,10,4,100\n1,{HUGE},4,100\n", ("ratings.csv line 3", "movieId", "too large")),
        (HEADER + f"1,10,4,100\n1,20,{HUGE},100\n", ("ratings.csv line 3", "rating", "too large")),
        (HEADER + "1,10,4,100\n1,20,inf,100\n", ("ratings.csv line 3", "rating", "'inf'",
                                                 "not a finite number")),
    ],
    ids=["timestamp-5M-digits", "timestamp-400-digits", "timestamp-25-digits", "user-5M-digits",
         "user-25-digits", "movie-5M-digits", "rating-5M-digits", "rating-inf"],
)
def test_absurd_numbers_in_movielens_ratings(write, ratings: str, expected: tuple[str, ...]) -> None:
    write("movies.csv", MOVIES)
    fails_fast(write("ratings.csv", ratings), *expected)


def test_absurd_numbers_in_item_files(write) -> None:
    write("ratings.csv", HEADER + "1,10,4,100\n")
    folder = write("movies.csv", f"movieId,title,genres\n10,Heat,Action\n{HUGE},Jumanji,Children\n")
    fails_fast(folder, "movies.csv line 3", "movieId", "too large")
    write("movies.csv", f"movieId,title,genres,year\n10,Heat,Action,1995\n20,Jumanji,Children,{HUGE}\n")
    fails_fast(folder, "movies.csv line 3", "year", "not a year")
    write("movies.csv", "movieId,title,genres,year\n10,Heat,Action,1995\n20,Jumanji,Children,1e400\n")
    fails_fast(folder, "movies.csv line 3", "year", "'1e400'")


def test_absurd_numbers_in_other_formats(write, tmp_path: Path) -> None:
    write("movies.dat", "10::A (1995)::Drama\n", "latin-1", directory="ml1m")
    ml1m = write("ratings.dat", f"1::10::4::5\n1::10::4::{HUGE}\n", "latin-1", directory="ml1m")
    fails_fast(ml1m, "ratings.dat line 2", "timestamp", "too large")
    write("u.item", U_ITEM, "latin-1", directory="ml100k")
    ml100k = write("u.data", f"1\t10\t4\t5\n{HUGE}\t10\t4\t6\n", "latin-1", directory="ml100k")
    fails_fast(ml100k, "u.data line 2", "user id", "too large")
    rb = write("a.inter", f"user_id:token\titem_id:token\ttimestamp:float\n1\t2\t{HUGE}\n", directory="rb")
    fails_fast(rb, "a.inter line 2", "timestamp:float", "too large")
    log = write("log.csv", f"u,i,t\n1,2,10\n1,3,{HUGE}\n", directory="gen") / "log.csv"
    fails_fast(log, "log.csv line 3", "t", "too large",
               mapping=ColumnMapping(user="u", item="i", timestamp="t"))


def test_large_but_valid_numbers_still_load(write) -> None:
    """The bounds refuse absurd fields only: 19-digit int64 ids and millisecond timestamps load unchanged."""
    big_id = 2**62 + 1  # exact in the typed int64 read
    write("movies.csv", f"movieId,title,genres\n10,Heat,Action\n{big_id},Jumanji,Children\n")
    folder = write("ratings.csv", HEADER + f"1,10,4,1700000000000\n1,{big_id},4.5,1700000000001\n")
    frame = load_dataset(folder).interactions
    assert frame["item_id"].tolist() == [10, big_id]
    assert frame["timestamp"].tolist() == [1_700_000_000_000, 1_700_000_000_001]


@pytest.mark.parametrize(
    ("file", "header", "column"),
    [
        ("a.inter", "user_id:token\titem_id:token\ttimestamp:bogus\n1\t2\t5\n", "timestamp:bogus"),
        ("a.inter", "user_id:token\titem_id:\n1\t2\n", "item_id:"),
        ("a.item", "item_id:token\tmovie_title:string\n2\tHeat\n", "movie_title:string"),
    ],
    ids=["inter-bogus", "inter-empty-type", "item-string"],
)
def test_recbole_unknown_type(write, file: str, header: str, column: str) -> None:
    write("a.inter", "user_id:token\titem_id:token\n1\t2\n")
    write("a.item", "item_id:token\tmovie_title:token_seq\n2\tHeat\n")
    fails(write(file, header), f"{file} line 1", column, "token, token_seq, float, float_seq")


def test_absurd_numbers_in_parquet(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pd.DataFrame({"u": np.array([1, 2**64 - 1], dtype=np.uint64), "i": [1, 2]}).to_parquet(path)
    fails_fast(path, "log.parquet line 2", "u", "too large", mapping=ColumnMapping(user="u", item="i"))
    pd.DataFrame({"u": [1, 2], "i": [1, 2], "t": [10.0, np.inf]}).to_parquet(path)
    fails_fast(path, "log.parquet line 2", "t", "'inf'",
               mapping=ColumnMapping(user="u", item="i", timestamp="t"))
