"""Real users' histories for a checkpoint: its ``config["data"]`` rebuilt with the same filters, cached per
checkpoint. Shared by the CLI, the projection step and the app, so "user 7's history" means one thing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from recviz.caching import CheckpointCache
from recviz.config import ExplainSettings
from recviz.data import Sequences, build_sequences, make_split
from recviz.errors import CheckpointError, ConfigError, UnknownUserError
from recviz.explain.explain import DEFAULT_SETTINGS, explain
from recviz.explain.projection import ItemMap, load_item_map
from recviz.explain.types import Explanation
from recviz.models.checkpoint import training_data


def _build_sequences(checkpoint) -> Sequences:
    data = checkpoint.config.get("data") or {}
    return build_sequences(training_data(checkpoint), data.get("min_rating"), data.get("kcore"))


_SEQUENCES: CheckpointCache[Sequences] = CheckpointCache(_build_sequences)


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


def user_sequences(checkpoint) -> Sequences:
    """Every user's sequence, rebuilt with the checkpoint's ``min_rating`` and ``kcore`` (cached)."""
    return _SEQUENCES.get(checkpoint)


def user_ids(checkpoint) -> list[int]:
    return user_sequences(checkpoint).users()


def user_history(checkpoint, user_id: int) -> UserHistory:
    """User ``user_id``'s whole sequence, oldest first; :class:`UnknownUserError` if the data lacks them."""
    seqs = user_sequences(checkpoint)
    if int(user_id) not in seqs.items:
        users = seqs.users()
        raise UnknownUserError(
            f"user {user_id} is not in {checkpoint.config.get('data', {}).get('name', 'the data')} after its "
            f"filters ({len(users)} users, ids {users[0]}..{users[-1]}); pick one of those"
        )
    vocab = checkpoint.vocab
    pairs = list(zip(seqs.items[int(user_id)], seqs.timestamps[int(user_id)], strict=True))
    kept = [(i, t) for i, t in pairs if i in vocab]
    return UserHistory(int(user_id), [i for i, _ in kept], [t for _, t in kept],
                       [i for i, _ in pairs if i not in vocab])


def training_histories(checkpoint) -> dict[int, list[int]]:
    """The training part of the checkpoint's split (same protocol and seed): the population view's users."""
    data = checkpoint.config.get("data") or {}
    split = make_split(user_sequences(checkpoint), data.get("protocol", "leave-one-out"), data.get("seed", 42))
    return split.train


def apply_edits(history: Sequence[int], remove: Sequence[int] = (), add: Sequence[int] = ()) -> list[int]:
    """``history`` without the ``remove`` ids, with ``add`` appended as the most recent items.

    Removing an id the history lacks raises :class:`ConfigError` naming every such id.
    """
    present = set(history)
    missing = [int(i) for i in remove if int(i) not in present]
    if missing:
        raise ConfigError(f"cannot remove item(s) {missing}: they are not in this history; "
                          "remove only ids the history holds")
    gone = {int(i) for i in remove}
    return [int(i) for i in history if int(i) not in gone] + [int(i) for i in add]


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


def explain_user(
    checkpoint, user_id: int, settings: ExplainSettings = DEFAULT_SETTINGS, *, remove: Sequence[int] = (),
    add: Sequence[int] = (), item_map: ItemMap | None = None,
) -> Explanation:
    """Explain a real user's history, optionally edited (``remove`` ids, ``add`` ids as the most recent);
    an edited history carries the diff against the real one. What ``recviz explain`` and ``report`` run."""
    real = user_history(checkpoint, user_id)
    edited = bool(remove or add)
    history = apply_edits(real.item_ids, remove, add) if edited else real.item_ids
    known = dict(zip(real.item_ids, real.timestamps, strict=True))
    stamps = [known.get(i) for i in history]  # added items have no timestamp
    exp = explain(
        checkpoint, history, settings, user_id=int(user_id), baseline_history=real.item_ids if edited else None,
        edits={"remove": [int(i) for i in remove], "add": [int(i) for i in add]} if edited else None,
        item_map=item_map, timestamps=stamps,
    )
    if real.notice():
        exp.notices.insert(0, real.notice())
    return exp
