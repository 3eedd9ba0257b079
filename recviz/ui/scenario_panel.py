"""The scenarios panel (sidebar): save the current view under a name, reload or delete a saved one.

Storage is :class:`recviz.ui.scenarios.ScenarioStore` (SQLite, survives restarts)."""

from __future__ import annotations

import streamlit as st

from recviz.errors import RecvizError
from recviz.ui import state
from recviz.ui.scenarios import ScenarioStore

NAME_KEY = "scenario_name"
PICK_KEY = "scenario_pick"
MESSAGE_KEY = "_scenario_message"


def _save(store: ScenarioStore, view: state.ViewState) -> None:
    try:
        saved = store.save(st.session_state.get(NAME_KEY, ""), view.to_dict())
    except RecvizError as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
        return
    st.session_state[MESSAGE_KEY] = ("success", f"Saved “{saved.name}”.")
    st.session_state[PICK_KEY] = saved.name


def _load(store: ScenarioStore) -> None:
    try:
        scenario = store.get(st.session_state[PICK_KEY])
        view = state.ViewState.from_dict(scenario.state)
    except RecvizError as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
        return
    state.write_session(view)
    st.session_state[MESSAGE_KEY] = ("success", f"Opened “{scenario.name}”.")


def _delete(store: ScenarioStore) -> None:
    name = st.session_state.get(PICK_KEY)
    try:
        store.delete(name)
    except RecvizError as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
        return
    st.session_state[MESSAGE_KEY] = ("success", f"Deleted “{name}”.")
    st.session_state.pop(PICK_KEY, None)


def render(store: ScenarioStore, view: state.ViewState) -> None:
    with st.sidebar.expander("Scenarios", icon=":material/bookmarks:"):
        st.text_input("Name", key=NAME_KEY, placeholder="e.g. user 15 without sci-fi")
        st.button("Save current view", on_click=_save, args=(store, view), key="scenario_save",
                  icon=":material/save:", width="stretch")
        try:
            names = [s.name for s in store.list()]
        except RecvizError as exc:
            st.error(str(exc))
            names = []
        if names:
            if st.session_state.get(PICK_KEY) not in names:
                st.session_state[PICK_KEY] = names[0]
            st.selectbox("Saved", names, key=PICK_KEY)
            left, right = st.columns(2)
            left.button("Open", on_click=_load, args=(store,), key="scenario_load", icon=":material/folder_open:",
                        width="stretch")
            right.button("Delete", on_click=_delete, args=(store,), key="scenario_delete",
                         icon=":material/delete:", width="stretch")
        else:
            st.caption(f"No saved scenarios yet (stored in `{store.path}`).")
        message = st.session_state.pop(MESSAGE_KEY, None)
        if message:
            (st.error if message[0] == "error" else st.success)(message[1])
