"""The HTML report: self-contained (plotly.js once), every data string escaped, scripts that hold only
plotly code or figure JSON, the same figures as the app, and the same bytes for the same Explanation."""

from __future__ import annotations

import dataclasses
import json

import plotly.offline
import pytest
from report_page import FIGURE_SCRIPT, OUR_TAGS, Page
from viz_fixtures import IMG_TITLE, QUOTES_TITLE, SCRIPT_TITLE, build_explanation

from recviz.explain.types import InterestHealth
from recviz.report import render_html
from recviz.report.html import figure_div, script_json
from recviz.viz import figures


@pytest.fixture(scope="module")
def page_html(request):
    exp = request.getfixturevalue("explanation")
    return render_html(exp, request.getfixturevalue("item_map"))


@pytest.fixture(scope="module")
def page(page_html) -> Page:
    parsed = Page()
    parsed.feed(page_html)
    return parsed


# module-scoped fixtures need module-scoped inputs
@pytest.fixture(scope="module")
def explanation(movies):
    return build_explanation(movies)


def test_plotly_js_is_embedded_exactly_once(page_html, page):
    js = plotly.offline.get_plotlyjs()
    assert page_html.count(js) == 1
    assert page_html.count("* plotly.js v") == 1
    assert page.scripts[0] == js and "src=" not in page_html.split("<body>")[0].split("<script")[1][:20]


def test_every_other_script_is_one_figure_drawn_from_json(page):
    ids = []
    for script in page.scripts[1:]:
        match = FIGURE_SCRIPT.fullmatch(script)
        assert match, script[:200]
        spec = json.loads(match.group(1))
        assert set(spec) == {"data", "layout"}
        ids.append(match.group(2))
    assert ids == page.figure_ids and len(set(ids)) == len(ids)
    assert ids == ["fig-weights", "fig-map", "fig-attention", "fig-attr-1196", "fig-faith-1196",
                   "fig-attr-9003", "fig-faith-9003", "fig-similarity"]


def test_no_markup_from_the_data_survives(page_html, page):
    assert "<script>alert" not in page_html and "<img" not in page_html and '" & <b>' not in page_html
    assert set(page.tags) <= OUR_TAGS
    assert page.tags.count("script") == 1 + len(page.figure_ids)
    text = "".join(page.text)
    for hostile in (SCRIPT_TITLE, QUOTES_TITLE, IMG_TITLE):
        assert hostile in text  # rendered as readable text


def test_figure_json_cannot_close_its_script_tag():
    assert script_json('{"a": "</script><!--"}') == '{"a": "<\\/script><\\!--"}'
    fig = figures.message_figure("</script><script>alert(1)</script>", "x")
    div = figure_div(fig, "fig-x")
    assert div.count("</script>") == 1 and div.endswith("</script>")


def test_report_embeds_the_apps_figures(explanation, item_map, page):
    spec = json.loads(
        FIGURE_SCRIPT.fullmatch(page.scripts[page.figure_ids.index("fig-attr-1196") + 1]).group(1))
    assert spec == json.loads(figures.attribution_figure(explanation, 1196).to_json())


def test_header_names_model_checkpoint_data_date_user_and_edits(page):
    text = " ".join(page.text)
    for expected in ("comirec-sa", "comirec-sa-ml · 0123456789ab", "ml-latest-small", "2026-11-28 17:30 UTC",
                     "User 42", "remove: ", "Twelve Monkeys (a.k.a. 12 Monkeys)", "add: ", "weighted, top 5"):
        assert expected in text
    assert "Item <script>alert(1)</script> has no genres" in text  # the notice, as text
    assert "diversity_lambda" in text and "41.5" in text  # every setting, and the stage timings


def test_lists_mark_the_contributing_interest_and_the_changes(page_html):
    assert page_html.count('class="badge new"') == 2 and 'class="badge up">↑1' in page_html
    assert page_html.count('class="badge left"') == 2  # Usual Suspects and Twelve Monkeys left
    assert 'class="chip" style="--c:#D55E00">Interest 2' in page_html


def test_rendering_is_deterministic(explanation, item_map, page_html):
    assert render_html(explanation, item_map) == page_html


def test_without_a_map_or_diff_the_report_says_so(plain_explanation):
    text = render_html(plain_explanation)
    assert 'id="fig-map"' not in text and "No interest map was given" in text
    assert 'id="changes"' not in text and "badge left" not in text
    assert "none (the user's real history)" in text


def test_a_popularity_fallback_renders_with_clear_messages(plain_explanation, item_map):
    """An empty history: no interests, attention or attributions, only the popular items."""
    exp = dataclasses.replace(
        plain_explanation, history=[], interests=[], per_interest=[], attributions=[], faithfulness=[],
        interest_health=InterestHealth([], 0.0, False, "no interests"), fallback="popularity",
        fused=[dataclasses.replace(f, contributor=0, ranks_by_interest=[]) for f in plain_explanation.fused],
        notices=["The history is empty: the list shows the most popular items."],
    )
    page = Page()
    page.feed(render_html(exp, item_map))
    text = " ".join(page.text)
    assert "popularity" in text and "No attribution was computed." in text
    assert "Shawshank Redemption, The" in text  # the fused list is still there
    assert "fig-map" in page.figure_ids and "fig-attr-1196" not in page.figure_ids
