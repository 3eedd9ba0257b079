"""recviz: an explainability workbench for attention-based multi-interest recommenders."""

from recviz.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    EmptyHistoryError,
    RecvizError,
    UnknownItemError,
    UnknownUserError,
)

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "EmptyHistoryError",
    "RecvizError",
    "UnknownItemError",
    "UnknownUserError",
    "__version__",
]
