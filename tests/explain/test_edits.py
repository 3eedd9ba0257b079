"""History edits: one HistoryEdits value, parsed from and formatted to the URL form, replayed on a history."""

from __future__ import annotations

import pytest

from recviz.explain.edits import EditError, HistoryEdit, HistoryEdits, edit_summary


def test_replay_remove_add_move_by_hand() -> None:
    history = [10, 20, 30, 40]
    ops = HistoryEdits((HistoryEdit("remove", 20), HistoryEdit("add", 50), HistoryEdit("move", 50, 0),
                        HistoryEdit("move", 10, 99)))
    # [10,30,40] -> [10,30,40,50] -> [50,10,30,40] -> [50,30,40,10] (position past the end = most recent)
    assert ops.apply(history) == [50, 30, 40, 10]
    assert ops.tokens() == ("-20", "+50", "50@0", "10@99") and HistoryEdits.parse(ops.tokens()) == ops
    assert history == [10, 20, 30, 40]  # the input is not mutated


def test_replay_is_deterministic_and_summary_names_changes() -> None:
    ops = ("-20", "+50", "40@0")
    edited = HistoryEdits.parse(ops).apply([10, 20, 30, 40])
    assert edited == HistoryEdits.parse(list(ops)).apply([10, 20, 30, 40]) == [40, 10, 30, 50]
    assert edit_summary([10, 20, 30, 40], edited) == {"remove": [20], "add": [50], "order": [40, 10, 30, 50]}
    # without a move the summary is what `recviz explain --remove 20 --add 50` records
    assert HistoryEdits.parse(["-20", "+50"]).summary([10, 20, 30, 40]) == {
        "remove": [20], "add": [50]}


@pytest.mark.parametrize("token", ["x", "-", "+1a", "1@", "@3", "1,2", "--3"])
def test_malformed_tokens_are_rejected(token: str) -> None:
    with pytest.raises(EditError, match="malformed history edit"):
        HistoryEdits.parse([token])


def test_edit_of_missing_item_is_rejected() -> None:
    with pytest.raises(EditError, match="item 99"):
        HistoryEdits.parse(["-99"]).apply([1, 2])
    with pytest.raises(EditError, match="item 1"):
        HistoryEdits.parse(["-1", "1@0"]).apply([1, 2])


def test_removing_drops_every_occurrence_and_from_lists_is_the_cli_form() -> None:
    assert HistoryEdits.from_lists(remove=[2], add=[9]).apply([2, 1, 2, 3]) == [1, 3, 9]
    assert HistoryEdits.from_lists(remove=[2], add=[9]).tokens() == ("-2", "+9")
    assert not HistoryEdits() and len(HistoryEdits.parse(["", " -1 "])) == 1
