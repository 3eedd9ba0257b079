"""Export buttons: the HTML and JSON report of exactly the Explanation on screen.

The bytes are ``render_html(exp, item_map)`` / ``render_json(exp)`` of that object, what ``recviz report``
writes for the same inputs. They are produced only when a button is clicked (deferred download), so an
edit never waits for a report to render.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from recviz.explain.projection import ItemMap
from recviz.explain.types import Explanation
from recviz.report import render_html, render_json, report_filename

MIME = {"html": "text/html", "json": "application/json"}


def report_bytes(exp: Explanation, item_map: ItemMap | None, fmt: str) -> bytes:
    """The report file's bytes (UTF-8)."""
    text = render_html(exp, item_map) if fmt == "html" else render_json(exp)
    return text.encode("utf-8")


def _deferred(exp: Explanation, item_map: ItemMap | None, fmt: str) -> Callable[[], bytes]:
    return lambda: report_bytes(exp, item_map, fmt)


def render(exp: Explanation, item_map: ItemMap | None, container=None) -> None:
    """Two download buttons, in ``container`` (default: the current place)."""
    target = container if container is not None else st
    cols = target.columns(2)
    for col, fmt, label in ((cols[0], "html", "HTML"), (cols[1], "json", "JSON")):
        col.download_button(
            label, data=_deferred(exp, item_map, fmt), file_name=report_filename(exp, fmt), mime=MIME[fmt],
            icon=":material/download:", key=f"export_{fmt}", on_click="ignore", width="stretch",
            help=f"Download the {fmt.upper()} report of exactly what is on screen",
        )
