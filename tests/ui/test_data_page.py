"""AppTest of the data set page: it needs no model and shows the shipped sample's statistics.

(``AppTest.switch_page`` only reaches file-based pages, and app.py's pages are functions, so the page
function runs as the script here; app.py's routing to it is covered by the no-checkpoint test.)
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from ui_helpers import REPO, TIMEOUT, assert_healthy


def _data_page() -> None:
    from recviz.ui import data_overview

    data_overview.page()


def test_data_page_statistics_and_a_users_history(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("RECVIZ_DATA", raising=False)
    at = AppTest.from_function(_data_page, default_timeout=TIMEOUT).run()
    assert_healthy(at)
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Users"] == "671" and metrics["Interactions"] == "100,004"
            and metrics["Items rated"] == "9,066")
    at.selectbox(key="w_data_user").set_value(15).run()
    history = at.dataframe[-1].value
    assert len(history) > 0 and history["date"].is_monotonic_increasing
    assert list(history.columns) == ["date", "item_id", "title", "genres", "rating"]


def test_missing_data_directory_is_an_error_not_a_crash(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("RECVIZ_DATA", str(tmp_path / "nowhere"))
    at = AppTest.from_function(_data_page, default_timeout=TIMEOUT).run()
    assert_healthy(at)
    assert "Could not read the data set" in at.error[0].value
