"""Splits: leave-one-out (SASRec/RecBole) and user-split (ComiRec 8:1:1, 80/20), by hand and on the sample."""

from __future__ import annotations

import pytest

from recviz.data import Dataset, EvalCase, Sequences, build_sequences, leave_one_out, make_split, user_split
from recviz.errors import ConfigError


def seqs(items: dict[int, list[int]]) -> Sequences:
    return Sequences(items, {u: list(range(len(s))) for u, s in items.items()})


def test_leave_one_out_by_hand() -> None:
    split = leave_one_out(seqs({1: [5, 6, 7, 8], 2: [1, 2], 3: [3, 4, 9]}))
    assert split.protocol == "leave-one-out"
    assert split.train == {1: [5, 6], 2: [1, 2], 3: [3]}  # user 2 (< 3 items) trains only
    assert split.valid == [EvalCase(1, (5, 6), (7,)), EvalCase(3, (3,), (4,))]
    # the test history includes the validation item
    assert split.test == [EvalCase(1, (5, 6, 7), (8,)), EvalCase(3, (3, 4), (9,))]


def test_user_split_by_hand() -> None:
    items = {u: list(range(u * 100, u * 100 + 10)) for u in range(1, 11)}  # 10 users × 10 items
    split = user_split(seqs(items), seed=3)
    assert (len(split.train), len(split.valid), len(split.test)) == (8, 1, 1)
    for case in split.valid + split.test:
        assert (case.history == tuple(items[case.user_id][:8])
                and case.targets == tuple(items[case.user_id][8:]))
        assert case.user_id not in split.train
    assert all(split.train[u] == items[u] for u in split.train)


def test_user_split_short_sequences() -> None:
    items = {u: [u * 10, u * 10 + 1] for u in range(1, 11)}
    split = user_split(seqs(items), seed=0)
    for case in split.valid + split.test:  # 80 % of 2 rounds down to 1: one history item, one target
        assert len(case.history) == 1 and len(case.targets) == 1


def test_user_split_on_the_sample_is_8_1_1_and_deterministic(sample: Dataset) -> None:
    sequences = build_sequences(sample)
    a, b, c = (make_split(sequences, "user-split", seed=s) for s in (42, 42, 7))
    assert (len(a.train), len(a.valid), len(a.test)) == (537, 67, 67)  # 671 × (0.8, 0.1, 0.1), rounded
    groups = [set(a.train), {x.user_id for x in a.valid}, {x.user_id for x in a.test}]
    assert set().union(*groups) == set(sequences.items) and sum(map(len, groups)) == 671
    assert a.train == b.train and a.valid == b.valid and a.test == b.test
    assert {x.user_id for x in c.test} != groups[2]
    for case in a.test:
        seq = sequences.items[case.user_id]
        assert len(case.history) == int(len(seq) * 0.8) and case.history + case.targets == tuple(seq)


def test_leave_one_out_on_the_sample(sample: Dataset) -> None:
    sequences = build_sequences(sample)
    split = make_split(sequences, "leave-one-out")
    assert len(split.test) == len(split.valid) == 671  # every user has ≥ 20 ratings
    assert split.summary()["train_interactions"] == 100_004 - 2 * 671
    case = split.test[0]
    assert case.history + case.targets == tuple(sequences.items[case.user_id])


def test_bad_protocol_and_ratios() -> None:
    with pytest.raises(ConfigError, match="unknown protocol"):
        make_split(seqs({1: [1, 2, 3]}), "random")
    with pytest.raises(ConfigError, match="sum to 1"):
        user_split(seqs({1: [1, 2, 3]}), ratios=(0.5, 0.1, 0.1))
