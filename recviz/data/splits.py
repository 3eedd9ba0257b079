"""Evaluation protocols: leave-one-out (SASRec/RecBole) and user-split (ComiRec)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from recviz.data.sequences import Sequences
from recviz.errors import ConfigError

Protocol = Literal["leave-one-out", "user-split"]
PROTOCOLS: tuple[str, ...] = ("leave-one-out", "user-split")


@dataclass(frozen=True)
class EvalCase:
    """One evaluation query: a user's history (raw ids, oldest first) and the items to retrieve."""

    user_id: int
    history: tuple[int, ...]
    targets: tuple[int, ...]


@dataclass
class Split:
    """Training sequences plus validation and test queries under one protocol."""

    protocol: str
    train: dict[int, list[int]]
    valid: list[EvalCase] = field(default_factory=list)
    test: list[EvalCase] = field(default_factory=list)
    seed: int = 0

    def summary(self) -> dict:
        return {
            "protocol": self.protocol,
            "train_users": len(self.train),
            "train_interactions": int(sum(len(s) for s in self.train.values())),
            "valid_cases": len(self.valid),
            "test_cases": len(self.test),
            "seed": self.seed,
        }


def leave_one_out(sequences: Sequences) -> Split:
    """Last item → test, second-to-last → validation, the rest → training (users with ≥ 3 items).

    Test histories include the validation item, as in SASRec and RecBole. Users with fewer than 3 items
    train only.
    """
    train: dict[int, list[int]] = {}
    valid: list[EvalCase] = []
    test: list[EvalCase] = []
    for user in sequences.users():
        seq = sequences.items[user]
        if len(seq) < 3:
            train[user] = list(seq)
            continue
        train[user] = list(seq[:-2])
        valid.append(EvalCase(user, tuple(seq[:-2]), (seq[-2],)))
        test.append(EvalCase(user, tuple(seq[:-1]), (seq[-1],)))
    return Split("leave-one-out", train, valid, test)


def user_split(
    sequences: Sequences, seed: int = 42, ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
    history_fraction: float = 0.8,
) -> Split:
    """ComiRec's protocol: users shuffled with ``seed`` and split 8:1:1; for validation and test users the
    first 80 % of the sequence is the history and the remaining 20 % are the targets."""
    if not math.isclose(sum(ratios), 1.0) or any(r < 0 for r in ratios):
        raise ConfigError(f"user-split ratios must be non-negative and sum to 1, got {ratios}")
    users = np.asarray(sequences.users(), dtype=np.int64)
    rng = np.random.default_rng(seed)
    order = users[rng.permutation(len(users))]
    n_train = int(round(ratios[0] * len(order)))
    n_valid = int(round(ratios[1] * len(order)))
    train_users = order[:n_train]
    valid_users = order[n_train : n_train + n_valid]
    test_users = order[n_train + n_valid :]

    def cases(group: np.ndarray) -> list[EvalCase]:
        out = []
        for user in sorted(int(u) for u in group):
            seq = sequences.items[user]
            if len(seq) < 2:
                continue
            cut = min(max(1, int(len(seq) * history_fraction)), len(seq) - 1)
            out.append(EvalCase(user, tuple(seq[:cut]), tuple(seq[cut:])))
        return out

    train = {int(u): list(sequences.items[int(u)]) for u in sorted(train_users)}
    return Split("user-split", train, cases(valid_users), cases(test_users), seed=seed)


def make_split(sequences: Sequences, protocol: str, seed: int = 42) -> Split:
    if protocol == "leave-one-out":
        return leave_one_out(sequences)
    if protocol == "user-split":
        return user_split(sequences, seed=seed)
    raise ConfigError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
