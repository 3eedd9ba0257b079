"""Parquet: ``interactions.parquet`` (user_id, item_id, rating, timestamp) + ``items.parquet`` (item_id,
title, year, genres "A|B"), the layout ``recviz data synth`` writes. Read column-wise with pyarrow and
numpy (no per-row Python), so tens of millions of interactions load in seconds.

Types are checked from the schema before any data is read: ids integer, rating a number (optional: NaN =
implicit feedback), timestamp integer Unix seconds or a Parquet timestamp; the memory the load needs is
estimated from the row count in the file's metadata and a load that would not fit is refused first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from recviz.data import memory
from recviz.data.readers import common
from recviz.data.types import Catalogue, Dataset
from recviz.errors import DataError

FORMAT = "parquet"
FILES = ("interactions.parquet", "items.parquet")
FILE_NAMES = ("user_id", "item_id", "timestamp")  # how messages name the columns
_KINDS = {  # column → (accepts this Arrow type?, what it must be)
    "user_id": (pa.types.is_integer, "an integer"),
    "item_id": (pa.types.is_integer, "an integer"),
    "rating": (lambda t: pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_null(t),
               "a number"),
    "timestamp": (lambda t: pa.types.is_integer(t) or pa.types.is_timestamp(t),
                  "integer Unix seconds or a Parquet timestamp"),
    "title": (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t), "text"),
    "year": (lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t), "a number"),
    "genres": (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t),
               "text such as 'Drama|Comedy'"),
}


def read(directory: Path, name: str) -> Dataset:
    inter_path, items_path = (directory / f for f in FILES)
    inter_file = open_parquet(inter_path)
    memory.check_fits(inter_path, inter_file.metadata.num_rows)
    catalogue = read_items(items_path)
    table, columns = read_interactions(inter_path, inter_file)
    frame = common.interactions_frame(table, columns.pop("user_id"), columns.pop("item_id"),
                                      columns.pop("rating"), columns.pop("timestamp"), FILE_NAMES)
    common.check_known_items(table, frame, catalogue, items_path, "item_id")
    notes = [] if "rating" in inter_file.schema_arrow.names else ["no rating column: implicit feedback"]
    return common.make_dataset(name, frame, catalogue, directory, FORMAT, notes)


def open_parquet(path: Path) -> pq.ParquetFile:
    common.check_file(path, "a Parquet table", text=False)
    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt or foreign file
        raise DataError(f"{path}: not a readable Parquet file ({exc}); re-export it") from None


def checked_schema(path: Path, schema: pa.Schema, required: list[str], optional: list[str]) -> list[str]:
    """The columns to read; a missing required column or a column of the wrong type names file and column."""
    common.require_columns(path, schema.names, required, "rename the columns when writing the file")
    present = [c for c in (*required, *optional) if c in schema.names]
    for column in present:
        accepts, what = _KINDS[column]
        kind = schema.field(column).type
        if not accepts(kind):
            raise DataError(f"{path.name}: column {column} has type {kind}, but it must be {what}; "
                            "cast the column when writing the file")
    return present


def _no_nulls(path: Path, table: pa.Table, column: str) -> None:
    values = table.column(column)
    if values.null_count:
        row = int(pc.index(pc.is_null(values), True).as_py())
        raise DataError(f"{path.name} row {row + 1}: {column} is missing "
                        f"({values.null_count:,} missing in all); "
                        "fill or drop those rows")


def _int64(path: Path, table: pa.Table, column: str) -> np.ndarray:
    try:
        return table.column(column).cast(pa.int64()).to_numpy()
    except pa.ArrowInvalid:  # an unsigned 64-bit id beyond the int64 range
        raise DataError(f"{path.name}: column {column} holds ids beyond the int64 range; "
                        "renumber them") from None


def read_interactions(path: Path, handle: pq.ParquetFile | None = None
                      ) -> tuple[common.Table, dict[str, np.ndarray]]:
    """The interaction columns, typed (int64 ids and timestamps, float64 rating, NaN where null or absent),
    and a :class:`common.Table` for messages, whose "line" n is row n (1-based; the columns are not copied
    into its frame: at 20M rows every copy costs seconds)."""
    handle = handle or open_parquet(path)
    present = checked_schema(path, handle.schema_arrow, ["user_id", "item_id", "timestamp"], ["rating"])
    table = handle.read(columns=present)
    if table.num_rows == 0:
        raise DataError(f"{path}: the file has no rows")
    for column in ("user_id", "item_id", "timestamp"):
        _no_nulls(path, table, column)
    n = table.num_rows
    stamps = table.column("timestamp")
    if pa.types.is_timestamp(stamps.type):
        stamps = pc.cast(stamps, pa.timestamp("s"), safe=False)
    columns = {
        "user_id": _int64(path, table, "user_id"),
        "item_id": _int64(path, table, "item_id"),
        "rating": (table.column("rating").cast(pa.float64()).to_numpy() if "rating" in present
                   else np.full(n, np.nan)),
        "timestamp": stamps.cast(pa.int64()).to_numpy(),
    }
    return common.Table(path, pd.DataFrame(), np.arange(1, n + 1, dtype=np.int64)), columns


def read_items(path: Path) -> Catalogue:
    """The catalogue (the same checks and vectorised building as every other reader's item file)."""
    handle = open_parquet(path)
    columns = checked_schema(path, handle.schema_arrow, ["item_id"], ["title", "year", "genres"])
    data = handle.read(columns=columns)
    if data.num_rows == 0:
        raise DataError(f"{path}: the file has no rows")
    _no_nulls(path, data, "item_id")
    frame = data.to_pandas()
    table = common.Table(path, frame, np.arange(1, len(frame) + 1, dtype=np.int64))
    return common.build_catalogue(
        table, frame["item_id"].to_numpy(np.int64), frame["title"] if "title" in frame else None,
        frame["year"] if "year" in frame else None,
        common.split_genres(frame["genres"], "|") if "genres" in frame else None, "item_id")
