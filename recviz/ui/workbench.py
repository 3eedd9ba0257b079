"""The workbench page: pick a checkpoint and a user, edit the history, and see why the model recommends.

This module wires the panels together; it computes nothing itself. The Explanation comes from
``recviz.explain.explain_history`` (what the CLI and the reports run) and is kept per session for
the view that produced it, so reruns that do not change the view reuse it, returning to an earlier view is
instant, and the export is exactly what is on screen.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from recviz.errors import RecvizError
from recviz.explain import ItemMap
from recviz.explain.edits import edit_summary
from recviz.explain.types import Explanation
from recviz.explain.users import explain_history, user_history
from recviz.models.checkpoint import Checkpoint
from recviz.ui import (
    attention,
    attributions,
    compare,
    counterfactual,
    export,
    health,
    history_editor,
    interest_map,
    loaders,
    recommendations,
    scenario_panel,
    sidebar,
    state,
    timeline,
)
from recviz.ui.errors import guarded, show_error
from recviz.ui.scenarios import ScenarioStore
from recviz.ui.session_cache import remembered
from recviz.viz.text import markdown_text

EXPLANATION_KEY = "_explanations"   # session cache: view key -> Explanation (the last few views)
CACHE_SIZE = 8
ON_SCREEN_KEY = "_explanation_on_screen"  # the Explanation the panels and the export show
DETAIL_TAB_KEY = "detail_tab"
DETAILS_KEY = "details_open"         # the details panel (attributions, attention, health): drawn when opened
MARKER = "recviz-ready"             # the browser test and the latency benchmark wait for this element


def page() -> None:
    loaders.configure_torch()
    state.init_session()
    link_problems = state.pop_notices()
    if link_problems:
        st.warning("**Parts of the link could not be used; the rest of the view is shown.**  \n"
                   + "  \n".join(f"• {markdown_text(p)}" for p in link_problems), icon=":material/link_off:")
    paths = loaders.checkpoint_paths()
    if not paths:
        _no_checkpoint()
        return
    name = sidebar.checkpoint_picker(list(paths))
    ckpt = guarded("Could not load the checkpoint", loaders.checkpoint, paths[name])
    if ckpt is None:
        st.caption("Pick another checkpoint in the sidebar, or retrain this one. The **Data set** page works "
                   "without a model.")
        return
    user_ids = guarded("Could not read the checkpoint's data set", loaders.users, ckpt) or []
    user = sidebar.user_picker(user_ids) if user_ids else None
    sidebar.settings_panel(ckpt.model)
    target_slot = st.sidebar.container()
    view = state.read_session()
    page_state = history_editor.edit_state()
    scenario_panel.render(_store(), view)

    real = (guarded("Could not read the user's history", user_history, ckpt, user) if user is not None
            else None)
    start = list(view.uploaded) if view.uploaded is not None else (real.item_ids if real else [])
    try:
        current = view.edits.apply(start)
    except RecvizError as exc:
        show_error(exc, "The history edits in this view cannot be applied")
        st.button("Drop the edits", on_click=state.set_edits, key="drop_edits")
        return
    baseline = list(view.uploaded) if view.uploaded is not None else (real.item_ids if real else None)
    stored_map = loaders.item_map(ckpt)
    item_map = stored_map.item_map
    exp = guarded("Could not explain this history", _explanation, ckpt, user if real else None, view,
                  item_map)
    st.session_state[ON_SCREEN_KEY] = exp

    _header(ckpt, view, exp, item_map)
    if exp is not None:
        sidebar.target_picker(target_slot, exp)
        _notices(exp.notices, urgent=exp.fallback is not None)
    left, right = st.columns([5, 6], gap="large")
    if exp is not None:
        with right:  # the map first: the browser starts loading the chart code while the rest arrives
            interest_map.render(exp, stored_map)
    with left:
        history_editor.render(exp, ckpt.catalogue, ckpt.vocab, ckpt.model.max_length, len(current),
                              _changes(baseline or [], current), page_state)
    if exp is None:
        state.sync_query_params(view)
        return
    recommendations.render(exp, ckpt.catalogue)
    _details(exp, view)
    scores = ",".join(f"{f.score:.5f}" for f in exp.fused)
    st.html(f'<div id="{MARKER}" data-fused="{_ids(f.item_id for f in exp.fused)}" data-scores="{scores}" '
            f'data-history="{_ids(current)}" '
            f'data-user="{"" if view.user_id is None else int(view.user_id)}"></div>')
    state.sync_query_params(view)


def _details(exp: Explanation, view: state.ViewState) -> None:
    """Attributions, attention, interest health (and the other detail views) as tabs in a panel below the
    recommendations (below the fold) that is drawn only while it is open, and then only its open tab: an
    edit redraws what is on screen, not more charts nobody is looking at."""
    box = st.expander("Why these recommendations: attributions, attention, interest health and more",
                      key=DETAILS_KEY, on_change="rerun", icon=":material/query_stats:")
    if not box.open:
        return
    with box:
        _detail_tabs(exp, view)


def _detail_tabs(exp: Explanation, view: state.ViewState) -> None:
    panels = {
        "Attributions": lambda: attributions.render(exp, view.methods),
        "Attention": lambda: attention.render(exp),
        "Interest health": lambda: health.render(exp),
        "Counterfactual": lambda: counterfactual.render(exp, view),
        "Over time": lambda: timeline.render(view),
        "Compare": lambda: compare.render(exp, view),
    }
    for tab, draw in zip(st.tabs(list(panels), key=DETAIL_TAB_KEY, on_change="rerun"), panels.values(),
                         strict=True):
        if tab.open:
            with tab:
                draw()


def _ids(ids) -> str:
    return ",".join(str(int(i)) for i in ids)


def _store() -> ScenarioStore:
    return ScenarioStore()


def _no_checkpoint() -> None:
    st.title("recviz workbench")
    st.info(
        f"There is no checkpoint under `{loaders.models_dir()}` yet, so there is no model to explain. "
        "Train one with `recviz train --data sample_data/ml-latest-small --model comirec-sa "
        "--out models/comirec-sa` "
        f"(or point {loaders.MODELS_ENV} at a directory of checkpoints). "
        "Meanwhile the data set is below.",
        icon=":material/model_training:",
    )
    from recviz.ui import data_overview

    data_overview.page()


def view_key(ckpt: Checkpoint, user: int | None, view: state.ViewState, has_map: bool) -> tuple:
    """Everything an Explanation depends on (the cache key of the session's explanations)."""
    return (str(ckpt.path), ckpt.hash, user, view.uploaded, view.edits, view.settings(), has_map)


def _explanation(ckpt: Checkpoint, user: int | None, view: state.ViewState,
                 item_map: ItemMap | None) -> Explanation:
    """The Explanation of this view: from the session's cache, else computed by ``explain_history`` (what
    ``recviz explain`` and the reports run, so the export matches them) and remembered."""
    start = view.uploaded if view.uploaded is not None or user is not None else ()
    return remembered(EXPLANATION_KEY, view_key(ckpt, user, view, item_map is not None),
                      lambda: explain_history(ckpt, user, view.edits, view.settings(), start=start,
                                              item_map=item_map), CACHE_SIZE)


def _notices(notices: list[str], urgent: bool) -> None:
    """Notes from the engine (truncation, dropped items, fallbacks): a warning when the lists are a fallback,
    else a collapsed box, since a long real history being cut to the model's window is routine."""
    if not notices:
        return
    text = "  \n".join(f"• {markdown_text(n)}" if len(notices) > 1 else markdown_text(n) for n in notices)
    if urgent:
        st.warning(text, icon=":material/warning:")
    else:
        with st.expander(f"Notes on this explanation ({len(notices)})", icon=":material/info:"):
            st.caption(text)


def _changes(baseline: Sequence[int], current: Sequence[int]) -> str:
    summary = edit_summary(baseline, current)
    parts = [f"{len(summary['remove'])} removed" if summary["remove"] else "",
             f"{len(summary['add'])} added" if summary["add"] else "",
             "reordered" if not summary["remove"] and not summary["add"] and list(baseline) != list(current)
             else ""]
    text = ", ".join(p for p in parts if p)
    return f"edited: {text}" if text else ""


def _header(ckpt: Checkpoint, view: state.ViewState, exp: Explanation | None,
            item_map: ItemMap | None) -> None:
    title_col, export_col = st.columns([2.6, 1], vertical_alignment="bottom")
    who = f"user {view.user_id}" if view.user_id is not None else "uploaded history"
    title_col.title(f"{markdown_text(ckpt.name)} · {who}")
    data = ckpt.record.data
    title_col.caption(
        f"{markdown_text(ckpt.path.name)} · weights {ckpt.hash} · {ckpt.model.num_interests} interests · "
        f"reads the last {ckpt.model.max_length} items · data {markdown_text(data.name or '?')}"
    )
    if exp is not None:
        export.render(exp, item_map, export_col)
