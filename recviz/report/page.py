"""A standalone report page (header, contents, notices, sections, footer) for reports other than the
Explanation's own (comparisons, timelines), in the same look: the skeleton and stylesheet of
:mod:`recviz.report.template`, plotly.js inlined once, every value escaped."""

from __future__ import annotations

from collections.abc import Sequence

from recviz import __version__
from recviz.report.html import esc, plotly_js
from recviz.report.template import CSS, PAGE


def render_page(title: str, brand: str, heading: str, meta: Sequence[tuple[str, object]],
                sections: Sequence[tuple[str, str, str]], notices: Sequence[str] = (),
                footer: str = "") -> str:
    """The page: ``meta`` (label, value) pairs in the header, ``sections`` (anchor, contents title, HTML)
    listed in the contents bar when non-empty; ``notices`` shown above them."""
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in meta)
    toc = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t, html_ in sections if html_)
    notes = ""
    if notices:
        notes = ('<div class="notices" id="notices"><h2>Notices</h2><ul>'
                 + "".join(f"<li>{esc(n)}</li>" for n in notices) + "</ul></div>")
    body = (f'<header class="top"><div class="brand">{esc(brand)}</div><h1>{esc(heading)}</h1>'
            f'<dl class="meta">{items}</dl></header><nav class="toc">{toc}</nav><main>{notes}'
            + "".join(h for _, _, h in sections) + "</main>"
            + f"<footer>recviz {esc(__version__)}{' · ' + esc(footer) if footer else ''}</footer>")
    return PAGE.format(version=esc(__version__), title=esc(title), css=CSS, plotlyjs=plotly_js(), body=body)
