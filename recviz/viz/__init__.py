"""recviz.viz: pure functions from an Explanation to plotly figures and pandas tables (no Streamlit)."""

from recviz.viz.figures import (
    attention_heatmap,
    attribution_figure,
    faithfulness_figure,
    interest_map_figure,
    interest_weights_figure,
    message_figure,
    similarity_figure,
)
from recviz.viz.style import INTEREST_COLORS, interest_color, style_figure
from recviz.viz.tables import (
    faithfulness_table,
    fused_table,
    history_table,
    interest_table,
    left_items_table,
    per_interest_table,
)

__all__ = [
    "INTEREST_COLORS",
    "attention_heatmap",
    "attribution_figure",
    "faithfulness_figure",
    "faithfulness_table",
    "fused_table",
    "history_table",
    "interest_color",
    "interest_map_figure",
    "interest_table",
    "interest_weights_figure",
    "left_items_table",
    "message_figure",
    "per_interest_table",
    "similarity_figure",
    "style_figure",
]
