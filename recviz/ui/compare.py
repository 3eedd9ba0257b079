"""The Compare panel: this view beside another checkpoint on the same (edited) history, or beside another
user on this checkpoint. Everything shown comes from ``recviz.explain.compare`` (what ``recviz compare``
runs); the second side lives in the view (URL ``cmp`` / ``vs``), so a copied link reopens the comparison.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from recviz.explain.compare import (
    BASIS_TEXT,
    Comparison,
    compare_checkpoints,
    compare_users,
    comparison_settings,
)
from recviz.explain.types import Explanation
from recviz.models.checkpoint import Checkpoint
from recviz.report.compare import comparison_filename, render_comparison_html, render_comparison_json
from recviz.ui import loaders, state
from recviz.ui.errors import guarded
from recviz.ui.interest_map import PLOT_CONFIG
from recviz.ui.session_cache import remembered
from recviz.viz.compare import lists_figure, matching_figure
from recviz.viz.figures import interest_map_figure
from recviz.viz.text import interest_name, markdown_text

CHECKPOINT_WIDGET = "w_cmp"
USER_WIDGET = "w_vs"
MAPS_WIDGET = "cmp_maps"
RESULTS_KEY = "_comparisons"  # session: the view's comparison key -> Comparison (the last few)
CACHE_SIZE = 4
MIME = {"html": "text/html", "json": "application/json"}


def _pick_checkpoint() -> None:
    st.session_state[state.COMPARE_KEY] = st.session_state.get(CHECKPOINT_WIDGET)
    if st.session_state[state.COMPARE_KEY] is not None:
        st.session_state[state.VS_KEY] = st.session_state[USER_WIDGET] = None


def _pick_user() -> None:
    st.session_state[state.VS_KEY] = st.session_state.get(USER_WIDGET)
    if st.session_state[state.VS_KEY] is not None:
        st.session_state[state.COMPARE_KEY] = st.session_state[CHECKPOINT_WIDGET] = None


def _widget(key: str, value: object, options: list) -> None:
    """Before a widget is drawn: show the view's value (the widget's own is dropped while its tab is shut)."""
    if st.session_state.get(key) != value:
        st.session_state[key] = value if value in options else None


def render(exp: Explanation, view: state.ViewState) -> None:
    paths = loaders.checkpoint_paths()
    ckpt = loaders.checkpoint(paths[view.checkpoint])
    others = [n for n in paths if n != view.checkpoint]
    users = [u for u in (guarded("Could not read the users", loaders.users, ckpt) or []) if u != view.user_id]
    _widget(CHECKPOINT_WIDGET, view.compare, others)
    _widget(USER_WIDGET, view.vs_user, users)
    left, right = st.columns(2)
    left.selectbox("Compare with another checkpoint", others, index=None, key=CHECKPOINT_WIDGET,
                   on_change=_pick_checkpoint, placeholder="a checkpoint on the same history",
                   help="The same (edited) history through a second model: both lists, their overlap, and "
                        "the interests matched")
    right.selectbox("…or with another user", users, index=None, key=USER_WIDGET, on_change=_pick_user,
                    placeholder="a user on this checkpoint",
                    help="A second user's real history on this model: shared interests and recommendations")
    if view.compare is None and view.vs_user is None:
        st.info("Pick a second checkpoint or a second user; the link then carries the comparison.",
                icon=":material/compare_arrows:")
        return
    if view.compare is not None and view.compare not in paths:
        st.error(f"The checkpoint '{markdown_text(view.compare[:80])}' from the link is not under the models "
                 "directory; pick another.", icon=":material/error:")
        return
    if view.compare is not None and view.vs_user is not None:
        st.caption("The link names a second checkpoint and a second user; the checkpoints are compared.")
    maps = (loaders.item_map(ckpt), loaders.item_map(ckpt))
    if view.compare is not None:
        other = loaders.checkpoint(paths[view.compare])
        maps = (maps[0], loaders.item_map(other))
        cmp = guarded("Could not compare the checkpoints", remembered, RESULTS_KEY,
                      ("checkpoints", _ident(ckpt), _ident(other), *_view_key(view)),
                      lambda: compare_checkpoints(ckpt, other, _user(view), view.edits, view.settings(),
                                                  start=view.uploaded,
                                                  item_maps=(maps[0].item_map, maps[1].item_map)),
                      size=CACHE_SIZE)
    else:
        cmp = guarded("Could not compare the users", remembered, RESULTS_KEY,
                      ("users", _ident(ckpt), view.vs_user, *_view_key(view)),
                      lambda: compare_users(ckpt, view.user_id, view.vs_user, view.edits, view.settings(),
                                            start=view.uploaded, item_map=maps[0].item_map),
                      size=CACHE_SIZE)
    if cmp is not None:
        _show(cmp, maps)


def _ident(ckpt: Checkpoint) -> tuple[str, str]:
    return str(ckpt.path), ckpt.hash


def _user(view: state.ViewState) -> int | None:
    return view.user_id if view.uploaded is None else None


def _view_key(view: state.ViewState) -> tuple:
    return (view.user_id, view.uploaded, view.edits, comparison_settings(view.settings()))


def _show(cmp: Comparison, maps: tuple[loaders.StoredMap, loaders.StoredMap]) -> None:
    name_a, name_b = cmp.side_names()
    depth = max(len(cmp.lists.a), len(cmp.lists.b))
    cols = st.columns(4)
    cols[0].metric(f"Jaccard@{depth}", f"{cmp.lists.jaccard:.2f}",
                   help="Shared items over all items of the two lists")
    cols[1].metric("Rank-biased overlap", f"{cmp.lists.rbo:.2f}",
                   help=f"p = {cmp.lists.p:g}: agreement at the top of the lists weighs most "
                        "(1 = identical lists, 0 = disjoint)")
    cols[2].metric("Shared recommendations", f"{len(cmp.lists.shared)} of {depth}")
    if cmp.catalogue is not None:
        cols[3].metric("Shared catalogue", f"{cmp.catalogue.shared:,}",
                       help=f"{name_a}: {cmp.catalogue.a_items:,} items, {name_b}: {cmp.catalogue.b_items:,}")
    else:
        cols[3].metric("Shared history items", f"{len(cmp.shared_history):,}")
    notes = [*cmp.notices, *(f"{name_a}: {n}" for n in cmp.a.notices),
             *(f"{name_b}: {n}" for n in cmp.b.notices)]
    if notes:
        with st.expander(f"Notes on this comparison ({len(notes)})", icon=":material/info:"):
            st.caption("  \n".join(f"• {markdown_text(n)}" for n in notes))
    left, right = st.columns(2)
    left.plotly_chart(lists_figure(cmp), key="cmp_lists", config=PLOT_CONFIG)
    right.plotly_chart(matching_figure(cmp), key="cmp_matching", config=PLOT_CONFIG)
    basis = markdown_text(BASIS_TEXT[cmp.matching.basis])
    st.caption(f"Interests matched by the Hungarian algorithm on the {basis}."
               + (f" {markdown_text(cmp.matching.note)}" if cmp.matching.note else ""))
    st.dataframe(_pairs_table(cmp), hide_index=True, key="cmp_pairs", column_config={
        "similarity": st.column_config.NumberColumn("Similarity", format="%.3f")})
    if st.toggle("Show both interest maps", key=MAPS_WIDGET):
        for col, exp, stored, name in zip(st.columns(2), (cmp.a, cmp.b), maps, (name_a, name_b), strict=True):
            col.markdown(f"**{markdown_text(name)}**")
            if stored.item_map is None or not exp.interests:
                col.info(markdown_text(stored.problem or "No interests to place."), icon=":material/map:")
                continue
            col.plotly_chart(interest_map_figure(exp, stored.item_map, catalogue=stored.raster),
                             key=f"cmp_map_{name}", config=PLOT_CONFIG)
    _downloads(cmp, (maps[0].item_map, maps[1].item_map))


def _pairs_table(cmp: Comparison) -> pd.DataFrame:
    name_a, name_b = cmp.side_names()
    return pd.DataFrame({
        name_a: [f"{interest_name(p.a)} · {cmp.a.interests[p.a].label}" for p in cmp.matching.pairs],
        name_b: [f"{interest_name(p.b)} · {cmp.b.interests[p.b].label}" for p in cmp.matching.pairs],
        "similarity": [p.similarity for p in cmp.matching.pairs],
    })


def _downloads(cmp: Comparison, maps) -> None:
    cols = st.columns([1, 1, 4])
    for col, fmt in zip(cols, ("html", "json"), strict=False):
        col.download_button(
            f"Comparison {fmt.upper()}", data=_deferred(cmp, maps, fmt),
            file_name=comparison_filename(cmp, fmt), mime=MIME[fmt], icon=":material/download:",
            key=f"cmp_export_{fmt}", on_click="ignore",
            help=f"Download the {fmt.upper()} report of this comparison (what `recviz compare` writes)")


def _deferred(cmp: Comparison, maps, fmt: str) -> Callable[[], bytes]:
    if fmt == "html":
        return lambda: render_comparison_html(cmp, maps).encode("utf-8")
    return lambda: render_comparison_json(cmp).encode("utf-8")
