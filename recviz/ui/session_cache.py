"""Results kept per browser session for the views that produced them (``st.session_state``): reruns that
do not change a view reuse its result, returning to an earlier view is instant, and the cache never grows
past ``size`` entries (oldest out first). One implementation for every panel that computes on demand."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st

T = TypeVar("T")


def remembered(store: str, key: Hashable, compute: Callable[[], T], size: int = 8) -> T:
    """``compute()`` for ``key``, kept in the session under ``store`` with the ``size`` most recent others."""
    cache: dict[Hashable, T] = st.session_state.setdefault(store, {})
    if key not in cache:
        cache[key] = compute()
        while len(cache) > size:
            cache.pop(next(iter(cache)))
    return cache[key]
