"""One look for every figure: the interest colours, the genre palette of the map and one figure style.

Interest ``k`` has the same colour in every panel and in the report, so a reader can follow an interest
from the map to the attention heatmap to the recommendation lists. Both palettes are colour-blind safe
(Okabe–Ito for interests, Paul Tol's muted and light schemes for genres).
"""

from __future__ import annotations

import zlib

import plotly.graph_objects as go

from recviz.options import ATTENTION, INTEGRATED_GRADIENTS, OCCLUSION
from recviz.options import method_label as _descriptor_label

# Okabe & Ito (2008), ordered so that the first interests get the most distinct hues; yellow comes last
# because it is weakest on white.
INTEREST_COLORS: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)

# Paul Tol's muted + light schemes; genres ordered by how common they are in MovieLens, so the common ones
# get the most distinct colours. Unknown genres get a stable colour from the same palette.
_GENRE_PALETTE: tuple[str, ...] = (
    "#88CCEE", "#CC6677", "#DDCC77", "#117733", "#332288", "#AA4499", "#44AA99", "#999933",
    "#882255", "#661100", "#6699CC", "#EE8866", "#BBCC33", "#FFAABB", "#77AADD", "#AAAA00",
    "#99DDFF", "#44BB99", "#EEDD88",
)
_KNOWN_GENRES: tuple[str, ...] = (
    "Drama", "Comedy", "Thriller", "Action", "Romance", "Adventure", "Crime", "Sci-Fi", "Horror",
    "Fantasy", "Children", "Animation", "Mystery", "Documentary", "War", "Musical", "Western", "IMAX",
    "Film-Noir",
)
GENRE_COLORS: dict[str, str] = dict(zip(_KNOWN_GENRES, _GENRE_PALETTE, strict=True))
NO_GENRE_COLOR = "#BBBBBB"

# Attribution methods and the random baseline: hues unlike the interest colours, so a method is never
# mistaken for an interest.
# (The methods' names and labels are their descriptors', recviz.options.METHODS.)
RANDOM_BASELINE = "random"
METHOD_COLORS: dict[str, str] = {
    INTEGRATED_GRADIENTS.name: "#332288",
    OCCLUSION.name: "#44AA99",
    ATTENTION.name: "#AA4499",
    RANDOM_BASELINE: "#888888",
}
RANDOM_LABEL = "Random order (mean)"

FONT_FAMILY = "Inter, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
TEXT_COLOR = "#1F2937"
MUTED_COLOR = "#6B7280"
GRID_COLOR = "#E5E7EB"
FIGURE_MARGIN: dict[str, int] = {"l": 16, "r": 16, "t": 72, "b": 16}
ATTENTION_SCALE = "Blues"          # sequential, one hue: more attention = darker
SIMILARITY_SCALE = "RdBu_r"        # diverging around 0 for cosine similarity


# A slim template (plotly_white's look, none of its per-trace defaults): cheap to apply and small in the
# report's JSON, where every figure carries its template.
TEMPLATE = go.layout.Template(layout={
    "font": {"family": FONT_FAMILY, "size": 12, "color": TEXT_COLOR},
    "paper_bgcolor": "white", "plot_bgcolor": "white", "hovermode": "closest",
    "hoverlabel": {"align": "left", "bgcolor": "white", "bordercolor": "#D1D5DB",
                   "font": {"family": FONT_FAMILY, "size": 12}},
    "xaxis": {"gridcolor": GRID_COLOR, "linecolor": GRID_COLOR, "zerolinecolor": "#D1D5DB", "ticks": "",
              "automargin": True, "title": {"standoff": 12}},
    "yaxis": {"gridcolor": GRID_COLOR, "linecolor": GRID_COLOR, "zerolinecolor": "#D1D5DB", "ticks": "",
              "automargin": True, "title": {"standoff": 12}},
    "colorway": list(INTEREST_COLORS),
})


def interest_color(k: int) -> str:
    """The colour of interest ``k`` (0-based) everywhere; cycles after eight interests."""
    return INTEREST_COLORS[int(k) % len(INTEREST_COLORS)]


def genre_color(genre: str) -> str:
    """The map colour of a primary genre; stable across runs and processes (no Python ``hash``)."""
    if genre in GENRE_COLORS:
        return GENRE_COLORS[genre]
    if not genre or genre.startswith("("):
        return NO_GENRE_COLOR
    return _GENRE_PALETTE[zlib.crc32(genre.encode("utf-8")) % len(_GENRE_PALETTE)]


def method_color(method: str) -> str:
    return METHOD_COLORS.get(method, MUTED_COLOR)


def method_label(method: str) -> str:
    """A method's label from its descriptor (and the random baseline's, which is no method)."""
    return RANDOM_LABEL if method == RANDOM_BASELINE else _descriptor_label(method)


LEGEND_STYLE: dict[str, object] = {"bgcolor": "rgba(255,255,255,0.85)", "bordercolor": GRID_COLOR,
                                   "borderwidth": 1}


def _title(title: str) -> dict[str, object]:
    return {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 16, "color": TEXT_COLOR}}


def style_figure(fig: go.Figure, title: str) -> go.Figure:
    """Apply the one recviz figure style (font, margins, template, hover label) and a left-aligned title.
    Margins a figure set itself (room for a legend) are kept.

    ``title`` is rendered by plotly as pseudo-HTML: pass data strings through
    :func:`recviz.viz.text.plot_text` before putting them in it.
    """
    margin = {side: px for side, px in FIGURE_MARGIN.items() if getattr(fig.layout.margin, side) is None}
    fig.update_layout(template=TEMPLATE, title=_title(title), margin=margin, legend=LEGEND_STYLE)
    return fig


def styled_layout(title: str, **layout: object) -> dict[str, object]:
    """The layout :func:`style_figure` gives, as a plain dict with ``layout`` merged in (its margins and
    legend settings win), for a figure built in one step (``go.Figure({"data": ..., "layout": ...})``,
    several times faster than building it trace by trace and updating its layout)."""
    margin = {**FIGURE_MARGIN, **layout.pop("margin", {})}  # type: ignore[dict-item]
    legend = {**LEGEND_STYLE, **layout.pop("legend", {})}  # type: ignore[dict-item]
    return {**layout, "template": TEMPLATE, "title": _title(title), "margin": margin, "legend": legend}
