"""The app tells a missing interest map (info: create one) from a stale or corrupt one (warning: re-create
it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from recviz.ui import loaders


def _panel(kind: str | None, problem: str) -> AppTest:
    """The interest-map panel alone, given a StoredMap without a map."""

    def script(kind: str | None, problem: str) -> None:
        from recviz.ui import interest_map
        from recviz.ui.loaders import StoredMap

        interest_map.render(None, StoredMap(None, problem, kind=kind))

    return AppTest.from_function(script, args=(kind, problem), default_timeout=30).run()


@pytest.mark.parametrize("kind", ["stale", "corrupt"])
def test_stale_or_corrupt_map_is_a_warning_naming_the_fix(kind: str) -> None:
    at = _panel(kind, f"the interest map in X is {kind}; re-create it with `recviz project --checkpoint X`")
    assert not at.info and not at.exception
    (warning,) = at.warning
    assert f"interest map is {kind}" in warning.value and "recviz project --checkpoint X" in warning.value


def test_missing_map_stays_an_info() -> None:
    at = _panel("missing", "X has no interest map; create it with `recviz project --checkpoint X`")
    assert not at.warning and "No interest map" in at.info[0].value


def test_loader_reports_the_kind(checkpoint, tmp_path: Path) -> None:
    copy = shutil.copytree(checkpoint.path, tmp_path / "ckpt")
    weights_hash = checkpoint.hash
    assert loaders._item_map(str(copy), weights_hash, 1.0).kind is None  # the shipped map loads
    stale = loaders._item_map(str(copy), "not-these-weights", 1.0)
    assert stale.item_map is None and stale.kind == "stale" and "recviz project" in stale.problem
    (copy / "map.npz").write_bytes(b"garbage")
    corrupt = loaders._item_map(str(copy), weights_hash, 2.0)
    assert corrupt.kind == "corrupt" and "corrupt" in corrupt.problem
    for name in ("map.npz", "map.json"):
        (copy / name).unlink()
    assert loaders._item_map(str(copy), weights_hash, 3.0).kind == "missing"
