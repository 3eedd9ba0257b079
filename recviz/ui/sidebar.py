"""The sidebar: checkpoint, user, list and fusion settings, attribution methods, the item to explain.

Every widget is keyed by ``state.WIDGET_KEYS`` so the view can be written from a link or a scenario. The
recommendation picker is drawn after the explanation exists (its options are the fused list).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import streamlit as st

from recviz.explain.types import Explanation
from recviz.options import FUSIONS, METHODS, TOP_N, Param, fusion_help, methods_help
from recviz.ui import loaders, state
from recviz.viz.style import method_label
from recviz.viz.text import markdown_text

K = state.WIDGET_KEYS


def _keep_valid(key: str, options: Sequence[object], fallback: object) -> None:
    """Before a widget is drawn: replace a value it cannot show (stale link, deleted checkpoint)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = fallback


def _clear_edits() -> None:
    state.set_edits(uploaded=None)
    st.session_state[K["target"]] = None


def _random_user(users: Sequence[int]) -> None:
    st.session_state[K["user_id"]] = random.choice(list(users))
    _clear_edits()


def checkpoint_picker(names: Sequence[str]) -> str:
    """The checkpoint selectbox; returns the chosen directory name."""
    requested = st.session_state.get(K["checkpoint"])
    fallback = loaders.default_checkpoint(names)
    if requested is not None and requested not in names:
        st.error(f"The checkpoint '{markdown_text(str(requested)[:80])}' from the link or scenario "
                 "is not under the models directory; "
                 f"showing {fallback!r} instead.")
    _keep_valid(K["checkpoint"], names, fallback)
    return st.sidebar.selectbox(
        "Checkpoint", names, key=K["checkpoint"], help="Every checkpoint directory under models/ "
        "(or $RECVIZ_MODELS_DIR)", on_change=lambda: st.session_state.__setitem__(K["target"], None),
    )


def user_picker(users: Sequence[int]) -> int | None:
    """Type a user id (the box filters as you type) or draw a random user; changing user drops the edits."""
    requested = st.session_state.get(K["user_id"])
    if requested is not None and requested not in users and st.session_state.get(state.UPLOADED_KEY) is None:
        st.error(f"User {markdown_text(requested)} is not in this checkpoint's data set; "
                 f"showing user {users[0]} instead.")
    uploaded = st.session_state.get(state.UPLOADED_KEY) is not None
    _keep_valid(K["user_id"], [*users, None] if uploaded else users, None if uploaded else users[0])
    left, right = st.sidebar.columns([3, 1], vertical_alignment="bottom")
    user = left.selectbox(
        "User", users, key=K["user_id"], placeholder="uploaded history", on_change=_clear_edits,
        help=f"{len(users):,} users; type an id to jump to it",
    )
    right.button("", icon=":material/casino:", key="random_user", help="A random user", on_click=_random_user,
                 args=(users,), width="stretch")
    return user


def _slider(container, param: Param) -> None:
    """A slider labelled by the setting's descriptor (``recviz.options``) over its one allowed range, which
    every source of settings is validated against, so the value in the session is always one it can show."""
    spec = param.spec
    kind = int if spec.integer else float
    container.slider(param.label, kind(spec.low), kind(spec.high), key=K[param.name], step=kind(spec.step),
                     help=param.help)


def _fusion_label(name: str) -> str:
    return FUSIONS[name].label if name in FUSIONS else name


def settings_panel(model: object | None = None) -> None:
    """Top-N, fusion mode with its parameters, the attribution methods, and "show already-seen items": every
    option, label, help and range is its descriptor's (``recviz.options.FUSIONS`` / ``METHODS``). The
    fusions offered are those ``model`` supports (the ``model`` fusion needs its own interest weights)."""
    side = st.sidebar
    _slider(side, TOP_N)
    fusions = [name for name, f in FUSIONS.items() if model is None or f.supports(model)]
    _keep_valid(K["fusion"], fusions, state.ViewState().fusion)  # a segmented control can be clicked off
    fusion = side.segmented_control("Fusion", fusions, key=K["fusion"], format_func=_fusion_label,
                                    help=fusion_help(), width="stretch")
    for param in FUSIONS[fusion].params if fusion in FUSIONS else ():
        _slider(side, param)
    side.multiselect("Attribution methods", list(METHODS), key=K["methods"], format_func=method_label,
                     help="How much each history item drives the explained recommendation. " + methods_help())
    side.toggle("Show already-seen items", key=K["show_seen"],
                help="Off (the default, as in evaluation): no list shows an item of the whole history, "
                     "even one older than the part the model reads. On: history items may be recommended, as "
                     "`recviz evaluate --include-history` / `recviz explain --include-history` do.")


def target_picker(container, exp: Explanation) -> None:  # container: a st.sidebar slot
    """Which recommendation the attribution panel explains (None = the top fused item)."""
    options = [item.item_id for item in exp.fused]
    labels = {item.item_id: f"#{item.rank} {item.title}" for item in exp.fused}
    chosen = st.session_state.get(K["target"])
    if chosen is not None and chosen not in labels:
        options.append(chosen)  # an item that left the list after an edit stays explainable
        labels[chosen] = f"{exp.item_title(chosen)} (not in the list now)"
    _keep_valid(K["target"], [*options, None], None)
    container.selectbox("Recommendation to explain", options, key=K["target"], format_func=labels.__getitem__,
                        placeholder="The top recommendation", help="The item the Attributions panel explains")


