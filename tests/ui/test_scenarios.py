"""The SQLite scenario store: save, list, reload, overwrite, delete, survive a new store object."""

from __future__ import annotations

from pathlib import Path

import pytest

from recviz.ui.scenarios import ScenarioError, ScenarioStore, default_path
from recviz.ui.state import ViewState


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
