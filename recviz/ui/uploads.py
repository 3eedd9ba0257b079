"""Parsing of uploaded history files (CSV or JSON of item ids), bounded while it runs. Plain Python, no
Streamlit. History edits themselves are :class:`recviz.explain.edits.HistoryEdits`."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np

from recviz.errors import DataError

_ID_COLUMNS = ("item_id", "movieid", "movie_id", "itemid", "item", "id")
MAX_UPLOAD_ITEMS = 10_000    # ids in an uploaded history (a file or the link's ``up`` parameter)
MAX_UPLOAD_BYTES = 5 << 20   # an uploaded file is refused unread past this size
MAX_JSON_DEPTH = 4           # [ids] or {"history": [ids]} need 2; deeper nesting is refused before parsing
MAX_ID_TEXT = 18             # digits of an item id (int64); longer "ids" are refused without converting them


def parse_history_file(name: str, data: bytes) -> list[int]:
    """Item ids (oldest first) from an uploaded CSV or JSON file.

    JSON: a list of ids, or an object with ``history`` / ``item_ids`` / ``items`` holding that list.
    CSV: a column named ``item_id`` (or ``movieId``...), or a single column of ids, or one line of ids.
    Bounded while parsing: a file over :data:`MAX_UPLOAD_BYTES` is refused unread, JSON nested deeper than
    :data:`MAX_JSON_DEPTH` is refused before it is parsed, and reading stops at the first id past
    :data:`MAX_UPLOAD_ITEMS`. Raises :class:`DataError` naming the file and what is wrong.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise DataError(f"{name}: the file is {len(data) / 2**20:.1f} MB; an uploaded history may be at most "
                        f"{MAX_UPLOAD_BYTES >> 20} MB ({MAX_UPLOAD_ITEMS:,} ids)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{name}: the file is not UTF-8 text; save it as UTF-8 CSV or JSON") from None
    if not text.strip():
        raise DataError(f"{name}: the file is empty; it should hold item ids, "
                        "e.g. [1, 32, 260] or one id a line")
    is_json = name.lower().endswith(".json") or text.lstrip().startswith(("[", "{"))
    try:
        ids = _ids_from_json(name, text) if is_json else _ids_from_csv(name, text)
    except csv.Error as exc:
        raise DataError(f"{name}: not a readable CSV file ({exc}); upload one item id a line") from None
    if not ids:
        raise DataError(f"{name}: no item ids found; the file should hold item ids, e.g. [1, 32, 260]")
    return ids


def _too_many(name: str, where: str) -> DataError:
    return DataError(f"{name}: more than {MAX_UPLOAD_ITEMS:,} item ids (reading stopped at {where}); "
                     f"an upload may hold at most {MAX_UPLOAD_ITEMS:,}: keep the most recent ones")


def _json_depth(text: str) -> int:
    """How deeply ``text``'s brackets nest (brackets inside strings count too: an upper bound), without
    parsing it: Python's json recursion would fail on deep nesting with a RecursionError, not a message."""
    opened = text.count("[") + text.count("{")
    if opened <= MAX_JSON_DEPTH:  # the usual case (a list of ids has one bracket): counted, not scanned
        return opened
    codes = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)                 # [C]
    steps = ((codes == ord("[")) | (codes == ord("{"))).astype(np.int32) \
        - ((codes == ord("]")) | (codes == ord("}")))                        # [C] +1 open, -1 close
    return int(np.cumsum(steps).max(initial=0))


def _ids_from_json(name: str, text: str) -> list[int]:
    depth = _json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise DataError(f"{name}: the JSON nests {depth} levels deep; "
                        "an uploaded history is a flat list of ids "
                        "([1, 32, 260]) or {\"history\": [1, 32, 260]}")
    if depth == 1 and text.strip().startswith("["):
        return _ids_from_flat_json_list(name, text)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{name}: not valid JSON "
                        f"(line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:  # e.g. a number of thousands of digits (Python's int conversion limit)
        raise DataError(f"{name}: not valid JSON for an id list ({str(exc)[:120]})") from None
    if isinstance(obj, dict):
        key = next((k for k in ("history", "item_ids", "items") if k in obj), None)
        if key is None:
            raise DataError(f"{name}: a JSON object needs a 'history' list of item ids, found keys "
                            f"{sorted(map(str, obj))[:10]}")
        obj = obj[key]
    if not isinstance(obj, list):
        raise DataError(f"{name}: expected a JSON list of item ids, found {type(obj).__name__}")
    if len(obj) > MAX_UPLOAD_ITEMS:
        raise _too_many(name, f"entry {MAX_UPLOAD_ITEMS + 1:,}")
    return [_as_id(name, value, f"entry {n + 1}") for n, value in enumerate(obj)]


_JSON_ENTRY = re.compile(r"\s*([^,\]]*?)\s*(,|\]\s*$)")


def _ids_from_flat_json_list(name: str, text: str) -> list[int]:
    """``[1, 32, 260]`` read entry by entry, stopping at the item limit (a 5 MB list is not parsed in
    full)."""
    body = text.strip()
    ids: list[int] = []
    pos = 1
    while pos < len(body):
        match = _JSON_ENTRY.match(body, pos)
        if match is None:
            break
        if len(ids) == MAX_UPLOAD_ITEMS:
            raise _too_many(name, f"entry {MAX_UPLOAD_ITEMS + 1:,}")
        token, end = match.group(1), match.group(2)
        if token or end == ",":
            # never convert a megabyte "number" (or string) to find it is bad
            if len(token) > MAX_ID_TEXT + 2:
                raise DataError(f"{name}: entry {len(ids) + 1} is {token[:20]!r}… "
                                f"({len(token):,} characters), "
                                f"not an item id (ids are whole numbers of at most {MAX_ID_TEXT} digits)")
            try:
                value = json.loads(token)
            except json.JSONDecodeError:
                raise DataError(f"{name}: entry {len(ids) + 1} ({token[:40]!r}) is not valid JSON") from None
            ids.append(_as_id(name, value, f"entry {len(ids) + 1}"))
        pos = match.end()
        if end != ",":
            return ids
    raise DataError(f"{name}: not valid JSON (the list is not closed with ']' or has stray text)")


def _ids_from_csv(name: str, text: str) -> list[int]:
    """Ids from CSV text, read row by row and stopped at the item limit (a huge file is never read in
    full)."""
    rows = (row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row))
    first = next(rows, None)
    if first is None:
        return []
    header = [cell.strip().lower() for cell in first]
    column = next((header.index(c) for c in _ID_COLUMNS if c in header), None)
    if column is None and len(first) > 1:
        second = next(rows, None)
        if second is None:  # one line of ids: 1,32,260
            if len(first) > MAX_UPLOAD_ITEMS:
                raise _too_many(name, f"line 1, field {MAX_UPLOAD_ITEMS + 1:,}")
            return [_as_id(name, cell, f"line 1, field {n + 1}")
                    for n, cell in enumerate(first) if cell.strip()]
        raise DataError(
            f"{name}: {len(first)} columns and none is named item_id; "
            "name the id column 'item_id' or upload one id a line"
        )
    ids: list[int] = [] if column is not None else [_as_id(name, first[0], "line 1")]
    col = 0 if column is None else column
    for line, row in enumerate(rows, start=2):
        if len(ids) == MAX_UPLOAD_ITEMS:
            raise _too_many(name, f"line {line:,}")
        ids.append(_as_id(name, _cell(name, row, col, line), f"line {line}"))
    return ids


def _cell(name: str, row: list[str], column: int, line: int) -> str:
    if column >= len(row):
        raise DataError(f"{name}: line {line} has no value in the item id column")
    return row[column]


def _as_id(name: str, value: object, where: str) -> int:
    if isinstance(value, bool):
        raise DataError(f"{name}: {where} is {value!r}, not an item id")
    if isinstance(value, int) and 0 <= value < 10**MAX_ID_TEXT:
        return value
    if isinstance(value, float) and value.is_integer() and 0 <= value < 10**MAX_ID_TEXT:
        return int(value)
    text = str(value).strip() if isinstance(value, str | int | float) else type(value).__name__
    if len(text) <= MAX_ID_TEXT and re.fullmatch(r"\d+", text):
        return int(text)
    shown = text if len(text) <= 40 else f"{text[:37]}… ({len(text):,} characters)"
    raise DataError(f"{name}: {where} is {shown!r}, not an item id (ids are whole numbers of at most "
                    f"{MAX_ID_TEXT} digits)")
