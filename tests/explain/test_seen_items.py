"""One rule for excluded items: no list (fused, per interest, CLI report) shows an item of the user's whole
(edited) history, also the part older than the model's window, unless "show already-seen items" is on.

Run on the shipped comirec-sa and the sample's longest histories (user 564: 1,868 ratings; 15; 73), where
the model reads only the last 50 items.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recviz.cli import app
from recviz.config import FUSION_MODES, ExplainSettings
from recviz.explain.edits import HistoryEdits
from recviz.explain.users import explain_history, user_history
from recviz.models.checkpoint import load_checkpoint
from recviz.options import FUSIONS

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "comirec-sa-ml-latest-small"
LONGEST = (564, 15, 73)
NO_ATTRIBUTIONS = ExplainSettings(methods=(), top_n=50)
pytestmark = pytest.mark.skipif(not (SHIPPED / "config.json").is_file(), reason=f"{SHIPPED} is not trained")


@pytest.fixture(scope="module")
def shipped():
    return load_checkpoint(SHIPPED)


def _listed(exp) -> list[int]:
    return [f.item_id for f in exp.fused] + [r.item_id for lst in exp.per_interest for r in lst]


@pytest.mark.parametrize("user", LONGEST)
# every fusion comirec-sa supports (the "model" fusion needs a model's own weights: test_recbole.py)
@pytest.mark.parametrize("fusion", [f for f in FUSION_MODES if not FUSIONS[f].needs])
def test_no_list_shows_an_item_of_the_whole_history(shipped, user: int, fusion: str) -> None:
    history = user_history(shipped, user).item_ids
    assert len(history) > 3 * shipped.model.max_length  # the window is a small part of the history
    exp = explain_history(shipped, user, settings=ExplainSettings(methods=(), top_n=50, fusion=fusion))
    assert len(exp.fused) == 50 and all(len(lst) == 50 for lst in exp.per_interest)
    assert not set(_listed(exp)) & set(history)
    # the same model with "show already-seen items" on does rank old history items in: the rule is what
    # keeps them out, not the model
    shown = explain_history(shipped, user, settings=ExplainSettings(methods=(), top_n=50, fusion=fusion,
                                                                     exclude_history=False))
    older = set(history[: -shipped.model.max_length])
    assert set(_listed(shown)) & older


def test_an_item_removed_by_an_edit_may_come_back(shipped) -> None:
    user = 564
    history = user_history(shipped, user).item_ids
    window = shipped.model.max_length
    shown = explain_history(shipped, user,
                            settings=ExplainSettings(methods=(), top_n=50, exclude_history=False))
    older = set(history[:-window])
    # an old item (outside the window) the model ranks highly: removing it does not change what the model
    # reads
    comeback = next(f.item_id for f in shown.fused if f.item_id in older)
    edited = explain_history(shipped, user, HistoryEdits.from_lists(remove=[comeback]), NO_ATTRIBUTIONS)
    assert comeback in [f.item_id for f in edited.fused]
    assert not set(_listed(edited)) & (set(history) - {comeback})
    # and the diff's "before" list, computed from the whole unedited history, never had it
    before = explain_history(shipped, user, settings=NO_ATTRIBUTIONS)
    assert comeback not in [f.item_id for f in before.fused]
    assert comeback in edited.diff.entered


def test_an_added_item_leaves_every_list(shipped) -> None:
    user = 15
    before = explain_history(shipped, user, settings=NO_ATTRIBUTIONS)
    top = before.fused[0].item_id
    edited = explain_history(shipped, user, HistoryEdits.from_lists(add=[top]), NO_ATTRIBUTIONS)
    assert top not in _listed(edited)


def test_cli_json_report_of_user_564_lists_no_rated_item(shipped, tmp_path: Path) -> None:
    out = tmp_path / "u564.json"
    result = CliRunner().invoke(app, ["explain", "--checkpoint", str(SHIPPED), "--user", "564",
                                      "--format", "json", "--out", str(out), "--methods", "attention"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    rated = set(user_history(shipped, 564).item_ids) | set(user_history(shipped, 564).dropped)
    listed = ([f["item_id"] for f in report["fused"]]
              + [r["item_id"] for lst in report["per_interest"] for r in lst])
    assert len(listed) > 10 and not set(listed) & rated
    included = tmp_path / "included.json"
    result = CliRunner().invoke(app, ["explain", "--checkpoint", str(SHIPPED), "--user", "564",
                                      "--format", "json", "--out", str(included), "--methods", "attention",
                                      "--include-history"])
    assert result.exit_code == 0, result.output
    report = json.loads(included.read_text())
    assert report["fusion"]["exclude_history"] is False
    assert {f["item_id"] for f in report["fused"]} & rated
