"""build_sequences: chronological, ties by row order, min_rating, k-core; checked by hand and on the
sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recviz.data import Catalogue, Dataset, build_sequences, filter_interactions, load_dataset
from recviz.errors import DataError


def dataset(rows: list[tuple[int, int, float, int]]) -> Dataset:
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    return Dataset("t", frame, Catalogue([]))


def test_chronological_with_ties_in_row_order(ml_csv_dir: Path) -> None:
    # user 1: item 10 @100, item 20 @100, item 30 @50 → 30 first, then 10 before 20 (file order)
    seqs = build_sequences(load_dataset(ml_csv_dir))
    assert seqs.items == {1: [30, 10, 20], 2: [10, 30]}
    assert seqs.timestamps == {1: [50, 100, 100], 2: [200, 300]}
    assert seqs.lengths().tolist() == [3, 2] and seqs.users() == [1, 2]


def test_ties_follow_row_order_even_when_ids_are_reversed() -> None:
    seqs = build_sequences(dataset([(1, 9, 1, 5), (1, 3, 1, 5), (1, 7, 1, 5), (1, 1, 1, 4)]))
    assert seqs.items[1] == [1, 9, 3, 7]


def test_min_rating_keeps_ratings_at_or_above() -> None:
    ds = dataset([(1, 1, 3.5, 1), (1, 2, 4.0, 2), (1, 3, 5.0, 3), (2, 1, 1.0, 1)])
    assert build_sequences(ds, min_rating=4.0).items == {1: [2, 3]}


def test_kcore_iterates_until_stable() -> None:
    # 2-core: item 4 and user 4 (one rating each) go; then user 2 and item 3 are down to one and go too
    rows = [(1, 1, 5, 1), (1, 2, 5, 2), (3, 1, 5, 1), (3, 2, 5, 2), (2, 3, 5, 1), (2, 4, 5, 2), (4, 3, 5, 1)]
    kept = filter_interactions(dataset(rows).interactions, kcore=2)
    assert sorted(zip(kept["user_id"], kept["item_id"], strict=True)) == [(1, 1), (1, 2), (3, 1), (3, 2)]
    assert build_sequences(dataset(rows), kcore=2).items == {1: [1, 2], 3: [1, 2]}


def test_kcore_on_the_sample_holds_the_property(sample: Dataset) -> None:
    kept = filter_interactions(sample.interactions, min_rating=4.0, kcore=10)
    assert kept["user_id"].value_counts().min() >= 10 and kept["item_id"].value_counts().min() >= 10
    assert (kept["rating"] >= 4.0).all() and 0 < len(kept) < sample.num_interactions


def test_sample_sequences_are_sorted_and_complete(sample: Dataset) -> None:
    seqs = build_sequences(sample)
    assert len(seqs) == 671 and int(seqs.lengths().sum()) == 100_004
    assert all(ts == sorted(ts) for ts in seqs.timestamps.values())


def test_min_length_and_nothing_left() -> None:
    ds = dataset([(1, 1, 5, 1), (1, 2, 5, 2), (2, 1, 5, 1)])
    assert build_sequences(ds, min_length=2).items == {1: [1, 2]}
    with pytest.raises(DataError, match="no interactions left"):
        build_sequences(ds, min_rating=5.5)


def reference_sequences(frame: pd.DataFrame, min_length: int) -> tuple[dict, dict]:
    """build_sequences as it was before vectorising (a sort, then one groupby group per user)."""
    frame = frame.assign(_row=np.arange(len(frame))).sort_values(["user_id", "timestamp", "_row"],
                                                                  kind="stable")
    items, stamps = {}, {}
    for user, group in frame.groupby("user_id", sort=True):
        if len(group) >= min_length:
            items[int(user)] = group["item_id"].astype("int64").tolist()
            stamps[int(user)] = group["timestamp"].astype("int64").tolist()
    return items, stamps


@pytest.mark.parametrize(("shuffle", "min_rating", "min_length"), [
    (False, None, 1), (False, 4.0, 5), (True, None, 1), (True, 3.0, 20),
])
def test_vectorised_equals_the_groupby_version_on_the_sample(
        sample: Dataset, shuffle: bool, min_rating: float | None, min_length: int) -> None:
    frame = sample.interactions
    if shuffle:  # rows out of order, and many ties in time: the sort path, with ties kept in row order
        frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
        frame["timestamp"] = frame["timestamp"] // 86_400
    ds = Dataset("s", frame, sample.catalogue)
    seqs = build_sequences(ds, min_rating=min_rating, min_length=min_length)
    kept = filter_interactions(frame, min_rating=min_rating)
    items, stamps = reference_sequences(kept, min_length)
    assert seqs.items == items and seqs.timestamps == stamps
    assert list(seqs.items) == sorted(seqs.items)  # users in ascending order, as groupby gave them
    assert all(type(i) is int for i in next(iter(seqs.items.values())))


def test_ranges_too_wide_for_one_sort_key_take_the_lexsort_path() -> None:
    big = 2**40  # (user range) × (time range) beyond int64: sorted by np.lexsort, same answer
    ds = dataset([(big, 1, 5, big), (1, 2, 5, 7), (big, 3, 5, 0), (1, 4, 5, 7), (1, 5, 5, -big)])
    seqs = build_sequences(ds)
    assert seqs.items == {1: [5, 2, 4], big: [3, 1]}
    assert seqs.timestamps == {1: [-big, 7, 7], big: [0, big]}
