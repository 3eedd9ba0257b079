"""Explanation → JSON report, report file names and writing either format to disk."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from recviz.errors import ConfigError
from recviz.explain.types import Explanation
from recviz.report.html import render_html

if TYPE_CHECKING:
    from recviz.explain.projection import ItemMap

FORMATS: tuple[str, ...] = ("html", "json")


def render_json(exp: Explanation) -> str:
    """The Explanation as JSON with sorted keys, so the same Explanation always gives the same bytes."""
    return json.dumps(exp.to_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "x"


def report_filename(exp: Explanation, fmt: str) -> str:
    """``recviz-<checkpoint>-user<id>[-edited]-<created_at>.<fmt>``, safe on every file system."""
    check_format(fmt)
    who = f"user{exp.user_id}" if exp.user_id is not None else "custom"
    edited = "-edited" if exp.edits else ""
    stamp = re.sub(r"[^0-9T]", "", exp.created_at.split("+")[0].split(".")[0]) or "undated"
    return f"recviz-{_slug(exp.checkpoint)}-{who}{edited}-{stamp}.{fmt}"


def write_report(exp: Explanation, path: Path | str, fmt: str, item_map: ItemMap | None = None) -> Path:
    """Write the report; ``path`` is a file, or an existing directory to put ``report_filename`` in."""
    check_format(fmt)
    text = render_html(exp, item_map) if fmt == "html" else render_json(exp)
    return write_rendered(path, report_filename(exp, fmt), text)


def write_rendered(path: Path | str, name: str, text: str) -> Path:
    """Write a rendered report to ``path``, a file, or an existing directory to put ``name`` in (every
    report kind: explanations, comparisons, timelines)."""
    target = Path(path)
    if target.is_dir():
        target = target / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def check_format(fmt: str) -> None:
    """:class:`ConfigError` unless ``fmt`` is one of :data:`FORMATS`."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
