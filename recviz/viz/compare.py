"""Comparison → plotly figures: the interest matching and the two fused lists side by side.

Pure functions of a :class:`recviz.explain.compare.Comparison`; the app and the comparison report show the
same figures. Strings from the data go through ``plot_text``.
"""

from __future__ import annotations

import plotly.graph_objects as go

from recviz.explain.compare import BASIS_TEXT, Comparison
from recviz.viz.figures import message_figure
from recviz.viz.style import GRID_COLOR, MUTED_COLOR, SIMILARITY_SCALE, style_figure
from recviz.viz.text import interest_tick, plot_text, shorten

SHARED_COLOR = "#0072B2"


def matching_figure(cmp: Comparison) -> go.Figure:
    """Similarity of every interest of A (rows) with every interest of B (columns); the matched pairs are
    outlined and labelled."""
    name_a, name_b = (plot_text(shorten(n, 40)) for n in cmp.side_names())
    title = "Interests matched across the two sides"
    sim = cmp.matching.similarity
    if not sim or not sim[0]:
        return message_figure(title, cmp.matching.note or "There are no interests to match.")
    ka, kb = len(sim), len(sim[0])
    fig = go.Figure(go.Heatmap(
        z=sim, x=list(range(kb)), y=list(range(ka)), zmin=-1.0, zmax=1.0, colorscale=SIMILARITY_SCALE,
        texttemplate="%{z:.2f}", xgap=2, ygap=2, colorbar={"title": {"text": "similarity"}, "thickness": 12},
        hovertemplate=f"{name_a} interest %{{y}}<br>{name_b} interest %{{x}}<br>similarity %{{z:.3f}}"
                      "<extra></extra>",
    ))
    for pair in cmp.matching.pairs:
        fig.add_shape(type="rect", x0=pair.b - 0.5, x1=pair.b + 0.5, y0=pair.a - 0.5, y1=pair.a + 0.5,
                      line={"color": "#111827", "width": 3})
    fig.update_xaxes(tickvals=list(range(kb)), tickangle=-30, showgrid=False, zeroline=False,
                     ticktext=[interest_tick(k, i.label, 18) for k, i in enumerate(cmp.b.interests)],
                     title_text=f"{name_b}")
    fig.update_yaxes(tickvals=list(range(ka)), autorange="reversed", showgrid=False, zeroline=False,
                     ticktext=[interest_tick(k, i.label, 18) for k, i in enumerate(cmp.a.interests)],
                     title_text=f"{name_a}")
    fig.update_layout(height=260 + 52 * ka, margin={"t": 90})
    return style_figure(fig, f"{title}<br><sup>{plot_text(BASIS_TEXT[cmp.matching.basis])}; "
                             "outlined: the matched pairs</sup>")


def lists_figure(cmp: Comparison) -> go.Figure:
    """The two compared lists as columns of ranks; an item in both is joined across (a slope chart)."""
    title = "The two lists side by side"
    a, b = cmp.lists.a, cmp.lists.b
    if not a and not b:
        return message_figure(title, "Both lists are empty.")
    titles = _titles(cmp)
    rank_b = {item: r for r, item in enumerate(b, start=1)}
    fig = go.Figure()
    for r, item in enumerate(a, start=1):
        if item in rank_b:
            fig.add_trace(go.Scatter(x=[0, 1], y=[r, rank_b[item]], mode="lines", hoverinfo="skip",
                                     line={"color": SHARED_COLOR, "width": 2}, showlegend=False))
    for side, items in ((0, a), (1, b)):
        shared = [item in (rank_b if side == 0 else set(a)) for item in items]
        fig.add_trace(go.Scatter(
            x=[side] * len(items), y=list(range(1, len(items) + 1)), mode="markers+text", showlegend=False,
            text=[plot_text(shorten(titles.get(i, f"Movie {i}"), 34)) for i in items],
            textposition="middle left" if side == 0 else "middle right",
            marker={"size": 10, "color": [SHARED_COLOR if s else GRID_COLOR for s in shared],
                    "line": {"color": MUTED_COLOR, "width": 1}},
            hovertext=[plot_text(titles.get(i, f"Movie {i}")) for i in items],
            hovertemplate="#%{y} %{hovertext}<extra></extra>",
        ))
    names = [plot_text(shorten(n, 36)) for n in cmp.side_names()]
    depth = max(len(a), len(b))
    fig.update_xaxes(range=[-1.6, 2.6], tickvals=[0, 1], ticktext=names, side="top", showgrid=False,
                     zeroline=False)
    fig.update_yaxes(range=[depth + 0.7, 0.3], title_text="rank", showgrid=False, zeroline=False,
                     dtick=1 if depth <= 20 else 5)
    fig.update_layout(height=160 + 26 * depth, margin={"t": 110})
    overlap = cmp.lists
    return style_figure(fig, f"{title}<br><sup>Jaccard@{depth} {overlap.jaccard:.2f} · "
                             f"RBO (p = {overlap.p:g}) {overlap.rbo:.2f}; joined: in both lists</sup>")


def _titles(cmp: Comparison) -> dict[int, str]:
    titles = {**dict(zip(cmp.lists.a, cmp.lists.a_titles, strict=False)),
              **dict(zip(cmp.lists.b, cmp.lists.b_titles, strict=False))}
    for exp in (cmp.a, cmp.b):
        titles.update({e.item_id: e.title for e in exp.history})
        titles.update({i.item_id: i.title for ranked in exp.per_interest for i in ranked})
        titles.update({f.item_id: f.title for f in exp.fused})
    return titles
