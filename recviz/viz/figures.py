"""Explanation (+ ItemMap) → plotly figures. Pure functions: no Streamlit, no I/O, no randomness.

The app shows these figures and the HTML report embeds the very same ones. Every string from the data is
escaped with :func:`recviz.viz.text.plot_text`; interest ``k`` is drawn in ``interest_color(k)`` everywhere.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from recviz.explain.types import Attribution, Explanation, HistoryEntry, Interest
from recviz.options import INTEGRATED_GRADIENTS, METHODS
from recviz.viz.raster import Raster, rasterise
from recviz.viz.style import (
    ATTENTION_SCALE,
    MUTED_COLOR,
    SIMILARITY_SCALE,
    TEXT_COLOR,
    genre_color,
    interest_color,
    method_color,
    method_label,
    style_figure,
    styled_layout,
)
from recviz.viz.text import interest_name, interest_tick, plot_text, shorten

if TYPE_CHECKING:  # importing projection pulls in umap (slow); the figures only read the map's arrays
    from recviz.explain.projection import ItemMap, Population

MAX_TICKS = 40  # history axes label at most this many items; hover always names every item
# a horizontal legend under the plot, anchored to the figure's bottom edge so it never covers a title
BOTTOM_LEGEND = {"orientation": "h", "yref": "container", "y": 0.0, "yanchor": "bottom", "x": 0.0,
                 "xanchor": "left", "borderwidth": 0}


def message_figure(title: str, message: str) -> go.Figure:
    """An empty figure that says why there is nothing to plot (no attention, empty history...)."""
    fig = go.Figure()
    fig.add_annotation(
        text=plot_text(message), x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
        font={"size": 14, "color": MUTED_COLOR},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=220)
    return style_figure(fig, plot_text(title))


def _history_ticks(exp: Explanation, limit: int = 24) -> tuple[list[int], list[str]]:
    """Tick positions and escaped, shortened titles for a history axis (thinned beyond MAX_TICKS)."""
    n = len(exp.history)
    step = max(1, -(-n // MAX_TICKS))
    shown = list(range(0, n, step))
    return shown, [plot_text(shorten(exp.history[p].title, limit)) for p in shown]


def _history_hover(exp: Explanation) -> list[str]:
    return [f"#{e.position + 1} {plot_text(e.title)}" for e in exp.history]


# ---------------------------------------------------------------------------------------------- the map


CATALOGUE_OPACITY = 0.45
RASTER_FOCUS_PIXELS = 900  # the picture's pixels across the map's initial view (about 1.5 per screen pixel)
RASTER_DOT_RADIUS = 3.0    # pixels of the picture: about the 4-pixel WebGL dots at the initial zoom


def _by_genre(item_map: ItemMap) -> dict[str, np.ndarray]:
    """Primary genre → the map rows of its items, most common genre first."""
    by_genre: dict[str, list[int]] = {}
    for i, genre in enumerate(item_map.genres):
        by_genre.setdefault(genre or "(no genres listed)", []).append(i)
    return {g: np.asarray(by_genre[g]) for g in sorted(by_genre, key=lambda g: (-len(by_genre[g]), g))}


def catalogue_traces(item_map: ItemMap) -> tuple[go.Scattergl, ...]:
    """The map's catalogue layer: one WebGL trace per primary genre, most common first, titles on hover
    (what the HTML report draws; the app draws :func:`catalogue_raster`).

    It depends on the map only, so a caller can build it once per map. Compact by design: float32
    positions, and the genre written once in the trace's hover template instead of once per item.
    """
    xy = np.asarray(item_map.xy, dtype=np.float32)  # [M, 2]
    traces = []
    for genre, idx in _by_genre(item_map).items():
        traces.append(go.Scattergl(
            x=xy[idx, 0], y=xy[idx, 1], mode="markers", name=plot_text(genre),
            legendgroup="genres", legendgrouptitle_text="Primary genre",
            marker={"size": 4, "color": genre_color(genre), "opacity": CATALOGUE_OPACITY},
            # a numpy array of strings: plotly validates it in one step instead of string by string
            hovertext=np.asarray([plot_text(item_map.titles[i]) for i in idx]),
            hovertemplate=f"%{{hovertext}}<br>{plot_text(genre)}<extra></extra>",
        ))
    return tuple(traces)


@dataclass(frozen=True)
class CatalogueRaster:
    """The map's catalogue layer as one picture (:func:`catalogue_raster`), drawn under a small SVG overlay.

    ``source`` is what the figure's image points at: a URL the browser fetches once and caches (the app
    serves the PNG as a static file) or, when empty, a data: URI of the PNG (self-contained, but then the
    picture travels with every figure). ``genres``: (genre, colour, items) most common first, the colour
    key (the picture has no legend entries of its own).
    """

    raster: Raster
    genres: tuple[tuple[str, str, int], ...]
    source: str = ""

    def image_source(self) -> str:
        return self.source or "data:image/png;base64," + base64.b64encode(self.raster.png).decode("ascii")


def catalogue_raster(item_map: ItemMap) -> CatalogueRaster:
    """The catalogue layer (the items as dots coloured by primary genre, most common genre drawn first, as
    :func:`catalogue_traces`) drawn once as a PNG covering every item. Depends on the map only: the app
    builds it once per map, and an edit sends only the overlay (history, interests, recommendations)."""
    xy = np.asarray(item_map.xy, dtype=np.float64)  # [M, 2]
    x_range, y_range = focus_ranges(xy, np.zeros((0, 2)))
    pixel = max(x_range[1] - x_range[0], y_range[1] - y_range[0], 1e-9) / RASTER_FOCUS_PIXELS
    groups = _by_genre(item_map)
    raster = rasterise(xy, [(idx, genre_color(g)) for g, idx in groups.items()], pixel=pixel,
                       radius=RASTER_DOT_RADIUS, opacity=CATALOGUE_OPACITY)
    return CatalogueRaster(raster, tuple((g, genre_color(g), len(idx)) for g, idx in groups.items()))


def interest_map_figure(
    exp: Explanation, item_map: ItemMap, population: Population | np.ndarray | None = None,
    catalogue: Sequence[go.Scattergl] | CatalogueRaster | None = None,
) -> go.Figure:
    """The catalogue's UMAP map by primary genre, the history ringed, the recommendations and the
    interests as large markers.

    ``catalogue``: how the catalogue is drawn. Traces (:func:`catalogue_traces`, built here when None):
    one interactive WebGL trace per genre, every title on hover (the HTML report); every other trace is
    WebGL too, since plotly draws WebGL above SVG. A :class:`CatalogueRaster` (the app): the catalogue is
    a picture under the axes and everything else is a small SVG overlay, so the figure is a few kB and
    needs no WebGL.
    ``population``: training users' interests on the map (a ``Population`` or [P, 2] positions), drawn as
    faint dots.
    With a diff that carries ``baseline_map_xy`` each interest also shows where it was before the edit.
    """
    raster = catalogue if isinstance(catalogue, CatalogueRaster) else None
    kind = "scatter" if raster is not None else "scattergl"  # the overlay's trace type
    data: list[go.Scattergl | dict] = []
    layout: dict = {}
    if raster is not None:
        (x0, x1), (y0, y1) = raster.raster.x_range, raster.raster.y_range
        layout["images"] = [{"source": raster.image_source(), "xref": "x", "yref": "y", "x": x0, "y": y1,
                             "sizex": x1 - x0, "sizey": y1 - y0, "sizing": "stretch", "xanchor": "left",
                             "yanchor": "top", "layer": "below"}]
        layout["legend"] = {**BOTTOM_LEGEND, "itemsizing": "constant", "groupclick": "toggleitem"}
        layout["margin"] = {"b": 8}
    else:
        data.extend(catalogue if catalogue is not None else catalogue_traces(item_map))
        layout["legend"] = {"itemsizing": "constant", "groupclick": "toggleitem"}
    population_trace = _population_trace(population, kind)
    if population_trace is not None:
        data.append(population_trace)
    row = {int(r): i for i, r in enumerate(np.asarray(item_map.item_ids, dtype=np.int64))}  # id -> map row
    on_map, history_xy = _history_on_map(exp, item_map, row)  # [L', 2]
    if on_map:
        data.append(_history_trace(on_map, history_xy, kind))
    recommended = _recommendations_trace(exp, item_map, row, kind)
    if recommended is not None:
        data.append(recommended)
    now = interest_positions(exp, item_map)  # [K, 2]
    arrows = _add_interests(data, exp, now, kind)
    x_range, y_range = focus_ranges(np.asarray(item_map.xy, dtype=float), np.vstack([now, history_xy]))
    # built in one step, unvalidated: plotly's validation would take most of the time of an edit's figure
    # (tests/viz checks that these figures validate)
    return go.Figure({"data": data, "layout": styled_layout(
        f"Interest map: {len(item_map.item_ids):,} items by primary genre, the history ringed",
        **layout, annotations=arrows, height=640, xaxis={"visible": False, "range": x_range},
        yaxis={"visible": False, "range": y_range, "scaleanchor": "x", "scaleratio": 1},
    )}, _validate=False)


def _population_trace(population: Population | np.ndarray | None, kind: str = "scattergl") -> dict | None:
    """Training users' interests as faint dots, or None when there are none."""
    pop = np.asarray(getattr(population, "xy", population) if population is not None else np.zeros((0, 2)),
                     dtype=float).reshape(-1, 2)  # [P, 2]
    if not len(pop):
        return None
    return {"type": kind, "x": pop[:, 0], "y": pop[:, 1], "mode": "markers",
            "name": "Training users' interests", "hoverinfo": "skip",
            "marker": {"size": 3, "color": MUTED_COLOR, "opacity": 0.25}}


def _recommendations_trace(exp: Explanation, item_map: ItemMap, row: dict[int, int], kind: str = "scattergl"
                           ) -> dict | None:
    """The fused list's items on the map (stars), in the colour of the interest that contributed most.
    ``row``: item id → row of the map."""
    shown = [f for f in exp.fused if f.item_id in row]
    if not shown:
        return None
    xy = np.asarray(item_map.xy, dtype=float)[[row[f.item_id] for f in shown]]  # [R, 2]
    colours = [interest_color(f.contributor) if f.contributor >= 0 else MUTED_COLOR for f in shown]
    return {
        "type": kind, "x": xy[:, 0], "y": xy[:, 1], "mode": "markers",
        "name": f"Recommended (top {len(exp.fused)})", "legendgroup": "recommendations",
        "marker": {"size": 11, "symbol": "star", "line": {"width": 1, "color": "white"}, "color": colours},
        "hovertext": [f"Recommended #{f.rank}: {plot_text(f.title)}"
                      + (f"<br>from {interest_name(f.contributor)}" if f.contributor >= 0 else "")
                      for f in shown],
        "hovertemplate": "%{hovertext}<extra></extra>",
    }


def _history_on_map(exp: Explanation, item_map: ItemMap, row: dict[int, int]
                    ) -> tuple[list[HistoryEntry], np.ndarray]:
    """The history entries whose item is on the map, and their map positions [L', 2]."""
    on_map = [e for e in exp.history if e.item_id in row]
    if not on_map:
        return [], np.zeros((0, 2))
    return on_map, np.asarray(item_map.xy, dtype=float)[[row[e.item_id] for e in on_map]]  # [L', 2]


def _history_trace(on_map: Sequence[HistoryEntry], history_xy: np.ndarray, kind: str = "scattergl") -> dict:
    """The history items ringed on the map."""
    return {
        "type": kind, "x": history_xy[:, 0], "y": history_xy[:, 1], "mode": "markers",
        "name": "History items",
        "marker": {"size": 12, "symbol": "circle-open", "color": TEXT_COLOR, "line": {"width": 2}},
        "hovertext": [f"History #{e.position + 1}: {plot_text(e.title)}" for e in on_map],
        "hovertemplate": "%{hovertext}<extra></extra>",
    }


def _add_interests(data: list, exp: Explanation, now: np.ndarray, kind: str = "scattergl") -> list[dict]:
    """Append each interest at ``now`` [K, 2] to ``data``; with a diff's ``baseline_map_xy`` also its
    position before the edit and one legend entry that explains the open markers. Returns the arrows from
    the positions before the edit (annotations)."""
    before = exp.diff.baseline_map_xy if exp.diff is not None else None
    arrows = []
    for k, interest in enumerate(exp.interests):
        if before is not None and k < len(before):
            data.append(_before_trace(k, before[k], kind))
            arrows.append(_arrow(k, before[k], now[k]))
        data.append(_interest_trace(k, interest, now[k], kind))
    if before is not None:
        data.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers",
                     "name": "Before the edit",
                     "marker": {"size": 14, "symbol": "diamond-open", "color": MUTED_COLOR,
                                "line": {"width": 2}}})
    return arrows


def _before_trace(k: int, before: Sequence[float], kind: str) -> dict:
    """Interest ``k``'s position before the edit: an open marker."""
    return {
        "type": kind, "x": [before[0]], "y": [before[1]], "mode": "markers",
        "name": f"{interest_name(k)} before the edit", "legendgroup": f"interest-{k}", "showlegend": False,
        "marker": {"size": 16, "symbol": "diamond-open", "color": interest_color(k), "line": {"width": 2}},
        "hovertext": [f"{interest_name(k)} before the edit"], "hovertemplate": "%{hovertext}<extra></extra>",
    }


def _arrow(k: int, before: Sequence[float], now: np.ndarray) -> dict:
    """An arrow in interest ``k``'s colour from ``before`` [2] to ``now`` [2]."""
    return {"x": now[0], "y": now[1], "ax": before[0], "ay": before[1], "xref": "x", "yref": "y",
            "axref": "x", "ayref": "y", "showarrow": True, "arrowhead": 3, "arrowsize": 1.2, "arrowwidth": 2,
            "arrowcolor": interest_color(k), "standoff": 9, "text": ""}


def _interest_trace(k: int, interest: Interest, xy: np.ndarray, kind: str = "scattergl") -> dict:
    """Interest ``k`` as a large labelled diamond at ``xy`` [2], in its colour."""
    color = interest_color(k)
    return {
        "type": kind, "x": [xy[0]], "y": [xy[1]], "mode": "markers+text",
        "name": interest_tick(k, interest.label, 26), "legendgroup": f"interest-{k}",
        **({"legendgrouptitle": {"text": "Interests"}} if k == 0 else {}),
        "marker": {"size": 20, "symbol": "diamond", "color": color, "line": {"width": 2, "color": "white"}},
        # WebGL text is plain (no markup, no escaping; the name has none); alternate sides so neighbouring
        # labels part
        "text": [interest_name(k)], "textposition": "top center" if k % 2 == 0 else "bottom center",
        "textfont": {"color": color, "size": 13, "weight": "bold"},
        "hovertext": [f"<b>{interest_name(k)}</b>: {plot_text(interest.label)}"
                      f"<br>weight {interest.weight:.0%}"],
        "hovertemplate": "%{hovertext}<extra></extra>",
    }


def focus_ranges(catalogue_xy: np.ndarray, must_show: np.ndarray, pad: float = 0.15
                 ) -> tuple[list[float], list[float]]:
    """Initial x and y ranges of the map: the central 90 % of the catalogue per axis (UMAP leaves small
    far islands of rarely seen items, a few % of the catalogue, that would otherwise squeeze the map into a
    corner) widened to show every point of ``must_show`` [P, 2] (the
    interests and the history). The outliers stay a zoom-out (double-click) away."""
    pts = np.asarray(catalogue_xy, dtype=float).reshape(-1, 2)  # [M, 2]
    lo, hi = np.percentile(pts, 5, axis=0), np.percentile(pts, 95, axis=0)  # [2], [2]
    extra = np.asarray(must_show, dtype=float).reshape(-1, 2)  # [P, 2]
    if len(extra):
        lo, hi = np.minimum(lo, extra.min(0)), np.maximum(hi, extra.max(0))
    margin = (hi - lo) * pad  # [2]
    lo, hi = lo - margin, hi + margin
    return [float(lo[0]), float(hi[0])], [float(lo[1]), float(hi[1])]


def interest_positions(exp: Explanation, item_map: ItemMap) -> np.ndarray:
    """[K, 2] map positions of the interests: stored ``map_xy``, else placed on ``item_map`` now."""
    if not exp.interests:
        return np.zeros((0, 2))
    if all(i.map_xy is not None for i in exp.interests):
        return np.asarray([i.map_xy for i in exp.interests], dtype=float)  # [K, 2]
    vectors = np.asarray([i.vector for i in exp.interests], dtype=np.float32)  # [K, d]
    return np.asarray(item_map.place(vectors), dtype=float).reshape(len(exp.interests), 2)  # [K, 2]


# ------------------------------------------------------------------------------------------- attention


def attention_heatmap(exp: Explanation) -> go.Figure:
    """Interests × history items: how much each interest attends to each item (rows sum to 1)."""
    title = "Attention: which history items each interest reads"
    if not exp.history:
        return message_figure(title, "The history is empty, so there is no attention to show.")
    if not exp.interests or any(i.attention is None for i in exp.interests):
        return message_figure(title, f"{exp.model_name} has no attention over the history; "
                                     "use the attribution methods to see what drives its recommendations.")
    z = np.asarray([i.attention for i in exp.interests], dtype=float)  # [K, L]
    k_count, length = z.shape
    items = _history_hover(exp)
    hover = [[f"<b>{interest_name(k)}</b> ({plot_text(shorten(exp.interests[k].label, 40))})<br>"
              f"{items[p]}<br>attention {z[k, p]:.3f}" for p in range(length)] for k in range(k_count)]
    tickvals, ticktext = _history_ticks(exp)
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(length)), y=list(range(k_count)), zmin=0.0, zmax=float(max(z.max(), 1e-9)),
        colorscale=ATTENTION_SCALE, hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        texttemplate="%{z:.2f}" if length <= 20 else None, xgap=1, ygap=2,
        colorbar={"title": {"text": "attention"}, "thickness": 12},
    ))
    fig.update_xaxes(tickvals=tickvals, ticktext=ticktext, tickangle=-40, showgrid=False, zeroline=False,
                     title_text="history (oldest → newest)")
    fig.update_yaxes(tickvals=list(range(k_count)), ticktext=[interest_tick(k, i.label) for k, i in
                     enumerate(exp.interests)], autorange="reversed", showgrid=False, zeroline=False)
    fig.update_layout(height=190 + 46 * k_count)
    return style_figure(fig, title)


# ---------------------------------------------------------------------------------------- attributions


def attributions_for(exp: Explanation, target_item_id: int) -> dict[str, Attribution]:
    """method → Attribution for one target, in the order the Explanation holds them."""
    return {a.method: a for a in exp.attributions if a.target_item_id == target_item_id}


def _ordered_methods(available: Sequence[str], chosen: Sequence[str] | None) -> list[str]:
    wanted = list(chosen) if chosen is not None else [*METHODS, *available]
    return [m for m in dict.fromkeys(wanted) if m in available]


def ig_delta_note(attribution: Attribution) -> str:
    """IG's convergence delta, absolute and relative to the score change it explains."""
    delta = attribution.convergence_delta
    if delta is None:
        return ""
    note = f"IG convergence δ = {delta:+.2e}"
    if attribution.baseline_score is not None:
        change = abs(attribution.target_score - attribution.baseline_score)
        if change > 0:
            note += f" ({abs(delta) / change:.1%} of the score change)"
    return note


def attribution_figure(
    exp: Explanation, target_item_id: int, methods: Sequence[str] | None = None, max_items: int = 20
) -> go.Figure:
    """One bar per history item for each method, each method divided by its largest |value| so methods
    with different units compare; the raw values are in the hover. A history longer than ``max_items``
    shows the ``max_items`` items with the largest scaled |value| in any method, in history order."""
    target = plot_text(shorten(exp.item_title(target_item_id), 48))
    found = attributions_for(exp, target_item_id)
    chosen = _ordered_methods(list(found), methods)
    if not exp.history or not chosen:
        why = "the history is empty" if not exp.history else "no attribution was computed for this item"
        return message_figure(f"Attributions for {exp.item_title(target_item_id)}",
                              f"Nothing to show: {why}.")
    raw = np.asarray([found[m].values for m in chosen], dtype=float)  # [M, L]
    scale = np.abs(raw).max(axis=1, keepdims=True)  # [M, 1]
    scaled = raw / np.where(scale > 0, scale, 1.0)  # [M, L]
    shown = top_positions(np.abs(scaled).max(axis=0), max_items)  # [S] history positions, ascending
    items = _history_hover(exp)
    rows = list(range(len(shown)))
    fig = go.Figure()
    for m, method in enumerate(chosen):
        fig.add_trace(go.Bar(
            y=rows, x=scaled[m, shown], orientation="h", name=method_label(method),
            marker_color=method_color(method), customdata=shown,
            hovertext=[f"{items[p]}<br>{method_label(method)}: {raw[m, p]:+.4g} (scaled {scaled[m, p]:+.2f})"
                       for p in shown],
            hovertemplate="%{hovertext}<extra></extra>",
        ))
    first = found[chosen[0]]
    k = first.interest
    sub = [f'retrieved by <span style="color:{interest_color(k)}">■</span> {interest_name(k)}',
           f"score {first.target_score:.3f}"]
    ig = found.get(INTEGRATED_GRADIENTS.name)
    if ig is not None and ig.convergence_delta is not None:
        sub.append(ig_delta_note(ig))
    if len(shown) < len(exp.history):
        sub.append(f"the {len(shown)} of {len(exp.history)} history items with the largest attributions")
    ticktext = [f"#{p + 1} {plot_text(shorten(exp.history[p].title, 30))}" for p in shown]
    fig.update_yaxes(tickvals=rows, ticktext=ticktext, autorange="reversed", showgrid=False, zeroline=False)
    fig.update_xaxes(range=[-1.08, 1.08], zeroline=True, zerolinewidth=1.5, zerolinecolor=MUTED_COLOR,
                     title_text="attribution, scaled to each method's largest |value|")
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05,
                      height=max(340, 190 + len(rows) * (10 + 7 * len(chosen))),
                      legend=BOTTOM_LEGEND, margin={"t": 96 if len(sub) > 3 else 80, "b": 64})
    title = f"Why <b>{target}</b>?<br><sup>{' · '.join(sub[:3])}"
    title += f"<br>{' · '.join(sub[3:])}</sup>" if len(sub) > 3 else "</sup>"
    return style_figure(fig, title)


def top_positions(strength: np.ndarray, limit: int) -> list[int]:
    """The ``limit`` positions of largest ``strength`` [L] (earlier position first on ties), ascending."""
    order = np.argsort(-strength, kind="stable")[: max(1, limit)]
    return sorted(int(p) for p in order)


def faithfulness_figure(exp: Explanation, target_item_id: int) -> go.Figure:
    """Deletion curves: the target's score as history items are removed in each method's order, against
    the mean of random orders. A curve that falls faster (smaller area) explains the model better."""
    title_item = exp.item_title(target_item_id)
    methods, baseline = exp.curves_for(target_item_id)
    if not methods:
        return message_figure(f"Faithfulness for {title_item}",
                              "No deletion curve was computed for this item.")
    fig = go.Figure()
    for curve in methods:
        steps = list(range(len(curve.scores)))
        ranks = curve.ranks if len(curve.ranks) == len(steps) else [None] * len(steps)
        fig.add_trace(go.Scatter(
            x=steps, y=curve.scores, mode="lines+markers",
            name=f"{method_label(curve.method)} · area {curve.area:.3f}",
            line={"color": method_color(curve.method), "width": 2.5}, marker={"size": 6},
            hovertext=[f"{method_label(curve.method)}<br>{n} removed: score {s:.3f}"
                       + (f", rank {r}" if r is not None else "")
                       for n, s, r in zip(steps, curve.scores, ranks, strict=True)],
            hovertemplate="%{hovertext}<extra></extra>",
        ))
    if baseline is not None and baseline.scores:
        fig.add_trace(go.Scatter(
            x=list(range(len(baseline.scores))), y=baseline.scores, mode="lines",
            name=f"{method_label('random')} · area {baseline.area:.3f}",
            line={"color": method_color("random"), "width": 2, "dash": "dash"},
            hovertemplate="random order (mean)<br>%{x} removed: score %{y:.3f}<extra></extra>",
        ))
    fig.update_xaxes(title_text="history items removed (most important first)", dtick=1 if len(
        methods[0].scores) <= 20 else None)
    fig.update_yaxes(title_text="target score")
    fig.update_layout(height=420, legend=BOTTOM_LEGEND, margin={"b": 64})
    return style_figure(fig, f"Deletion curves for <b>{plot_text(shorten(title_item, 48))}</b>"
                             "<br><sup>the lower the area, the better the method predicts the model</sup>")


# -------------------------------------------------------------------------------------- interest health


def similarity_figure(exp: Explanation) -> go.Figure:
    """The K×K cosine similarity of the interest vectors, with the effective number and a collapse flag."""
    health = exp.interest_health
    sim = np.asarray(health.similarity, dtype=float)  # [K, K]
    k_count = len(exp.interests)
    if sim.size == 0:
        return message_figure("Interest similarity", "This model has no interest vectors to compare.")
    ticks = [interest_tick(k, i.label, 18) for k, i in enumerate(exp.interests)]
    names = [interest_tick(k, "", 0) for k in range(k_count)]
    hover = [[f"{interest_name(a)} vs {interest_name(b)}: cosine {sim[a, b]:+.3f}" for b in range(k_count)]
             for a in range(k_count)]
    fig = go.Figure(go.Heatmap(
        z=sim, x=list(range(k_count)), y=list(range(k_count)), zmin=-1.0, zmax=1.0,
        colorscale=SIMILARITY_SCALE, texttemplate="%{z:.2f}", hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>", xgap=2, ygap=2,
        colorbar={"title": {"text": "cosine"}, "thickness": 12},
    ))
    fig.update_xaxes(tickvals=list(range(k_count)), ticktext=names, showgrid=False, zeroline=False,
                     tickangle=0)
    fig.update_yaxes(tickvals=list(range(k_count)), ticktext=ticks, showgrid=False, zeroline=False,
                     autorange="reversed", scaleanchor="x", scaleratio=1)
    flag = ('<span style="color:#B91C1C">⚠ collapsed</span>' if health.collapsed
            else '<span style="color:#047857">✓ distinct</span>')
    fig.update_layout(height=max(320, 200 + 60 * k_count))
    return style_figure(fig, f"Interest similarity · effective number {health.effective_number:.2f} of "
                             f"{k_count} · {flag}<br><sup>{plot_text(health.message)}</sup>")


def interest_weights_figure(exp: Explanation) -> go.Figure:
    """Each interest's weight (its share of the fused list) as a bar in its colour."""
    if not exp.interests:
        return message_figure("Interest weights", "This model has no interests.")
    k_count = len(exp.interests)
    weights = [i.weight for i in exp.interests]
    fig = go.Figure(go.Bar(
        x=list(range(k_count)), y=weights, marker_color=[interest_color(k) for k in range(k_count)],
        text=[f"{w:.0%}" for w in weights], textposition="outside", cliponaxis=False,
        hovertext=[f"<b>{interest_name(k)}</b>: {plot_text(i.label)}<br>weight {i.weight:.1%}"
                   for k, i in enumerate(exp.interests)],
        hovertemplate="%{hovertext}<extra></extra>", showlegend=False,
    ))
    fig.update_xaxes(tickvals=list(range(k_count)),
                     ticktext=[interest_tick(k, "", 0) for k in range(k_count)],
                     showgrid=False, zeroline=False, tickangle=0)
    fig.update_yaxes(title_text="share of the fused list", tickformat=".0%",
                     range=[0, max(weights) * 1.2 or 1.0])
    fig.update_layout(height=300, bargap=0.35)
    return style_figure(fig, "Interest weights: how much of the fused list each interest supplies")
