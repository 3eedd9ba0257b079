"""Text from data (titles, genres, labels, names, echoed input) made safe for where it is shown, and
shortened: :func:`plot_text` for plotly figures, :func:`markdown_text` for Markdown (the app's captions,
messages and headings).

plotly.js renders a subset of HTML in titles, tick labels, hover and annotation text, so every string that
comes from data (titles, genres, labels) is escaped before it is placed in a figure. Only ``&``, ``<`` and
``>`` are escaped: plotly decodes ``&amp; &lt; &gt;`` but would show ``&quot;`` literally, and without a
``<`` no tag (and so no attribute) can be formed.
"""

from __future__ import annotations

import html
import re

from recviz.viz.style import interest_color


def plot_text(text: object) -> str:
    """``text`` made safe for plotly's pseudo-HTML: shown as written, never interpreted."""
    return html.escape(str(text), quote=False)


_MARKDOWN_ACTIVE = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$:=])")
_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")
_INVISIBLE_BREAK = "\u2060"  # WORD JOINER: invisible, and stops GitHub-style autolinking of bare URLs/e-mails


def markdown_text(text: object) -> str:
    """``text`` shown literally by a Markdown renderer (Streamlit's markdown, captions, messages, labels).

    HTML is escaped (``&``, ``<``, ``>``), every character Markdown or Streamlit give a meaning is
    backslash-escaped (links, images, emphasis, headings, lists, tables, ``$`` maths, ``:`` emoji and
    ``:color[...]`` directives), line breaks become spaces, and bare URLs and e-mail addresses get an
    invisible word joiner so they are not turned into links. A title can never add a link, image or tag.
    """
    flat = " ".join(str(text).splitlines())
    defused = _AUTOLINK.sub(lambda m: m.group(1)[0] + _INVISIBLE_BREAK + m.group(1)[1:], flat)
    return _MARKDOWN_ACTIVE.sub(r"\\\1", html.escape(defused, quote=False))


def shorten(text: str, limit: int = 28) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (cut before escaping, so no entity is split)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def interest_name(k: int) -> str:
    """The short name of interest ``k`` as readers see it (1-based: "Interest 1")."""
    return f"Interest {int(k) + 1}"


def interest_tick(k: int, label: str, limit: int = 30) -> str:
    """An axis label for interest ``k``: a square in its colour, its name and its (escaped) label
    (shortened to ``limit`` characters; ``limit=0`` leaves the label out)."""
    text = plot_text(shorten(label, limit)) if limit > 0 else ""
    return (f'<span style="color:{interest_color(k)}">■</span> <b>{interest_name(k)}</b>'
            + (f" {text}" if text else ""))
