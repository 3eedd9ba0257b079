"""Named scenarios (a checkpoint, a user, history edits and settings) in a local SQLite file.

They outlive the app process, so an analyst can come back to a what-if tomorrow. The file is
``$RECVIZ_SCENARIOS`` or ``.recviz/scenarios.sqlite``; values are stored as JSON text, never pickled.
Plain Python, no Streamlit.

The file may be damaged or shared, so nothing about it is trusted:

* a file that is not SQLite, or an SQLite file of another program (other tables, or a ``scenarios`` table
  with other columns), is reported and left untouched (never converted or written to);
* a file locked by another process is reported after :data:`LOCK_TIMEOUT_S` seconds, not waited on;
* a damaged row (NULL or non-text columns, a view that is not a JSON object, text that is not UTF-8) is
  listed with :attr:`Scenario.problem` set, next to the healthy ones, and can be removed.

Saves are crash-safe: the file is in WAL mode with ``synchronous=FULL`` and every write is one
``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction, so a process killed mid-save (``kill -9``) leaves every
scenario committed before it readable, and the one being overwritten in its previous version.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recviz.errors import RecvizError

ENV_VAR = "RECVIZ_SCENARIOS"
DEFAULT_PATH = Path(".recviz") / "scenarios.sqlite"
MAX_NAME = 80
LOCK_TIMEOUT_S = 1.5  # how long to wait for another process's lock before saying so
COLUMNS = ("name", "state", "created_at")
LOCKED = "the scenario file {path} is locked by another process; try again"

_SCHEMA = """
CREATE TABLE scenarios (
    name       TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    created_at TEXT NOT NULL
)
"""
# typeof() next to each value: text is fetched as bytes and decoded here, so a type or encoding problem
# marks that one row instead of failing the whole query
_SELECT = ("SELECT rowid, typeof(name), name, typeof(state), state, typeof(created_at), created_at "
           "FROM scenarios")


class ScenarioError(RecvizError):
    """A scenario name is invalid or unknown, or the scenario file cannot be used."""


@dataclass(frozen=True)
class Scenario:
    """A saved view: ``state`` is the view's plain-JSON description (see ``ViewState.to_dict``).

    ``problem`` says why a damaged row cannot be opened (None for a healthy one); its ``name`` is then the
    best readable form of what the row holds. ``row_id`` is the row's SQLite rowid (for :meth:`remove`).
    """

    name: str
    state: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    problem: str | None = None
    row_id: int | None = None

    @property
    def damaged(self) -> bool:
        return self.problem is not None


def default_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def _is_locked(exc: sqlite3.Error) -> bool:
    if _primary_code(exc) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return True
    return "locked" in str(exc).lower()


class ScenarioStore:
    """Save, list, load and delete scenarios in one SQLite file (created on first use)."""

    def __init__(self, path: Path | str | None = None, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.lock_timeout = lock_timeout

    # --- public API ----------------------------------------------------------------------------------

    def save(self, name: str, state: dict[str, Any]) -> Scenario:
        """Save (or overwrite) the scenario ``name`` in one transaction."""
        clean = name.strip()
        if not clean:
            raise ScenarioError("give the scenario a name before saving it")
        if len(clean) > MAX_NAME:
            raise ScenarioError(f"scenario names are at most {MAX_NAME} characters, got {len(clean)}")
        try:
            text = json.dumps(state, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ScenarioError(f"this view cannot be saved as a scenario ({exc})") from None
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with self._session("save a scenario to") as conn, self._transaction(conn):
            conn.execute("DELETE FROM scenarios WHERE name = ?", (clean,))  # also works without a PRIMARY KEY
            row_id = conn.execute("INSERT INTO scenarios (name, state, created_at) VALUES (?, ?, ?)",
                                  (clean, text, stamp)).lastrowid
        return Scenario(clean, state, stamp, None, row_id)

    def list(self) -> list[Scenario]:
        """Every saved scenario, newest first, then the damaged ones (``problem`` set) in file order.

        Raises :class:`ScenarioError` only when the file as a whole cannot be read (not SQLite, another
        program's database, locked)."""
        with self._session("read") as conn:
            scenarios = self._read(conn, " ORDER BY created_at DESC, name")
        healthy = [s for s in scenarios if not s.damaged]
        damaged = sorted((s for s in scenarios if s.damaged), key=lambda s: s.row_id or 0)
        return healthy + damaged

    def get(self, name: str) -> Scenario:
        """The scenario ``name``; raises :class:`ScenarioError` if there is none or it is damaged."""
        with self._session("read") as conn:
            found = self._read(conn, " WHERE name = ? ORDER BY rowid DESC", (name,))
        if not found:
            raise ScenarioError(f"no scenario named {name!r}; pick one from the list")
        if found[0].problem:
            raise ScenarioError(found[0].problem)
        return found[0]

    def delete(self, name: str) -> None:
        """Delete the scenario ``name`` (damaged or not, as long as its name is that text)."""
        with self._session("delete a scenario from") as conn, self._transaction(conn):
            deleted = conn.execute("DELETE FROM scenarios WHERE name = ?", (name,)).rowcount
        if not deleted:
            raise ScenarioError(f"no scenario named {name!r}; it may have been deleted in another tab")

    def remove(self, scenario: Scenario) -> None:
        """Delete exactly the row ``scenario`` was listed from (works for damaged rows whose name is NULL or
        not text). Refuses if the row changed since it was listed, e.g. overwritten in another tab."""
        if scenario.row_id is None:
            self.delete(scenario.name)
            return
        with self._session("delete a scenario from") as conn, self._transaction(conn):
            current = self._read(conn, " WHERE rowid = ?", (scenario.row_id,))
            if current != [scenario]:
                raise ScenarioError(f"the scenario {scenario.name!r} was changed or deleted in another tab; "
                                    "pick it again from the refreshed list")
            conn.execute("DELETE FROM scenarios WHERE rowid = ?", (scenario.row_id,))

    # --- the file ------------------------------------------------------------------------------------

    @contextmanager
    def _session(self, action: str) -> Iterator[sqlite3.Connection]:
        """An open, checked connection; any SQLite failure inside becomes a ScenarioError saying what to
        do."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.lock_timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._failure(exc, action) from None
        with closing(conn):
            try:
                self._prepare(conn)
                yield conn
            except sqlite3.Error as exc:
                raise self._failure(exc, action) from None

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Check the file is a scenario file (creating the table in an empty one), then make it crash-safe."""
        tables = {str(row[0]) for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")}
        if "scenarios" in tables:
            self._check_columns(conn)
        elif tables:
            raise ScenarioError(
                f"{self.path} is not a recviz scenario file: it is an SQLite database of something else "
                f"(tables {', '.join(sorted(tables)[:5])}); "
                f"set {ENV_VAR} to another file path, or move this file away")
        else:
            with self._transaction(conn):
                conn.execute(_SCHEMA.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
        try:
            conn.execute("PRAGMA journal_mode = WAL")  # persistent; a no-op once the file is in WAL mode
        except sqlite3.Error as exc:
            # best effort: a rollback-journal file is crash-safe too, and a lock is reported by the query
            # itself
            if not _is_locked(exc) and _primary_code(exc) != sqlite3.SQLITE_READONLY:
                raise
        conn.execute("PRAGMA synchronous = FULL")  # a committed save survives a power cut, not only a kill

    def _check_columns(self, conn: sqlite3.Connection) -> None:
        columns = [str(row[1]) for row in conn.execute("PRAGMA table_info(scenarios)")]
        missing = [c for c in COLUMNS if c not in columns]
        has_rowid = True
        if not missing:
            try:
                conn.execute("SELECT rowid FROM scenarios LIMIT 0")
            except sqlite3.OperationalError:
                has_rowid = False
        if missing or not has_rowid:
            what = (f"its 'scenarios' table has columns {', '.join(columns)} instead of {', '.join(COLUMNS)}"
                    if missing else "its 'scenarios' table has no rowid")
            raise ScenarioError(
                f"{self.path} is not a recviz scenario file ({what}); it may belong to another program: set "
                f"{ENV_VAR} to another file path, or move this file away")

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` (take the write lock first, so a lock fails fast and cleanly) ...
        ``COMMIT``."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:  # some errors (a full disk) have rolled it back already
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _failure(self, exc: BaseException, action: str) -> ScenarioError:
        if isinstance(exc, ScenarioError):
            return exc
        if isinstance(exc, sqlite3.Error) and _is_locked(exc):
            return ScenarioError(LOCKED.format(path=self.path))
        if isinstance(exc, sqlite3.DatabaseError) and _primary_code(exc) in (sqlite3.SQLITE_NOTADB,
                                                                            sqlite3.SQLITE_CORRUPT):
            return ScenarioError(
                f"{self.path} is not a usable scenario file ({exc}): it is not an SQLite database or it is "
                f"corrupt; set {ENV_VAR} to another file path, or move this file away")
        return ScenarioError(
            f"cannot {action} the scenario file {self.path} ({exc}); set {ENV_VAR} to a writable file path")

    # --- rows ----------------------------------------------------------------------------------------

    def _read(self, conn: sqlite3.Connection, tail: str, params: tuple[Any, ...] = ()) -> list[Scenario]:
        conn.text_factory = bytes
        try:
            return [self._row(row) for row in conn.execute(_SELECT + tail, params)]
        finally:
            conn.text_factory = str

    def _row(self, row: tuple[Any, ...]) -> Scenario:
        row_id, name_type, name_raw, state_type, state_raw, stamp_type, stamp_raw = row
        name, name_problem = _text(name_type, name_raw, "name")
        problems = [name_problem] if name_problem else []
        if not name_problem and not name.strip():
            problems.append("its name is empty")
        state: dict[str, Any] = {}
        text, state_problem = _text(state_type, state_raw, "saved view")
        if state_problem:
            problems.append(state_problem)
        else:
            try:
                value = json.loads(text)
            except (ValueError, RecursionError) as exc:
                problems.append(f"its saved view is not valid JSON ({str(exc)[:80]})")
            else:
                if isinstance(value, dict):
                    state = value
                else:
                    kind = _JSON_KINDS.get(type(value), type(value).__name__)
                    problems.append(f"its saved view is JSON but not an object (it is a {kind})")
        stamp, stamp_problem = _text(stamp_type, stamp_raw, "creation time")
        if stamp_problem:
            problems.append(stamp_problem)
        shown = name if name.strip() else "(no name)"
        problem = None
        if problems:
            problem = (f"the scenario {shown!r} (row {row_id}) in {self.path} is damaged: "
                       f"{'; '.join(problems)}. Delete it, then save the view again")
        return Scenario(shown, state, stamp, problem, int(row_id))


_JSON_KINDS: dict[type, str] = {list: "list", str: "string", int: "number", float: "number", bool: "boolean",
                                type(None): "null"}


def _text(kind: bytes | str, raw: Any, what: str) -> tuple[str, str | None]:
    """(readable form of ``raw``, None) for a UTF-8 text value, else (a readable form, why it is not
    usable)."""
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    if kind == "null":
        return "", f"its {what} is missing (NULL)"
    if kind == "text":
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError:
            return raw.decode("utf-8", errors="replace"), f"its {what} is not valid UTF-8 text"
    if kind == "blob":
        readable = bytes(raw)[:MAX_NAME].decode("utf-8", errors="replace")
        return readable, f"its {what} is binary data, not text"
    return str(raw), f"its {what} is a number ({kind}), not text"
