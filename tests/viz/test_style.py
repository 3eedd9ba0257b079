"""The shared look: one colour per interest, stable genre colours, one figure style, escaped plot text."""

from __future__ import annotations

import re

import plotly.graph_objects as go

from recviz.viz.style import GENRE_COLORS, INTEREST_COLORS, genre_color, interest_color, style_figure
from recviz.viz.text import interest_tick, plot_text, shorten


def test_interest_colours_are_distinct_hex_and_cycle():
    first = [interest_color(k) for k in range(len(INTEREST_COLORS))]
    assert len(set(first)) == len(INTEREST_COLORS)
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in first)
    assert interest_color(len(INTEREST_COLORS) + 2) == interest_color(2)


def test_genre_colours_are_stable_and_distinct_from_interests():
    assert genre_color("Drama") == GENRE_COLORS["Drama"]
    assert len(set(GENRE_COLORS.values())) == len(GENRE_COLORS)
    assert not set(GENRE_COLORS.values()) & set(INTEREST_COLORS)
    # an unknown genre gets a palette colour that does not depend on the process (no salted hash)
    assert genre_color("Space Opera") == genre_color("Space Opera") in GENRE_COLORS.values()
    assert genre_color("(no genres listed)") == genre_color("") != genre_color("Drama")


def test_style_figure_applies_one_style_and_keeps_a_figure_margin():
    fig = style_figure(go.Figure(go.Bar(x=[1], y=[2])), "A title")
    assert fig.layout.title.text == "A title" and fig.layout.title.x == 0.0
    style = fig.layout.template.layout
    assert "Inter" in style.font.family and style.hoverlabel.bgcolor == "white"
    assert list(style.colorway) == list(INTEREST_COLORS) and not fig.layout.template.data.bar  # slim template
    assert fig.layout.margin.t == 72
    wide = go.Figure()
    wide.update_layout(margin={"b": 99})
    style_figure(wide, "x")
    assert wide.layout.margin.b == 99 and wide.layout.margin.t == 72


def test_plot_text_escapes_markup_but_not_quotes():
    assert plot_text("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    # plotly.js decodes &amp; &lt; &gt; but would print &quot; literally, so quotes stay as they are
    assert plot_text('"quotes" & <b>') == '"quotes" &amp; &lt;b&gt;'
    assert shorten("abcdefghij", 5) == "abcd…" and shorten("abc", 5) == "abc"


def test_interest_tick_carries_the_interest_colour_and_escapes_the_label():
    tick = interest_tick(1, "<i>Comedy</i>")
    assert interest_color(1) in tick and "Interest 2" in tick
    assert "&lt;i&gt;Comedy&lt;/i&gt;" in tick and "<i>" not in tick
    assert interest_tick(0, "anything", 0).endswith("</b>")
