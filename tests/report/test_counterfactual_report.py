"""Counterfactual sections of the reports, on hand-built results: the check figure (one bar trace per method
in its colour, random hatched), the tables, the HTML section with every data string escaped, and JSON that
round-trips."""

from __future__ import annotations

import dataclasses
import json

import pytest
from report_page import OUR_TAGS, Page
from viz_fixtures import IMG_TITLE, SCRIPT_TITLE, build_explanation

from recviz.explain.types import (
    Counterfactual,
    CounterfactualCheck,
    CounterfactualRate,
    Explanation,
    WhyNot,
)
from recviz.report import render_html, render_json
from recviz.viz import counterfactual as cf_viz
from recviz.viz.style import method_color, method_label

CHECK = CounterfactualCheck(100, 5, 10, 10, [
    CounterfactualRate("integrated_gradients", 1, 0.4, 500),
    CounterfactualRate("integrated_gradients", 3, 0.7, 490),
    CounterfactualRate("occlusion", 1, 0.5, 500), CounterfactualRate("occlusion", 3, 0.8, 490),
    CounterfactualRate("random", 1, 0.1, 500), CounterfactualRate("random", 3, 0.2, 490),
])
REMOVAL = Counterfactual(1196, SCRIPT_TITLE, "remove", True, [260, 593], ["Star Wars", IMG_TITLE], 2, 14,
                         [1, 40, 300], [25, 60, 310], 10, "occlusion", 23, 5, 200,
                         f"Removing 2 history item(s) drops {SCRIPT_TITLE} from #2 to #14")
ADDITIONS = Counterfactual(9003, IMG_TITLE, "add", False, [50], ["Usual Suspects"], 31, 12, [20, 90, 400],
                           [11, 80, 390], 10, None, 200, 5, 200, "No addition of up to 5 … (budget 200)")
WHY_NOT = WhyNot(9003, 31, [20, 90, 400], [2.5, 1.0, -0.5], [0.6, 0.2, -0.1], 0, ADDITIONS)


@pytest.fixture(scope="module")
def exp(movies) -> Explanation:
    return dataclasses.replace(build_explanation(movies), counterfactuals=[REMOVAL], why_not=[WHY_NOT],
                               counterfactual_check=CHECK)


def test_check_figure_has_one_bar_trace_per_method_in_its_colour():
    fig = cf_viz.check_figure(CHECK)
    assert [t.name for t in fig.data] == [method_label("integrated_gradients"), method_label("occlusion"),
                                          "Random items (mean)"]
    for trace, method in zip(fig.data, ["integrated_gradients", "occlusion", "random"], strict=True):
        assert trace.marker.color == method_color(method)
        assert list(trace.x) == ["top 1", "top 3"]
    assert list(fig.data[1].y) == [0.5, 0.8] and fig.data[2].marker.pattern.shape == "/"
    assert "100 user(s) × top 5" in fig.layout.title.text
    untested = [CounterfactualRate("occlusion", 5, float("nan"), 0)]
    empty = cf_viz.check_figure(dataclasses.replace(CHECK, rates=untested))
    assert not empty.data and "long enough" in json.dumps(empty.to_plotly_json())


def test_tables():
    table = cf_viz.check_table(CHECK)
    assert table["method"].tolist() == ["integrated_gradients", "occlusion", "random"]
    assert table["top_3"].tolist() == [0.7, 0.8, 0.2] and table["pairs"].tolist() == [500] * 3
    ranks = cf_viz.rank_change_table(REMOVAL)
    assert ranks["list"].tolist() == ["Fused", "Interest 1", "Interest 2", "Interest 3"]
    assert ranks["before"].tolist() == [2, 1, 40, 300] and ranks["after"].tolist() == [14, 25, 60, 310]
    assert cf_viz.edit_table(REMOVAL)["item_id"].tolist() == [260, 593]
    why = cf_viz.why_not_table(WHY_NOT)
    assert why["closest"].tolist() == [True, False, False] and why["rank"].tolist() == [20, 90, 400]
    assert cf_viz.verdict(REMOVAL) == "removing 2 item(s): #2 → #14"
    assert cf_viz.verdict(ADDITIONS) == "not found within the budget"


def test_html_section_escapes_every_title(exp):
    html = render_html(exp)
    page = Page()
    page.feed(html)
    assert 'id="counterfactuals"' in html and "fig-cf-check" in page.figure_ids
    assert "<script>alert" not in html and "<img" not in html and set(page.tags) <= OUR_TAGS
    text = " ".join(page.text)
    assert f"What removal drops {SCRIPT_TITLE}" in text and f"Why not {IMG_TITLE}" in text
    assert "removing 2 item(s): #2 → #14" in text and "closest" in text and "80%" in text
    ids = page.figure_ids
    assert ids.index("fig-cf-check") == ids.index("fig-faith-9003") + 1  # right after the deletion curves
    assert 'id="counterfactuals"' not in render_html(build_explanation_plain(exp))


def build_explanation_plain(exp: Explanation) -> Explanation:
    return dataclasses.replace(exp, counterfactuals=[], why_not=[], counterfactual_check=None)


def test_json_round_trips(exp):
    text = render_json(exp)
    back = Explanation.from_json(text)
    assert back == exp and back.why_not[0].additions == ADDITIONS and back.counterfactual_check == CHECK
    assert render_json(back) == text
