"""The "Over time" panel: each interest's attention along the whole (edited) history, the model's window
slid over it, with when each interest appears, peaks and fades. The Timeline comes from
``recviz.explain.timeline.user_timeline`` (what ``recviz timeline`` runs); the figure is
``recviz.viz.timeline.timeline_figure``."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from recviz.explain.timeline import DEFAULT_SMOOTHING, Timeline, user_timeline
from recviz.report.timeline import phase_text, render_timeline_html, render_timeline_json, timeline_filename
from recviz.ui import loaders, state
from recviz.ui.errors import guarded
from recviz.ui.interest_map import PLOT_CONFIG
from recviz.ui.session_cache import remembered
from recviz.viz.text import interest_name, markdown_text
from recviz.viz.timeline import timeline_figure

SMOOTHING_WIDGET = "tl_smoothing"
AXIS_WIDGET = "tl_axis"
AXES = {"auto": "Auto", "time": "Time", "order": "Order"}
RESULTS_KEY = "_timelines"  # session: the view's timeline key -> Timeline (the last few)
CACHE_SIZE = 4
MIME = {"html": "text/html", "json": "application/json"}


def render(view: state.ViewState) -> None:
    ckpt = loaders.checkpoint(loaders.checkpoint_paths()[view.checkpoint])
    left, right = st.columns([3, 2])
    smoothing = left.slider("Smoothing (items)", 1, 101, DEFAULT_SMOOTHING, step=2, key=SMOOTHING_WIDGET,
                            help="Items in the moving average of each curve")
    axis = right.segmented_control(
        "Axis", list(AXES), default="auto", key=AXIS_WIDGET, format_func=AXES.get,
        help="Time: items at their dates. Order: one step per item, dates as ticks. Auto: time, unless the "
             "history was rated in bulk or has undated items")
    user = view.user_id if view.uploaded is None else None
    key = (str(ckpt.path), ckpt.hash, user, view.uploaded, view.edits, smoothing)
    tl = guarded("Could not follow the interests over time", remembered, RESULTS_KEY, key,
                 lambda: user_timeline(ckpt, user, view.edits, start=view.uploaded, smoothing=smoothing),
                 size=CACHE_SIZE)
    if tl is None:
        return
    if tl.notices:
        st.caption("  \n".join(markdown_text(n) for n in tl.notices))
    if tl.item_ids and tl.has_attention:
        st.caption(f"{len(tl.windows)} window(s) of {tl.window} items cover all {len(tl.item_ids):,} items; "
                   "1 on the y-axis is an even share of a window's attention. "
                   + ("Interest k is the same attention head in every window."
                      if tl.alignment == "fixed" else
                      "Each window's interests are matched to the newest window's by their vectors."))
    st.plotly_chart(timeline_figure(tl, axis or "auto"), key="timeline", config=PLOT_CONFIG)
    if tl.phases:
        st.dataframe(_phases_table(tl), hide_index=True, key="timeline_phases")
    _downloads(tl)


def _phases_table(tl: Timeline) -> pd.DataFrame:
    rows = []
    for phase in tl.phases:
        appears, peaks, fades = phase_text(tl, phase)
        rows.append({"interest": interest_name(phase.interest), "label": phase.label, "appears": appears,
                     "peaks": peaks, "fades": fades})
    return pd.DataFrame(rows)


def _downloads(tl: Timeline) -> None:
    cols = st.columns([1, 1, 4])
    for col, fmt in zip(cols, ("html", "json"), strict=False):
        col.download_button(
            f"Timeline {fmt.upper()}", data=_deferred(tl, fmt), file_name=timeline_filename(tl, fmt),
            mime=MIME[fmt], icon=":material/download:", key=f"timeline_export_{fmt}", on_click="ignore",
            help=f"Download the {fmt.upper()} report of this timeline (what `recviz timeline` writes)")


def _deferred(tl: Timeline, fmt: str) -> Callable[[], bytes]:
    if fmt == "html":
        return lambda: render_timeline_html(tl).encode("utf-8")
    return lambda: render_timeline_json(tl).encode("utf-8")
