"""How much memory loading a checkpoint takes, estimated from file headers and sizes before anything is read,
and the refusal when it exceeds the memory at hand (a million-item catalogue needs a few GB; a laptop with
less should be told so up front, not be killed half-way through loading)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recviz.data.memory import available_bytes
from recviz.errors import CheckpointError

# copies of the weights alive while loading and explaining: the file's tensors, the model's parameters, the
# scoring table ``item_embeddings()`` (cached for explanations) and the float32 table the index is checked on
WEIGHT_COPIES = 4
# bytes per byte of JSON: Python objects of the vocabulary (ints in a list and a dict) and the catalogue
# (one Item, its title and genre tuple per entry, and the parsed JSON while it is built); with INDEX_COPIES
# (faiss's lists and the contiguous copy recviz searches) this gave 2.4 GiB for a 1M-item checkpoint whose
# load peaked at 2.5 GB RSS (bench/make_big_checkpoint.py)
VOCAB_FACTOR, CATALOGUE_FACTOR, INDEX_COPIES = 12, 8, 2


@dataclass(frozen=True)
class Footprint:
    """Estimated bytes of each part of a loaded checkpoint."""

    weights: int
    catalogue: int
    index: int

    @property
    def total(self) -> int:
        return self.weights + self.catalogue + self.index


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def estimate(path: Path, header: dict) -> Footprint:
    """The footprint of checkpoint ``path`` from its safetensors ``header`` (name → entry with dtype, shape,
    start, end) and its files' sizes."""
    weights = sum(entry.end - entry.start for entry in header.values()) * WEIGHT_COPIES
    size = lambda name: (path / name).stat().st_size if (path / name).is_file() else 0  # noqa: E731
    catalogue = size("vocab.json") * VOCAB_FACTOR + size("catalogue.json") * CATALOGUE_FACTOR
    return Footprint(weights, catalogue, size("items.faiss") * INDEX_COPIES)


def check_memory(path: Path, header: dict) -> Footprint:
    """The footprint, or :class:`CheckpointError` with the figures when it exceeds the memory at hand."""
    need, have = estimate(path, header), available_bytes()
    if need.total > have:
        raise CheckpointError(
            f"{path} needs about {gib(need.total)} of memory to load (weights {gib(need.weights)}, catalogue "
            f"{gib(need.catalogue)}, item index {gib(need.index)}) but only {gib(have)} is available; "
            "free memory, use a larger machine, or load a checkpoint with fewer items"
        )
    return need
