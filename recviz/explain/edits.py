"""History edits: one value, :class:`HistoryEdits`, for what an analyst did to a history.

An edit is an operation on the starting history (a user's real history, or an uploaded one): remove an item,
add one as the most recent, move one to a position. The app's history editor appends operations, the URL
and saved scenarios store their short text form (``-ID``, ``+ID``, ``ID@P``: URL-safe, no commas), the CLI
builds them from ``--remove/--add``, and :func:`recviz.explain.users.explain_history` applies them once.
Replaying the same operations on the same starting history gives the same edited history, so a link, a
scenario and a CLI command name exactly one view.

An :class:`~recviz.explain.types.Explanation` records the edits as :meth:`HistoryEdits.summary` (the removed
and added ids, plus the whole order when an item was moved): what reports show and ``--remove/--add`` take.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from recviz.errors import ConfigError

EditKind = Literal["remove", "add", "move"]
MAX_EDITS = 1_000  # operations a view (a link, a scenario) may replay
_TOKEN = re.compile(r"^(?:([+-])(\d{1,18})|(\d{1,18})@(\d{1,9}))$")
_TOKEN_HELP = "edits look like -ID (remove), +ID (add) or ID@POSITION (move, 0 = oldest)"


class EditError(ConfigError):
    """An edit cannot be applied (malformed token, or it names an item that is not in the history)."""


@dataclass(frozen=True)
class HistoryEdit:
    """One operation: remove ``item_id``, add it as the most recent item, or move it to ``position``."""

    kind: EditKind
    item_id: int
    position: int | None = None  # only for "move": 0 = oldest

    def token(self) -> str:
        """The URL form: ``-ID``, ``+ID`` or ``ID@P``."""
        if self.kind == "move":
            return f"{self.item_id}@{self.position}"
        return f"{'-' if self.kind == 'remove' else '+'}{self.item_id}"

    @classmethod
    def parse(cls, token: str) -> HistoryEdit:
        text = str(token).strip()
        match = _TOKEN.match(text)
        if match is None:
            shown = text if len(text) <= 40 else text[:37] + "…"
            raise EditError(f"malformed history edit {shown!r}; {_TOKEN_HELP}. Open the app without the "
                            "'edit' URL parameter to start from the real history")
        sign, item, moved, position = match.groups()
        if sign is not None:
            return cls("remove" if sign == "-" else "add", int(item))
        return cls("move", int(moved), int(position))


@dataclass(frozen=True)
class HistoryEdits:
    """The operations replayed on a starting history, in order (empty: the history as it is)."""

    ops: tuple[HistoryEdit, ...] = ()

    @classmethod
    def parse(cls, tokens: Iterable[str] | HistoryEdits) -> HistoryEdits:
        """From their URL / scenario form (blank tokens skipped); :class:`EditError` names a malformed one."""
        if isinstance(tokens, HistoryEdits):
            return tokens
        return cls(tuple(HistoryEdit.parse(t) for t in tokens if str(t).strip()))

    @classmethod
    def from_lists(cls, remove: Sequence[int] = (), add: Sequence[int] = ()) -> HistoryEdits:
        """Remove ``remove`` ids, then append ``add`` ids as the most recent: what ``--remove/--add`` say."""
        return cls(tuple(HistoryEdit("remove", int(i)) for i in remove)
                   + tuple(HistoryEdit("add", int(i)) for i in add))

    def tokens(self) -> tuple[str, ...]:
        return tuple(op.token() for op in self.ops)

    def then(self, *ops: HistoryEdit) -> HistoryEdits:
        """These edits followed by ``ops``."""
        return HistoryEdits(self.ops + ops)

    def __bool__(self) -> bool:
        return bool(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def apply(self, history: Sequence[int]) -> list[int]:
        """The edited history (raw ids, oldest first). Removing drops every occurrence of the item; an
        operation naming an item the history lacks at that point raises :class:`EditError`."""
        current = [int(i) for i in history]
        for op in self.ops:
            if op.kind == "add":
                current.append(op.item_id)
                continue
            if op.item_id not in current:
                raise EditError(f"history edit {op.token()!r} names item {op.item_id}, which is not in the "
                                "history at that point; reset the history (or drop the edit) and try again")
            if op.kind == "remove":
                current = [i for i in current if i != op.item_id]
            else:
                current.remove(op.item_id)
                current.insert(min(int(op.position or 0), len(current)), op.item_id)
        return current

    def summary(self, baseline: Sequence[int]) -> dict[str, list[int]]:
        """What :meth:`apply` does to ``baseline``, as an Explanation records it: see :func:`edit_summary`."""
        return edit_summary(baseline, self.apply(baseline))


NO_EDITS = HistoryEdits()


def edit_summary(baseline: Sequence[int], edited: Sequence[int]) -> dict[str, list[int]]:
    """``edited`` against ``baseline``: ``remove`` (baseline order) and ``add`` (edited order), the form
    ``recviz explain --remove/--add`` takes, plus ``order`` (the whole edited history) only when removing
    and appending alone do not give it (an item was moved)."""
    base, new = [int(i) for i in baseline], [int(i) for i in edited]
    kept, base_set = set(new), set(base)
    remove = [i for i in dict.fromkeys(base) if i not in kept]
    add = [i for i in dict.fromkeys(new) if i not in base_set]
    out = {"remove": remove, "add": add}
    if [i for i in base if i not in set(remove)] + add != new:
        out["order"] = new
    return out
