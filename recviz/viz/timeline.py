"""Timeline → plotly figure: each interest's attention along the whole history, on a time axis.

Pure function of a :class:`recviz.explain.timeline.Timeline` (no Streamlit); the app and the reports show
the same figure. Interest ``k`` is drawn in ``interest_color(k)``; titles are escaped with ``plot_text``.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Literal

import plotly.graph_objects as go

from recviz.explain.timeline import Timeline
from recviz.viz.figures import BOTTOM_LEGEND, message_figure
from recviz.viz.style import MUTED_COLOR, interest_color, style_figure
from recviz.viz.text import interest_name, plot_text, shorten

TITLE = "Interests over time: each interest's attention along the whole history"
BULK_SHARE = 0.25  # a history with more than this share of its items on one day is drawn by order
ORDER_TICKS = 8
Axis = Literal["auto", "time", "order"]
# marker symbol and hover word of each phase
PHASES: dict[str, tuple[str, str]] = {"appears": ("triangle-up", "appears"), "peaks": ("star", "peaks"),
                                      "fades": ("triangle-down", "fades")}


def _date(stamp: int) -> str:
    return datetime.fromtimestamp(int(stamp), UTC).strftime("%Y-%m-%d %H:%M:%S")


def resolve_axis(tl: Timeline, axis: Axis = "auto") -> Literal["time", "order"]:
    """``time``: items at their timestamps; ``order``: one step per item, the dates as tick labels. ``auto``
    picks time unless some item lacks a date or the history was rated in bulk (more than ``BULK_SHARE`` of
    it on one day, common in MovieLens), which a time axis would squeeze into a vertical line."""
    if axis == "order" or not tl.dated():
        return "order"
    if axis == "time":
        return "time"
    busiest = max(Counter(_date(t)[:10] for t in tl.timestamps).values())
    return "time" if busiest <= BULK_SHARE * len(tl.timestamps) else "order"


def _order_ticks(tl: Timeline) -> tuple[list[int], list[str]]:
    n = len(tl.item_ids)
    shown = sorted({round(i * (n - 1) / (ORDER_TICKS - 1)) for i in range(ORDER_TICKS)}) if n > 1 else [0]
    stamps = tl.timestamps
    return shown, [_date(stamps[p])[:10] if stamps[p] is not None else f"#{p + 1}" for p in shown]


def timeline_figure(tl: Timeline, axis: Axis = "auto") -> go.Figure:
    """One line per interest (smoothed relative attention, 1 = the uniform share), its appear / peak / fade
    markers, the threshold, and the window the model reads now shaded. ``axis``: see :func:`resolve_axis`."""
    if not tl.item_ids:
        return message_figure(TITLE, "The history is empty, so there is no attention to follow over time.")
    if not tl.has_attention:
        return message_figure(TITLE, f"{tl.model_name} has no attention over the history, so there is no "
                                     "attention to follow over time.")
    mode = resolve_axis(tl, axis)
    n = len(tl.item_ids)
    x = [_date(t) for t in tl.timestamps] if mode == "time" else list(range(n))
    dates = [_date(t) + " · " if t is not None else "" for t in tl.timestamps]
    titles = [f"#{p + 1} {dates[p]}{plot_text(shorten(t, 60))}" for p, t in enumerate(tl.titles)]
    fig = go.Figure()
    for k, row in enumerate(tl.smoothed):
        label = tl.phases[k].label if k < len(tl.phases) else ""
        name = f"{interest_name(k)} · {plot_text(shorten(label, 32))}" if label else interest_name(k)
        fig.add_trace(go.Scatter(
            x=x, y=row, mode="lines", name=name, legendgroup=f"i{k}",
            line={"color": interest_color(k), "width": 2},
            hovertext=titles if k == 0 else None,
            hovertemplate=(("%{hovertext}<br>" if k == 0 else "") + f"{interest_name(k)}: %{{y:.2f}}"
                           "<extra></extra>"),
        ))
    for k, phase in enumerate(tl.phases):
        for key, (symbol, word) in PHASES.items():
            position = getattr(phase, key)
            if position is None:
                continue
            fig.add_trace(go.Scatter(
                x=[x[position]], y=[tl.smoothed[k][position]], mode="markers", legendgroup=f"i{k}",
                showlegend=False, name=f"{interest_name(k)} {word}",
                marker={"symbol": symbol, "size": 13, "color": interest_color(k),
                        "line": {"color": "white", "width": 1}},
                hovertemplate=f"<b>{interest_name(k)} {word}</b><br>{titles[position]}<extra></extra>",
            ))
    start, end = tl.windows[-1]
    fig.add_vrect(x0=x[start], x1=x[end - 1], fillcolor=MUTED_COLOR, opacity=0.12, line_width=0,
                  annotation_text="read now", annotation_position="top left",
                  annotation_font={"color": MUTED_COLOR, "size": 11})
    if tl.threshold is not None:
        fig.add_hline(y=tl.threshold, line={"color": MUTED_COLOR, "dash": "dot", "width": 1},
                      annotation_text=f"threshold {tl.threshold:.2f}", annotation_position="bottom right",
                      annotation_font={"color": MUTED_COLOR, "size": 11})
    if mode == "time":
        fig.update_xaxes(title_text="time (the items' timestamps)", showgrid=False)
    else:
        tickvals, ticktext = _order_ticks(tl)
        fig.update_xaxes(title_text="history, oldest → newest (one step per item; ticks: the items' dates)",
                         tickvals=tickvals, ticktext=ticktext, showgrid=False)
    fig.update_yaxes(title_text=f"attention × window length (smoothed over {tl.smoothing} items)",
                     rangemode="tozero")
    fig.update_layout(height=420, hovermode="x unified", legend=BOTTOM_LEGEND, margin={"b": 90})
    return style_figure(fig, TITLE)
