"""The interest map panel: the catalogue's stored UMAP map, the history, the interests (and where they were
before the edit). The figure is ``recviz.viz.figures.interest_map_figure``; UMAP is never fitted here."""

from __future__ import annotations

import streamlit as st

from recviz.explain.types import Explanation
from recviz.ui.loaders import StoredMap
from recviz.viz.figures import interest_map_figure

PLOT_CONFIG = {"displaylogo": False, "scrollZoom": True}


def render(exp: Explanation, stored: StoredMap) -> None:
    st.subheader("Interest map")
    if stored.item_map is None and stored.kind in ("stale", "corrupt"):
        st.warning(f"The stored interest map is {stored.kind} and is not shown: {stored.problem} "
                   "(the app never fits UMAP).", icon=":material/warning:")
        return
    if stored.item_map is None:
        st.info(f"No interest map to place the interests on: {stored.problem} (the app never fits UMAP).",
                icon=":material/map:")
        return
    if not exp.interests:
        st.info("No interests to place: the history is empty.", icon=":material/map:")
        return
    moved = exp.diff is not None and exp.diff.baseline_map_xy is not None
    st.caption("Catalogue items coloured by primary genre; ringed: the history; large markers: the interests"
               + (" (hollow: before the edit)" if moved else "") + ". Scroll to zoom, double-click to reset.")
    figure = interest_map_figure(exp, stored.item_map, catalogue=stored.catalogue or None)
    st.plotly_chart(figure, key="interest_map", config=PLOT_CONFIG)
