"""The scenarios panel (sidebar): save the current view under a name, reload or delete a saved one.

Storage is :class:`recviz.ui.scenarios.ScenarioStore` (SQLite, survives restarts). A file that cannot be
read is reported in the panel; damaged rows are listed as "⚠ name (damaged)" next to the healthy ones,
say what is wrong when selected or opened, and can be deleted. Names and messages are shown as plain text
(escaped with :func:`recviz.viz.text.markdown_text`, since st.success/st.error render Markdown; the
selectbox shows its options as plain text already)."""

from __future__ import annotations

import streamlit as st

from recviz.errors import RecvizError
from recviz.ui import state
from recviz.ui.errors import show_error
from recviz.ui.scenarios import Scenario, ScenarioError, ScenarioStore
from recviz.viz.text import markdown_text

NAME_KEY = "scenario_name"
PICK_KEY = "scenario_pick"      # the selected option's label (see labels())
MESSAGE_KEY = "_scenario_message"
GONE = ("the selected scenario is no longer in the scenario file (deleted or overwritten in another tab); "
        "pick one from the list")


def labels(scenarios: list[Scenario]) -> dict[str, Scenario]:
    """One distinct selectbox label per listed scenario: the name, or "⚠ name (damaged)"."""
    out: dict[str, Scenario] = {}
    for scenario in scenarios:
        label = f"⚠ {' '.join(scenario.name.split())} (damaged)" if scenario.damaged else scenario.name
        while label in out:  # only in a damaged or foreign file; the selectbox tells options apart by label
            label = f"{label} (row {scenario.row_id})"
        out[label] = scenario
    return out


def _picked(store: ScenarioStore) -> Scenario:
    scenario = labels(store.list()).get(st.session_state.get(PICK_KEY, ""))
    if scenario is None:
        raise ScenarioError(GONE)
    return scenario


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
        scenario = _picked(store)
        if scenario.problem:
            raise ScenarioError(scenario.problem)
        parsed = state.ViewState.parse(scenario.state, "scenario")  # what is wrong is dropped, then reported
    except RecvizError as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
        return
    state.write_session(parsed.view)
    if parsed.problems:
        st.session_state[MESSAGE_KEY] = ("warning",
                                         f"Opened “{scenario.name}”, without what could not be used: "
                                         + "; ".join(parsed.problems))
    else:
        st.session_state[MESSAGE_KEY] = ("success", f"Opened “{scenario.name}”.")


def _delete(store: ScenarioStore) -> None:
    try:
        scenario = _picked(store)
        store.remove(scenario)
    except RecvizError as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
        return
    st.session_state[MESSAGE_KEY] = ("success", f"Deleted “{scenario.name}”.")
    st.session_state.pop(PICK_KEY, None)


def render(store: ScenarioStore, view: state.ViewState) -> None:
    with st.sidebar.expander("Scenarios", icon=":material/bookmarks:"):
        st.text_input("Name", key=NAME_KEY, placeholder="e.g. user 15 without sci-fi")
        st.button("Save current view", on_click=_save, args=(store, view), key="scenario_save",
                  icon=":material/save:", width="stretch")
        message = st.session_state.pop(MESSAGE_KEY, None)
        try:
            listed = labels(store.list())
        except RecvizError as exc:
            show_error(exc)
            listed = None
            if message and message[1] == str(exc):
                message = None  # a save that failed for the same reason: said once
        if listed:
            if st.session_state.get(PICK_KEY) not in listed:
                st.session_state[PICK_KEY] = next(iter(listed))
            st.selectbox("Saved", list(listed), key=PICK_KEY)
            left, right = st.columns(2)
            left.button("Open", on_click=_load, args=(store,), key="scenario_load",
                        icon=":material/folder_open:", width="stretch")
            right.button("Delete", on_click=_delete, args=(store,), key="scenario_delete",
                         icon=":material/delete:", width="stretch")
            picked = listed[st.session_state[PICK_KEY]]
            damaged = sum(s.damaged for s in listed.values())
            if picked.problem and (message is None or message[1] != picked.problem):
                st.warning(markdown_text(picked.problem), icon=":material/warning:")
            elif damaged and not picked.damaged:
                st.caption(f"{damaged} saved scenario{'s are' if damaged > 1 else ' is'} damaged (marked ⚠): "
                           "select one to see why, then delete it.")
        elif listed is not None:
            st.caption(f"No saved scenarios yet (stored in {markdown_text(store.path)}).")
        if message:
            {"error": st.error, "warning": st.warning}.get(message[0], st.success)(markdown_text(message[1]))
