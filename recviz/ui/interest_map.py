"""The interest map panel: the catalogue's stored UMAP map, the history, the recommendations, the interests
(and where they were before the edit). The figure is ``recviz.viz.figures.interest_map_figure`` over the
map's catalogue picture (``loaders.StoredMap.raster``: drawn once per map, a static file the browser caches),
so a view sends and draws only a small SVG overlay; UMAP is never fitted here."""

from __future__ import annotations

import streamlit as st

from recviz.explain.types import Explanation
from recviz.ui.loaders import StoredMap
from recviz.viz.figures import CatalogueRaster, interest_map_figure
from recviz.viz.text import markdown_text

PLOT_CONFIG = {"displaylogo": False, "scrollZoom": True}
KEY_GENRES = 12  # genres named in the colour key; the rest are "other genres"


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
    st.caption("Catalogue items coloured by primary genre; ringed: the history; stars: the recommendations, "
               "in their interest's colour; large markers: the interests"
               + (" (hollow: before the edit)" if moved else "") + ". Scroll to zoom, double-click to reset.")
    figure = interest_map_figure(exp, stored.item_map, catalogue=stored.raster)
    st.plotly_chart(figure, key="interest_map", config=PLOT_CONFIG)
    if stored.raster is not None:
        st.markdown(genre_key(stored.raster), unsafe_allow_html=True)


def genre_key(raster: CatalogueRaster) -> str:
    """The catalogue picture's colour key (HTML, names escaped): the most common genres, then the rest."""
    shown = [f'<span style="color:{colour}">●</span>&nbsp;{markdown_text(genre)}'
             for genre, colour, _ in raster.genres[:KEY_GENRES]]
    rest = len(raster.genres) - KEY_GENRES
    more = f" · {rest} other genres" if rest > 0 else ""
    return f'<span style="font-size:0.85em">Primary genre: {" · ".join(shown)}{more}</span>'

