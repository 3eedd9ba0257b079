"""What every reader shares: checked file reading, numeric columns with line numbers, validation, catalogue.

Each reader states its format (file names, separator, encoding, columns) and calls these helpers, so every
format reports bad input the same way: a :class:`DataError` naming the file, the line or column, and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recviz.data.types import Catalogue, Dataset
from recviz.errors import DataError

NO_GENRES = "(no genres listed)"
ROW_ORDER_NOTE = "no timestamp column: the file's row order is used as time"
_YEAR_SUFFIX = re.compile(r"\s*\((\d{4})(?:\s*[-–]\s*(?:\d{4})?)?\)\s*$")
_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "'|'", "::": "'::'"}
# a field written as a number (sign, digits, point, exponent), however long; possessive, so linear time
_NUMBER = re.compile(r"\s*+[+-]?+(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][+-]?+\d++)?+\s*+")
MAX_EXACT = 2**53  # the largest magnitude float64 holds exactly: the bound on ids and timestamps
MAX_YEAR = 9999
_INT64_MAX = int(np.iinfo(np.int64).max)
_HASH_MULTIPLIERS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)  # odd 64-bit mixers


@dataclass(frozen=True)
class Table:
    """A delimited file as read: string or typed columns, and the file line of each row (1-based).

    Line numbers assume one record per line (no line breaks inside quoted fields), as in every format here.
    """

    path: Path
    frame: pd.DataFrame
    lines: np.ndarray  # [R] file line number of each row

    def where(self, row: int) -> str:
        return f"{self.path.name} line {int(self.lines[row])}"


def check_file(path: Path, what: str, text: bool = True) -> None:
    """The file exists, is not empty and (when ``text``) is not UTF-16 or binary."""
    if not path.is_file():
        raise DataError(f"{path}: {what} not found; check the path")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty; it should hold the {what}")
    if not text:
        return
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise DataError(
            f"{path}: the file is UTF-16 or binary, not text; re-save it as UTF-8 "
            "(e.g. `iconv -f utf-16 -t utf-8 IN > OUT`)"
        )


def decoding_error(path: Path, encoding: str) -> DataError:
    """A DataError naming the first line that does not decode with ``encoding``."""
    data = path.read_bytes()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return DataError(
            f"{path.name} line {line}: byte 0x{data[exc.start]:02x} is not valid {encoding.upper()}; "
            f"re-save the file as {encoding.upper()} (e.g. `iconv -f latin1 -t utf-8 IN > OUT`)"
        )
    return DataError(f"{path}: the file could not be decoded as {encoding}")


def sniff_encoding(path: Path, declared: str) -> str:
    """The declared encoding, except that a latin-1 format re-saved as valid UTF-8 is read as UTF-8."""
    if declared.lower() not in ("latin-1", "latin1", "iso-8859-1"):
        return declared
    data = path.read_bytes()
    if data.isascii():
        return declared
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return declared
    return "utf-8"


def first_line(path: Path, encoding: str) -> str:
    with path.open("rb") as handle:
        raw = handle.readline()
    try:
        return raw.decode(encoding).rstrip("\r\n").lstrip("\ufeff")
    except UnicodeDecodeError:
        raise decoding_error(path, encoding) from None


def check_fields(path: Path, line: str, sep: str, expected: int | None = None) -> list[str]:
    """Split the first line; a one-field line that contains another separator means a wrong separator."""
    fields = line.split(sep)
    if len(fields) == 1 or (expected is not None and len(fields) < expected):
        others = [s for s in _SEPARATORS if s != sep and s in line]
        guess = f", but it looks {_SEPARATORS[others[0]]}-separated" if others else ""
        name = _SEPARATORS.get(sep, repr(sep))
        raise DataError(
            f"{path.name} line 1 has {len(fields)} field(s) ({line[:80]!r}); this format is {name}-separated"
            f"{guess}: re-save the file with {name} separators, or load it as a generic file with "
            "ColumnMapping(sep=...)"
        )
    return fields


def require_columns(path: Path, found: Sequence[str], required: Sequence[str], hint: str = "") -> None:
    missing = [c for c in required if c not in found]
    if missing:
        raise DataError(
            f"{path.name}: missing column(s) {', '.join(missing)} (found: {', '.join(found)}); "
            + (hint or "rename the columns in the header or pass a ColumnMapping")
        )


def read_table(
    path: Path,
    sep: str,
    *,
    encoding: str = "utf-8",
    names: Sequence[str] | None = None,
    dtype: dict[str, str] | None = None,
) -> Table:
    """Read a delimited file; ``names`` given means the file has no header.

    With ``dtype`` the C parser converts while reading (the fast path for large rating files); if that
    fails, the file is read again as text so that :func:`numeric` can name the offending line. All columns
    are read (no ``usecols``) so that a line with too many fields is an error, not silently cut.
    """
    header_lines = 0 if names is not None else 1
    kwargs = dict(
        sep=sep, encoding=encoding, header=None if names is not None else 0, names=names,
        skip_blank_lines=False, keep_default_na=False, na_values=[""],
        engine="c" if len(sep) == 1 else "python",  # the C parser takes one-character separators only
    )
    frame = None
    try:
        if dtype is not None:
            try:
                frame = pd.read_csv(path, dtype=dtype, **kwargs)
            except (UnicodeDecodeError, pd.errors.ParserError):
                raise
            except (ValueError, TypeError, OverflowError):
                frame = None  # a value the typed read cannot take: re-read as text to name its line
            if frame is not None and _has_infinite(frame, dtype):
                frame = None  # a number too large for float64 reads as inf: re-read as text to show it
        if frame is None:
            frame = pd.read_csv(path, dtype=str, **kwargs)
    except UnicodeDecodeError:
        raise decoding_error(path, encoding) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except pd.errors.ParserError as exc:
        detail = str(exc).replace("Error tokenizing data. C error: ", "").strip()
        raise DataError(f"{path.name}: {detail}; every line needs the same number of fields") from None
    lines = np.arange(len(frame), dtype=np.int64) + 1 + header_lines
    blank = frame.isna().all(axis=1).to_numpy()
    if blank.any():
        frame, lines = frame[~blank].reset_index(drop=True), lines[~blank]
    if frame.empty:
        raise DataError(f"{path}: the file has no data rows; it needs at least one line after the header")
    return Table(path, frame, lines)


def _has_infinite(frame: pd.DataFrame, dtype: dict[str, str]) -> bool:
    """Whether a float column of a typed read holds ±inf (a literal "inf" or a number beyond float64)."""
    floats = [c for c, t in dtype.items() if t.startswith("float") and c in frame]
    return any(np.isinf(frame[c].to_numpy(np.float64)).any() for c in floats)


def numeric(table: Table, column: str, label: str, *, integer: bool,
            limit: float | None = None) -> np.ndarray:
    """A column as int64 (``integer``) or float64; a missing, non-numeric, non-finite or too large value
    names its file, line and column. Integers (and values with a ``limit``) must lie within ±``limit``
    (default ±2**53, what float64 holds exactly), so an absurdly long number is an error, never a wrapped
    int64 or an inf."""
    values = table.frame[column]
    if values.dtype.kind == "i" or (values.dtype.kind == "u"
                                    and (values.empty or values.max() <= _INT64_MAX)):
        return values.to_numpy(np.int64) if integer else values.to_numpy(np.float64)
    if values.dtype.kind == "M":
        return values.to_numpy("datetime64[s]").astype(np.int64)
    converted = pd.to_numeric(values, errors="coerce")  # int64 when every field is a whole int64
    if integer and converted.dtype.kind == "i":
        return converted.to_numpy(np.int64)
    parsed = converted.to_numpy(np.float64)  # [R] NaN where not a number
    bound = MAX_EXACT if integer and limit is None else limit
    bad = ~np.isfinite(parsed)
    if bound is not None:
        bad |= np.abs(np.where(bad, 0.0, parsed)) > bound
    if integer:
        bad |= np.isfinite(parsed) & (parsed != np.floor(parsed))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        name = column if label == column else f"{label} ({column})"
        problem = _problem(values.iloc[row], parsed[row], name, integer, bound)
        more = int(bad.sum()) - 1
        tail = f" ({more} more such line(s))" if more else ""
        raise DataError(f"{table.where(row)}: {problem}{tail}; fix or remove the line(s)")
    return parsed.astype(np.int64) if integer else parsed


def _problem(raw: object, parsed: float, name: str, integer: bool, bound: float | None) -> str:
    """What is wrong with one field: missing, not a number, too large or not whole (for the message)."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return f"{name} is missing"
    text = str(raw)
    shown = repr(text[:40]) + (f"… ({len(text)} characters)" if len(text) > 40 else "")
    written_as_number = _NUMBER.fullmatch(text) is not None
    beyond = np.isfinite(parsed) and bound is not None and abs(parsed) > bound
    if beyond or (not np.isfinite(parsed) and written_as_number):
        limit = f"it must lie within ±{int(bound)}" if bound is not None else "beyond what a number can hold"
        return f"{name} {shown} is too large in magnitude ({limit})"
    if np.isinf(parsed):
        return f"{name} {shown} is not a finite number"
    if np.isfinite(parsed):
        return f"{name} {shown} is not a whole number"
    return f"{name} {shown} is not {'a whole number' if integer else 'a number'}"


def timestamps(table: Table, column: str) -> np.ndarray:
    """Whole Unix seconds; fractional seconds (RecBole's ``timestamp:float``) are truncated."""
    values = table.frame[column]
    if values.dtype.kind in "iuM":
        return numeric(table, column, "timestamp", integer=True)
    return np.floor(numeric(table, column, "timestamp", integer=False, limit=MAX_EXACT)).astype(np.int64)


def interactions_frame(
    table: Table,
    user: np.ndarray,
    item: np.ndarray,
    rating: np.ndarray | None,
    timestamp: np.ndarray | None,
    columns: tuple[str, str, str],
) -> pd.DataFrame:
    """The interaction log in file order; rejects duplicate (user, item, timestamp) rows.

    Duplicates are an error, not silently dropped: dropping them would change counts, sequences and splits
    without the user knowing. ``columns`` are the file's names for user, item and timestamp (for messages).
    """
    n = len(user)
    frame = pd.DataFrame(
        {
            "user_id": user.astype(np.int64, copy=False),
            "item_id": item.astype(np.int64, copy=False),
            "rating": np.full(n, np.nan) if rating is None else rating.astype(np.float64, copy=False),
            "timestamp": (np.arange(n, dtype=np.int64) if timestamp is None
                          else timestamp.astype(np.int64, copy=False)),
        }
    )
    if timestamp is not None:
        key = ["user_id", "item_id", "timestamp"]
        dup = duplicated_rows(frame, key)
        if dup.any():
            row = int(np.flatnonzero(dup)[0])
            u, i, t = (int(frame.at[row, c]) for c in key)
            same = (frame["user_id"].to_numpy() == u) & (frame["item_id"].to_numpy() == i)
            first = int(np.flatnonzero(same & (frame["timestamp"].to_numpy() == t))[0])
            raise DataError(
                f"{table.where(row)} repeats line {int(table.lines[first])} "
                f"({columns[0]} {u}, {columns[1]} {i}, "
                f"{columns[2]} {t}); {int(dup.sum())} duplicate row(s) in all. recviz does not drop them "
                "silently (counts, sequences and splits would change): remove the duplicates "
                "(e.g. pandas drop_duplicates) and load again"
            )
    return frame


def duplicated_rows(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """[R] bool: the row repeats an earlier row on ``key`` (integer columns), like ``frame.duplicated(key)``.

    A 64-bit hash of the key is sorted first (seconds at 20M rows, where pandas' duplicated takes ~30 s);
    only rows whose hash repeats are compared exactly, so the answer is exact, not probabilistic.
    """
    mixed = np.zeros(len(frame), dtype=np.uint64)  # [R]
    with np.errstate(over="ignore"):
        for column, mult in zip(key, _HASH_MULTIPLIERS, strict=False):  # >3 columns: more candidates
            mixed ^= frame[column].to_numpy().astype(np.uint64) * np.uint64(mult)
            mixed ^= mixed >> np.uint64(29)
    ordered = np.sort(mixed)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    dup = np.zeros(len(frame), dtype=bool)
    if len(repeated):
        rows = np.flatnonzero(np.isin(mixed, repeated))  # candidates: the exact check runs on these only
        dup[rows] = frame.iloc[rows].duplicated(key, keep="first").to_numpy()
    return dup


def check_known_items(table: Table, frame: pd.DataFrame, catalogue: Catalogue, item_file: Path,
                      column: str) -> None:
    """Every rated item must be in the item file."""
    known = catalogue.id_array()
    unknown = ~np.isin(frame["item_id"].to_numpy(), known)
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        ids = np.unique(frame["item_id"].to_numpy()[unknown])
        raise DataError(
            f"{table.where(row)}: {column} {int(frame.at[row, 'item_id'])} is not in {item_file.name} "
            f"({len(ids)} unknown id(s) on {int(unknown.sum())} line(s)); add those items to "
            f"{item_file.name} or remove their lines"
        )


def split_title_year(title: pd.Series) -> tuple[pd.Series, pd.Series]:
    """'Toy Story (1995)' → ('Toy Story', 1995); titles without a year suffix are kept whole."""
    text = title.astype("str")
    year = pd.to_numeric(text.str.extract(_YEAR_SUFFIX, expand=False), errors="coerce")
    stripped = text.str.replace(_YEAR_SUFFIX, "", regex=True)
    return stripped.where(year.notna(), text).where(title.notna(), None), year


def split_genres(genres: pd.Series, sep: str, drop: Sequence[str] = (NO_GENRES,)) -> list[tuple[str, ...]]:
    """'A|B' → ('A', 'B'); blanks and the no-genre marker give (). Each distinct string is split once."""
    codes, uniques = genre_codes(genres, sep, drop)
    return [uniques[c] for c in codes.tolist()]


def genre_codes(genres: pd.Series, sep: str, drop: Sequence[str] = (NO_GENRES,)
                ) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """[R] code per row and the distinct genre tuples: a catalogue has few distinct genre strings, so
    splitting those (not every row) keeps a million-item file fast."""
    codes, uniques = pd.factorize(pd.Series(genres, dtype=object).reset_index(drop=True),
                                  use_na_sentinel=False)
    sets = []
    for text in uniques.tolist():
        if text is None or (isinstance(text, float) and np.isnan(text)):
            sets.append(())
            continue
        sets.append(tuple(g for g in (p.strip() for p in str(text).split(sep)) if g and g not in drop))
    return np.asarray(codes, dtype=np.int64), sets


def clean_titles(titles: pd.Series | None, ids: np.ndarray) -> list[str]:
    """:func:`recviz.data.types.clean_title` for a whole column: missing, blank or "nan" → "Movie <id>"."""
    fallback = pd.Series(ids).astype(str).radd("Movie ").reset_index(drop=True)
    if titles is None:
        return fallback.tolist()
    text = pd.Series(titles).reset_index(drop=True).astype("string").str.strip()
    blank = (text.isna() | (text == "") | (text.str.lower() == "nan")).fillna(True).to_numpy(bool)
    return text.astype(object).where(~blank, fallback).tolist()


def build_catalogue(
    table: Table,
    ids: np.ndarray,
    titles: pd.Series | None,
    years: pd.Series | np.ndarray | None,
    genres: list[tuple[str, ...]] | None,
    id_column: str,
    year_column: str = "year",
) -> Catalogue:
    """Items in file order with fallback titles; a repeated id is an error naming both lines, a year
    written as an absurd number (beyond ±9999) one naming its line and ``year_column``. A year that is not
    a number at all is unknown (None)."""
    dup = pd.Series(ids).duplicated().to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero(ids == ids[row])[0])
        raise DataError(
            f"{table.where(row)}: {id_column} {int(ids[row])} already appears on line "
            f"{int(table.lines[first])}; "
            "each item must be listed once: remove the duplicate"
        )
    n = len(ids)
    year_arr = np.full(n, np.nan) if years is None else checked_years(table, years, year_column)
    codes, sets = (np.zeros(n, dtype=np.int64), [()]) if genres is None else pd.factorize(
        pd.Series(genres, dtype=object), use_na_sentinel=False)
    return Catalogue.from_columns(ids, clean_titles(titles, ids), year_arr, np.asarray(codes), list(sets))


def checked_years(table: Table, years: pd.Series | np.ndarray, column: str) -> np.ndarray:
    """[R] whole years as float64 (NaN where blank or not a number); a number beyond ±9999 raises
    DataError."""
    raw = pd.Series(years).reset_index(drop=True)
    arr = np.asarray(pd.to_numeric(raw, errors="coerce"), dtype=np.float64)  # [R] NaN where not a number
    absurd = np.abs(arr) > MAX_YEAR  # [R] (NaN compares False)
    unparsed = np.flatnonzero(np.isnan(arr) & raw.notna().to_numpy())
    if len(unparsed):  # text written as a number that float64 cannot hold also parses as NaN
        absurd[unparsed] = raw.iloc[unparsed].astype(str).str.fullmatch(_NUMBER.pattern).to_numpy(bool)
    if absurd.any():
        row = int(np.flatnonzero(absurd)[0])
        text = str(raw.iloc[row])
        shown = repr(text[:40]) + (f"… ({len(text)} characters)" if len(text) > 40 else "")
        raise DataError(f"{table.where(row)}: {column} {shown} is not a year (it must lie within "
                        f"±{MAX_YEAR}, or be blank); fix or remove the line")
    return np.trunc(arr)


def fallback_catalogue(item_ids: np.ndarray) -> Catalogue:
    """Items known only from the interactions: fallback titles, no year or genres, in first-seen order."""
    ids = pd.unique(np.asarray(item_ids, dtype=np.int64))
    return Catalogue.from_columns(ids, clean_titles(None, ids), np.full(len(ids), np.nan),
                                  np.zeros(len(ids), dtype=np.int64), [()])


def make_dataset(
    name: str, frame: pd.DataFrame, catalogue: Catalogue, source: Path, fmt: str,
    notes: list[str] | None = None
) -> Dataset:
    return Dataset(name=name, interactions=frame, catalogue=catalogue, source=str(source), format=fmt,
                   notes=list(notes or []))


@dataclass(frozen=True)
class RatingColumns:
    """Where an explicit ratings table keeps user, item, rating and timestamp, and how messages name them:
    ``labels`` (user, item) in "not a number" messages, ``file_names`` (user, item, timestamp) as the file
    itself calls them, in duplicate-row and unknown-item messages."""

    user: str
    item: str
    rating: str
    timestamp: str
    labels: tuple[str, str]
    file_names: tuple[str, str, str]


def ratings_dataset(name: str, directory: Path, fmt: str, table: Table, catalogue: Catalogue, item_file: Path,
                    columns: RatingColumns) -> Dataset:
    """The Dataset of a ratings table with user, item, rating and timestamp columns and an item file:
    numeric checks, duplicate rows, unknown items (the MovieLens readers share it)."""
    frame = interactions_frame(
        table,
        numeric(table, columns.user, columns.labels[0], integer=True),
        numeric(table, columns.item, columns.labels[1], integer=True),
        numeric(table, columns.rating, "rating", integer=False),
        timestamps(table, columns.timestamp),
        columns.file_names,
    )
    check_known_items(table, frame, catalogue, item_file, columns.file_names[1])
    return make_dataset(name, frame, catalogue, directory, fmt)
