"""Reading a rendered report back: the tags, script bodies, figure ids and visible text (shared by the
report tests; a uniquely named module so it never clashes with another test directory's helpers)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

FIGURE_SCRIPT = re.compile(
    r'\(function\(\)\{var s=(\{.*\});'
    r'Plotly\.newPlot\("([a-z0-9-]+)",s\.data,s\.layout,\{[^{}<]*\}\);\}\)\(\);',
    re.S)
OUR_TAGS = {"html", "head", "meta", "title", "style", "script", "body", "header", "div", "h1", "h2", "h3",
            "h4", "dl", "dt", "dd", "nav", "a", "main", "section", "p", "table", "thead", "tbody", "tr", "th",
            "td", "span", "ul", "li", "footer", "code", "details", "summary"}


class Page(HTMLParser):
    """Collects tags, script bodies, figure div ids and the visible text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.scripts: list[str] = []
        self.figure_ids: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in = tag
        attrs = dict(attrs)
        if tag == "div" and attrs.get("class") == "figure":
            self.figure_ids.append(attrs["id"])
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in != "style":
            self.text.append(data)
