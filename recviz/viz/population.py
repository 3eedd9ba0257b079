"""Figures of the Population page: pure functions from the small aggregate frames of
:mod:`recviz.population.queries` to plotly figures (no Streamlit), in the one recviz style and colours."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from recviz.viz.style import MUTED_COLOR, interest_color, method_color, method_label, style_figure
from recviz.viz.text import interest_name


def histogram_figure(bins: pd.DataFrame, width: float, title: str, x_title: str,
                     marker: float | None = None) -> go.Figure:
    """A histogram from (bin lower edge, users) rows; ``marker`` draws a dashed line (a threshold)."""
    fig = go.Figure(go.Bar(x=bins["bin"] + width / 2, y=bins["users"], width=width * 0.95,
                           marker_color=MUTED_COLOR, hovertemplate="%{x:.2f}: %{y} users<extra></extra>"))
    if marker is not None:
        fig.add_vline(x=marker, line_dash="dash", line_color=interest_color(1))
    fig.update_layout(xaxis_title=x_title, yaxis_title="users", height=300, bargap=0.02)
    return style_figure(fig, title)


def slot_share_figure(shares: pd.DataFrame) -> go.Figure:
    """Mean share of the fused list per interest slot, each in its interest colour, with how often the slot
    supplies nothing in the hover."""
    names = [interest_name(int(k)) for k in shares["interest"]]
    fig = go.Figure(go.Bar(
        x=names, y=shares["mean_share"], marker_color=[interest_color(int(k)) for k in shares["interest"]],
        customdata=shares["unused_rate"],
        hovertemplate="%{x}: %{y:.1%} of the fused list on average; "
                      "supplies nothing for %{customdata:.0%} of users<extra></extra>"))
    fig.update_layout(yaxis_tickformat=".0%", yaxis_title="mean share of the fused list", height=300)
    return style_figure(fig, "Fused-list share per interest slot")


def faithfulness_figure(by_method: pd.DataFrame) -> go.Figure:
    """Deletion-curve area per method (median and quartiles; lower = more faithful), random orders last."""
    fig = go.Figure()
    for row in by_method.itertuples():
        fig.add_trace(go.Bar(
            x=[method_label(row.method)], y=[row.median], marker_color=method_color(row.method),
            error_y={"type": "data", "symmetric": False, "array": [row.q75 - row.median],
                     "arrayminus": [row.median - row.q25]},
            name=method_label(row.method), showlegend=False,
            hovertemplate=f"median %{{y:.2f}} (quartiles {row.q25:.2f}–{row.q75:.2f}), "
                          f"{row.users} users<extra></extra>"))
    fig.update_layout(yaxis_title="deletion-curve area (lower: more faithful)", height=300)
    return style_figure(fig, "Faithfulness by method")


def segment_figure(frame: pd.DataFrame, metric: str, title: str) -> go.Figure:
    """One metric per segment (bars), with the segment's user count in the hover."""
    fig = go.Figure(go.Bar(x=frame["segment"], y=frame[metric], marker_color=interest_color(0),
                           customdata=frame["users"],
                           hovertemplate="%{x}: %{y:.3f} (%{customdata} users)<extra></extra>"))
    fig.update_layout(yaxis_title=metric, height=280)
    return style_figure(fig, title)
