"""AppTest of what outlives a rerun: links (query params) and named scenarios (SQLite, across restarts)."""

from __future__ import annotations

from ui_helpers import (
    assert_healthy,
    errors,
    fused_titles,
    history_ids,
    new_app,
    on_screen,
    select_history_rows,
    warnings,
)


def test_a_copied_link_reopens_the_same_view(app_env, short_users) -> None:
    at = new_app()
    at.selectbox(key="w_user").set_value(short_users[1]).run()
    select_history_rows(at, [0, 2])
    at.button(key="remove_btn").click().run()
    at.segmented_control(key="w_fusion").set_value("max").run()
    at.slider(key="w_top_n").set_value(15).run()
    link = dict(at.query_params)
    assert link["user"] == str(short_users[1]) and link["fusion"] == "max" and link["n"] == "15"

    reopened = new_app(link)  # a new session: what pasting the link in another tab does
    assert_healthy(reopened)
    assert history_ids(reopened) == history_ids(at)
    assert fused_titles(reopened) == fused_titles(at) and len(fused_titles(at)) == 15
    assert on_screen(reopened).edits == on_screen(at).edits


def test_a_broken_link_is_reported_and_the_app_opens(app_env) -> None:
    at = new_app({"fusion": "mean", "edit": "oops", "n": "15"})
    assert_healthy(at)
    shown = warnings(at)
    assert "Parts of the link could not be used" in shown
    assert "unknown fusion mode 'mean'" in shown and "malformed history edit 'oops'" in shown
    assert len(fused_titles(at)) == 15  # the valid part of the link is honoured
    at = new_app({"edit": "-424242"})  # a well-formed edit of an item the history lacks
    assert "cannot be applied" in errors(at)
    at.button(key="drop_edits").click().run()
    assert not at.error and fused_titles(at)


def test_scenarios_are_saved_reloaded_and_deleted_across_restarts(app_env, short_users) -> None:
    at = new_app({"user": str(short_users[2])})
    select_history_rows(at, [0])
    at.button(key="remove_btn").click().run()
    at.segmented_control(key="w_fusion").set_value("max").run()
    at.text_input(key="scenario_name").input("first item out").run()
    at.button(key="scenario_save").click().run()
    assert any("Saved" in s.value for s in at.success)
    saved_titles, saved_history = fused_titles(at), history_ids(at)

    restarted = new_app()  # a new session over the same SQLite file
    assert fused_titles(restarted) != saved_titles or history_ids(restarted) != saved_history
    assert restarted.selectbox(key="scenario_pick").options == ["first item out"]
    restarted.button(key="scenario_load").click().run()
    assert_healthy(restarted)
    assert (fused_titles(restarted), history_ids(restarted)) == (saved_titles, saved_history)
    assert on_screen(restarted).fusion.mode == "max" and on_screen(restarted).user_id == short_users[2]
    restarted.button(key="scenario_delete").click().run()

    again = new_app()
    assert not [s for s in again.selectbox if s.key == "scenario_pick"]
    assert any("No saved scenarios" in c.value for c in again.caption)
