"""Data layer: readers (one per format), catalogue, vocabulary, sequences, splits."""

from recviz.data.sequences import Sequences, build_sequences, filter_interactions
from recviz.data.splits import PROTOCOLS, EvalCase, Split, leave_one_out, make_split, user_split
from recviz.data.types import Catalogue, Dataset, Item
from recviz.data.vocab import PAD, Vocab

__all__ = [
    "PAD",
    "PROTOCOLS",
    "Catalogue",
    "Dataset",
    "EvalCase",
    "Item",
    "Sequences",
    "Split",
    "Vocab",
    "build_sequences",
    "filter_interactions",
    "leave_one_out",
    "make_split",
    "user_split",
]
