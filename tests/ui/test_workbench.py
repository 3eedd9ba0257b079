"""AppTest of the workbench: pick a user, edit the history, change fusion, upload, export, bad checkpoints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from ui_helpers import (
    assert_healthy,
    errors,
    fused_scores,
    fused_titles,
    history_ids,
    new_app,
    on_screen,
    select_history_rows,
    table,
)

from recviz.errors import CheckpointError
from recviz.explain.projection import load_item_map
from recviz.explain.types import Explanation
from recviz.explain.users import user_history
from recviz.report import render_html, render_json, report_filename
from recviz.ui.loaders import DEFAULT_CHECKPOINT


def test_pick_user_then_remove_an_item_changes_the_fused_list(app_env, checkpoint, short_users) -> None:
    at = new_app()
    assert_healthy(at)
    user = short_users[0]
    at.selectbox(key="w_user").set_value(user).run()
    real = user_history(checkpoint, user).item_ids
    assert history_ids(at) == real[-checkpoint.model.max_length:]
    before_titles, before_scores = fused_titles(at), fused_scores(at)
    assert on_screen(at).user_id == user and [f.title for f in on_screen(at).fused] == before_titles

    removed = history_ids(at)[0]
    select_history_rows(at, [0])
    at.button(key="remove_btn").click().run()
    assert_healthy(at)
    assert removed not in history_ids(at)
    assert len(history_ids(at)) == len(real) - 1
    assert (fused_titles(at), fused_scores(at)) != (before_titles, before_scores)
    assert any("edited: 1 removed" in c.value for c in at.caption)
    assert at.query_params["edit"] == f"-{removed}"
    diff = on_screen(at).diff
    assert diff is not None and diff.removed == [removed]

    at.button(key="reset_btn").click().run()
    assert history_ids(at) == real[-checkpoint.model.max_length:] and fused_titles(at) == before_titles


def test_add_and_move_items(app_env, checkpoint, short_users) -> None:
    at = new_app({"user": str(short_users[0])})
    at.text_input(key="add_search").input("Toy Story").run()
    pick = at.selectbox(key="add_pick").value
    assert "Toy Story" in checkpoint.catalogue.title(pick)
    at.button(key="add_btn").click().run()
    assert history_ids(at)[-1] == pick
    assert table(at, "history_table")["status"].iloc[-1] == "added"

    first = history_ids(at)[0]
    select_history_rows(at, [0])
    at.number_input(key="move_to").set_value(3).run()
    at.button(key="move_btn").click().run()
    assert_healthy(at)
    assert history_ids(at)[2] == first
    assert at.query_params["edit"] == [f"+{pick}", f"{first}@2"]


def test_fusion_mode_changes_the_lists(app_env, short_users) -> None:
    at = new_app({"user": str(short_users[1])})
    weighted = fused_scores(at)
    at.segmented_control(key="w_fusion").set_value("max").run()
    assert_healthy(at)
    assert on_screen(at).fusion.mode == "max"
    assert fused_scores(at) != weighted
    # max fusion: each fused score is the best interest's own score for that item
    exp = on_screen(at)
    for item in exp.fused:
        own = {r.item_id: r.score for r in exp.per_interest[item.contributor]}
        if item.item_id in own:
            assert item.score == pytest.approx(own[item.item_id], abs=1e-5)
    at.segmented_control(key="w_fusion").set_value("diverse").run()
    assert at.slider(key="w_lambda").value == 0.5 and on_screen(at).fusion.mode == "diverse"
    assert at.query_params["fusion"] == "diverse"


def test_bad_uploads_show_an_error_and_the_app_keeps_working(app_env, checkpoint) -> None:
    at = new_app()
    before = history_ids(at)
    at.file_uploader(key="history_upload").set_value(("broken.json", b"[1, 2", "application/json")).run()
    assert "not valid JSON" in errors(at) and "broken.json" in errors(at)
    at.file_uploader(key="history_upload").set_value(("ids.csv", b"item_id\n1\n999999999\n",
                                                      "text/csv")).run()
    assert "Unknown item id(s): 999999999" in errors(at)
    at.file_uploader(key="history_upload").set_value(("empty.csv", b" \n", "text/csv")).run()
    assert "empty" in errors(at)
    assert_healthy(at)
    assert history_ids(at) == before  # a bad file leaves the history as it was

    known = checkpoint.vocab.raw_ids[:3]
    at.file_uploader(key="history_upload").set_value(("good.json", json.dumps(known).encode(),
                                                      "application/json")).run()
    assert not at.error and history_ids(at) == known
    assert on_screen(at).user_id is None and at.query_params["up"] == [str(i) for i in known]

    many = checkpoint.vocab.raw_ids[: checkpoint.model.max_length + 5]
    at.file_uploader(key="history_upload").set_value(("long.json", json.dumps(many).encode(),
                                                      "application/json")).run()
    assert any("only the most recent" in w.value for w in at.warning)  # the upload's own message
    assert history_ids(at) == many[-checkpoint.model.max_length:]


def test_empty_history_shows_the_fallback_message(app_env, checkpoint, short_users) -> None:
    at = new_app({"user": str(short_users[0])})
    select_history_rows(at, list(range(len(history_ids(at)))))
    at.button(key="remove_btn").click().run()
    assert_healthy(at)
    assert any("history is empty" in w.value for w in at.warning)
    assert on_screen(at).fallback == "popularity"


def test_export_is_exactly_the_explanation_on_screen(app_env, monkeypatch: pytest.MonkeyPatch, checkpoint,
                                                      short_users) -> None:
    deferred: dict[str, object] = {}
    real_add = MediaFileManager.add_deferred

    def capture(self, data_generator, mimetype, coordinates, file_name=None, **kwargs):
        deferred[file_name] = data_generator
        return real_add(self, data_generator, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    at = new_app({"user": str(short_users[0])})
    select_history_rows(at, [1])
    at.button(key="remove_btn").click().run()
    exp = on_screen(at)
    names = {fmt: report_filename(exp, fmt) for fmt in ("html", "json")}
    assert set(names.values()) <= set(deferred)
    html_bytes, json_bytes = deferred[names["html"]](), deferred[names["json"]]()
    assert json_bytes == render_json(exp).encode() and len(json_bytes) > 1000
    assert html_bytes == render_html(exp, _stored_map(checkpoint)).encode()
    assert html_bytes.lstrip().lower().startswith(b"<!doctype html")
    shown = Explanation.from_json(json_bytes.decode())
    assert [f.title for f in shown.fused] == fused_titles(at)
    assert [h.item_id for h in shown.history] == history_ids(at)
    assert shown.edits["remove"] and "-edited-" in names["json"]


def _stored_map(checkpoint):
    try:
        return load_item_map(checkpoint.path, expected_hash=checkpoint.hash)
    except CheckpointError:
        return None


def test_corrupt_and_missing_checkpoints_show_errors(app_env, checkpoint, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "models"
    good = root / "a-good"
    shutil.copytree(checkpoint.path, good, ignore=shutil.ignore_patterns("map.*"))  # and without its map
    broken = root / "b-broken"
    shutil.copytree(good, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    monkeypatch.setenv("RECVIZ_MODELS_DIR", str(root))
    at = new_app({"ckpt": "b-broken"})
    assert_healthy(at)
    assert "Could not load the checkpoint" in errors(at) and "b-broken" in errors(at)
    at.selectbox(key="w_checkpoint").set_value("a-good").run()
    assert not at.error and fused_titles(at)
    assert any("No interest map" in i.value and "recviz project" in i.value for i in at.info)

    at = new_app({"ckpt": "no-such-model"})
    assert "'no-such-model'" in errors(at) and fused_titles(at)

    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("RECVIZ_MODELS_DIR", str(empty))
    at = new_app()
    assert_healthy(at)
    assert "no checkpoint under" in at.info[0].value
    assert [m.value for m in at.metric][:3] == ["671", "9,066", "100,004"]  # the data set is still shown


def test_the_app_opens_on_the_shipped_comirec_sa_even_when_another_sorts_first(
    app_env, checkpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "models"
    shutil.copytree(checkpoint.path, root / DEFAULT_CHECKPOINT,
                    ignore=shutil.ignore_patterns("map.*", "population.*"))
    shutil.copytree(root / DEFAULT_CHECKPOINT, root / "a-sorts-first")
    monkeypatch.setenv("RECVIZ_MODELS_DIR", str(root))
    at = new_app()
    assert_healthy(at)
    assert at.selectbox(key="w_checkpoint").value == DEFAULT_CHECKPOINT and fused_titles(at)
    shutil.rmtree(root / DEFAULT_CHECKPOINT)
    assert new_app().selectbox(key="w_checkpoint").value == "a-sorts-first"  # else the first by name


def test_choosing_the_recommendation_to_explain(app_env, short_users) -> None:
    at = new_app({"user": str(short_users[0])})
    exp = on_screen(at)
    # default: the CLI's (the top five fused items), the panel shows the first
    assert [a.target_item_id for a in exp.attributions][0] == exp.fused[0].item_id
    assert ({a.target_item_id for a in exp.attributions}
            == {f.item_id for f in exp.fused[:exp.settings["num_targets"]]})
    third = exp.fused[2].item_id
    at.selectbox(key="w_target").set_value(third).run()
    assert_healthy(at)
    explained = on_screen(at)
    assert {a.target_item_id for a in explained.attributions} == {third}
    assert {a.method for a in explained.attributions} == set(at.multiselect(key="w_methods").value)
    assert at.query_params["target"] == str(third)


def test_detail_tabs_draw_only_the_open_panel(app_env, short_users) -> None:
    at = new_app({"user": str(short_users[0])})
    assert len(at.get("plotly_chart")) == 1  # the details panel is closed: only the map is drawn
    at.session_state["details_open"] = True
    at.run()
    assert len(at.get("plotly_chart")) == 3  # opened: the Attributions tab (attributions, deletion curves)
    assert not [m for m in at.metric if m.label == "Effective interests"]  # Attributions is the open tab
    at.session_state["detail_tab"] = "Interest health"
    at.run()
    assert_healthy(at)
    health = on_screen(at).interest_health
    [metric] = [m for m in at.metric if m.label == "Effective interests"]
    assert metric.value == f"{health.effective_number:.2f} of {len(on_screen(at).interests)}"


def test_export_matches_what_the_cli_writes_for_the_same_inputs(
    app_env, monkeypatch: pytest.MonkeyPatch, checkpoint, short_users, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from recviz import cli

    user = short_users[1]
    at = new_app({"user": str(user)})
    removed = history_ids(at)[0]
    select_history_rows(at, [0])
    at.button(key="remove_btn").click().run()
    app_json = json.loads(render_json(on_screen(at)))

    result = CliRunner().invoke(cli.app, ["explain", "--checkpoint", str(checkpoint.path),
                                          "--user", str(user), "--remove", str(removed),
                                          "--out", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    [written] = tmp_path.glob("*.json")
    cli_json = json.loads(written.read_text(encoding="utf-8"))
    for stamp in ("created_at", "timing"):  # when it ran and how long it took
        app_json.pop(stamp), cli_json.pop(stamp)
    assert app_json == cli_json
