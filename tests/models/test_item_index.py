"""The faiss item index of large checkpoints, at small sizes (the threshold lowered by its setting): built
and recorded past the threshold, used for top-k with the exact lists on an easy case, recall against exact
search, refused when it does not match the weights, never a pickle, and the memory estimate's refusal."""

from __future__ import annotations

import json
import pickle
import sys

import numpy as np
import pytest
import torch

from recviz.cli import main
from recviz.data import Catalogue, Item, Vocab
from recviz.data.memory import MEMORY_ENV
from recviz.errors import CheckpointError
from recviz.models import build_model, load_checkpoint, save_checkpoint
from recviz.models.item_index import (
    CONFIG_KEY,
    INDEX_FILE,
    THRESHOLD_ENV,
    build_index,
    embeddings_hash,
    item_table,
    write_index,
)
from recviz.models.scoring import pad_histories, recommend

ITEMS, DIM = 3000, 16


def clustered(items: int, dim: int, clusters: int = 30, seed: int = 0) -> np.ndarray:
    """Centroids plus noise, power-law cluster sizes: [items, dim] float32."""
    rng = np.random.default_rng(seed)
    sizes = np.arange(1, clusters + 1) ** -1.0
    which = rng.choice(clusters, items, p=sizes / sizes.sum())
    centroids = rng.standard_normal((clusters, dim)) / np.sqrt(dim)
    return (centroids[which] + 0.3 * rng.standard_normal((items, dim)) / np.sqrt(dim)).astype(np.float32)


def write_checkpoint(path, items: int = ITEMS, seed: int = 0):
    vocab = Vocab(range(1, items + 1))
    catalogue = Catalogue(Item(i, f"Item {i}", 2000, ("Drama",)) for i in range(1, items + 1))
    torch.manual_seed(seed)
    model = build_model("comirec-sa", num_items=items + 1, dim=DIM, hidden=16, max_length=20)
    with torch.no_grad():
        model.history_embedding.items.weight[1:] = torch.from_numpy(clustered(items, DIM, seed=seed))
    return save_checkpoint(path, model, vocab, catalogue, {"command": "test"})


@pytest.fixture()
def low_threshold(monkeypatch):
    monkeypatch.setenv(THRESHOLD_ENV, "2000")


@pytest.fixture()
def indexed(tmp_path, low_threshold):
    return write_checkpoint(tmp_path / "big")


def test_index_is_built_recorded_and_loaded_past_the_threshold(indexed):
    config = json.loads((indexed / "config.json").read_text())
    record = config[CONFIG_KEY]
    assert (indexed / INDEX_FILE).is_file() and record["rows"] == ITEMS and record["dim"] == DIM
    ckpt = load_checkpoint(indexed)
    assert ckpt.item_index is not None and ckpt.item_index.index.ntotal == ITEMS
    assert record["embeddings_hash"] == embeddings_hash(item_table(ckpt.model))


def test_no_index_below_the_threshold(tmp_path, monkeypatch):
    monkeypatch.setenv(THRESHOLD_ENV, str(ITEMS + 1))
    path = write_checkpoint(tmp_path / "small")
    assert not (path / INDEX_FILE).exists()
    assert CONFIG_KEY not in json.loads((path / "config.json").read_text())
    assert load_checkpoint(path).item_index is None


def test_index_is_faiss_format_never_a_pickle(indexed):
    head = (indexed / INDEX_FILE).read_bytes()[:4]
    assert head[:1] != b"\x80" and head[:2] != b"PK"  # not pickle, not a torch zip
    assert not list(indexed.glob("*.pkl")) and not list(indexed.glob(".*.part"))
    (indexed / INDEX_FILE).write_bytes(pickle.dumps({"index": [1, 2, 3]}))
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(indexed)


def test_indexed_top_k_equals_exact_on_an_easy_case(indexed):
    ckpt = load_checkpoint(indexed)
    rng = np.random.default_rng(1)
    histories = [rng.choice(np.arange(1, ITEMS + 1), 15, replace=False).tolist() for _ in range(8)]
    items, mask = pad_histories(histories, ckpt.model.max_length)  # [8, L]
    for fusion in ("max", "weighted"):
        exact = recommend(ckpt.model, items, mask, 20, fusion=fusion)
        approx = recommend(ckpt.model, items, mask, 20, fusion=fusion, index=ckpt.item_index)
        assert torch.equal(exact.per_interest_ids, approx.per_interest_ids)
        assert torch.allclose(exact.per_interest_scores, approx.per_interest_scores, atol=1e-6)
        assert torch.equal(exact.fused_ids, approx.fused_ids)
        assert torch.equal(exact.contributor, approx.contributor)
        assert all(not set(approx.fused_ids[b].tolist()) & set(h) for b, h in enumerate(histories))


def test_recall_at_50_against_exact_search():
    table = clustered(5000, DIM, seed=3)  # [M, d]
    index = build_index(table)
    rng = np.random.default_rng(4)
    queries = table[rng.integers(0, len(table), (100, 5))].mean(1)  # [Q, d] mixtures, interest-like
    _, found = index.search(queries, 50)  # dense ids
    truth = np.argsort(-(queries @ table.T), axis=1)[:, :50] + 1  # [Q, 50] dense ids
    recall = np.mean([len(set(a) & set(b)) / 50 for a, b in zip(found, truth, strict=True)])
    assert recall >= 0.99


@pytest.mark.parametrize("damage", ["hash", "rows", "other-table", "missing"])
def test_index_that_does_not_match_the_weights_is_refused(indexed, damage):
    config_file = indexed / "config.json"
    config = json.loads(config_file.read_text())
    if damage == "hash":
        config[CONFIG_KEY]["embeddings_hash"] = "0" * 24
        config_file.write_text(json.dumps(config))
    elif damage == "rows":
        config[CONFIG_KEY]["rows"] = ITEMS - 1
        config_file.write_text(json.dumps(config))
    elif damage == "other-table":  # an index of other embeddings, its record copied over
        other = build_index(clustered(ITEMS, DIM, seed=9))
        write_index(indexed, other)
    else:
        (indexed / INDEX_FILE).unlink()
    with pytest.raises(CheckpointError, match="recviz index --checkpoint"):
        load_checkpoint(indexed)


def test_cli_refuses_a_mismatched_index_in_one_line_and_index_rebuilds_it(indexed, monkeypatch, capsys):
    write_index(indexed, build_index(clustered(ITEMS, DIM, seed=9)))  # the weights' record, another table
    config = json.loads((indexed / "config.json").read_text())
    config[CONFIG_KEY]["embeddings_hash"] = "f" * 24
    (indexed / "config.json").write_text(json.dumps(config))
    monkeypatch.setattr(sys, "argv", ["recviz", "evaluate", "--checkpoint", str(indexed)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and "recviz index --checkpoint" in err and len(err.splitlines()) == 1
    monkeypatch.setattr(sys, "argv", ["recviz", "index", "--checkpoint", str(indexed)])
    main()
    ckpt = load_checkpoint(indexed)
    assert ckpt.item_index is not None
    assert ckpt.item_index.record.embeddings_hash == embeddings_hash(item_table(ckpt.model))


def test_too_large_for_the_memory_at_hand_is_refused_with_the_figure(indexed, monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, str(10**6))
    with pytest.raises(CheckpointError, match=r"needs about \d+\.\d GiB .* only 0\.0 GiB is available"):
        load_checkpoint(indexed)
    monkeypatch.setenv(MEMORY_ENV, str(10**10))
    assert load_checkpoint(indexed).item_index is not None
