"""AppTest of the Counterfactual tab and the counterfactual check beside the deletion curves: compute, apply
the edit, see the history editor show it (and Reset undo it), and bad items shown as errors."""

from __future__ import annotations

import json

import pytest
from ui_helpers import assert_healthy, errors, history_ids, new_app, on_screen, table

from recviz.config import SearchBudget
from recviz.explain.counterfactual import find_removal, why_not
from recviz.explain.users import explain_history, user_history
from recviz.ui.state import ViewState

SETTINGS = ViewState().settings()  # what the app opens with


def open_tab(user: int, tab: str = "Counterfactual"):
    at = new_app({"user": str(user)})
    at.session_state["details_open"] = True  # the details panel is drawn only while open
    at.session_state["details_open"] = True  # the details panel is drawn while open
    at.session_state["detail_tab"] = tab
    return at.run()


@pytest.fixture(scope="module")
def removable(checkpoint, short_users) -> tuple[int, int]:
    """A user whose top recommendation a removal drops (with the app's default method and budget)."""
    for user in short_users:
        history = user_history(checkpoint, user).item_ids
        top = explain_history(checkpoint, user, settings=SETTINGS).fused[0].item_id
        if find_removal(checkpoint, history, top, SETTINGS, method=SETTINGS.methods[0]).found:
            return user, top
    pytest.fail("no short user's top recommendation can be dropped by a removal")


def test_apply_a_removal_drops_the_recommendation_and_reset_undoes_it(app_env, checkpoint, removable):
    user, top = removable
    at = open_tab(user)
    assert_healthy(at)
    before = history_ids(at)
    assert on_screen(at).fused[0].item_id == top
    at.button(key="cf_find").click().run()
    assert_healthy(at)
    [found] = at.success
    assert "out of the top 10" in found.value and not errors(at)
    [cf] = [r for r in at.session_state["_counterfactuals"].values() if getattr(r, "kind", None) == "remove"]

    at.button(key="cf_apply").click().run()
    assert_healthy(at)
    exp = on_screen(at)
    assert top not in [f.item_id for f in exp.fused]  # the recommendation left the top-N
    assert exp.edits["remove"] == cf.items and exp.diff.removed == cf.items
    assert not set(cf.items) & set(history_ids(at)) and len(history_ids(at)) == len(before) - len(cf.items)
    assert any(f"edited: {len(cf.items)} removed" in c.value for c in at.caption)
    tokens = [f"-{i}" for i in cf.items]
    assert at.query_params["edit"] == (tokens if len(tokens) > 1 else tokens[0])
    assert at.selectbox(key="w_target").value == top  # still explained, now "not in the list"

    at.button(key="reset_btn").click().run()
    assert history_ids(at) == before and on_screen(at).fused[0].item_id == top


def test_why_not_then_apply_the_additions(app_env, checkpoint, short_users):
    user = short_users[0]
    history = user_history(checkpoint, user).item_ids
    shown = {f.item_id for f in explain_history(checkpoint, user, settings=SETTINGS).fused}
    candidates = [i for i in checkpoint.vocab.raw_ids[:400:20] if i not in shown and i not in history]
    item = next((i for i in candidates if why_not(checkpoint, history, i, SETTINGS).additions.found), None)
    if item is None:
        pytest.skip("no candidate item can be brought in within the budget")
    at = open_tab(user)
    at.text_input(key="cf_why_not_query").input(str(item)).run()
    at.button(key="cf_why_not").click().run()
    assert_healthy(at)
    assert not errors(at) and any("into the top 10" in s.value for s in at.success)
    [wn] = [r for r in at.session_state["_counterfactuals"].values() if hasattr(r, "additions")]
    assert wn.item_id == item and wn.additions.found

    at.button(key="cf_apply_add").click().run()
    assert_healthy(at)
    exp = on_screen(at)
    assert item in [f.item_id for f in exp.fused]  # brought into the top-N
    assert history_ids(at)[-len(wn.additions.items):] == wn.additions.items
    assert table(at, "history_table")["status"].iloc[-1] == "added"


def test_bad_items_show_an_error_and_the_page_keeps_working(app_env, checkpoint, short_users):
    user = short_users[1]
    at = open_tab(user)
    at.text_input(key="cf_why_not_query").input("999999999").run()
    at.button(key="cf_why_not").click().run()
    assert_healthy(at)
    assert "Unknown item id(s): 999999999" in errors(at)
    seen = history_ids(at)[0]
    at.text_input(key="cf_why_not_query").input(str(seen)).run()
    at.button(key="cf_why_not").click().run()
    assert "is already in the history" in errors(at)
    top = on_screen(at).fused[0].item_id
    at.text_input(key="cf_why_not_query").input(str(top)).run()
    at.button(key="cf_why_not").click().run()
    assert "already recommended" in errors(at)
    at.text_input(key="cf_why_not_query").input("Toy Story").run()
    assert "Toy Story" in checkpoint.catalogue.title(at.selectbox(key="cf_why_not_pick").value)
    assert_healthy(at)
    assert on_screen(at).fused  # the rest of the page is still drawn


def test_a_tight_budget_says_so_and_offers_no_edit(app_env, checkpoint, short_users):
    tight = SearchBudget(max_size=1, max_candidates=10)
    for user in short_users:
        top = explain_history(checkpoint, user, settings=SETTINGS).fused[0].item_id
        history = user_history(checkpoint, user).item_ids
        cf = find_removal(checkpoint, history, top, SETTINGS, method=SETTINGS.methods[0], budget=tight)
        if not cf.found:
            break
    else:
        pytest.skip("a single removal drops every short user's top recommendation")
    at = open_tab(user)
    at.number_input(key="cf_max_size").set_value(1).run()
    at.number_input(key="cf_max_candidates").set_value(10).run()
    at.button(key="cf_find").click().run()
    assert_healthy(at)
    [warning] = at.warning
    assert "budget 10" in warning.value and "Raise the budget" in warning.value
    assert not [b for b in at.button if b.key == "cf_apply"]


def test_the_counterfactual_check_sits_beside_the_deletion_curves(app_env, short_users):
    at = open_tab(short_users[0], "Attributions")
    assert not [c for c in at.get("plotly_chart") if "Counterfactual check" in c.proto.spec]
    at.button(key="cf_check").click().run()
    assert_healthy(at)
    [chart] = [c for c in at.get("plotly_chart") if "Counterfactual check" in c.proto.spec]
    names = [trace["name"] for trace in json.loads(chart.proto.spec)["data"]]
    assert names[-1] == "Random items (mean)" and len(names) == 1 + len(on_screen(at).settings["methods"])
