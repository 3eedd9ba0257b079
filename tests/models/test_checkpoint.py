"""Checkpoints refuse what they cannot trust: missing, truncated, foreign, pickle-based and mismatched files."""

from __future__ import annotations

import json
import pickle
import shutil

import numpy as np
import pytest
import torch

from recviz.data import Catalogue, Item, Vocab
from recviz.errors import CheckpointError
from recviz.models import build_model, list_checkpoints, load_checkpoint, save_checkpoint
from recviz.models.checkpoint import MODEL_FILE, file_hash

COMMAND = "recviz train --data sample_data/ml-latest-small --model comirec-sa --out X"


@pytest.fixture()
def ckpt(tmp_path):
    vocab = Vocab([10, 20, 30])
    catalogue = Catalogue([Item(10, "A", 1999, ("Drama",)), Item(20, "B", None, ()), Item(30, "C", 2001, ())])
    torch.manual_seed(0)
    model = build_model("comirec-sa", num_items=len(vocab), dim=8, max_length=5)
    return save_checkpoint(tmp_path / "ck", model, vocab, catalogue, {"command": COMMAND},
                           np.array([0, 3, 1, 2]))


def test_round_trip_and_listing(ckpt):
    loaded = load_checkpoint(ckpt)
    assert loaded.name == "comirec-sa" and loaded.vocab.raw_ids == [10, 20, 30]
    assert loaded.catalogue.title(10) == "A" and loaded.item_counts.tolist() == [0, 3, 1, 2]
    assert loaded.hash == file_hash(ckpt / MODEL_FILE) and not loaded.model.training
    (ckpt.parent / "not-a-checkpoint").mkdir()
    assert list_checkpoints(ckpt.parent) == [ckpt]


def test_missing_directory_and_file(ckpt, tmp_path):
    with pytest.raises(CheckpointError, match="not a checkpoint directory"):
        load_checkpoint(tmp_path / "nowhere")
    (ckpt / "vocab.json").unlink()
    with pytest.raises(CheckpointError, match=r"lacks vocab\.json.*" + COMMAND.split()[0]):
        load_checkpoint(ckpt)


def test_truncated_model_file(ckpt):
    data = (ckpt / MODEL_FILE).read_bytes()
    (ckpt / MODEL_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated") as err:
        load_checkpoint(ckpt)
    assert COMMAND in str(err.value)  # says how to fix it


def test_foreign_bytes(ckpt):
    (ckpt / MODEL_FILE).write_bytes(b"this is not a tensor file at all, just text")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(ckpt)


@pytest.mark.parametrize("writer", ["torch.save", "pickle"])
def test_pickle_based_file_is_refused_without_unpickling(ckpt, writer):
    state = load_checkpoint(ckpt).model.state_dict()
    with open(ckpt / MODEL_FILE, "wb") as fh:
        if writer == "torch.save":
            torch.save(state, fh)
        else:
            pickle.dump({k: v.numpy() for k, v in state.items()}, fh)
    with pytest.raises(CheckpointError, match="pickle-based") as err:
        load_checkpoint(ckpt)
    assert "never unpickles" in str(err.value)


def test_unknown_model_and_shape_mismatch(ckpt, tmp_path):
    other = shutil.copytree(ckpt, tmp_path / "other")
    config = json.loads((ckpt / "config.json").read_text())
    config["model"]["name"] = "gru4rec"
    (ckpt / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="unknown model 'gru4rec'"):
        load_checkpoint(ckpt)
    config = json.loads((other / "config.json").read_text())
    config["model"]["dim"] = 16
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="shape mismatch"):
        load_checkpoint(other)


def test_vocab_from_another_run(ckpt):
    (ckpt / "vocab.json").write_text(json.dumps(Vocab([10, 20]).to_json()))
    with pytest.raises(CheckpointError, match="different runs"):
        load_checkpoint(ckpt)


def test_config_not_json(ckpt):
    (ckpt / "config.json").write_text("{broken")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(ckpt)


def test_unknown_files_are_kept_on_resave(ckpt):
    (ckpt / "map.npz").write_bytes(b"x")
    loaded = load_checkpoint(ckpt)
    save_checkpoint(ckpt, loaded.model, loaded.vocab, loaded.catalogue, {"command": COMMAND}, loaded.item_counts)
    assert (ckpt / "map.npz").read_bytes() == b"x"
