"""MovieLens 1M: ``ratings.dat`` (``UserID::MovieID::Rating::Timestamp``) and ``movies.dat``
(``MovieID::Title (1995)::Genre|Genre``), ``::``-separated, latin-1, no header."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from recviz.data.readers import common
from recviz.data.types import Catalogue, Dataset
from recviz.errors import DataError

FORMAT = "movielens-1m"
FILES = ("ratings.dat", "movies.dat")
ENCODING = "latin-1"
# "1::1193::5::978300760" split on ':' gives the four fields at even positions: a fast C-parser read
RATING_FIELDS = ("user_id", "_a", "item_id", "_b", "rating", "_c", "timestamp")
RATING_DTYPES = {"user_id": "int64", "item_id": "int64", "rating": "float64", "timestamp": "float64"}

COLUMNS = common.RatingColumns("user_id", "item_id", "rating", "timestamp", ("user id", "movie id"),
                               ("UserID", "MovieID", "Timestamp"))


def read(directory: Path, name: str) -> Dataset:
    ratings_path, movies_path = (directory / f for f in FILES)
    catalogue = read_movies(movies_path)
    common.check_file(ratings_path, "ratings (UserID::MovieID::Rating::Timestamp)")
    common.check_fields(ratings_path, common.first_line(ratings_path, ENCODING), "::", expected=4)
    table = common.read_table(ratings_path, ":", encoding=ENCODING, names=RATING_FIELDS, dtype=RATING_DTYPES)
    return common.ratings_dataset(name, directory, FORMAT, table, catalogue, movies_path, COLUMNS)


def read_movies(path: Path) -> Catalogue:
    """Titles contain ':' ("Star Wars: Episode IV"), so lines are split on the first two '::' only."""
    common.check_file(path, "movies (MovieID::Title::Genres)")
    encoding = common.sniff_encoding(path, ENCODING)
    common.check_fields(path, common.first_line(path, encoding), "::", expected=3)
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError:
        raise common.decoding_error(path, encoding) from None
    lines = pd.Series(text.splitlines(), dtype="str")
    keep = lines.str.strip() != ""
    parts = lines[keep].str.split("::", n=2, expand=True).reindex(columns=range(3))
    parts.columns = ["item_id", "title", "genres"]
    table = common.Table(path, parts.reset_index(drop=True), (lines.index[keep] + 1).to_numpy())
    short = parts["genres"].isna().to_numpy()
    if short.any():
        raise DataError(
            f"{table.where(int(short.nonzero()[0][0]))}: expected MovieID::Title::Genres; fix that line"
        )
    title, year = common.split_title_year(table.frame["title"])
    return common.build_catalogue(
        table, common.numeric(table, "item_id", "movie id", integer=True), title, year,
        common.split_genres(table.frame["genres"], "|"), "MovieID",
    )
