"""The attention panel: interests × history items, one colour per interest on the axis."""

from __future__ import annotations

import streamlit as st

from recviz.explain.types import Explanation
from recviz.ui.interest_map import PLOT_CONFIG
from recviz.viz.figures import attention_heatmap


def render(exp: Explanation) -> None:
    st.caption("How much each interest reads each history item; each row sums to 1.")
    st.plotly_chart(attention_heatmap(exp), key="attention", config=PLOT_CONFIG)
