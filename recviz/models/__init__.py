"""Models: the contract (base), the registry, one module per model, and checkpoints.

Every model implements :class:`MultiInterestModel` (base.py) and registers under its name with
``@register("name")``, the one place a model name is spelled (``MODEL_NAMES`` lists them); other packages'
models register as plugins under the entry-point group ``recviz.models`` (registry.py, docs/extending.md),
and RecBole 1.2.1's SINE, SASRec and GRU4Rec are rebuilt exactly by ``recbole_*.py`` for
``recviz import recbole`` (recbole_import.py).

A checkpoint's config.json is read once, at load, into a frozen :class:`CheckpointRecord`
(``checkpoint.record``, in record.py): the model's name and settings, the data (path, name, fingerprint,
``min_rating``, ``kcore``, protocol, split seed), the split summary, the metrics, the provenance (command,
created time, training seconds) and the versions. A wrong-typed field is a CheckpointError naming it; a
missing one takes training's default (``TrainConfig``: protocol user-split, seed 42). Nothing else reads the
raw JSON, and :func:`rebuild_training` is the one rebuild of a checkpoint's sequences and split from it.
"""

from recviz.models.base import MultiInterestModel, NoAttentionError, OwnFusion
from recviz.models.checkpoint import (
    Checkpoint,
    TrainingSplit,
    list_checkpoints,
    load_checkpoint,
    rebuild_training,
    save_checkpoint,
)
from recviz.models.record import CheckpointRecord
from recviz.models.registry import MODEL_NAMES, build_model, register

__all__ = [
    "MODEL_NAMES",
    "Checkpoint",
    "CheckpointRecord",
    "MultiInterestModel",
    "NoAttentionError",
    "OwnFusion",
    "TrainingSplit",
    "build_model",
    "list_checkpoints",
    "load_checkpoint",
    "rebuild_training",
    "register",
    "save_checkpoint",
]
