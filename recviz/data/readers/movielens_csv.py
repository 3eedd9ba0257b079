"""MovieLens CSV: ``ratings.csv`` + ``movies.csv`` (ml-latest, ml-latest-small, ml-20m, ml-25m), UTF-8.

``movies.csv`` is ``movieId,title,genres`` with the year in the title ("Toy Story (1995)"); the shipped
sample adds a ``year`` column and keeps the title bare. Either way the catalogue holds the bare title.
"""

from __future__ import annotations

from pathlib import Path

from recviz.data import memory
from recviz.data.readers import common
from recviz.data.types import Catalogue, Dataset

FORMAT = "movielens-csv"
FILES = ("ratings.csv", "movies.csv")
RATING_DTYPES = {"userId": "int64", "movieId": "int64", "rating": "float64", "timestamp": "float64"}

COLUMNS = common.RatingColumns("userId", "movieId", "rating", "timestamp", ("user id", "movie id"),
                               ("userId", "movieId", "timestamp"))


def read(directory: Path, name: str) -> Dataset:
    ratings_path, movies_path = (directory / f for f in FILES)
    catalogue = read_movies(movies_path)
    table = read_ratings(ratings_path)
    return common.ratings_dataset(name, directory, FORMAT, table, catalogue, movies_path, COLUMNS)


def read_ratings(path: Path) -> common.Table:
    common.check_file(path, "ratings (userId,movieId,rating,timestamp)")
    header = common.check_fields(path, common.first_line(path, "utf-8"), ",")
    common.require_columns(path, header, list(RATING_DTYPES))
    memory.check_fits(path, memory.estimate_csv_rows(path), estimated=True)
    return common.read_table(path, ",", dtype=RATING_DTYPES)


def read_movies(path: Path) -> Catalogue:
    common.check_file(path, "movies (movieId,title,genres)")
    header = common.check_fields(path, common.first_line(path, "utf-8"), ",")
    common.require_columns(path, header, ["movieId", "title", "genres"])
    table = common.read_table(path, ",")
    movies = table.frame
    title, year = movies["title"], movies["year"] if "year" in movies else None
    if year is None:
        title, year = common.split_title_year(title)
    return common.build_catalogue(
        table,
        common.numeric(table, "movieId", "movie id", integer=True),
        title,
        year,
        common.split_genres(movies["genres"], "|"),
        "movieId",
    )
