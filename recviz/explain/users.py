"""Real users' histories for a checkpoint: its recorded data rebuilt with the same filters and split
(:func:`recviz.models.checkpoint.rebuild_training`, as evaluation does), cached per checkpoint. Shared by the
CLI, the projection step and the app, so "user 7's history" means one thing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from recviz.caching import CheckpointCache
from recviz.config import ExplainSettings
from recviz.data import Sequences
from recviz.errors import CheckpointError, ConfigError, UnknownUserError
from recviz.explain.edits import NO_EDITS, HistoryEdits
from recviz.explain.explain import DEFAULT_SETTINGS, explain
from recviz.explain.projection import ItemMap, load_item_map
from recviz.explain.types import Explanation
from recviz.models.checkpoint import TrainingSplit, rebuild_training

# every user's sequence and the split training made (recorded protocol and seed), rebuilt once per checkpoint
_SEQUENCES: CheckpointCache[TrainingSplit] = CheckpointCache(rebuild_training)


@dataclass(frozen=True)
class UserHistory:
    """A user's chronological history (raw ids the model knows) and what was left out."""

    user_id: int
    item_ids: list[int]
    timestamps: list[int]
    dropped: list[int]       # items of the user's sequence that the model's vocabulary lacks

    def notice(self) -> str | None:
        """A sentence for ``Explanation.notices`` when items were dropped, else None."""
        if not self.dropped:
            return None
        return (f"{len(self.dropped)} item(s) of user {self.user_id}'s history are not in the model's "
                "vocabulary (it never saw them in training) and were left out.")


def training_split(checkpoint) -> TrainingSplit:
    """The checkpoint's data rebuilt as it was trained: sequences and the recorded split (cached)."""
    return _SEQUENCES.get(checkpoint)


def user_sequences(checkpoint) -> Sequences:
    """Every user's sequence, rebuilt with the checkpoint's ``min_rating`` and ``kcore`` (cached)."""
    return _SEQUENCES.get(checkpoint).sequences


def user_ids(checkpoint) -> list[int]:
    return user_sequences(checkpoint).users()


def user_history(checkpoint, user_id: int) -> UserHistory:
    """User ``user_id``'s whole sequence, oldest first; :class:`UnknownUserError` if the data lacks them."""
    seqs = user_sequences(checkpoint)
    if int(user_id) not in seqs.items:
        users = seqs.users()
        raise UnknownUserError(
            f"user {user_id} is not in {checkpoint.record.data.name or 'the data'} after its "
            f"filters ({len(users)} users, ids {users[0]}..{users[-1]}); pick one of those"
        )
    vocab = checkpoint.vocab
    pairs = list(zip(seqs.items[int(user_id)], seqs.timestamps[int(user_id)], strict=True))
    kept = [(i, t) for i, t in pairs if i in vocab]
    return UserHistory(int(user_id), [i for i, _ in kept], [t for _, t in kept],
                       [i for i, _ in pairs if i not in vocab])


def training_histories(checkpoint) -> dict[int, list[int]]:
    """The training part of the checkpoint's split (same protocol and seed): the population view's users."""
    return _SEQUENCES.get(checkpoint).split.train


def stored_map(checkpoint) -> ItemMap | None:
    """The checkpoint's interest map, or None when it has none yet. A map that exists but is stale (fitted on
    other weights) or corrupt raises ``StaleMapError`` / ``CorruptMapError`` (``InterestMapError``, a
    CheckpointError, with ``kind``), so callers say so instead of silently showing no map."""
    try:
        return load_item_map(checkpoint.path, expected_hash=checkpoint.hash)
    except CheckpointError as exc:
        if getattr(exc, "kind", None) == "missing":
            return None
        raise


def explain_history(
    checkpoint, user_id: int | None, edits: HistoryEdits = NO_EDITS,
    settings: ExplainSettings = DEFAULT_SETTINGS, *, start: Sequence[int] | None = None,
    item_map: ItemMap | None = None,
) -> Explanation:
    """Explain a history after ``edits``: the one entry point of the app, ``recviz explain`` and reports.

    The starting history is user ``user_id``'s real one, or ``start`` (an uploaded history, raw ids) when
    given; ``edits`` are applied to it once. An edited history carries the diff against the starting one
    and the edits' summary; items of the user's real history keep their timestamps (added ones have none).
    """
    if user_id is None and start is None:
        raise ConfigError("explain_history needs a user id or a starting history")
    real = user_history(checkpoint, user_id) if user_id is not None else None
    baseline = [int(i) for i in start] if start is not None else real.item_ids
    history = edits.apply(baseline)
    edited = history != baseline
    known = dict(zip(real.item_ids, real.timestamps, strict=True)) if real is not None else {}
    exp = explain(
        checkpoint, history, settings, user_id=None if user_id is None else int(user_id),
        baseline_history=baseline if edited else None, edits=edits.summary(baseline) if edited else None,
        item_map=item_map, timestamps=[known.get(i) for i in history] if real is not None else None,
    )
    if real is not None and start is None and real.notice():
        exp.notices.insert(0, real.notice())
    return exp
