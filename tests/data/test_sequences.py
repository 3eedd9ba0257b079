"""build_sequences: chronological, ties by row order, min_rating, k-core; checked by hand and on the
sample."""

from __future__ import annotations

from pathlib import Path

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
