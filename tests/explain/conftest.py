"""Shared fixtures: the shipped MovieLens sample and one small, randomly initialised checkpoint per
registered model (saved and re-loaded through recviz.models.checkpoint), so every test runs the real
load → explain path without training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from recviz.data import Vocab, build_sequences, load_dataset
from recviz.models.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from recviz.models.registry import MODEL_NAMES, build_model

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "ml-latest-small"
SHIPPED = ROOT / "models" / "comirec-sa-ml-latest-small"
MIN_RATING, KCORE = 4.0, 5
SMALL = {"comirec-sa": {"dim": 16, "hidden": 32}, "comirec-dr": {"dim": 16}, "youtube-dnn": {"dim": 16},
         "sasrec": {"dim": 16, "num_layers": 1}, "popularity": {},
         "recbole-sine": {"dim": 16}, "recbole-sasrec": {"dim": 16, "n_layers": 1, "inner_size": 32},
         "recbole-gru4rec": {"dim": 16, "hidden_size": 16}}  # other models (plugins): their defaults


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One torch thread while these tests run: with 2 xdist workers on 2 shared cores, a second thread per
    worker only spins (it made explain() 3-10x slower here). Restored after each module."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def sequences():
    return build_sequences(load_dataset(SAMPLE), MIN_RATING, KCORE)


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory, sequences) -> dict[str, Checkpoint]:
    """name → a loaded checkpoint of an untrained (seeded) model over the sample's filtered items."""
    dataset = load_dataset(SAMPLE)
    vocab = Vocab(i for u in sequences.users() for i in sequences.items[u])
    counts = np.zeros(len(vocab), dtype=np.int64)
    for u in sequences.users():
        np.add.at(counts, vocab.encode(sequences.items[u]), 1)
    data = {"path": str(SAMPLE), "name": "ml-latest-small", "min_rating": MIN_RATING, "kcore": KCORE,
            "protocol": "leave-one-out", "seed": 42}
    root = tmp_path_factory.mktemp("checkpoints")
    out = {}
    for name in MODEL_NAMES:
        torch.manual_seed(0)
        model = build_model(name, num_items=len(vocab), **SMALL.get(name, {}))
        if name == "popularity":
            model.fit_counts(counts)
        save_checkpoint(root / name, model, vocab, dataset.catalogue, {"data": data}, item_counts=counts)
        out[name] = load_checkpoint(root / name)
    return out


@pytest.fixture(scope="session")
def long_user(sequences) -> int:
    """A user with at least 60 items (longer than every model's max_length of 50)."""
    return next(u for u in sequences.users() if len(sequences.items[u]) >= 60)
