"""The interest health panel: similarity of the interests, their weights, the effective number of
interests and a warning when interests have collapsed into one another."""

from __future__ import annotations

import streamlit as st

from recviz.explain.types import Explanation
from recviz.ui import population
from recviz.ui.interest_map import PLOT_CONFIG
from recviz.viz.figures import interest_weights_figure, similarity_figure
from recviz.viz.tables import interest_table
from recviz.viz.text import markdown_text


def render(exp: Explanation) -> None:
    health = exp.interest_health
    k_count = len(exp.interests)
    if health.collapsed:
        st.warning(f"**Interests have collapsed.** {markdown_text(health.message)}",
                   icon=":material/warning:")
    facts, table_col = st.columns([1, 2.5], gap="medium", vertical_alignment="center")
    facts.metric("Effective interests", f"{health.effective_number:.2f} of {k_count}",
                 help="exp(entropy of the interest weights): K when every interest supplies the same share")
    value, pair = _max_pair(health.similarity)
    facts.metric(f"Most similar pair {pair}", value, help="Cosine similarity of the two closest interests")
    table_col.dataframe(interest_table(exp), hide_index=True, width="stretch", column_config={
        "interest": None, "name": "Interest", "label": "Label",
        "weight": st.column_config.NumberColumn("Weight", format="percent"),
        "entropy": st.column_config.NumberColumn("Entropy", format="%.2f",
                                                 help="Entropy of the interest's attention (nats)"),
        "dominant_genres": "Genres",
        "shift_cosine": None if exp.diff is None else st.column_config.NumberColumn(
            "vs before edit", format="%.3f", help="Cosine of the interest before and after the edit"),
    })
    sim_col, weight_col = st.columns(2, gap="medium")
    with sim_col:
        st.plotly_chart(similarity_figure(exp), key="similarity", config=PLOT_CONFIG)
    with weight_col:
        st.plotly_chart(interest_weights_figure(exp), key="weights", config=PLOT_CONFIG)
    population.against_population(exp)


def _max_pair(similarity: list[list[float]]) -> tuple[str, str]:
    """The largest off-diagonal cosine and its pair, e.g. ("0.95", "(1 & 2)")."""
    pairs = [(similarity[a][b], a, b) for a in range(len(similarity)) for b in range(a + 1, len(similarity))]
    if not pairs:
        return "n/a", ""
    value, a, b = max(pairs)
    return f"{value:.2f}", f"({a + 1} & {b + 1})"
