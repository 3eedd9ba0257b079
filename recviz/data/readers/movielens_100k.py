"""MovieLens 100K: ``u.data`` (tab-separated user, item, rating, timestamp; no header) and ``u.item``
(``|``-separated, latin-1: id, "Title (1995)", release date, video date, IMDb URL, 19 genre flags)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recviz.data.readers import common
from recviz.data.types import Catalogue, Dataset
from recviz.errors import DataError

FORMAT = "movielens-100k"
FILES = ("u.data", "u.item")
ENCODING = "latin-1"
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)
ITEM_COLUMNS = ("item_id", "title", "release_date", "video_release_date", "imdb_url", *GENRES)
DATA_COLUMNS = ("user_id", "item_id", "rating", "timestamp")
DATA_DTYPES = {"user_id": "int64", "item_id": "int64", "rating": "float64", "timestamp": "float64"}

COLUMNS = common.RatingColumns("user_id", "item_id", "rating", "timestamp", ("user id", "item id"),
                               ("user id", "item id", "timestamp"))


def read(directory: Path, name: str) -> Dataset:
    data_path, item_path = (directory / f for f in FILES)
    catalogue = read_items(item_path)
    common.check_file(data_path, "ratings (user id, item id, rating, timestamp; tab-separated)")
    common.check_fields(data_path, common.first_line(data_path, ENCODING), "\t", expected=4)
    table = common.read_table(data_path, "\t", encoding=ENCODING, names=DATA_COLUMNS, dtype=DATA_DTYPES)
    return common.ratings_dataset(name, directory, FORMAT, table, catalogue, item_path, COLUMNS)


def read_items(path: Path) -> Catalogue:
    common.check_file(path, "movies (id|title|release date|...|19 genre flags)")
    encoding = common.sniff_encoding(path, ENCODING)
    common.check_fields(path, common.first_line(path, encoding), "|", expected=len(ITEM_COLUMNS))
    table = common.read_table(path, "|", encoding=encoding, names=ITEM_COLUMNS)
    items = table.frame
    short = items[GENRES[-1]].isna().to_numpy()
    if short.any():
        raise DataError(
            f"{table.where(int(short.nonzero()[0][0]))}: expected {len(ITEM_COLUMNS)} '|'-separated fields "
            "(id|title|release date|video date|IMDb URL|19 genre flags); fix that line"
        )
    # the title "unknown" (item 267) is a placeholder, not a title
    title, year = common.split_title_year(items["title"].where(items["title"] != "unknown", None))
    released = pd.to_datetime(items["release_date"], format="%d-%b-%Y", errors="coerce").dt.year
    flags = np.column_stack([common.numeric(table, g, f"genre flag {g}", integer=True) for g in GENRES[1:]])
    names = np.asarray(GENRES[1:], dtype=object)
    genres = [tuple(names[row.astype(bool)]) for row in flags]
    return common.build_catalogue(
        table, common.numeric(table, "item_id", "item id", integer=True), title, year.fillna(released),
        genres, "item id",
    )
