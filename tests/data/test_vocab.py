"""Vocab: raw ids ↔ dense indices with 0 reserved for padding; JSON round-trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recviz.data import PAD, Dataset, Vocab
from recviz.errors import DataError, UnknownItemError


def test_dense_indices_start_at_one_in_first_seen_order() -> None:
    vocab = Vocab([30, 10, 30, 20])
    assert PAD == 0 and len(vocab) == 4  # padding row + 3 ids
    assert vocab.raw_ids == [30, 10, 20]
    assert vocab.encode([10, 20, 30, 10]) == [2, 3, 1, 2]
    assert vocab.decode([2, 3, 1]) == [10, 20, 30]
    assert 20 in vocab and 40 not in vocab
    assert vocab.as_array().tolist() == [-1, 30, 10, 20]


def test_padding_and_out_of_range_indices_do_not_decode() -> None:
    vocab = Vocab([5, 6])
    for bad in (PAD, 3, -1):
        with pytest.raises(IndexError):
            vocab.decode([bad])


def test_unknown_ids_are_all_listed_once() -> None:
    with pytest.raises(UnknownItemError) as info:
        Vocab([1, 2]).encode([1, 7, 8, 7])
    assert info.value.unknown == [7, 8]
    assert "7, 8" in str(info.value)


def test_json_round_trip_on_the_sample(sample: Dataset) -> None:
    vocab = Vocab(sample.catalogue.ids)
    restored = Vocab.from_json(json.loads(json.dumps(vocab.to_json())))
    assert restored.raw_ids == vocab.raw_ids and len(restored) == 9067
    ids = sample.interactions["item_id"].to_numpy()[:1000]
    dense = restored.encode(ids.tolist())
    assert min(dense) >= 1 and max(dense) <= 9066
    assert np.array_equal(restored.as_array()[dense], ids)
    assert restored.decode(dense) == ids.tolist()


@pytest.mark.parametrize("obj", [{}, {"raw_ids": "1,2"}, {"raw_ids": [1, "x"]}])
def test_malformed_json_is_a_data_error(obj: dict) -> None:
    with pytest.raises(DataError, match="malformed"):
        Vocab.from_json(obj)
