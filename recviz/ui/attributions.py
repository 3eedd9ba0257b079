"""The attributions panel: for the chosen recommendation, a bar per history item for each method, and the
deletion curves (with the verdict table) that say which method to trust."""

from __future__ import annotations

import streamlit as st

from recviz.explain.types import Explanation
from recviz.ui import counterfactual
from recviz.ui.interest_map import PLOT_CONFIG
from recviz.viz.figures import attribution_figure, faithfulness_figure
from recviz.viz.tables import faithfulness_table


def render(exp: Explanation, methods: tuple[str, ...]) -> None:
    targets = exp.explained_targets()
    if not methods:
        st.info("Choose at least one attribution method in the sidebar.", icon=":material/tune:")
        return
    if not targets:
        st.info("No recommendation was explained (the history is empty or the list is empty).")
        return
    target = targets[0]
    left, right = st.columns([1, 1])
    with left:
        st.plotly_chart(attribution_figure(exp, target, methods), key="attribution", config=PLOT_CONFIG)
    with right:
        st.plotly_chart(faithfulness_figure(exp, target), key="faithfulness", config=PLOT_CONFIG)
        table = faithfulness_table(exp, target)
        if len(table):
            st.dataframe(table, hide_index=True, width="stretch", column_config={
                "method": "Method", "targets": None,
                "area": st.column_config.NumberColumn("Deletion area", format="%.3f"),
                "random_area": st.column_config.NumberColumn("Random", format="%.3f"),
                "gain": st.column_config.NumberColumn("Gain over random", format="percent"),
                "verdict": "Verdict",
            })
        counterfactual.render_check(exp)
