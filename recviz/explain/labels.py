"""Human labels for interests: their dominant genres and their most-attended history item."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from recviz.data.types import Catalogue


def dominant_genres(
    item_ids: Sequence[int], weights: Sequence[float], catalogue: Catalogue, top_items: int = 5, top: int = 2
) -> list[str]:
    """The ``top`` genres of the ``top_items`` highest-weighted items, each item's weight split over its
    genres."""
    ranked = sorted(zip(weights, range(len(item_ids)), item_ids, strict=True), key=lambda t: (-t[0], t[1]))
    score: Counter[str] = Counter()
    for weight, _, item in ranked[:top_items]:
        genres = [g for g in catalogue.genres(item) if g != "(no genres listed)"]
        for g in genres:
            score[g] += max(float(weight), 1e-9) / len(genres)
    return [g for g, _ in sorted(score.items(), key=lambda t: (-t[1], t[0]))[:top]]


def interest_label(genres: Sequence[str], anchor_title: str | None) -> str:
    """E.g. ``"Comedy/Romance · Notting Hill"``; the anchor is the most-attended (or top-listed) item."""
    head = "/".join(genres) if genres else "Mixed"
    return f"{head} · {anchor_title}" if anchor_title else head
