"""The counterfactual panel: what removal drops the chosen recommendation out of the top-N, and why an item
is not recommended and which additions bring it in; plus the counterfactual check of the attribution
methods drawn beside the deletion curves.

Every result comes from :mod:`recviz.explain.counterfactual` (verified by re-scoring) on the history on
screen, is computed on a click and kept per view in the session. "Apply this edit" pushes the edit's
operations onto the history editor's edits, which shows them and undoes them (Reset).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from recviz.config import SearchBudget
from recviz.errors import RecvizError
from recviz.explain import counterfactual as cf
from recviz.explain.attributions import supports
from recviz.explain.types import Counterfactual, Explanation, WhyNot
from recviz.models.checkpoint import Checkpoint
from recviz.options import METHODS
from recviz.ui import loaders, state
from recviz.ui.errors import show_error
from recviz.ui.interest_map import PLOT_CONFIG
from recviz.viz import counterfactual as cf_viz
from recviz.viz.style import method_label
from recviz.viz.text import interest_name, markdown_text

RESULTS_KEY = "_counterfactuals"   # session: (kind, view, ...) -> a result, or the RecvizError it raised
MAX_RESULTS = 16
METHOD_KEY = "cf_method"
SIZE_KEY = "cf_max_size"
CANDIDATES_KEY = "cf_max_candidates"
QUERY_KEY = "cf_why_not_query"
PICK_KEY = "cf_why_not_pick"
_DEFAULT = cf.DEFAULT_BUDGET


def _checkpoint(view: state.ViewState) -> Checkpoint:
    return loaders.checkpoint(loaders.checkpoint_paths()[view.checkpoint])


def _history(ckpt: Checkpoint, view: state.ViewState) -> list[int]:
    """The whole edited history on screen (the model's window is only its end)."""
    user = view.user_id if view.uploaded is None else None
    return cf.current_history(ckpt, user, view.edits, start=view.uploaded)


def _remember(key: tuple, compute) -> Any:
    """``compute()`` once per key (its RecvizError kept as the result, so the message stays on screen)."""
    results: dict[tuple, Any] = st.session_state.setdefault(RESULTS_KEY, {})
    if key not in results:
        try:
            results[key] = compute()
        except RecvizError as exc:
            results[key] = exc
        while len(results) > MAX_RESULTS:
            results.pop(next(iter(results)))
    return results[key]


def _stored(key: tuple) -> Any:
    return st.session_state.get(RESULTS_KEY, {}).get(key)


def _apply(result: Counterfactual) -> None:
    """Push the edit as history edit operations and keep explaining its item (now out of, or in, the list)."""
    for op in cf.edits_of(result).ops:
        state.push_edit(op)
    st.session_state[state.WIDGET_KEYS["target"]] = result.item_id


def render(exp: Explanation, view: state.ViewState) -> None:
    if exp.fallback is not None or not exp.history:
        st.info("The history is empty, so the list is a popularity fallback: there is no edit of the history "
                "to search. Add items first.", icon=":material/info:")
        return
    ckpt = _checkpoint(view)
    with st.expander("Search budget", icon=":material/tune:"):
        left, right = st.columns(2)
        size = left.number_input("Items per edit, at most", 1, 20, _DEFAULT.max_size, key=SIZE_KEY)
        tried = right.number_input("Edits re-scored, at most", 10, 2000, _DEFAULT.max_candidates, step=10,
                                   key=CANDIDATES_KEY)
    budget = SearchBudget(int(size), int(tried))
    removal, why = st.columns(2, gap="large")
    with removal:
        _removal_panel(exp, view, ckpt, budget)
    with why:
        _why_not_panel(exp, view, ckpt, budget)


def _removal_panel(exp: Explanation, view: state.ViewState, ckpt: Checkpoint, budget: SearchBudget) -> None:
    item = view.target if view.target is not None else exp.fused[0].item_id if exp.fused else None
    st.markdown("##### What removal drops it?")
    if item is None:
        st.caption("There is no recommendation to drop.")
        return
    listed = {f.item_id: f.rank for f in exp.fused}
    where = f"#{listed[item]}" if item in listed else f"not in the top {exp.fusion.top_n} now"
    st.caption(f"The fewest history items whose removal drops **{markdown_text(exp.item_title(item))}** "
               f"({where}; pick another in the sidebar) out of the top {exp.fusion.top_n}. Candidates are "
               "the items the method credits most; every edit tried is re-scored.")
    methods = [m for m in dict.fromkeys([*view.methods, *METHODS]) if supports(ckpt.model, m)]
    method = st.selectbox("Candidates ordered by", methods, key=METHOD_KEY, format_func=method_label)
    key = ("remove", view, item, method, budget)
    if st.button("Find the smallest removal", icon=":material/search:", key="cf_find", type="primary"):
        _remember(key, lambda: cf.find_removal(ckpt, _history(ckpt, view), item, view.settings(),
                                               method=method, budget=budget))
    result = _stored(key)
    if isinstance(result, RecvizError):
        show_error(result, "No counterfactual for this item")
    elif result is not None:
        _show(result, "cf_apply")


def _why_not_panel(exp: Explanation, view: state.ViewState, ckpt: Checkpoint, budget: SearchBudget) -> None:
    st.markdown("##### Why not…?")
    query = st.text_input("An item that is not recommended", key=QUERY_KEY,
                          placeholder="a title (e.g. matrix) or an item id")
    item = _pick(ckpt, query)
    if item is None:
        st.caption("Its rank in each interest's list and in the fused list, the closest interest, and the "
                   "fewest additions of nearby items that bring it into the list.")
        return
    key = ("why_not", view, item, budget)
    if st.button("Why not?", icon=":material/help:", key="cf_why_not", type="primary"):
        _remember(key, lambda: cf.why_not(ckpt, _history(ckpt, view), item, view.settings(), budget=budget))
    result = _stored(key)
    if isinstance(result, RecvizError):
        show_error(result, "Cannot answer why not")
    elif result is not None:
        _show_why_not(result)


def _pick(ckpt: Checkpoint, query: str) -> int | None:
    """The item the query names: an id as typed (checked by the search), or one of the titles matching it."""
    text = (query or "").strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    hits = ckpt.catalogue.search(text, limit=25)
    if not hits:
        st.caption(f"No title in this model's catalogue contains “{markdown_text(text)}”.")
        return None
    options = [h.item_id for h in hits]
    if st.session_state.get(PICK_KEY) not in options:
        st.session_state[PICK_KEY] = options[0]
    titles = {h.item_id: f"{h.title} · {', '.join(h.genres)}" for h in hits}
    return st.selectbox("Matches", options, key=PICK_KEY, format_func=titles.__getitem__,
                        label_visibility="collapsed")


def _show(result: Counterfactual, apply_key: str) -> None:
    """The verdict, the edit, the ranks before and after, and "Apply this edit" when one was found."""
    if result.found:
        st.success(markdown_text(result.message), icon=":material/check_circle:")
    else:
        st.warning(markdown_text(result.message), icon=":material/hourglass_disabled:")
    if result.items:
        st.dataframe(cf_viz.edit_table(result), hide_index=True, width="stretch", column_config={
            "step": st.column_config.NumberColumn("#", width=40), "item_id": "id", "title": "Title"})
    st.dataframe(cf_viz.rank_change_table(result), hide_index=True, width="stretch", column_config={
        "list": "List", "before": "Rank before", "after": "Rank after"})
    if result.found:
        st.button("Apply this edit", icon=":material/done_all:", key=apply_key, on_click=_apply,
                  args=(result,), help="Make this edit in the history editor (Reset there undoes it)")


def _show_why_not(result: WhyNot) -> None:
    where = f"#{result.fused_rank}" if result.fused_rank else "beyond the diverse list"
    st.markdown(f"**{markdown_text(result.additions.title)}** is {where} in the fused list; the closest "
                f"interest is **{interest_name(result.closest_interest)}**.")
    st.dataframe(cf_viz.why_not_table(result), hide_index=True, width="stretch", column_config={
        "interest": None, "name": "Interest", "rank": "Rank in its list",
        "score": st.column_config.NumberColumn("Score", format="%.3f"),
        "cosine": st.column_config.NumberColumn("Cosine", format="%.3f"),
        "closest": st.column_config.CheckboxColumn("Closest")})
    _show(result.additions, "cf_apply_add")


def render_check(exp: Explanation) -> None:
    """Beside the deletion curves: how often each method's top-k items form a counterfactual (this user's
    top recommendations), against random items; computed on a click."""
    view = state.read_session()
    if exp.fallback is not None or not exp.history or not view.methods:
        return
    key = ("check", view)
    result = _stored(key)
    if result is None:
        st.button("Check the methods with counterfactuals", icon=":material/fact_check:", key="cf_check",
                  on_click=_check, args=(key, view),
                  help="Remove each method's top 1, 3 and 5 items for each of the top 5 recommendations: how "
                       "often does the item leave the list? Random items are the reference.")
    elif isinstance(result, RecvizError):
        show_error(result, "The counterfactual check failed")
    else:
        st.plotly_chart(cf_viz.check_figure(result), key="cf_check_figure", config=PLOT_CONFIG)


def _check(key: tuple, view: state.ViewState) -> None:
    ckpt = _checkpoint(view)
    _remember(key, lambda: cf.counterfactual_check(ckpt, [_history(ckpt, view)], view.settings()))
