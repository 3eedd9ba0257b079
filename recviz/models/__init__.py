"""Models: the contract (base), the registry, one module per model, and checkpoints."""

from recviz.models.base import MultiInterestModel, NoAttentionError
from recviz.models.checkpoint import Checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from recviz.models.registry import MODEL_NAMES, build_model, register

__all__ = [
    "MODEL_NAMES",
    "Checkpoint",
    "MultiInterestModel",
    "NoAttentionError",
    "build_model",
    "list_checkpoints",
    "load_checkpoint",
    "register",
    "save_checkpoint",
]
