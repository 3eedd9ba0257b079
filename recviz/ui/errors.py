"""Show a project error in the page and keep the app running.

Errors a user can cause are :class:`~recviz.errors.RecvizError`; they become an ``st.error`` box with the
message (which says what was wrong and how to fix it). Anything else is a bug and is left to Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

import streamlit as st

from recviz.errors import RecvizError
from recviz.viz.text import markdown_text

P = ParamSpec("P")
T = TypeVar("T")


def show_error(exc: RecvizError, what: str = "") -> None:
    """One red box: what failed (optional) and the error's own message."""
    text = markdown_text(str(exc).strip() or type(exc).__name__)  # messages echo file and link contents
    st.error(f"**{what}**  \n{text}" if what else text, icon=":material/error:")


def guarded(what: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
    """``fn(*args, **kwargs)``, or None after showing the RecvizError it raised under the heading ``what``."""
    try:
        return fn(*args, **kwargs)
    except RecvizError as exc:
        show_error(exc, what)
        return None
