"""AppTest of the Compare tab: a link with a second checkpoint (``cmp``) or a second user (``vs``) opens the
comparison, what the panel shows is what ``recviz.explain.compare`` computes, picking the other kind of
comparison rewrites the link, and a link naming a missing checkpoint says so while the page keeps working."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from ui_helpers import APP, TIMEOUT, assert_healthy, errors

from recviz.explain.compare import compare_checkpoints, compare_users
from recviz.models.checkpoint import list_checkpoints, load_checkpoint
from recviz.ui.compare import CHECKPOINT_WIDGET, USER_WIDGET
from recviz.ui.state import ViewState


def open_compare(query: dict) -> AppTest:
    """The app opened on ``query`` with the Compare tab showing."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query)
    at.session_state["details_open"] = True  # the details panel is drawn only while open
    at.session_state["details_open"] = True  # the details panel is drawn while open
    at.session_state["detail_tab"] = "Compare"
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture(scope="module")
def other_checkpoint(models_dir, checkpoint):
    others = [p for p in list_checkpoints(models_dir) if p.name != checkpoint.path.name]
    if not others:
        pytest.skip("the Compare tab needs a second shipped checkpoint")
    return load_checkpoint(others[0])


def test_link_with_a_second_checkpoint_opens_the_comparison(app_env, checkpoint, other_checkpoint,
                                                           short_users) -> None:
    user = short_users[0]
    at = open_compare({"user": str(user), "cmp": other_checkpoint.path.name})
    assert_healthy(at)
    assert at.selectbox(key=CHECKPOINT_WIDGET).value == other_checkpoint.path.name
    expected = compare_checkpoints(checkpoint, other_checkpoint, user, settings=ViewState().settings())
    shown = metrics(at)
    assert shown["Jaccard@10"] == f"{expected.lists.jaccard:.2f}"
    assert shown["Rank-biased overlap"] == f"{expected.lists.rbo:.2f}"
    assert shown["Shared catalogue"] == f"{expected.catalogue.shared:,}"
    [pairs] = [d.value for d in at.dataframe if list(d.value.columns)[-1:] == ["similarity"]]  # no key
    assert pairs["similarity"].round(6).tolist() == [round(p.similarity, 6) for p in expected.matching.pairs]
    assert at.query_params["cmp"] == other_checkpoint.path.name

    at.toggle(key="cmp_maps").set_value(True).run()  # both maps on demand
    assert_healthy(at)
    maps = [c for c in at.get("plotly_chart") if "Interest map" in c.proto.spec and "cmp_map" in c.proto.id]
    assert len(maps) == 2


def test_picking_a_user_compares_users_and_rewrites_the_link(app_env, checkpoint, short_users) -> None:
    user, other = short_users[0], short_users[1]
    at = open_compare({"user": str(user)})
    assert_healthy(at)
    assert any("Pick a second checkpoint or a second user" in i.value for i in at.info)
    at.selectbox(key=USER_WIDGET).set_value(other).run()
    assert_healthy(at)
    expected = compare_users(checkpoint, user, other, settings=ViewState().settings())
    shown = metrics(at)
    assert shown["Shared recommendations"] == f"{len(expected.lists.shared)} of 10"
    assert shown["Shared history items"] == f"{len(expected.shared_history):,}"
    assert at.query_params["vs"] == str(other) and "cmp" not in at.query_params
    assert [b.label for b in at.get("download_button")][-2:] == ["Comparison HTML", "Comparison JSON"]


def test_link_naming_a_missing_checkpoint_is_reported(app_env, short_users) -> None:
    at = open_compare({"user": str(short_users[0]), "cmp": "no-such-model"})
    assert_healthy(at)
    assert "'no-such-model' from the link is not under the models directory" in errors(at)
    assert at.selectbox(key="w_user").value == short_users[0]  # the rest of the page is there


def test_the_view_carries_the_comparison_in_links_and_scenarios() -> None:
    view = ViewState(checkpoint="sa", user_id=3, compare="dr")
    assert view.to_query_params() == {"ckpt": "sa", "user": "3", "cmp": "dr"}
    assert ViewState.from_query_params(view.to_query_params()) == view
    assert ViewState.from_dict(view.to_dict()) == view
    assert ViewState.from_query_params({"vs": "7"}).vs_user == 7
    parsed = ViewState.parse_query_params({"cmp": "../models", "vs": "x"})
    assert (parsed.view.compare, parsed.view.vs_user) == (None, None) and len(parsed.problems) == 2
