"""Regenerate sample_data/ml-latest-small/{ratings,movies}.csv from Debian's r-cran-dslabs package.

The ``movielens`` table of the R package dslabs (0.7.4) is MovieLens latest-small, October 2016 edition,
joined into one table. It sits in R's lazy-load database: ``Rdata.rdx`` (an RDS index giving each object's
offset and length) and ``Rdata.rdb`` (per object: a 4-byte big-endian length, then zlib data). This script
reads it with the pure-Python ``rdata`` package (no R needed) and splits it back into the two files.

    apt-get install r-cran-dslabs      # Debian/Ubuntu; provides /usr/lib/R/site-library/dslabs
    python scripts/regenerate_sample.py [--dslabs DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import warnings
import zlib
from pathlib import Path

import pandas as pd

DSLABS_DATA = Path("/usr/lib/R/site-library/dslabs/data")
OUT = Path(__file__).resolve().parent.parent / "sample_data" / "ml-latest-small"


def read_movielens(data_dir: Path) -> pd.DataFrame:
    """The dslabs ``movielens`` data frame (100,004 rows: movieId, title, year, genres, userId, rating,
    timestamp), in the package's row order."""
    import rdata  # a dev extra: only this script needs it

    index = rdata.read_rds(data_dir / "Rdata.rdx")
    offset, length = (int(v) for v in index["variables"]["movielens"])  # byte range in Rdata.rdb
    with (data_dir / "Rdata.rdb").open("rb") as handle:
        handle.seek(offset)
        blob = handle.read(length)
    with warnings.catch_warnings():  # the slice has no RDS magic; rdata warns "assumed RDS", which is right
        warnings.simplefilter("ignore", UserWarning)
        parsed = rdata.parser.parse_data(zlib.decompress(blob[4:]))  # skip the 4-byte uncompressed length
    return rdata.conversion.convert(parsed)


def split(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ratings in the table's order; one row per movie, sorted by id. Missing titles and years stay empty;
    the year is written as a float ("1995.0"), as in the committed files."""
    ratings = table[["userId", "movieId", "rating", "timestamp"]].astype(
        {"userId": "int64", "movieId": "int64", "rating": "float64", "timestamp": "int64"}
    )
    movies = (
        table[["movieId", "title", "year", "genres"]]
        .drop_duplicates("movieId")
        .astype({"movieId": "int64", "title": "object", "year": "float64", "genres": "object"})
        .sort_values("movieId", kind="stable")
    )
    return ratings, movies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dslabs", type=Path, default=DSLABS_DATA, help="dslabs data directory")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write ratings.csv and movies.csv")
    args = parser.parse_args(argv)
    if not (args.dslabs / "Rdata.rdx").is_file() or not (args.dslabs / "Rdata.rdb").is_file():
        print(
            f"error: {args.dslabs}/Rdata.rdx and Rdata.rdb not found. Install Debian's r-cran-dslabs "
            "(sudo apt-get install r-cran-dslabs) or pass --dslabs DIR (the package's data/ directory).",
            file=sys.stderr,
        )
        return 2
    try:
        import rdata  # noqa: F401
    except ImportError:
        print("error: the `rdata` package is missing; pip install rdata==1.1.0 (or pip install -e '.[dev]')",
              file=sys.stderr)
        return 2
    ratings, movies = split(read_movielens(args.dslabs))
    args.out.mkdir(parents=True, exist_ok=True)
    ratings.to_csv(args.out / "ratings.csv", index=False, lineterminator="\n")
    movies.to_csv(args.out / "movies.csv", index=False, lineterminator="\n")
    print(f"wrote {len(ratings):,} ratings and {len(movies):,} movies to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
