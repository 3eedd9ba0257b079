"""Summary statistics of a data set (what ``recviz data info`` prints), computed once as a dataclass."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from recviz.data.readers.common import ROW_ORDER_NOTE
from recviz.data.types import Dataset

QUANTILES: tuple[tuple[str, float], ...] = (
    ("min", 0.0), ("25%", 0.25), ("50%", 0.5), ("75%", 0.75), ("90%", 0.9), ("max", 1.0),
)
_MAX_UNIX_SECONDS = 10**11  # beyond year 5000: not Unix seconds (milliseconds, or row order)


@dataclass(frozen=True)
class DatasetInfo:
    """Counts, time span, sequence-length quantiles, ratings and genre distributions of one data set."""

    name: str
    format: str
    source: str
    users: int
    items: int                         # distinct items with at least one interaction
    catalogue_items: int               # items in the catalogue (may include never-rated ones)
    interactions: int
    first_date: str | None             # ISO dates (UTC); None when timestamps are not Unix seconds
    last_date: str | None
    sequence_lengths: dict[str, float]  # QUANTILES of interactions per user
    ratings: dict[str, int] | None     # rating value → count; None for implicit feedback
    genres: dict[str, int]             # genre → catalogue items with it, most frequent first
    notes: list[str]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _date(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).date().isoformat()


def dataset_info(dataset: Dataset) -> DatasetInfo:
    """Summarise ``dataset``; dates are shown only when timestamps are real Unix seconds."""
    frame = dataset.interactions
    lengths = frame.groupby("user_id", sort=False).size().to_numpy()  # [U]
    stamps = frame["timestamp"].to_numpy()
    real_time = ROW_ORDER_NOTE not in dataset.notes and 0 <= stamps.min() and stamps.max() < _MAX_UNIX_SECONDS
    ratings = frame["rating"].dropna()
    rating_counts = None
    if len(ratings):
        counts = ratings.value_counts().sort_index()
        rating_counts = {f"{value:g}": int(n) for value, n in counts.items()}
    genre_counts = dataset.catalogue.genre_counts()
    return DatasetInfo(
        name=dataset.name,
        format=dataset.format,
        source=dataset.source,
        users=dataset.num_users,
        items=dataset.num_items,
        catalogue_items=len(dataset.catalogue),
        interactions=dataset.num_interactions,
        first_date=_date(int(stamps.min())) if real_time else None,
        last_date=_date(int(stamps.max())) if real_time else None,
        sequence_lengths={k: float(np.quantile(lengths, q)) for k, q in QUANTILES},
        ratings=rating_counts,
        genres=dict(sorted(genre_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        notes=list(dataset.notes),
    )


def format_info(info: DatasetInfo) -> str:
    """The human-readable report the CLI prints."""
    span = f"{info.first_date} to {info.last_date}" if info.first_date else "n/a (no Unix timestamps)"
    lines = [
        f"data set      {info.name} ({info.format}) from {info.source}",
        f"users         {info.users:,}",
        f"items         {info.items:,} with interactions ({info.catalogue_items:,} in the catalogue)",
        f"interactions  {info.interactions:,}",
        f"time span     {span}",
        "sequence length per user: "
        + "  ".join(f"{k} {v:g}" for k, v in info.sequence_lengths.items()),
    ]
    if info.ratings:
        lines.append("ratings: " + "  ".join(f"{k}: {n:,}" for k, n in info.ratings.items()))
    else:
        lines.append("ratings: none (implicit feedback)")
    if info.genres:
        lines.append(f"genres ({len(info.genres)}, items per genre):")
        lines.extend(f"  {genre:<20} {n:>7,}" for genre, n in info.genres.items())
    lines.extend(f"note: {note}" for note in info.notes)
    return "\n".join(lines)
