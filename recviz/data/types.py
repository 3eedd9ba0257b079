"""Typed objects every reader returns: the item catalogue and the interaction log."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from recviz.errors import DataError, UnknownItemError

INTERACTION_COLUMNS = ("user_id", "item_id", "rating", "timestamp")


@dataclass(frozen=True)
class Item:
    """One catalogue entry. ``title`` is never empty: a missing title reads "Movie <id>"."""

    item_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]


def fallback_title(item_id: int) -> str:
    return f"Movie {item_id}"


def clean_title(raw: object, item_id: int) -> str:
    """A readable title: missing, NaN or blank titles become ``Movie <id>``."""
    if raw is None or raw is pd.NA or (isinstance(raw, float) and math.isnan(raw)):  # pd.NA: nullable columns
        return fallback_title(item_id)
    text = str(raw).strip()
    return text if text and text.lower() != "nan" else fallback_title(item_id)


class Catalogue:
    """The item catalogue: id → :class:`Item`, in a stable order (the order of the source file)."""

    def __init__(self, items: Iterable[Item]) -> None:
        self._items: dict[int, Item] = {}
        for item in items:
            self._items[item.item_id] = item

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items

    def __iter__(self):
        return iter(self._items.values())

    @property
    def ids(self) -> list[int]:
        return list(self._items)

    def get(self, item_id: int) -> Item:
        try:
            return self._items[int(item_id)]
        except KeyError:
            raise UnknownItemError([int(item_id)]) from None

    def item_or_fallback(self, item_id: int) -> Item:
        """The item, or a placeholder (fallback title, no genres) for an id the catalogue lacks."""
        return self._items.get(int(item_id)) or Item(int(item_id), fallback_title(int(item_id)), None, ())

    def title(self, item_id: int) -> str:
        return self.item_or_fallback(item_id).title

    def genres(self, item_id: int) -> tuple[str, ...]:
        return self.item_or_fallback(item_id).genres

    def all_genres(self) -> list[str]:
        """Sorted distinct genres (without the ``(no genres listed)`` marker)."""
        found = {g for item in self._items.values() for g in item.genres}
        return sorted(found)

    def search(self, query: str, limit: int = 20) -> list[Item]:
        """Items whose title contains ``query`` (case-insensitive), shortest titles first."""
        q = query.strip().lower()
        if not q:
            return []
        hits = [item for item in self._items.values() if q in item.title.lower()]
        hits.sort(key=lambda it: (not it.title.lower().startswith(q), len(it.title), it.item_id))
        return hits[:limit]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "item_id": [i.item_id for i in self._items.values()],
                "title": [i.title for i in self._items.values()],
                "year": pd.array([i.year for i in self._items.values()], dtype="Int64"),
                "genres": ["|".join(i.genres) for i in self._items.values()],
            }
        )

    def to_records(self) -> list[dict]:
        """Plain JSON-able records, the form a checkpoint stores."""
        return [
            {"item_id": i.item_id, "title": i.title, "year": i.year, "genres": list(i.genres)}
            for i in self._items.values()
        ]

    @classmethod
    def from_records(cls, records: Iterable[dict]) -> Catalogue:
        return cls(
            Item(
                int(r["item_id"]),
                clean_title(r.get("title"), int(r["item_id"])),
                None if r.get("year") is None else int(r["year"]),
                tuple(r.get("genres") or ()),
            )
            for r in records
        )


@dataclass
class Dataset:
    """An interaction log plus its catalogue, as read from one directory or file.

    ``interactions`` has the columns ``user_id, item_id, rating, timestamp`` (int64, int64, float64, int64),
    in the source file's row order; ``rating`` is NaN for purely implicit logs.
    """

    name: str
    interactions: pd.DataFrame
    catalogue: Catalogue
    source: str = ""
    format: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        missing = [c for c in INTERACTION_COLUMNS if c not in self.interactions.columns]
        if missing:
            raise DataError(f"{self.source or self.name}: interactions lack column(s) {missing}")

    @property
    def num_users(self) -> int:
        return int(self.interactions["user_id"].nunique())

    @property
    def num_items(self) -> int:
        return int(self.interactions["item_id"].nunique())

    @property
    def num_interactions(self) -> int:
        return len(self.interactions)

    def user_ids(self) -> list[int]:
        return sorted(int(u) for u in self.interactions["user_id"].unique())
