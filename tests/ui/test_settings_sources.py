"""One validation for settings from anywhere: a link, a saved scenario, CLI flags and the widgets.

A link or scenario with an out-of-range number is clamped, with NaN/infinity, a wrong type, an unknown choice
or key is dropped (the default applies), each with a visible warning; the CLI refuses the same values with
an error naming them; over-long id lists in a link are refused without being split in full.
"""

from __future__ import annotations

import math
import time

import pytest
from typer.testing import CliRunner
from ui_helpers import REPO, assert_healthy, fused_titles, new_app, on_screen

from recviz.cli import app as cli
from recviz.config import SETTING_RANGES, ExplainSettings, clean_explain_settings
from recviz.errors import ConfigError
from recviz.explain.edits import MAX_EDITS, HistoryEdits
from recviz.ui.state import ViewState
from recviz.ui.uploads import MAX_UPLOAD_ITEMS

TOP_N_MAX = int(SETTING_RANGES["top_n"].high)


@pytest.mark.parametrize(
    ("params", "field", "expected", "message"),
    [
        ({"n": "100"}, "top_n", TOP_N_MAX, "top_n must be a whole number from 1 to 50, got 100; using 50"),
        ({"n": "-4"}, "top_n", 1, "using 1"),
        ({"n": "7.5"}, "top_n", 10, "top_n must be a whole number"),
        ({"n": "ten"}, "top_n", 10, "got 'ten'"),
        ({"n": "9" * 5000}, "top_n", 10, "5,000-character text"),
        ({"tau": "nan"}, "tau", 1.0, "not a finite number"),
        ({"tau": "inf"}, "tau", 1.0, "not a finite number"),
        ({"tau": "-inf"}, "tau", 1.0, "not a finite number"),
        ({"tau": "0"}, "tau", 0.1, "using 0.1"),
        ({"lambda": "7"}, "diversity_lambda", 1.0, "using 1"),
        ({"fusion": "mean"}, "fusion", "weighted", "unknown fusion mode 'mean'"),
        ({"method": "occlusion,shap"}, "methods", ("occlusion",), "unknown attribution method(s) ['shap']"),
        ({"seen": "maybe"}, "show_seen", False, "show already-seen items must be true or false"),
        ({"user": "abc"}, "user_id", None, "user id: an id must be a whole number"),
        ({"edit": "drop-1"}, "edits", HistoryEdits(), "malformed history edit"),
        ({"ckpt": "../../etc"}, "checkpoint", None, "not a checkpoint directory name"),
        ({"colour": "red"}, "top_n", 10, "unknown link parameter(s) ['colour']"),
    ],
)
def test_a_link_keeps_what_is_valid_and_says_what_it_changed(params, field, expected, message) -> None:
    parsed = ViewState.parse_query_params({"user": "15", **params} if field != "user_id" else params)
    assert getattr(parsed.view, field) == expected
    assert any(message in p for p in parsed.problems), parsed.problems
    parsed.view.settings()  # whatever a link holds, the view it opens is valid
    with pytest.raises(ConfigError, match="the link's parameters are invalid"):
        ViewState.from_query_params(params)


def test_valid_links_have_no_problems() -> None:
    parsed = ViewState.parse_query_params({"user": "15", "n": "50", "tau": "0.1", "seen": "1",
                                           "method": "attention", "embed": "true"})
    assert parsed.problems == []
    assert (parsed.view.top_n, parsed.view.tau, parsed.view.show_seen) == (50, 0.1, True)
    assert parsed.view.settings().exclude_history is False


@pytest.mark.parametrize(("key", "limit"), [("up", MAX_UPLOAD_ITEMS), ("edit", MAX_EDITS)])
def test_huge_id_lists_in_a_link_are_refused_without_reading_them(key: str, limit: int) -> None:
    token = "+1" if key == "edit" else "1"
    huge = ",".join([token] * 100_000)
    start = time.perf_counter()
    parsed = ViewState.parse_query_params({"user": "15", key: huge})
    assert time.perf_counter() - start < 0.5
    assert any(f"more than {limit:,} entries" in p for p in parsed.problems)
    assert parsed.view.user_id == 15 and parsed.view.uploaded is None and not parsed.view.edits
    at_limit = ViewState.parse_query_params({key: ",".join([token] * limit)})  # the limit itself is fine
    assert not at_limit.problems


def test_a_damaged_scenario_opens_leniently_and_strictly_refuses() -> None:
    saved = {**ViewState(user_id=15).to_dict(), "tau": float("nan"), "top_n": 400,
             "methods": ["occlusion", 3], "future_field": 1}
    parsed = ViewState.parse(saved, "scenario")
    assert (parsed.view.tau, parsed.view.top_n, parsed.view.methods) == (1.0, TOP_N_MAX, ("occlusion",))
    assert len(parsed.problems) == 4
    with pytest.raises(ConfigError, match="the saved view is malformed"):
        ViewState.from_dict(saved)


def test_the_library_and_the_cli_refuse_what_the_app_clamps() -> None:
    for bad in ({"tau": math.nan}, {"tau": math.inf}, {"top_n": 100}, {"diversity_lambda": -1.0},
                {"top_n": True}, {"methods": ("shap",)}, {"fusion": "mean"}):
        with pytest.raises(ConfigError):
            ExplainSettings(**bad)
    clean, problems = clean_explain_settings({"tau": "nan", "top_n": "100"}, lenient=True)
    assert clean == {"top_n": TOP_N_MAX} and len(problems) == 2
    ckpt = str(REPO / "models" / "comirec-sa-ml-latest-small")
    for flags, message in ((["--tau", "nan"], "tau must be a number from 0.1 to 5, got nan"),
                           (["--top-n", "100"], "top_n must be a whole number from 1 to 50, got 100"),
                           (["--diversity-lambda", "2"], "diversity_lambda must be a number from 0 to 1")):
        result = CliRunner().invoke(cli, ["explain", "--checkpoint", ckpt, "--user", "15",
                                          "--out", "/tmp/x.json", *flags])
        assert isinstance(result.exception, ConfigError) and message in str(result.exception)


def test_the_app_opens_a_bad_link_with_a_warning_and_valid_widgets(app_env) -> None:
    at = new_app({"n": "100", "tau": "nan", "lambda": "inf", "foo": "1", "method": "shap,attention"})
    assert_healthy(at)
    warning = "\n".join(w.value for w in at.warning)
    assert "Parts of the link could not be used" in warning and "top\\_n" in warning and "foo" in warning
    assert at.slider(key="w_top_n").value == TOP_N_MAX and at.slider(key="w_tau").value == 1.0
    assert at.multiselect(key="w_methods").value == ["attention"]
    assert len(fused_titles(at)) == TOP_N_MAX  # tau=nan no longer empties the list
    assert on_screen(at).fusion.tau == 1.0


def test_a_scenario_with_bad_settings_opens_with_a_warning(app_env) -> None:
    from recviz.ui.scenarios import ScenarioStore

    saved = {**ViewState(user_id=15, fusion="max").to_dict(), "top_n": 400, "tau": "nan"}
    ScenarioStore(app_env).save("odd", saved)
    at = new_app()
    at.selectbox(key="scenario_pick").set_value("odd").run()
    at.button(key="scenario_load").click().run()
    assert_healthy(at)
    assert "without what could not be used" in "\n".join(w.value for w in at.warning)
    assert at.slider(key="w_top_n").value == TOP_N_MAX and on_screen(at).fusion.mode == "max"
