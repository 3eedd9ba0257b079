"""ViewState: the URL and scenario forms of a view round-trip, and bad links are reported clearly."""

from __future__ import annotations

import pytest

from recviz.config import ExplainSettings
from recviz.errors import ConfigError
from recviz.ui.state import ViewState


def test_query_params_round_trip_and_defaults_left_out() -> None:
    view = ViewState(checkpoint="sa", user_id=15, uploaded=(1, 2), edits=("-1", "+9", "9@0"),
                     fusion="diverse", diversity_lambda=0.25, methods=("occlusion",), target=260)
    params = view.to_query_params()
    assert params["ckpt"] == "sa" and params["user"] == "15" and params["edit"] == ["-1", "+9", "9@0"]
    assert "n" not in params and "tau" not in params  # defaults stay out of the link
    assert ViewState.from_query_params(params) == view
    # a single repeated-key value arrives as a plain string; comma lists are accepted too
    assert ViewState.from_query_params({"user": "3", "edit": "-1,+2"}).edits.tokens() == ("-1", "+2")
    assert ViewState.from_query_params({}) == ViewState()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"user": "abc"}, "invalid"),
        ({"fusion": "mean"}, "unknown fusion mode"),
        ({"method": "shap"}, "unknown attribution method"),
        ({"n": "0"}, "top_n"),
        ({"edit": "drop-1"}, "malformed history edit"),
    ],
)
def test_bad_links_raise_config_error(params: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ViewState.from_query_params(params)


def test_settings_follow_the_view() -> None:
    settings = ViewState(top_n=20, fusion="max", target=32).settings()
    assert (settings.top_n, settings.fusion, settings.targets) == (20, "max", (32,))
    assert ViewState().settings() == ExplainSettings()  # the app opens with the CLI's defaults
