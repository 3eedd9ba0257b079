"""Text stays text: titles, genres, labels, scenario names and echoed link text cannot add Markdown links,
images, emphasis or HTML to the app. Checked by rendering what the app sends with a CommonMark renderer."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from ui_helpers import as_read, assert_healthy, new_app

from recviz.viz.text import markdown_text

HOSTILE = [
    "[click me](http://evil.example/phish)",
    "![pixel](http://evil.example/p.png)",
    "<img src=x onerror=alert(1)> <b>bold</b> <a href='http://evil.example'>a</a>",
    "**loud** _quiet_ `code` ~~gone~~ # heading",
    "<http://evil.example> www.evil.example mail@evil.example",
    ":red[red text] :material/warning: $x^2$ | a | b |",
    "line one\n\n- list item\n> quote",
    "Amélie (2001) & Schindler's List",
]
RENDER = MarkdownIt("commonmark").enable("table").enable("strikethrough")
TAG = re.compile(r"<(/?[a-z][a-z0-9]*)", re.IGNORECASE)
OURS = {"p", "/p", "br", "span", "/span", "strong", "/strong"}  # the paragraph, and the app's own markup
# the app's own markup in st.html blocks (the interests' lists, the ready marker)
HTML_OURS = {f"{close}{tag}" for tag in ("style", "div", "h4", "table", "thead", "tbody", "tr", "th", "td")
             for close in ("", "/")}


def _rendered_tags(markdown: str, allowed: set[str] = frozenset({"p", "/p"})) -> list[str]:
    return [t for t in TAG.findall(RENDER.render(markdown)) if t.lower() not in allowed]


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_text_renders_as_the_same_plain_text(text: str) -> None:
    safe = markdown_text(text)
    html = RENDER.render(safe)
    assert not _rendered_tags(safe), html
    assert "://" not in as_read(safe).replace("\u2060", "") or "\u2060" in safe  # bare URLs are defused
    assert "www." not in safe and not re.search(r"\w@\w", safe)
    assert as_read(safe) == " ".join(text.splitlines())  # a reader sees exactly the text
    assert "$" not in safe.replace("\\$", "") and ":" not in safe.replace("\\:", "")


def test_hostile_titles_never_become_markup_in_the_app(app_env, checkpoint, tmp_path: Path,
                                                       monkeypatch) -> None:
    """Every title and genre of the catalogue made hostile: no Markdown element the app sends renders a
    tag."""
    root = tmp_path / "models"
    copy = root / checkpoint.path.name
    shutil.copytree(checkpoint.path, copy)
    columns = json.loads((copy / "catalogue.json").read_text())  # Catalogue.to_json's columnar form
    columns["title"] = [HOSTILE[n % len(HOSTILE)] for n in range(len(columns["title"]))]
    columns["genre_sets"] = [["[g](http://evil.example)", "<i>x</i>"]]
    columns["genre_codes"] = [0] * len(columns["genre_codes"])
    (copy / "catalogue.json").write_text(json.dumps(columns))
    monkeypatch.setenv("RECVIZ_MODELS_DIR", str(root))
    at = new_app({"fusion": "[link](http://evil.example)", "ckpt": checkpoint.path.name})
    assert_healthy(at)
    texts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success", "title",
                                  "subheader", "header") for e in getattr(at, kind)]
    blocks = [h.proto.body for h in at.get("html")]  # st.html: shown as HTML, not Markdown
    fragments = ("click me", "![pixel]", "<img src=x", "**loud**", "mail@evil", ":red[", "line one", "Amélie")
    shown = [as_read(t) for t in texts] + [html.unescape(b) for b in blocks]
    assert any(f in t for t in shown for f in fragments)  # hostile titles are shown (as text)
    assert any("[link](http" in as_read(t) for t in at.warning.values)  # the echoed link text, as text
    for text in texts:
        if "recviz-ready" in text:
            continue  # the page's own marker element (ids only)
        assert not _rendered_tags(text, OURS), text
    for block in blocks:  # only the app's own markup: a title's <img>, <b>, <a> or <i> stays text
        assert {t.lower() for t in TAG.findall(block)} <= OURS | HTML_OURS, block
