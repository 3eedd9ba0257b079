"""Every figure on the hand-built Explanation: the expected traces, the values put in them, one colour per
interest, and no data string that plotly could interpret as markup."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
from viz_fixtures import HISTORY_IDS, IMG_TITLE, QUOTES_TITLE, SCRIPT_TITLE

from recviz.explain.projection import Population
from recviz.viz import figures
from recviz.viz.style import interest_color, method_color
from recviz.viz.text import plot_text


def all_figures(exp, item_map):
    return [
        figures.interest_map_figure(exp, item_map), figures.attention_heatmap(exp),
        figures.attribution_figure(exp, 1196), figures.attribution_figure(exp, 9003),
        figures.faithfulness_figure(exp, 1196), figures.faithfulness_figure(exp, 9003),
        figures.similarity_figure(exp), figures.interest_weights_figure(exp),
    ]


def strings(node):
    """Every string anywhere in a figure's JSON."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def test_no_figure_carries_unescaped_markup_from_the_data(explanation, item_map):
    texts = [s for fig in all_figures(explanation, item_map) for s in strings(json.loads(fig.to_json()))]
    for s in texts:
        assert "<script" not in s and "<img" not in s and "<b>" + '"' not in s
        assert '" & <b>' not in s  # the raw quotes title never appears
    joined = "\n".join(texts)
    for hostile in (SCRIPT_TITLE, QUOTES_TITLE, IMG_TITLE):
        assert plot_text(hostile) in joined  # shown, as text


def test_map_draws_every_item_by_genre_the_history_and_the_interests(explanation, item_map):
    fig = figures.interest_map_figure(explanation, item_map)
    genre_traces = [t for t in fig.data if t.legendgroup == "genres"]
    assert {t.type for t in genre_traces} == {"scattergl"}
    assert len(genre_traces) == len(set(item_map.genres))
    assert sum(len(t.x) for t in genre_traces) == len(item_map.item_ids)
    # the history ring sits exactly on the history items' map positions
    ring = next(t for t in fig.data if t.name == "History items")
    row = {int(i): r for r, i in enumerate(item_map.item_ids)}
    expected = np.asarray([item_map.xy[row[i]] for i in HISTORY_IDS])
    np.testing.assert_allclose(np.c_[ring.x, ring.y], expected, rtol=1e-6)
    assert ring.marker.symbol == "circle-open"
    # interest k: a large marker in interest_color(k) at its map_xy, and an arrow from where it was
    for k, interest in enumerate(explanation.interests):
        now = next(t for t in fig.data if t.legendgroup == f"interest-{k}" and t.mode == "markers+text")
        assert now.marker.color == interest_color(k)
        assert now.type == "scattergl" and list(now.text) == [f"Interest {k + 1}"]  # WebGL prints text raw
        assert [now.x[0], now.y[0]] == interest.map_xy
        before = next(t for t in fig.data if t.legendgroup == f"interest-{k}" and t.mode == "markers")
        assert before.marker.symbol == "diamond-open" and before.marker.color == interest_color(k)
        assert [before.x[0], before.y[0]] == explanation.diff.baseline_map_xy[k]
    arrows = fig.layout.annotations
    assert [a.arrowcolor for a in arrows] == [interest_color(k) for k in range(3)]
    assert [(a.ax, a.ay) for a in arrows] == [tuple(xy) for xy in explanation.diff.baseline_map_xy]


def test_map_catalogue_layer_is_compact_and_reusable(explanation, item_map):
    layer = figures.catalogue_traces(item_map)
    for trace in layer:  # title per point, the genre once in the trace's template
        genre = trace.name
        assert trace.hovertemplate == f"%{{hovertext}}<br>{genre}<extra></extra>"
        assert np.asarray(trace.x).dtype == np.float32
    titles = {plot_text(t) for t in item_map.titles}
    assert {str(h) for trace in layer for h in trace.hovertext} == titles
    # the app passes the layer it keeps per map: the same figure as building it afresh
    assert figures.interest_map_figure(explanation, item_map, catalogue=layer).to_json() == \
        figures.interest_map_figure(explanation, item_map).to_json()


def test_map_without_diff_has_no_before_markers_and_places_missing_positions(plain_explanation, item_map):
    for interest in plain_explanation.interests:
        interest.map_xy = None
    fig = figures.interest_map_figure(plain_explanation, item_map)
    assert not fig.layout.annotations
    assert not [t for t in fig.data if "before" in (t.name or "").lower()]
    placed = item_map.place(np.asarray([i.vector for i in plain_explanation.interests]))
    got = [[t.x[0], t.y[0]] for t in fig.data if t.mode == "markers+text"]
    np.testing.assert_allclose(got, placed, rtol=1e-5)


def test_map_draws_the_population(explanation, item_map):
    pop = Population(np.array([1, 1, 2]), np.array([0, 1, 0]), np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]))
    fig = figures.interest_map_figure(explanation, item_map, population=pop)
    trace = next(t for t in fig.data if t.name == "Training users' interests")
    assert list(trace.x) == [0.0, 2.0, 4.0] and list(trace.y) == [1.0, 3.0, 5.0]


def test_attention_heatmap_shows_the_attention_matrix_with_coloured_interest_labels(explanation):
    fig = figures.attention_heatmap(explanation)
    (heat,) = fig.data
    np.testing.assert_allclose(np.asarray(heat.z), [i.attention for i in explanation.interests])
    assert list(heat.x) == list(range(6)) and list(heat.y) == [0, 1, 2]
    for k, tick in enumerate(fig.layout.yaxis.ticktext):
        assert interest_color(k) in tick
    assert list(fig.layout.xaxis.ticktext)[2] == "&lt;script&gt;alert(1)&lt;/scrip…"  # 23 characters + …
    assert "#3 " + plot_text(SCRIPT_TITLE) in heat.hovertext[0][2]  # full title on hover


def test_attention_heatmap_says_so_when_the_model_has_no_attention(explanation):
    for interest in explanation.interests:
        interest.attention = None
    fig = figures.attention_heatmap(explanation)
    assert len(fig.data) == 0
    assert "comirec-sa has no attention" in fig.layout.annotations[0].text
    empty = dataclasses.replace(explanation, history=[])
    assert "history is empty" in figures.attention_heatmap(empty).layout.annotations[0].text


def test_attribution_bars_are_normalised_per_method_with_raw_values_on_hover(explanation):
    fig = figures.attribution_figure(explanation, 1196)
    assert [t.name for t in fig.data] == ["Integrated Gradients", "Occlusion (leave-one-out)", "Attention"]
    assert [t.marker.color for t in fig.data] == [method_color(m) for m in
                                                  ("integrated_gradients", "occlusion", "attention")]
    ig = fig.data[0]
    np.testing.assert_allclose(ig.x, [0.05, 1.0, -0.15, 0.1, 0.75, 0.0])  # raw / max |raw| = / 2.0
    assert "+1.5" in ig.hovertext[4] and "(scaled +0.75)" in ig.hovertext[4]
    assert list(fig.layout.yaxis.ticktext)[2] == "#3 " + plot_text(SCRIPT_TITLE)
    np.testing.assert_allclose(fig.data[2].x, np.asarray([0.05, 0.4, 0.05, 0.05, 0.4, 0.05]) / 0.4)
    title = fig.layout.title.text
    assert "IG convergence δ = +1.00e-02" in title and interest_color(0) in title
    only = figures.attribution_figure(explanation, 1196, methods=["occlusion"])
    assert [t.name for t in only.data] == ["Occlusion (leave-one-out)"]


def test_a_long_history_shows_the_items_with_the_largest_attributions(explanation):
    # largest scaled |value| over the methods per position, target 1196:
    # IG/2.0 = .05 1 .15 .1 .75 0; occlusion/1.0 = .2 1 0 .1 .8 .1; attention/.4 = .125 1 .125 .125 1 .125
    fig = figures.attribution_figure(explanation, 1196, max_items=3)
    assert list(fig.data[0].customdata) == [0, 1, 4]  # positions 1 and 4 (1.0), then 0 (0.2) over 2/3/5
    np.testing.assert_allclose(fig.data[0].x, [0.05, 1.0, 0.75])
    assert [t.split(" ")[0] for t in fig.layout.yaxis.ticktext] == ["#1", "#2", "#5"]
    assert "the 3 of 6 history items" in fig.layout.title.text


def test_attribution_figure_for_an_item_without_attributions_is_a_message(explanation):
    fig = figures.attribution_figure(explanation, 424242)
    assert len(fig.data) == 0 and "no attribution" in fig.layout.annotations[0].text


def test_faithfulness_curves_per_method_and_random_baseline_with_areas(explanation):
    fig = figures.faithfulness_figure(explanation, 9003)
    names = [t.name for t in fig.data]
    assert names == ["Integrated Gradients · area 0.310", "Occlusion (leave-one-out) · area 0.380",
                     "Attention · area 0.610", "Random order (mean) · area 0.550"]
    curves = [c for c in explanation.faithfulness if c.target_item_id == 9003]
    for trace, curve in zip(fig.data[:3], curves, strict=True):
        assert list(trace.y) == curve.scores and list(trace.x) == list(range(7))
    assert fig.data[3].line.dash == "dash" and list(fig.data[3].y) == curves[0].random_scores


def test_similarity_figure_shows_matrix_effective_number_and_collapse(explanation):
    fig = figures.similarity_figure(explanation)
    np.testing.assert_allclose(fig.data[0].z, explanation.interest_health.similarity)
    assert (fig.data[0].zmin, fig.data[0].zmax) == (-1.0, 1.0)
    assert "effective number 2.80 of 3" in fig.layout.title.text and "distinct" in fig.layout.title.text
    explanation.interest_health.collapsed = True
    assert "collapsed" in figures.similarity_figure(explanation).layout.title.text


def test_weight_bars_use_each_interests_colour(explanation):
    (bars,) = figures.interest_weights_figure(explanation).data
    assert list(bars.y) == [0.5, 0.3, 0.2]
    assert list(bars.marker.color) == [interest_color(k) for k in range(3)]


def test_figures_are_deterministic(explanation, item_map):
    first = [f.to_json() for f in all_figures(explanation, item_map)]
    assert [f.to_json() for f in all_figures(explanation, item_map)] == first


def test_map_focus_ignores_far_outliers_but_shows_interests_and_history():
    from recviz.viz.figures import focus_ranges

    rng = np.random.default_rng(0)
    bulk = rng.normal(size=(1000, 2))  # [M, 2] around the origin
    outliers = np.array([[80.0, 0.0], [0.0, -90.0]])
    x_range, y_range = focus_ranges(np.vstack([bulk, outliers]), np.array([[6.0, 7.0]]))
    assert x_range[1] < 80 and y_range[0] > -90  # the two outliers are off the initial view
    assert x_range[1] > 6.0 and y_range[1] > 7.0  # the interest far from the bulk is on it
    assert x_range[0] < np.percentile(bulk[:, 0], 5) and y_range[0] < np.percentile(bulk[:, 1], 5)
