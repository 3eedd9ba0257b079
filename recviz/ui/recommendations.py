"""The recommendations panel: the fused list (each item marked with its contributing interest and whether
it entered or moved after the edit) beside each interest's own list, and the items that left."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recviz.data import Catalogue
from recviz.explain.types import Explanation
from recviz.options import fusion_caption
from recviz.viz.style import interest_color
from recviz.viz.tables import STATUS_NEW, fused_table, left_items_table, per_interest_table
from recviz.viz.text import interest_name, markdown_text

GAIN_STYLE = "color: #047857; font-weight: 600"
LOSS_STYLE = "color: #B91C1C"
LISTS_PER_ROW = 2


def interest_heading(k: int, label: str) -> str:
    """Markdown (with a coloured square) naming interest ``k``; the label is escaped (HTML and Markdown)."""
    return (f'<span style="color:{interest_color(k)}; font-size:1.1em">■</span> '
            f"**{interest_name(k)}** <span style='color:#6B7280'>{markdown_text(label)}</span>")


def _status_style(value: object) -> str:
    text = str(value or "")
    if text == STATUS_NEW or text.startswith("↑"):
        return GAIN_STYLE
    return LOSS_STYLE if text.startswith("↓") else ""


def _fused_view(exp: Explanation) -> pd.io.formats.style.Styler:
    table = fused_table(exp)
    colours = [interest_color(int(k)) for k in table["interest"]]
    shown = table[["rank", "title", "interest", "status", "score"]].assign(
        interest=[interest_name(int(k)) for k in table["interest"]],
        status=[{STATUS_NEW: "● new"}.get(s, s) for s in table["status"]],
    )
    return (shown.style
            .apply(lambda _: [f"color: {c}; font-weight: 600" for c in colours], subset=["interest"])
            .map(lambda v: _status_style(str(v).replace("● ", "")), subset=["status"]))


def render(exp: Explanation, catalogue: Catalogue) -> None:
    st.subheader("Recommendations")
    entered = len(exp.diff.entered) if exp.diff else 0
    left_count = len(exp.diff.left) if exp.diff else 0
    params = fusion_caption(exp.fusion.mode, exp.fusion)  # "τ = 1": the fusion's own parameters
    st.caption(f"Fusion **{exp.fusion.mode}**"
               + (f" ({params})" if params else "")
               + f" · top {exp.fusion.top_n}"
               + (f" · after the edit **{entered} entered, {left_count} left** the fused list"
                  if exp.diff else ""))
    k_count = len(exp.interests)
    if not k_count:  # popularity fallback (empty history): a plain list, no interests to attribute it to
        st.dataframe(pd.DataFrame([{"rank": f.rank, "title": f.title, "genres": ", ".join(f.genres),
                                    "score": f.score} for f in exp.fused]), hide_index=True, width="stretch")
        return
    fused_col, lists_col = st.columns([1, 1.25], gap="medium")
    with fused_col:
        st.markdown("**Fused list**")
        st.dataframe(_fused_view(exp), hide_index=True, width="stretch", key="fused_table",
                     height=38 + 35 * max(len(exp.fused), 1), column_config={
                         "rank": st.column_config.NumberColumn("#", width=36),
                         "title": st.column_config.TextColumn("Title", width="medium"),
                         "interest": st.column_config.TextColumn("From", width=80,
                                                                 help="The interest that contributed most"),
                         "status": st.column_config.TextColumn("Change", width=62,
                                                               help="Against the history before the edit"),
                         "score": st.column_config.NumberColumn("Score", format="%.3f", width=62),
                     })
        if exp.diff and exp.diff.left:
            titles = {i: catalogue.title(i) for i in exp.diff.left}
            st.markdown(f"<span style='{LOSS_STYLE}'>**Left the list after the edit**</span>",
                        unsafe_allow_html=True)
            st.dataframe(left_items_table(exp, titles), hide_index=True, width="stretch", key="left_table",
                         column_config={"old_rank": st.column_config.NumberColumn("Was #", width=60),
                                        "item_id": None, "title": "Title"})
    with lists_col:
        for row in range(0, k_count, LISTS_PER_ROW):
            for k, col in zip(range(row, min(row + LISTS_PER_ROW, k_count)), st.columns(LISTS_PER_ROW),
                              strict=False):
                with col:
                    _interest_list(exp, k)


def _interest_list(exp: Explanation, k: int) -> None:
    st.markdown(interest_heading(k, exp.interests[k].label), unsafe_allow_html=True)
    table = per_interest_table(exp, k)[["rank", "title", "fused_rank"]]
    table = table.assign(fused_rank=["" if pd.isna(r) else f"#{int(r)}" for r in table["fused_rank"]])
    st.dataframe(table, hide_index=True, width="stretch", key=f"interest_table_{k}",
                 height=38 + 35 * max(len(table), 1), column_config={
                     "rank": st.column_config.NumberColumn("#", width=30),
                     "title": st.column_config.TextColumn("Title", width="medium"),
                     "fused_rank": st.column_config.TextColumn("Fused", width=52,
                                                               help="Rank in the fused list"),
                 })
