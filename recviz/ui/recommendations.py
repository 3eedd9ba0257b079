"""The recommendations panel: the fused list (each item marked with its contributing interest and whether
it entered or moved after the edit) beside each interest's own list, and the items that left."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from recviz.data import Catalogue
from recviz.explain.types import Explanation
from recviz.options import fusion_caption
from recviz.viz.style import interest_color
from recviz.viz.tables import STATUS_NEW, fused_table, left_items_table, per_interest_table
from recviz.viz.text import interest_name

GAIN_STYLE = "color: #047857; font-weight: 600"
LOSS_STYLE = "color: #B91C1C"
LISTS_PER_ROW = 2
# The interests' own lists are read-only: one HTML block (no data grid each, which costs the browser about
# 0.2 s per grid on first draw and again on every edit). Scoped by the block's class.
LISTS_CSS = (
    ".recviz-lists{display:grid;grid-template-columns:repeat(" + str(LISTS_PER_ROW) + ",minmax(0,1fr));"
    "gap:0.75rem 1rem;"
    "font-size:0.875rem;line-height:1.35}"
    ".recviz-lists h4{font-size:0.9rem;font-weight:400;margin:0 0 0.3rem 0;padding:0;white-space:nowrap;"
    "overflow:hidden;text-overflow:ellipsis}"
    ".recviz-lists table{width:100%;border-collapse:collapse;table-layout:fixed}"
    ".recviz-lists th,.recviz-lists td{padding:0.28rem 0.4rem;border-bottom:1px solid #E5E7EB;"
    "white-space:nowrap;overflow:hidden;text-overflow:ellipsis;text-align:left}"
    ".recviz-lists th{color:#6B7280;font-weight:400}"
    ".recviz-lists .n{width:2.2rem;text-align:right;color:#6B7280}"
    ".recviz-lists .f{width:3.4rem;text-align:right}"
)


def _status_style(value: object) -> str:
    text = str(value or "")
    if text == STATUS_NEW or text.startswith("↑"):
        return GAIN_STYLE
    return LOSS_STYLE if text.startswith("↓") else ""


def fused_view(exp: Explanation) -> pd.io.formats.style.Styler:
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
        st.dataframe(fused_view(exp), hide_index=True, width="stretch", key="fused_table",
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
        st.html(interest_lists_html(exp))


def interest_lists_html(exp: Explanation) -> str:
    """Each interest's own top-N as a small table under its coloured heading, two to a row, with each
    item's rank in the fused list. Every text from the data is HTML-escaped (full titles on hover)."""
    blocks = []
    for k, interest in enumerate(exp.interests):
        table = per_interest_table(exp, k)
        rows = "".join(
            f'<tr><td class="n">{int(rank)}</td><td title="{html.escape(title)}">{html.escape(title)}</td>'
            f'<td class="f">{"" if pd.isna(fused) else f"#{int(fused)}"}</td></tr>'
            for rank, title, fused in zip(table["rank"], table["title"], table["fused_rank"], strict=True))
        label = html.escape(interest.label)
        blocks.append(
            f'<div><h4 title="{label}"><span style="color:{interest_color(k)}">■</span> '
            f"<strong>{interest_name(k)}</strong> <span style='color:#6B7280'>{label}</span></h4>"
            '<table><thead><tr><th class="n">#</th><th>Title</th>'
            '<th class="f" title="Rank in the fused list">Fused</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></div>")
    return f'<style>{LISTS_CSS}</style><div class="recviz-lists">{"".join(blocks)}</div>'
