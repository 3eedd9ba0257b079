"""History edits as a short, replayable list of operations, and parsing of uploaded history files.

The edits are what the URL and the saved scenarios store: replaying them on the same starting history gives
the same edited history, so a link or a scenario reopens exactly the same view. Plain Python, no Streamlit.

Operation tokens (URL-safe, no commas):
``-ID`` remove item ID, ``+ID`` append item ID as the most recent item, ``ID@P`` move item ID to position P
(0 = oldest).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence

from recviz.errors import DataError, RecvizError

_TOKEN = re.compile(r"^(?:([+-])(\d+)|(\d+)@(\d+))$")
_ID_COLUMNS = ("item_id", "movieid", "movie_id", "itemid", "item", "id")
MAX_UPLOAD_ITEMS = 10_000


class EditError(RecvizError):
    """An edit cannot be applied (malformed token, or it names an item that is not in the history)."""


def remove_op(item_id: int) -> str:
    return f"-{int(item_id)}"


def add_op(item_id: int) -> str:
    return f"+{int(item_id)}"


def move_op(item_id: int, position: int) -> str:
    return f"{int(item_id)}@{int(position)}"


def parse_ops(tokens: Sequence[str]) -> tuple[str, ...]:
    """Validate operation tokens (from a URL or a scenario); raises :class:`EditError` naming the bad one."""
    out = []
    for token in tokens:
        text = str(token).strip()
        if not text:
            continue
        if not _TOKEN.match(text):
            raise EditError(
                f"malformed history edit {text!r}; edits look like -ID (remove), +ID (add) or ID@POSITION (move). "
                "Open the app without the 'edit' URL parameter to start from the real history"
            )
        out.append(text)
    return tuple(out)


def apply_edits(history: Sequence[int], ops: Sequence[str]) -> list[int]:
    """Replay ``ops`` on ``history`` (raw ids, oldest first) and return the edited history."""
    current = [int(i) for i in history]
    for token in parse_ops(ops):
        sign, item, moved, position = _TOKEN.match(token).groups()  # type: ignore[union-attr]
        if sign == "+":
            current.append(int(item))
        elif sign == "-":
            _require(current, int(item), token)
            current.remove(int(item))
        else:
            _require(current, int(moved), token)
            current.remove(int(moved))
            current.insert(min(int(position), len(current)), int(moved))
    return current


def _require(current: list[int], item_id: int, token: str) -> None:
    if item_id not in current:
        raise EditError(
            f"history edit {token!r} names item {item_id}, which is not in the history at that point; "
            "reset the history to drop the stale edits"
        )


def edit_summary(baseline: Sequence[int], edited: Sequence[int]) -> dict[str, list[int]]:
    """``edited`` against ``baseline`` as an Explanation records it: ``remove`` (baseline order) and ``add``
    (edited order), the form ``recviz explain --remove/--add`` writes, plus ``order`` (the whole edited
    history) only when removing and appending alone do not give it (an item was moved)."""
    base, new = [int(i) for i in baseline], [int(i) for i in edited]
    kept, base_set = set(new), set(base)
    remove = [i for i in dict.fromkeys(base) if i not in kept]
    add = [i for i in dict.fromkeys(new) if i not in base_set]
    out = {"remove": remove, "add": add}
    if [i for i in base if i not in set(remove)] + add != new:
        out["order"] = new
    return out


def parse_history_file(name: str, data: bytes) -> list[int]:
    """Item ids (oldest first) from an uploaded CSV or JSON file.

    JSON: a list of ids, or an object with ``history`` / ``item_ids`` / ``items`` holding that list.
    CSV: a column named ``item_id`` (or ``movieId``...), or a single column of ids, or one line of ids.
    Raises :class:`DataError` naming the file and what is wrong.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{name}: the file is not UTF-8 text; save it as UTF-8 CSV or JSON") from None
    if not text.strip():
        raise DataError(f"{name}: the file is empty; it should hold item ids, e.g. [1, 32, 260] or one id a line")
    is_json = name.lower().endswith(".json") or text.lstrip().startswith(("[", "{"))
    ids = _ids_from_json(name, text) if is_json else _ids_from_csv(name, text)
    if not ids:
        raise DataError(f"{name}: no item ids found; the file should hold item ids, e.g. [1, 32, 260]")
    if len(ids) > MAX_UPLOAD_ITEMS:
        raise DataError(f"{name}: {len(ids)} item ids is more than the {MAX_UPLOAD_ITEMS} an upload may hold")
    return ids


def _ids_from_json(name: str, text: str) -> list[int]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if isinstance(obj, dict):
        key = next((k for k in ("history", "item_ids", "items") if k in obj), None)
        if key is None:
            raise DataError(f"{name}: a JSON object needs a 'history' list of item ids, found keys {sorted(obj)}")
        obj = obj[key]
    if not isinstance(obj, list):
        raise DataError(f"{name}: expected a JSON list of item ids, found {type(obj).__name__}")
    return [_as_id(name, value, f"entry {n + 1}") for n, value in enumerate(obj)]


def _ids_from_csv(name: str, text: str) -> list[int]:
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((header.index(c) for c in _ID_COLUMNS if c in header), None)
    if column is not None:
        return [_as_id(name, _cell(name, row, column, n + 2), f"line {n + 2}") for n, row in enumerate(rows[1:])]
    if len(rows) == 1:  # one line of ids: 1,32,260
        return [_as_id(name, cell, f"line 1, field {n + 1}") for n, cell in enumerate(rows[0]) if cell.strip()]
    if len(rows[0]) != 1:
        raise DataError(
            f"{name}: {len(rows[0])} columns and none is named item_id; "
            "name the id column 'item_id' or upload one id a line"
        )
    return [_as_id(name, row[0], f"line {n + 1}") for n, row in enumerate(rows)]


def _cell(name: str, row: list[str], column: int, line: int) -> str:
    if column >= len(row):
        raise DataError(f"{name}: line {line} has no value in the item id column")
    return row[column]


def _as_id(name: str, value: object, where: str) -> int:
    if isinstance(value, bool):
        raise DataError(f"{name}: {where} is {value!r}, not an item id")
    if isinstance(value, int | float) and float(value).is_integer() and value >= 0:
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    raise DataError(f"{name}: {where} is {text!r}, not an item id (ids are whole numbers)")
