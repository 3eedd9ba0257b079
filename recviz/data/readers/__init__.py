"""Readers, one module per format, behind one entry point: :func:`load_dataset` picks the format from a
directory's file names (or reads one file with an explicit :class:`ColumnMapping`)."""

from __future__ import annotations

from pathlib import Path

from recviz.data.readers import movielens_1m, movielens_100k, movielens_csv, parquet, recbole
from recviz.data.readers.generic import ColumnMapping
from recviz.data.readers.generic import read as read_generic
from recviz.data.types import Dataset
from recviz.errors import DataError

# format name → the files that identify it in a directory (checked in this order)
DIRECTORY_FORMATS: dict[str, tuple[str, ...]] = {
    movielens_csv.FORMAT: movielens_csv.FILES,
    movielens_100k.FORMAT: movielens_100k.FILES,
    movielens_1m.FORMAT: movielens_1m.FILES,
    parquet.FORMAT: parquet.FILES,
}
_READERS = {
    movielens_csv.FORMAT: movielens_csv.read,
    movielens_100k.FORMAT: movielens_100k.read,
    movielens_1m.FORMAT: movielens_1m.read,
    parquet.FORMAT: parquet.read,
    recbole.FORMAT: recbole.read,
}
FORMATS: tuple[str, ...] = (*_READERS, "generic")


def detect_format(directory: Path) -> str:
    """The format of a data directory, from its file names; a half-present pair is named in the error."""
    names = {p.name for p in directory.iterdir() if p.is_file()}
    for fmt, files in DIRECTORY_FORMATS.items():
        present = [f for f in files if f in names]
        if len(present) == len(files):
            return fmt
        if present:
            missing = [f for f in files if f not in names]
            raise DataError(
                f"{directory}: found {', '.join(present)} but not {', '.join(missing)}; "
                f"the {fmt} format needs {' and '.join(files)} side by side"
            )
    if recbole.find_inter(directory) is not None:
        return recbole.FORMAT
    raise DataError(
        f"{directory}: no known data set here (found: {', '.join(sorted(names)) or 'nothing'}). Expected "
        "ratings.csv + movies.csv (MovieLens), u.data + u.item (ML-100K), ratings.dat + movies.dat (ML-1M), "
        "interactions.parquet + items.parquet (Parquet) or NAME.inter (RecBole); for any other file pass it "
        "with a ColumnMapping"
    )


def load_dataset(path: str | Path, mapping: ColumnMapping | None = None, name: str | None = None) -> Dataset:
    """Read a data set: a directory in a known format, or one file described by ``mapping``.

    Returns a complete :class:`Dataset` or raises :class:`DataError`; nothing is half-loaded.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory; check the path")
    if mapping is not None:
        if path.is_dir():
            raise DataError(f"{path}: a ColumnMapping describes one file; pass the file, not a directory")
        return read_generic(path, mapping, name or path.stem)
    if path.is_file():
        if path.suffix == ".inter" or path.name in {f for fs in DIRECTORY_FORMATS.values() for f in fs}:
            path = path.parent
        else:
            raise DataError(
                f"{path}: a single file needs a ColumnMapping saying which columns hold user, item, rating "
                "and timestamp (CLI: --user/--item/--rating/--timestamp)"
            )
    fmt = detect_format(path)
    return _READERS[fmt](path, name or path.resolve().name)


__all__ = ["FORMATS", "ColumnMapping", "detect_format", "load_dataset"]
