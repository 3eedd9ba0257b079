"""Any CSV/TSV/Parquet interaction file, described by an explicit :class:`ColumnMapping`.

Without a timestamp column the row order is the time order; without a rating column ratings are NaN
(implicit feedback). An optional item file adds titles, years and genres; without it items get fallback
titles ("Movie <id>").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recviz.data.readers import common
from recviz.data.types import Catalogue, Dataset
from recviz.errors import DataError

FORMAT = "generic"
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns of a generic file hold what.

    ``user`` and ``item`` are required (integer ids); ``rating`` and ``timestamp`` (Unix seconds, or a
    Parquet datetime column) are optional. ``sep`` is the CSV separator (default ',' or a tab for .tsv).
    ``items_path`` names an item file (same format rules) whose id column is ``item_id`` (default: the
    ``item`` name); ``title``/``year``/``genres`` name its columns (None = absent; without ``year`` the year
    is parsed from a "Title (1995)" suffix), genres split on ``genre_sep``.
    """

    user: str
    item: str
    rating: str | None = None
    timestamp: str | None = None
    sep: str | None = None
    items_path: str | Path | None = None
    item_id: str | None = None
    title: str | None = "title"
    year: str | None = None
    genres: str | None = "genres"
    genre_sep: str = "|"


def read(path: Path, mapping: ColumnMapping, name: str) -> Dataset:
    dtype = {mapping.user: "int64", mapping.item: "int64"}
    dtype.update({c: "float64" for c in (mapping.rating, mapping.timestamp) if c})
    table = read_any(path, mapping, list(dtype), dtype)
    frame = common.interactions_frame(
        table,
        common.numeric(table, mapping.user, "user id", integer=True),
        common.numeric(table, mapping.item, "item id", integer=True),
        common.numeric(table, mapping.rating, "rating", integer=False) if mapping.rating else None,
        common.timestamps(table, mapping.timestamp) if mapping.timestamp else None,
        (mapping.user, mapping.item, mapping.timestamp or "row"),
    )
    notes = [] if mapping.timestamp else [common.ROW_ORDER_NOTE]
    if mapping.items_path is not None:
        item_path = Path(mapping.items_path)
        catalogue = read_items(item_path, mapping)
        common.check_known_items(table, frame, catalogue, item_path, mapping.item)
    else:
        catalogue = common.fallback_catalogue(frame["item_id"].to_numpy())
        notes.append("no item file: items have fallback titles and no genres")
    return common.make_dataset(name, frame, catalogue, path, FORMAT, notes)


def read_any(
    path: Path, mapping: ColumnMapping, wanted: list[str], dtype: dict[str, str] | None = None
) -> common.Table:
    """A CSV/TSV (checked header, separator) or Parquet file with the ``wanted`` columns."""
    parquet = path.suffix.lower() in PARQUET_SUFFIXES
    common.check_file(path, f"columns {', '.join(wanted)}", text=not parquet)
    if parquet:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a corrupt or foreign file
            raise DataError(f"{path}: not a readable Parquet file ({exc}); re-export it") from None
        common.require_columns(path, [str(c) for c in frame.columns], wanted, "fix the ColumnMapping")
        if frame.empty:
            raise DataError(f"{path}: the file has no rows")
        frame = frame.reset_index(drop=True)
        # Parquet has no header line: "line" n is row n (1-based)
        return common.Table(path, frame, pd.RangeIndex(1, len(frame) + 1).to_numpy())
    sep = mapping.sep or ("\t" if path.suffix.lower() in (".tsv", ".tab") else ",")
    header = common.check_fields(path, common.first_line(path, "utf-8"), sep)
    common.require_columns(path, header, wanted, "fix the ColumnMapping or the file's header")
    return common.read_table(path, sep, dtype=dtype)


def read_items(path: Path, mapping: ColumnMapping) -> Catalogue:
    id_col = mapping.item_id or mapping.item
    wanted = [c for c in (id_col, mapping.title, mapping.year, mapping.genres) if c]
    table = read_any(path, mapping, wanted)
    items = table.frame
    title = items[mapping.title] if mapping.title else None
    year = items[mapping.year] if mapping.year else None
    if title is not None and year is None:
        title, year = common.split_title_year(title)
    genres = common.split_genres(items[mapping.genres], mapping.genre_sep) if mapping.genres else None
    ids = common.numeric(table, id_col, "item id", integer=True)
    return common.build_catalogue(table, ids, title, year, genres, id_col, mapping.year or "year")
