"""Figures, tables and the HTML/JSON report of a real explanation: the shipped checkpoint (under models/,
or RECVIZ_TEST_MODELS) explaining a real user of the sample before and after an edit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_page import FIGURE_SCRIPT, OUR_TAGS, Page

from recviz.config import ExplainSettings
from recviz.explain.types import Explanation
from recviz.report import render_html, render_json
from recviz.viz import figures, tables
from recviz.viz.style import interest_color

ROOT = Path(__file__).resolve().parents[2]
MODELS = Path(os.environ.get("RECVIZ_TEST_MODELS", ROOT / "models"))
SETTINGS = ExplainSettings(top_n=10, num_targets=2, ig_steps=16, random_orders=3)


@pytest.fixture(scope="module")
def real():
    """(explanation of an edited history, item map or None) on the first comirec-sa checkpoint."""
    from recviz.explain.edits import HistoryEdits
    from recviz.explain.users import explain_history, stored_map, user_history, user_ids
    from recviz.models.checkpoint import list_checkpoints, load_checkpoint

    found = list_checkpoints(MODELS)
    if not found:
        pytest.skip(f"no checkpoint under {MODELS} yet (train one with `recviz train --out models/...`)")
    path = next((p for p in found if "comirec-sa" in p.name), found[0])
    ckpt = load_checkpoint(path)
    user = user_ids(ckpt)[0]
    history = user_history(ckpt, user).item_ids
    item_map = stored_map(ckpt)
    return (explain_history(ckpt, user, HistoryEdits.from_lists(remove=history[-2:]), SETTINGS,
                            item_map=item_map), item_map)


def test_real_report_is_self_contained_escaped_and_deterministic(real):
    exp, item_map = real
    text = render_html(exp, item_map)
    assert render_html(exp, item_map) == text
    page = Page()
    page.feed(text)
    assert set(page.tags) <= OUR_TAGS
    for script in page.scripts[1:]:
        assert FIGURE_SCRIPT.fullmatch(script)
    targets = exp.explained_targets()
    assert len(targets) == 2
    for target in targets:
        assert f"fig-attr-{target}" in page.figure_ids and f"fig-faith-{target}" in page.figure_ids
    assert ("fig-map" in page.figure_ids) == (item_map is not None)
    visible = "".join(page.text)
    assert all(entry.title in visible for entry in exp.history)


def test_real_figures_use_one_colour_per_interest(real):
    exp, item_map = real
    weights = figures.interest_weights_figure(exp).data[0]
    assert list(weights.marker.color) == [interest_color(k) for k in range(len(exp.interests))]
    if exp.interests[0].attention is not None:
        ticks = figures.attention_heatmap(exp).layout.yaxis.ticktext
        assert [interest_color(k) in t for k, t in enumerate(ticks)] == [True] * len(exp.interests)
    if item_map is not None:
        fig = figures.interest_map_figure(exp, item_map)
        markers = [t for t in fig.data if t.mode == "markers+text"]
        assert [t.marker.color for t in markers] == [interest_color(k) for k in range(len(exp.interests))]


def test_real_tables_agree_with_the_diff(real):
    exp, _ = real
    fused = tables.fused_table(exp)
    assert set(fused.loc[fused["status"] == "new", "item_id"]) == set(exp.diff.entered)
    assert list(tables.left_items_table(exp)["item_id"].sort_values()) == sorted(exp.diff.left)
    faith = tables.faithfulness_table(exp)
    assert set(faith["targets"]) == {2} and faith["area"].notna().all()


def test_real_json_report_round_trips(real):
    exp, _ = real
    text = render_json(exp)
    assert Explanation.from_json(text) == exp
    assert render_json(Explanation.from_json(text)) == text


def test_empty_history_fallback_renders_every_figure_table_and_report(real):
    """An empty history gives the popularity fallback (no interests, contributor -1): nothing may crash."""
    from recviz.explain import explain
    from recviz.models.checkpoint import list_checkpoints, load_checkpoint

    _, item_map = real
    path = next(p for p in list_checkpoints(MODELS) if "comirec-sa" in p.name)
    exp = explain(load_checkpoint(path), [], SETTINGS)
    assert exp.fallback == "popularity" and not exp.interests and exp.fused
    fused = tables.fused_table(exp)
    assert list(fused["item_id"]) == [item.item_id for item in exp.fused]
    assert (fused["interest_label"] == "").all()
    if item_map is not None:
        assert figures.interest_map_figure(exp, item_map).data
    for draw in (figures.attention_heatmap, figures.similarity_figure, figures.interest_weights_figure):
        draw(exp)
    text = render_html(exp, item_map)
    assert "popularity fallback" in text and exp.fused[0].title in text
    assert Explanation.from_json(render_json(exp)) == exp
