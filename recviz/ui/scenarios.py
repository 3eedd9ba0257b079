"""Named scenarios (a checkpoint, a user, history edits and settings) in a local SQLite file.

They outlive the app process, so an analyst can come back to a what-if tomorrow. The file is
``$RECVIZ_SCENARIOS`` or ``.recviz/scenarios.sqlite``; values are stored as JSON text, never pickled.
Plain Python, no Streamlit.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recviz.errors import RecvizError

ENV_VAR = "RECVIZ_SCENARIOS"
DEFAULT_PATH = Path(".recviz") / "scenarios.sqlite"
MAX_NAME = 80

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    name       TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    created_at TEXT NOT NULL
)
"""


class ScenarioError(RecvizError):
    """A scenario name is invalid or unknown, or the scenario file cannot be used."""


@dataclass(frozen=True)
class Scenario:
    """A saved view: ``state`` is the view's plain-JSON description (see ``ViewState.to_dict``)."""

    name: str
    state: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""


def default_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


class ScenarioStore:
    """Save, list, load and delete scenarios in one SQLite file (created on first use)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=5)
            conn.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ScenarioError(
                f"cannot open the scenario file {self.path} ({exc}); set {ENV_VAR} to a writable file path"
            ) from None
        return conn

    def save(self, name: str, state: dict[str, Any]) -> Scenario:
        """Save (or overwrite) the scenario ``name``."""
        clean = name.strip()
        if not clean:
            raise ScenarioError("give the scenario a name before saving it")
        if len(clean) > MAX_NAME:
            raise ScenarioError(f"scenario names are at most {MAX_NAME} characters, got {len(clean)}")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "INSERT OR REPLACE INTO scenarios (name, state, created_at) VALUES (?, ?, ?)",
                (clean, json.dumps(state, sort_keys=True), stamp),
            )
        return Scenario(clean, state, stamp)

    def list(self) -> list[Scenario]:
        """Every saved scenario, newest first."""
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT name, state, created_at FROM scenarios ORDER BY created_at DESC, name").fetchall()
        return [self._row(row) for row in rows]

    def get(self, name: str) -> Scenario:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT name, state, created_at FROM scenarios WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise ScenarioError(f"no scenario named {name!r}; pick one from the list")
        return self._row(row)

    def delete(self, name: str) -> None:
        with closing(self._connect()) as conn, conn:
            deleted = conn.execute("DELETE FROM scenarios WHERE name = ?", (name,)).rowcount
        if not deleted:
            raise ScenarioError(f"no scenario named {name!r}; it may have been deleted in another tab")

    def _row(self, row: tuple[str, str, str]) -> Scenario:
        try:
            state = json.loads(row[1])
        except json.JSONDecodeError:
            raise ScenarioError(f"scenario {row[0]!r} in {self.path} is corrupt; delete it and save it again") from None
        return Scenario(row[0], state, row[2])
