"""The data set page: the statistics ``recviz data info`` prints, and one user's history with titles.

It needs no model, so it is what a fresh clone shows before any checkpoint exists.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recviz.data import Dataset, dataset_info
from recviz.ui import loaders
from recviz.ui.errors import guarded
from recviz.viz.text import markdown_text

USER_KEY = "w_data_user"


def page() -> None:
    path = loaders.default_data_dir()
    st.title("Data set")
    data = guarded("Could not read the data set", loaders.dataset, str(path))
    if data is None:
        st.caption(f"Looked in {markdown_text(path)}; set {loaders.DATA_ENV} to another data directory.")
        return
    info = dataset_info(data)
    st.caption(f"**{markdown_text(info.name)}** · {info.format} · {markdown_text(info.source)} · "
               f"another data set: set {loaders.DATA_ENV}")
    cols = st.columns(4)
    cols[0].metric("Users", f"{info.users:,}")
    cols[1].metric("Items rated", f"{info.items:,}", help=f"{info.catalogue_items:,} in the catalogue")
    cols[2].metric("Interactions", f"{info.interactions:,}")
    cols[3].metric("Time span", f"{info.first_date[:4]}–{info.last_date[:4]}" if info.first_date else "n/a",
                   help=(f"{info.first_date} to {info.last_date}" if info.first_date
                         else "Timestamps are not dates"))
    for note in info.notes:
        st.info(note)

    left, right = st.columns(2)
    with left:
        st.subheader("Interactions per user")
        quantiles = pd.DataFrame({"quantile": list(info.sequence_lengths),
                                  "interactions": [int(v) for v in info.sequence_lengths.values()]})
        st.dataframe(quantiles, hide_index=True, width="stretch")
        if info.ratings:
            st.subheader("Ratings")
            ratings = pd.DataFrame({"rating": list(info.ratings), "count": list(info.ratings.values())})
            st.bar_chart(ratings, x="rating", y="count", height=220)
    with right:
        st.subheader("Items per genre")
        genres = pd.DataFrame({"genre": list(info.genres), "items": list(info.genres.values())})
        st.bar_chart(genres, x="genre", y="items", horizontal=True, height=60 + 22 * len(genres),
                     sort="-items")

    _user_history(data, real_dates=info.first_date is not None)


def _user_history(data: Dataset, real_dates: bool) -> None:
    st.subheader("A user's history")
    users = data.user_ids()
    if USER_KEY not in st.session_state or st.session_state[USER_KEY] not in users:
        st.session_state[USER_KEY] = users[0]
    user = st.selectbox("User", users, key=USER_KEY)
    frame = data.interactions[data.interactions["user_id"] == user]
    frame = frame.sort_values("timestamp", kind="stable")
    catalogue = data.catalogue
    table = pd.DataFrame({
        "date": (pd.to_datetime(frame["timestamp"], unit="s", utc=True).dt.strftime("%Y-%m-%d") if real_dates
                 else frame["timestamp"].astype(str)),
        "item_id": frame["item_id"].to_numpy(),
        "title": [catalogue.title(i) for i in frame["item_id"]],
        "genres": [", ".join(catalogue.genres(i)) for i in frame["item_id"]],
        "rating": frame["rating"].to_numpy(),
    })
    st.caption(f"{len(table):,} interactions, oldest first")
    st.dataframe(table, hide_index=True, width="stretch", height=360)
