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


def _user_time_order(users: np.ndarray, times: np.ndarray) -> np.ndarray:
    """[R] row order by user, then time; stable, so ties keep the source row order. One argsort of a combined
    int64 key when user and time ranges fit in it (about 6× faster than ``np.lexsort`` at millions of
    rows), else ``np.lexsort``."""
    u0, t0 = int(users.min()), int(times.min())
    span = int(times.max()) - t0 + 1
    if (int(users.max()) - u0 + 1) * span < 2**62:
        return np.argsort((users - u0) * span + (times - t0), kind="stable")
    return np.lexsort((times, users))


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
    users = frame["user_id"].to_numpy(np.int64)  # [R]
    times = frame["timestamp"].to_numpy(np.int64)  # [R]
    new_user = np.r_[True, users[1:] != users[:-1]]  # [R]
    if (users[1:] >= users[:-1]).all() and (new_user[1:] | (times[1:] >= times[:-1])).all():
        order = np.arange(len(users))  # already by user then time (as most logs are): no sort needed
    else:
        order = _user_time_order(users, times)  # [R]
        users = users[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])  # [U] first row of each user
    ends = np.r_[starts[1:], len(users)]                               # [U]
    keep = np.flatnonzero(ends - starts >= min_length)
    item_rows = frame["item_id"].to_numpy(np.int64)[order].tolist()  # one conversion, then slices per user
    stamp_rows = times[order].tolist()
    ids, lo, hi = users[starts[keep]].tolist(), starts[keep].tolist(), ends[keep].tolist()
    items = {u: item_rows[a:b] for u, a, b in zip(ids, lo, hi, strict=True)}
    stamps = {u: stamp_rows[a:b] for u, a, b in zip(ids, lo, hi, strict=True)}
    return Sequences(items, stamps)
