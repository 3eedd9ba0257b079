"""Data layer: readers (one per format), catalogue, vocabulary, sequences, splits."""

from recviz.data.info import DatasetInfo, dataset_info, format_info
from recviz.data.readers import FORMATS, ColumnMapping, detect_format, load_dataset
from recviz.data.sequences import Sequences, build_sequences, filter_interactions
from recviz.data.splits import PROTOCOLS, EvalCase, Split, leave_one_out, make_split, user_split
from recviz.data.types import Catalogue, Dataset, Item
from recviz.data.vocab import PAD, Vocab

__all__ = [
    "FORMATS",
    "PAD",
    "PROTOCOLS",
    "Catalogue",
    "ColumnMapping",
    "Dataset",
    "DatasetInfo",
    "EvalCase",
    "Item",
    "Sequences",
    "Split",
    "Vocab",
    "build_sequences",
    "dataset_info",
    "detect_format",
    "filter_interactions",
    "format_info",
    "leave_one_out",
    "load_dataset",
    "make_split",
    "user_split",
]
