"""Per-user chronological sequences, implicit-feedback thresholding and k-core filtering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recviz.data.types import Dataset
from recviz.errors import DataError


@dataclass
class Sequences:
    """Users' item sequences (raw item ids, oldest first), with the timestamps beside them."""

    items: dict[int, list[int]]
    timestamps: dict[int, list[int]]

    def __len__(self) -> int:
        return len(self.items)

    def users(self) -> list[int]:
        return sorted(self.items)

    def lengths(self) -> np.ndarray:
        return np.asarray([len(s) for s in self.items.values()], dtype=np.int64)


def filter_interactions(
    frame: pd.DataFrame, min_rating: float | None = None, kcore: int | None = None
) -> pd.DataFrame:
    """Keep ratings ≥ ``min_rating`` (implicit feedback), then iterate to a ``kcore`` (users and items)."""
    out = frame
    if min_rating is not None:
        out = out[out["rating"] >= min_rating]
    if kcore is not None and kcore > 1:
        while True:
            item_counts = out["item_id"].map(out["item_id"].value_counts())
            user_counts = out["user_id"].map(out["user_id"].value_counts())
            keep = (item_counts >= kcore) & (user_counts >= kcore)
            if keep.all():
                break
            out = out[keep]
    return out


def build_sequences(
    dataset: Dataset, min_rating: float | None = None, kcore: int | None = None, min_length: int = 1
) -> Sequences:
    """Chronological sequences per user; ties in time keep the source file's row order (stable sort)."""
    frame = filter_interactions(dataset.interactions, min_rating=min_rating, kcore=kcore)
    if frame.empty:
        raise DataError(
            f"{dataset.name}: no interactions left after filtering (min_rating={min_rating}, kcore={kcore}); "
            "lower the thresholds"
        )
    frame = frame.assign(_row=np.arange(len(frame)))
    frame = frame.sort_values(["user_id", "timestamp", "_row"], kind="stable")
    items: dict[int, list[int]] = {}
    stamps: dict[int, list[int]] = {}
    for user, group in frame.groupby("user_id", sort=True):
        if len(group) < min_length:
            continue
        items[int(user)] = group["item_id"].astype("int64").tolist()
        stamps[int(user)] = group["timestamp"].astype("int64").tolist()
    return Sequences(items, stamps)
