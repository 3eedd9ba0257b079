"""The history editor: the history as a table, and remove / move / add-by-title / reset / upload.

Each action appends a :class:`~recviz.explain.edits.HistoryEdit` in a button callback, so the rerun that
follows already recomputes with the edited history. Uploads replace the starting history after validation.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from recviz.data import Catalogue, Vocab
from recviz.errors import RecvizError, UnknownItemError
from recviz.explain.edits import NO_EDITS, HistoryEdit
from recviz.explain.types import Explanation
from recviz.ui import state
from recviz.ui.uploads import parse_history_file
from recviz.viz.style import interest_color
from recviz.viz.tables import history_table
from recviz.viz.text import interest_name, markdown_text

UPLOAD_KEY = "history_upload"
UPLOAD_ERROR_KEY = "_upload_error"
UPLOAD_NOTE_KEY = "_upload_note"
SEARCH_KEY = "add_search"
PICK_KEY = "add_pick"
MOVE_KEY = "move_to"


def table_key() -> str:
    """The history table's key: a new one for every history (checkpoint, user, upload, edits), so a row
    selection never outlives the rows it was made on."""
    ss = st.session_state
    shown = (ss.get(state.WIDGET_KEYS["checkpoint"]), ss.get(state.WIDGET_KEYS["user_id"]),
             ss.get(state.UPLOADED_KEY), ss.get(state.EDITS_KEY, NO_EDITS))
    return f"history_table_{hash(shown) & 0xFFFFFFFF:08x}"


def selected_ids(item_ids: Sequence[int]) -> list[int]:
    event = st.session_state.get(table_key())
    rows = event["selection"]["rows"] if event else []
    return [int(item_ids[r]) for r in rows if 0 <= r < len(item_ids)]


def _remove(item_ids: Sequence[int]) -> None:
    for item in dict.fromkeys(selected_ids(item_ids)):  # removing an item removes every occurrence of it
        state.push_edit(HistoryEdit("remove", item))


def _move(item_ids: Sequence[int], offset: int) -> None:
    chosen = selected_ids(item_ids)
    if len(chosen) == 1:
        state.push_edit(HistoryEdit("move", chosen[0], offset + int(st.session_state[MOVE_KEY]) - 1))


def _add(catalogue: Catalogue) -> None:
    item = st.session_state.get(PICK_KEY)
    if item is not None and item in catalogue:
        state.push_edit(HistoryEdit("add", int(item)))
        st.session_state[SEARCH_KEY] = ""


def _reset() -> None:
    state.set_edits()
    st.session_state.pop(UPLOAD_ERROR_KEY, None)


def _upload(vocab: Vocab, max_length: int) -> None:
    """Parse and check an uploaded history; a bad file leaves the current history as it was."""
    st.session_state.pop(UPLOAD_ERROR_KEY, None)
    st.session_state.pop(UPLOAD_NOTE_KEY, None)
    file = st.session_state.get(UPLOAD_KEY)
    if file is None or not hasattr(file, "getvalue"):  # cleared, or Streamlit's DeletedFile placeholder
        return
    try:
        ids = parse_history_file(file.name, file.getvalue())
        unknown = [i for i in dict.fromkeys(ids) if i not in vocab]
        if unknown:
            raise UnknownItemError(unknown, hint=f"{file.name} names items this model was not trained on; "
                                                 "remove them or pick another checkpoint")
    except RecvizError as exc:
        st.session_state[UPLOAD_ERROR_KEY] = str(exc)
        return
    state.set_edits(uploaded=tuple(ids))
    st.session_state[state.WIDGET_KEYS["user_id"]] = None
    if len(ids) > max_length:
        st.session_state[UPLOAD_NOTE_KEY] = (
            f"{file.name}: {len(ids)} items; the model reads at most {max_length}, so only the most recent "
            f"{max_length} are used and the {len(ids) - max_length} oldest are ignored.")


def styled(table: pd.DataFrame) -> pd.io.formats.style.Styler | pd.DataFrame:
    """Colour each row's top-interest cell with that interest's colour (the colour used in every panel)."""
    if table["top_interest"].isna().all():
        return table.drop(columns=["top_interest", "attention"])
    shown = table.assign(top_interest=[None if pd.isna(k) else interest_name(int(k))
                                       for k in table["top_interest"]])
    colours = [None if pd.isna(k) else interest_color(int(k)) for k in table["top_interest"]]
    return shown.style.apply(
        lambda _: [f"color: {c}; font-weight: 600" if c else "" for c in colours], subset=["top_interest"]
    )


def edit_state() -> tuple:
    """What the page was computed for: the edits and the uploaded history."""
    return (st.session_state.get(state.EDITS_KEY, NO_EDITS), st.session_state.get(state.UPLOADED_KEY))


@st.fragment
def render(exp: Explanation | None, catalogue: Catalogue, vocab: Vocab, max_length: int,
           history_length: int, changes: str, page_state: tuple) -> None:
    """Draw the editor. ``history_length``: items in the edited history (the model reads the last
    ``max_length``); ``changes``: a one-line summary of the edits against the real history;
    ``page_state``: :func:`edit_state` when the page was drawn.

    A fragment: ticking rows or typing a search reruns only the editor; an edit reruns the whole page at
    once (the buttons' callbacks have already run), without drawing the editor for the old history first.
    """
    if edit_state() != page_state:
        st.rerun()
    st.subheader("History")
    window = min(history_length, max_length)
    note = f"{history_length:,} items, oldest first"
    if history_length > max_length:
        note += f"; the model reads the most recent {max_length}, the table shows those"
    st.caption(note + (f" · **{changes}**" if changes else ""))

    item_ids: list[int] = []
    if exp is not None and exp.history:
        table = history_table(exp)
        item_ids = table["item_id"].astype(int).tolist()
        st.dataframe(
            styled(table), key=table_key(), on_select="rerun", selection_mode="multi-row", hide_index=True,
            height=min(38 + 35 * len(table), 360), width="stretch",
            column_config={
                "position": st.column_config.NumberColumn("#", width=40),
                "item_id": st.column_config.NumberColumn("id", width=60),
                "title": st.column_config.TextColumn("Title", width="large"),
                "genres": st.column_config.TextColumn("Genres", width="medium"),
                "date": st.column_config.TextColumn("Date", width=90),
                "top_interest": st.column_config.TextColumn("Top interest", width=95),
                "attention": st.column_config.ProgressColumn("Attention", min_value=0.0, max_value=1.0,
                                                              format="%.2f", width=90),
                "status": st.column_config.TextColumn("Edit", width=60),
            },
        )
    chosen = selected_ids(item_ids)
    offset = history_length - window

    if st.session_state.get(MOVE_KEY, 1) > max(window, 1):
        st.session_state[MOVE_KEY] = max(window, 1)
    cols = st.columns([1.3, 1, 1.2, 1], vertical_alignment="bottom")
    cols[0].button("Remove", icon=":material/delete:", help="Remove the selected rows",
                   disabled=not chosen, on_click=_remove, args=(item_ids,), width="stretch", key="remove_btn")
    cols[1].number_input("Move to #", 1, max(window, 1), key=MOVE_KEY, disabled=len(chosen) != 1,
                         help="New position of the selected item (1 = oldest)")
    cols[2].button("Move", icon=":material/swap_vert:", disabled=len(chosen) != 1, on_click=_move,
                   args=(item_ids, offset), width="stretch", key="move_btn")
    cols[3].button("Reset", icon=":material/restart_alt:", on_click=_reset, width="stretch", key="reset_btn",
                   help="Back to the real history (or the uploaded one)",
                   disabled=not st.session_state.get(state.EDITS_KEY))
    if not chosen and item_ids:
        st.caption("Select rows (the boxes on the left) to remove or move them.")

    _add_box(catalogue)
    _upload_box(vocab, max_length)


def _add_box(catalogue: Catalogue) -> None:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    query = left.text_input("Add an item", key=SEARCH_KEY, placeholder="search titles, e.g. matrix")
    hits = catalogue.search(query, limit=25) if query else []
    if query and not hits:
        left.caption(f"No title in this model's catalogue contains “{markdown_text(query)}”.")
    if hits:
        options = [item.item_id for item in hits]
        if st.session_state.get(PICK_KEY) not in options:
            st.session_state[PICK_KEY] = options[0]
        titles = {item.item_id: f"{item.title} · {', '.join(item.genres)}" for item in hits}
        left.selectbox("Matches", options, key=PICK_KEY, format_func=titles.__getitem__,
                       label_visibility="collapsed")
    right.button("Add", icon=":material/add:", disabled=not hits, on_click=_add, args=(catalogue,),
                 width="stretch", key="add_btn", help="Append as the most recent item")


def _upload_box(vocab: Vocab, max_length: int) -> None:
    st.file_uploader(
        "Upload a history (CSV or JSON of item ids, oldest first)", type=["csv", "json", "txt"],
        key=UPLOAD_KEY, on_change=_upload, args=(vocab, max_length),
        help='JSON: [1, 32, 260] or {"history": [...]}; CSV: an item_id column or one id a line',
    )
    if st.session_state.get(UPLOAD_ERROR_KEY):
        st.error(f"**The upload was not used.**  \n{markdown_text(st.session_state[UPLOAD_ERROR_KEY])}",
                 icon=":material/error:")
    if st.session_state.get(UPLOAD_NOTE_KEY):
        st.warning(markdown_text(st.session_state[UPLOAD_NOTE_KEY]), icon=":material/content_cut:")
