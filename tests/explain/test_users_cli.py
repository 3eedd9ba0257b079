"""Real users' histories from a checkpoint's data, history edits, and the explain/report/project CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from recviz.cli import app
from recviz.errors import ConfigError, UnknownUserError
from recviz.explain.edits import HistoryEdits
from recviz.explain.types import Explanation
from recviz.explain.users import explain_history, user_history, user_ids


def test_user_history_is_the_users_filtered_sequence(checkpoints, sequences):
    ckpt = checkpoints["comirec-sa"]
    user = sequences.users()[3]
    got = user_history(ckpt, user)
    assert got.item_ids == sequences.items[user] and got.timestamps == sequences.timestamps[user]
    assert got.dropped == [] and got.notice() is None
    assert user_ids(ckpt) == sequences.users()
    with pytest.raises(UnknownUserError, match="user 1 is not in"):
        user_history(ckpt, 1)  # user 1 has no rating ≥ 4 that survives the 5-core


def test_apply_edits():
    assert HistoryEdits.from_lists(remove=[2], add=[9, 8]).apply([1, 2, 3]) == [1, 3, 9, 8]
    with pytest.raises(ConfigError, match=r"item 7"):
        HistoryEdits.from_lists(remove=[7]).apply([1, 2, 3])


def test_explain_user_with_edits_has_a_diff_and_timestamps(checkpoints, sequences):
    ckpt = checkpoints["youtube-dnn"]
    user = sequences.users()[4]
    seq = sequences.items[user]
    extra = next(i for i in ckpt.vocab.raw_ids if i not in seq)
    exp = explain_history(ckpt, user, HistoryEdits.from_lists(remove=[seq[0]], add=[extra]))
    assert [h.item_id for h in exp.history] == (seq[1:] + [extra])[-ckpt.model.max_length :]
    assert exp.history[-1].timestamp is None and exp.history[0].timestamp is not None
    assert exp.diff.removed == [seq[0]] and exp.diff.added == [extra]
    assert exp.edits == {"remove": [seq[0]], "add": [extra]} and exp.user_id == user


def test_cli_writes_reports_for_three_users_and_skips_a_bad_one(checkpoints, sequences, tmp_path):
    ckpt = checkpoints["comirec-sa"]
    users = sequences.users()[:3]
    runner = CliRunner()
    args = ["report", "--checkpoint", str(ckpt.path), "--out", str(tmp_path), "--format", "json",
            "--ig-steps", "4", "--users", ",".join(map(str, [*users, 1]))]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output  # user 1 failed: the exit code says so
    assert "1 failed: 1" in result.output
    written = sorted(tmp_path.glob("*.json"))
    assert len(written) == 3
    got = sorted(Explanation.from_json(p.read_text()).user_id for p in written)
    assert got == sorted(users)
    ok = runner.invoke(app, args[:-1] + [",".join(map(str, users[:1]))])
    assert ok.exit_code == 0, ok.output


def test_cli_explain_writes_an_edited_html_report(checkpoints, sequences, tmp_path):
    ckpt = checkpoints["comirec-sa"]
    user = sequences.users()[0]
    first = sequences.items[user][0]
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["explain", "--checkpoint", str(ckpt.path), "--user", str(user), "--out",
                                      str(out), "--remove", str(first), "--ig-steps", "4", "--top-n", "5"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") or text.lower().startswith("<!doctype html>")
    bad = CliRunner().invoke(app, ["explain", "--checkpoint", str(ckpt.path), "--user", str(user), "--out",
                                   str(out), "--add", "-3"])
    assert bad.exit_code != 0 and "-3" in str(bad.exception)


def test_cli_json_report_round_trips(checkpoints, sequences, tmp_path):
    ckpt = checkpoints["popularity"]
    user = sequences.users()[1]
    out = tmp_path / "p.json"
    result = CliRunner().invoke(app, ["explain", "--checkpoint", str(ckpt.path), "--user", str(user), "--out",
                                      str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    exp = Explanation.from_json(out.read_text())
    assert exp.model_name == "popularity" and exp.user_id == user
    assert json.loads(out.read_text())["schema_version"] == exp.schema_version
