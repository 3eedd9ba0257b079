"""The module-level caches of derived checkpoint data are bounded, least-recently-used and build once."""

from __future__ import annotations

import importlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from recviz.caching import CheckpointCache


@dataclass
class FakeCheckpoint:
    path: Path
    hash: str


def test_bounded_and_least_recently_used_first_out() -> None:
    built: list[str] = []
    cache = CheckpointCache(lambda c: built.append(c.hash) or c.hash.upper(), max_entries=2)
    a, b, c = (FakeCheckpoint(Path("m"), h) for h in "abc")
    assert cache.get(a) == "A" and cache.get(b) == "B" and cache.get(a) == "A"  # a is now the most recent
    assert cache.get(c) == "C" and len(cache) == 2
    cache.get(a)
    cache.get(b)  # b was evicted (least recently used), so it is built again
    assert built == ["a", "b", "c", "b"]
    # a retrained checkpoint (same path, new weights hash) is a new entry, never the old value
    assert cache.get(FakeCheckpoint(Path("m"), "a2")) == "A2"


def test_concurrent_sessions_build_a_value_once() -> None:
    calls: list[int] = []

    def slow(checkpoint: FakeCheckpoint) -> int:
        calls.append(1)
        time.sleep(0.05)
        return 7

    cache = CheckpointCache(slow)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(FakeCheckpoint(Path("x"), "h"))))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [7] * 8 and len(calls) == 1


def test_the_explain_caches_are_bounded() -> None:
    explain_module = importlib.import_module("recviz.explain.explain")
    users_module = importlib.import_module("recviz.explain.users")
    for cache in (explain_module._GENRE_MATRICES, users_module._SEQUENCES):
        assert isinstance(cache, CheckpointCache) and cache.max_entries <= 8
