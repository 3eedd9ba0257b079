"""Readers of what the app shows in AppTest (tables, the Explanation on screen) and small drivers.

A module with its own name (not conftest) so test files can import it unambiguously.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from recviz.explain.types import Explanation
from recviz.ui.workbench import ON_SCREEN_KEY

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
FUSED_COLUMNS = ["rank", "title", "interest", "status", "score"]
TIMEOUT = 90  # generous for a loaded CI machine; a run takes about a second


def new_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    return at.run()


def assert_healthy(at: AppTest) -> None:
    """No uncaught exception: the app kept running."""
    assert not at.exception, [e.value for e in at.exception]


def table(at: AppTest, key_prefix: str) -> pd.DataFrame:
    [frame] = [d for d in at.dataframe if d.key and d.key.startswith(key_prefix)]
    return frame.value


def fused_table(at: AppTest) -> pd.DataFrame:
    """The fused list as shown (read-only tables carry no key in AppTest, so it is found by its columns)."""
    [frame] = [d.value for d in at.dataframe if list(d.value.columns) == FUSED_COLUMNS]
    return frame


def fused_titles(at: AppTest) -> list[str]:
    return fused_table(at)["title"].tolist()


def fused_scores(at: AppTest) -> list[float]:
    return [round(float(s), 6) for s in fused_table(at)["score"]]


def history_ids(at: AppTest) -> list[int]:
    return table(at, "history_table")["item_id"].astype(int).tolist()


def on_screen(at: AppTest) -> Explanation:
    return at.session_state[ON_SCREEN_KEY]


def select_history_rows(at: AppTest, rows: list[int]) -> AppTest:
    """Tick rows of the history table (what a click on the row boxes does) and rerun."""
    [frame] = [d for d in at.dataframe if d.key and d.key.startswith("history_table")]
    at.session_state[frame.key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def as_read(markdown: str) -> str:
    """Markdown source as a reader sees its text: backslash escapes, entities and invisible joiners undone
    (``recviz.viz.text.markdown_text`` adds them so data can never become a link, image or tag)."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown)).replace("\u2060", "")


def errors(at: AppTest) -> str:
    return "\n".join(as_read(e.value) for e in at.error)


def warnings(at: AppTest) -> str:
    return "\n".join(as_read(w.value) for w in at.warning)
