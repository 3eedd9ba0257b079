"""AppTest of the "Over time" tab: the whole (edited) history's timeline as ``user_timeline`` computes it,
its phases table, smoothing, and its downloads."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest
from ui_helpers import APP, TIMEOUT, assert_healthy, select_history_rows

from recviz.explain.edits import HistoryEdits
from recviz.explain.timeline import user_timeline
from recviz.explain.users import user_history
from recviz.report.timeline import phase_text


def open_over_time(query: dict) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query)
    at.session_state["details_open"] = True  # the details panel is drawn only while open
    at.session_state["details_open"] = True  # the details panel is drawn while open
    at.session_state["detail_tab"] = "Over time"
    return at.run()


def phases(at: AppTest):
    columns = ["interest", "label", "appears", "peaks", "fades"]  # read-only tables carry no key in AppTest
    [frame] = [d.value for d in at.dataframe if list(d.value.columns) == columns]
    return frame


def test_over_time_tab_shows_the_whole_history(app_env, checkpoint, short_users) -> None:
    user = short_users[0]
    at = open_over_time({"user": str(user)})
    assert_healthy(at)
    expected = user_timeline(checkpoint, user)
    assert len(expected.item_ids) == len(user_history(checkpoint, user).item_ids)
    table = phases(at)
    assert table["appears"].tolist() == [phase_text(expected, p)[0] for p in expected.phases]
    assert table["peaks"].tolist() == [phase_text(expected, p)[1] for p in expected.phases]
    [chart] = [c for c in at.get("plotly_chart") if "Interests over time" in c.proto.spec]
    assert [b.label for b in at.get("download_button")][-2:] == ["Timeline HTML", "Timeline JSON"]

    at.slider(key="tl_smoothing").set_value(5).run()
    assert_healthy(at)
    smoothed = user_timeline(checkpoint, user, smoothing=5)
    assert phases(at)["peaks"].tolist() == [phase_text(smoothed, p)[1] for p in smoothed.phases]
    assert chart is not None


def test_over_time_follows_the_edits(app_env, checkpoint, short_users) -> None:
    user = short_users[1]
    at = open_over_time({"user": str(user)})
    removed = user_history(checkpoint, user).item_ids[-checkpoint.model.max_length:][0]
    select_history_rows(at, [0])
    at.button(key="remove_btn").click().run()
    assert_healthy(at)
    edited = user_timeline(checkpoint, user, HistoryEdits.from_lists(remove=[removed]))
    assert removed not in edited.item_ids
    assert phases(at)["peaks"].tolist() == [phase_text(edited, p)[1] for p in edited.phases]
