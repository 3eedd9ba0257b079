"""The project's own exceptions: errors a user can cause, each with a message that says what and how to
fix it.

The UI and the CLI catch :class:`RecvizError` and show its message; anything else is a bug.
"""

from __future__ import annotations


class RecvizError(Exception):
    """Base class of every error a user can cause (bad files, unknown ids, corrupt checkpoints...)."""


class DataError(RecvizError):
    """A data file is missing, malformed or inconsistent. The message names the file, the line or column."""


class CheckpointError(RecvizError):
    """A checkpoint directory is missing, truncated, foreign or was written by an incompatible version."""


class UnknownItemError(RecvizError):
    """One or more item ids are not in the model's vocabulary."""

    def __init__(self, unknown: list[int], hint: str = "") -> None:
        self.unknown = list(unknown)
        shown = ", ".join(str(i) for i in self.unknown[:20])
        more = f" (and {len(self.unknown) - 20} more)" if len(self.unknown) > 20 else ""
        msg = f"Unknown item id(s): {shown}{more}. They are not in this model's catalogue"
        super().__init__(msg + (f"; {hint}" if hint
                                else "; use ids from the catalogue the model was trained on."))


class UnknownUserError(RecvizError):
    """A user id is not in the data set."""


class EmptyHistoryError(RecvizError):
    """A history has no items where the operation needs at least one."""


class ConfigError(RecvizError):
    """A setting has an invalid value."""
