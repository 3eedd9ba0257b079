"""The users of a population run, prepared once by the driver: each user's known history (as the workbench
explains it, :func:`recviz.explain.users.user_history`) and the held-out case of the checkpoint's recorded
split (:func:`recviz.models.checkpoint.rebuild_training`, as evaluation uses). Users the data lacks, or whose
every item is unknown to the model, are counted and listed, never silently dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from recviz.explain.users import training_split, user_history, user_ids
from recviz.models.checkpoint import Checkpoint
from recviz.population.compute import ShardInput


@dataclass
class Skipped:
    """A user the run could not explain, and why (one short sentence)."""

    user_id: int
    reason: str


@dataclass
class PreparedUsers:
    """The run's users in order, and those it left out."""

    users: ShardInput
    skipped: list[Skipped] = field(default_factory=list)


def prepare_users(checkpoint: Checkpoint, chosen: Sequence[int] | None = None,
                  faithfulness_every: int = 0) -> PreparedUsers:
    """Inputs for ``chosen`` user ids (None: every user of the checkpoint's data, after its filters)."""
    split = training_split(checkpoint).split
    cases = {case.user_id: (name, case) for name, part in (("valid", split.valid), ("test", split.test))
             for case in part}
    known = set(user_ids(checkpoint))
    out = ShardInput([], [], [], [], [], [], [], [])
    skipped: list[Skipped] = []
    for uid in (user_ids(checkpoint) if chosen is None else [int(u) for u in chosen]):
        if uid not in known:
            skipped.append(Skipped(uid, "not in the checkpoint's data set (after its filters)"))
            continue
        history = user_history(checkpoint, uid)
        if not history.item_ids:
            skipped.append(Skipped(uid, f"none of its {len(history.dropped)} item(s) is known to the model"))
            continue
        name, case = cases.get(uid, ("train", None))
        out.user_ids.append(uid)
        out.histories.append(history.item_ids)
        out.timestamps.append(history.timestamps)
        out.dropped.append(len(history.dropped))
        out.splits.append(name)
        out.case_histories.append(list(case.history) if case else [])
        out.case_targets.append(list(case.targets) if case else [])
        out.faithfulness.append(faithfulness_every > 0 and (len(out.user_ids) - 1) % faithfulness_every == 0)
    return PreparedUsers(out, skipped)
