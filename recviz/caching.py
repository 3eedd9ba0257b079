"""A bounded, thread-safe cache of values derived from a checkpoint (its genre matrix, its users' sequences).

The app serves many sessions from one process, each on its own thread, and an analyst can switch between
checkpoints or retrain one while it runs: an unbounded module-level dict would keep every checkpoint's
derived data forever. This keeps the ``max_entries`` most recently used, builds each value once even when
sessions ask for it at the same moment, and keys it by the checkpoint's path and weights hash.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class CheckpointCache(Generic[T]):
    """``build(checkpoint)`` remembered per (path, weights hash), least recently used evicted first."""

    def __init__(self, build: Callable[[Any], T], max_entries: int = 4) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self._build = build
        self.max_entries = max_entries
        self._values: OrderedDict[tuple[str, str], T] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(checkpoint: Any) -> tuple[str, str]:
        return str(checkpoint.path), str(checkpoint.hash)

    def get(self, checkpoint: Any) -> T:
        key = self.key(checkpoint)
        with self._lock:  # held while building: two sessions never build the same (seconds-long) value twice
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            value = self._build(checkpoint)
            self._values[key] = value
            while len(self._values) > self.max_entries:
                self._values.popitem(last=False)
            return value

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
