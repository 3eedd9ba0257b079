"""The SQLite scenario store: save, list, reload, overwrite, delete, survive a new store object; damaged,
foreign and locked files are reported clearly (in the store and in the app's panel)."""

from __future__ import annotations

import re
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest
from ui_helpers import assert_healthy, fused_titles, new_app

from recviz.ui.scenario_panel import PICK_KEY
from recviz.ui.scenarios import LOCK_TIMEOUT_S, ScenarioError, ScenarioStore, default_path
from recviz.ui.state import ViewState
from recviz.viz.text import markdown_text


def test_round_trip_across_store_objects(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "scenarios.sqlite"
    view = ViewState(checkpoint="m", user_id=7, edits=("-1", "+2"), fusion="max", top_n=20)
    ScenarioStore(path).save("  no sci-fi  ", view.to_dict())
    reopened = ScenarioStore(path)  # a new object on the same file: what a restart sees
    [saved] = reopened.list()
    assert saved.name == "no sci-fi"
    assert ViewState.from_dict(reopened.get("no sci-fi").state) == view
    reopened.save("no sci-fi", ViewState(user_id=8).to_dict())  # same name overwrites
    assert [s.state["user_id"] for s in reopened.list()] == [8]
    reopened.delete("no sci-fi")
    assert ScenarioStore(path).list() == []


def test_bad_names_and_unknown_scenarios(tmp_path: Path) -> None:
    store = ScenarioStore(tmp_path / "s.sqlite")
    with pytest.raises(ScenarioError, match="name"):
        store.save("   ", {})
    with pytest.raises(ScenarioError, match="at most"):
        store.save("x" * 81, {})
    with pytest.raises(ScenarioError, match="no scenario named 'ghost'"):
        store.get("ghost")
    with pytest.raises(ScenarioError, match="no scenario named 'ghost'"):
        store.delete("ghost")


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ScenarioError, match="RECVIZ_SCENARIOS"):
        ScenarioStore(blocker / "s.sqlite").list()


def test_path_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RECVIZ_SCENARIOS", raising=False)
    assert default_path() == Path(".recviz/scenarios.sqlite")
    monkeypatch.setenv("RECVIZ_SCENARIOS", str(tmp_path / "x.sqlite"))
    assert default_path() == tmp_path / "x.sqlite"


# --- damaged, foreign and locked files -----------------------------------------------------------------


def _raw(path: Path, *statements: str) -> None:
    """Write to the file behind the store's back, as another program or a disk fault would."""
    with closing(sqlite3.connect(path)) as conn, conn:
        for statement in statements:
            conn.execute(statement)


def _damaged_file(path: Path) -> ScenarioStore:
    """Two healthy scenarios and one row per kind of damage (an untyped table, so any type can be stored)."""
    _raw(path, "CREATE TABLE scenarios (name, state, created_at)")
    store = ScenarioStore(path)
    store.save("alpha", ViewState(user_id=1).to_dict())
    store.save("beta", ViewState(user_id=2).to_dict())
    _raw(path,
         "INSERT INTO scenarios VALUES ('not json', '{oops', '2024-01-01')",
         "INSERT INTO scenarios VALUES ('a list', '[1, 2]', '2024-01-01')",
         "INSERT INTO scenarios VALUES (NULL, NULL, NULL)",
         "INSERT INTO scenarios VALUES (7, 8, 9)",
         "INSERT INTO scenarios VALUES (X'00FF', '{}', '2024-01-01')",
         "INSERT INTO scenarios VALUES ('bad bytes', CAST(X'FF7B7D' AS TEXT), '2024-01-01')")
    return store


DAMAGE = {  # listed name -> what the message says
    "not json": "its saved view is not valid JSON",
    "a list": "its saved view is JSON but not an object (it is a list)",
    "(no name)": "its name is missing (NULL); its saved view is missing (NULL); its creation time is missing",
    "7": "its name is a number (integer), not text; its saved view is a number",
    "\x00\ufffd": "its name is binary data, not text",
    "bad bytes": "its saved view is not valid UTF-8 text",
}


def test_damaged_rows_are_listed_marked_and_removable(tmp_path: Path) -> None:
    store = _damaged_file(tmp_path / "s.sqlite")
    listed = store.list()
    assert sorted(s.name for s in listed if not s.damaged) == ["alpha", "beta"]
    assert [ViewState.from_dict(s.state).user_id for s in listed if not s.damaged] in ([1, 2], [2, 1])
    damaged = {s.name: s for s in listed if s.damaged}
    assert set(damaged) == set(DAMAGE)
    for name, scenario in damaged.items():
        assert DAMAGE[name] in scenario.problem and "Delete it" in scenario.problem
        assert scenario.state == {}
    with pytest.raises(ScenarioError, match="not valid JSON"):
        store.get("not json")  # opening one says why instead of returning a half-read view
    store.save("gamma", {})  # the file still takes saves
    for scenario in damaged.values():
        store.remove(scenario)
    assert sorted(s.name for s in store.list()) == ["alpha", "beta", "gamma"]


def test_remove_refuses_a_row_that_changed_since_it_was_listed(tmp_path: Path) -> None:
    store = ScenarioStore(tmp_path / "s.sqlite")
    store.save("x", {"v": 1})
    [listed] = store.list()
    store.save("x", {"v": 2})  # overwritten in another tab
    with pytest.raises(ScenarioError, match="changed or deleted in another tab"):
        store.remove(listed)
    store.remove(store.list()[0])
    assert store.list() == []


@pytest.mark.parametrize("kind", ["not sqlite", "another app", "other columns"])
def test_foreign_files_are_reported_and_left_untouched(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "s.sqlite"
    if kind == "not sqlite":
        path.write_text("name,state\nmine,{}\n" * 50)
        expected = "not an SQLite database"
    elif kind == "another app":
        _raw(path, "CREATE TABLE users (id INTEGER, email TEXT)", "INSERT INTO users VALUES (1, 'a@b.c')")
        expected = "SQLite database of something else .tables users."
    else:
        _raw(path, "CREATE TABLE scenarios (id INTEGER, title TEXT)")
        expected = "'scenarios' table has columns id, title instead of name, state, created_at"
    before = path.read_bytes()
    store = ScenarioStore(path)
    for action in (store.list, lambda: store.save("x", {}), lambda: store.get("x")):
        with pytest.raises(ScenarioError, match=expected) as caught:
            action()
        assert "RECVIZ_SCENARIOS" in str(caught.value)
    assert path.read_bytes() == before  # not converted to WAL, no table added
    assert not path.with_name("s.sqlite-wal").exists()


def test_a_locked_file_is_reported_quickly(tmp_path: Path) -> None:
    # the store's own file (WAL): a writer's exclusive lock still lets the list be read, saves are refused
    store = ScenarioStore(tmp_path / "wal.sqlite")
    store.save("kept", {})
    with closing(sqlite3.connect(store.path, isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")
        assert [s.name for s in store.list()] == ["kept"]
        started = time.perf_counter()
        with pytest.raises(ScenarioError, match="locked by another process; try again"):
            store.save("blocked", {})
        assert time.perf_counter() - started < LOCK_TIMEOUT_S + 1.5
        other.execute("ROLLBACK")
    # a rollback-journal file (e.g. made by an older recviz): an exclusive lock blocks reading as well
    legacy = tmp_path / "legacy.sqlite"
    _raw(legacy, "CREATE TABLE scenarios "
                 "(name TEXT PRIMARY KEY, state TEXT NOT NULL, created_at TEXT NOT NULL)",
         "INSERT INTO scenarios VALUES ('old', '{}', '2024-01-01')")
    with closing(sqlite3.connect(legacy, isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")
        started = time.perf_counter()
        with pytest.raises(ScenarioError, match="locked by another process; try again"):
            ScenarioStore(legacy).list()
        assert time.perf_counter() - started < LOCK_TIMEOUT_S + 1.5
    assert [s.name for s in ScenarioStore(legacy).list()] == ["old"]  # the lock gone, all there


def test_the_file_is_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    store = ScenarioStore(tmp_path / "s.sqlite")
    store.save("x", {})
    with closing(sqlite3.connect(store.path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # a property of the file
    with store._session("read") as conn:  # per connection: the store's own
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL


# --- in the app ------------------------------------------------------------------------------------------


def _unescaped(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "")  # markdown_text: escapes, word joiners


def test_the_panel_lists_damaged_scenarios_says_why_and_deletes_them(app_env: Path) -> None:
    _raw(app_env, "CREATE TABLE scenarios (name, state, created_at)")
    store = ScenarioStore(app_env)
    store.save("alpha", ViewState().to_dict())
    store.save("beta", ViewState().to_dict())
    _raw(app_env, "INSERT INTO scenarios VALUES ('broken', '{oops', '2024-01-01')",
         "INSERT INTO scenarios VALUES (NULL, NULL, NULL)")

    at = new_app()
    assert_healthy(at)
    options = at.selectbox(key=PICK_KEY).options
    assert sorted(options[:2]) == ["alpha", "beta"]
    assert options[2:] == ["⚠ broken (damaged)", "⚠ (no name) (damaged)"]
    assert any("2 saved scenarios are damaged" in c.value for c in at.caption)

    at.selectbox(key=PICK_KEY).set_value("⚠ broken (damaged)").run()
    [warning] = at.warning
    assert ("the scenario 'broken'" in _unescaped(warning.value)
            and "not valid JSON" in _unescaped(warning.value))
    at.button(key="scenario_load").click().run()  # opening it says why, and the page keeps working
    assert_healthy(at)
    assert any("not valid JSON" in _unescaped(e.value) for e in at.error)

    at.button(key="scenario_delete").click().run()
    assert_healthy(at)
    assert [_unescaped(s.value) for s in at.success] == ["Deleted “broken”."]
    at.selectbox(key=PICK_KEY).set_value("⚠ (no name) (damaged)").run()
    at.button(key="scenario_delete").click().run()
    assert sorted(at.selectbox(key=PICK_KEY).options) == ["alpha", "beta"]
    assert sorted(s.name for s in ScenarioStore(app_env).list()) == ["alpha", "beta"]

    # a name is plain text: Markdown in it is escaped in the message and left as typed in the list
    name = "**bold** _x_ [link](http://e.x) # :red[y]"
    at.text_input(key="scenario_name").input(name).run()
    at.button(key="scenario_save").click().run()
    assert_healthy(at)
    [saved] = at.success
    assert saved.value == markdown_text(f"Saved “{name}”.")
    assert "\\*\\*bold\\*\\* \\_x\\_ \\[link\\]" in saved.value and "\\:red\\[y\\]" in saved.value
    assert name in at.selectbox(key=PICK_KEY).options


def test_an_unusable_scenario_file_is_reported_and_the_app_keeps_working(app_env: Path) -> None:
    app_env.write_text("this is somebody's notes, not a database\n" * 20)
    at = new_app()
    assert_healthy(at)
    assert any("is not a usable scenario file" in _unescaped(e.value) for e in at.error)
    assert not [s for s in at.selectbox if s.key == PICK_KEY]
    assert not any("No saved scenarios" in c.value for c in at.caption)  # that would be untrue
    assert fused_titles(at)  # the workbench itself is unaffected
    at.text_input(key="scenario_name").input("x").run()
    at.button(key="scenario_save").click().run()  # saving says the same, nothing is written
    assert_healthy(at)
    assert [_unescaped(e.value) for e in at.error if "scenario file" in _unescaped(e.value)] == [
        f"{app_env} is not a usable scenario file (file is not a database): it is not an SQLite database "
        "or it is corrupt; set RECVIZ_SCENARIOS to another file path, or move this file away"]  # said once
    assert app_env.read_text().startswith("this is somebody's notes")
