"""Mapping raw item ids to dense indices. Index 0 is reserved for padding."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from recviz.errors import DataError, UnknownItemError

PAD = 0


class Vocab:
    """Raw item id ↔ dense index (1..N-1); ``len(vocab)`` counts the padding row too."""

    def __init__(self, raw_ids: Iterable[int]) -> None:
        ids: list[int] = []
        seen: set[int] = set()
        for raw in raw_ids:
            r = int(raw)
            if r not in seen:
                seen.add(r)
                ids.append(r)
        self._raw: list[int] = ids
        self._index: dict[int, int] = {r: i + 1 for i, r in enumerate(ids)}

    def __len__(self) -> int:
        return len(self._raw) + 1

    def __contains__(self, raw_id: object) -> bool:
        return raw_id in self._index

    @property
    def raw_ids(self) -> list[int]:
        """Raw ids in index order (index 1 first)."""
        return list(self._raw)

    def index(self, raw_id: int) -> int:
        try:
            return self._index[int(raw_id)]
        except KeyError:
            raise UnknownItemError([int(raw_id)]) from None

    def encode(self, raw_ids: Sequence[int]) -> list[int]:
        """Dense indices of ``raw_ids``; raises :class:`UnknownItemError` listing every unknown id."""
        unknown = [int(r) for r in raw_ids if int(r) not in self._index]
        if unknown:
            raise UnknownItemError(list(dict.fromkeys(unknown)))
        return [self._index[int(r)] for r in raw_ids]

    def decode(self, indices: Iterable[int]) -> list[int]:
        out = []
        for i in indices:
            i = int(i)
            if i <= 0 or i > len(self._raw):
                raise IndexError(f"dense index {i} is outside 1..{len(self._raw)}")
            out.append(self._raw[i - 1])
        return out

    def to_json(self) -> dict:
        return {"pad": PAD, "raw_ids": self._raw}

    @classmethod
    def from_json(cls, obj: dict) -> Vocab:
        try:
            raw = obj["raw_ids"]
            if not isinstance(raw, list):
                raise TypeError
            return cls(int(r) for r in raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"vocabulary is malformed ({exc!r}); re-create the checkpoint") from None

    def as_array(self) -> np.ndarray:
        """Raw ids as an int64 array indexed by dense index (entry 0 is -1 for padding)."""
        return np.asarray([-1, *self._raw], dtype=np.int64)
