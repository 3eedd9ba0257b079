"""Checkpoints refuse what they cannot trust: missing, truncated, foreign, pickle-based and mismatched
files."""

from __future__ import annotations

import json
import pickle
import re
import shutil
import struct
import time
from pathlib import Path

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
    save_checkpoint(ckpt, loaded.model, loaded.vocab, loaded.catalogue, {"command": COMMAND},
                    loaded.item_counts)
    assert (ckpt / "map.npz").read_bytes() == b"x"


# --- checked before anything is allocated -------------------------------------------------------------------

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "comirec-sa-ml-latest-small"


@pytest.fixture()
def shipped_copy(tmp_path):
    """A copy of the shipped ComiRec-SA checkpoint (9067 item rows, dim 64) to damage."""
    return shutil.copytree(SHIPPED, tmp_path / "shipped")


@pytest.fixture()
def no_tensor_reads(monkeypatch):
    """Fail the test if the weights are read or the model is built on a real device (allocation)."""
    from recviz.models import checkpoint

    def refuse(*args, **kwargs):
        raise AssertionError("the checkpoint was loaded or allocated before its config and header "
                             "were checked")

    real_build = checkpoint.build_model

    def meta_only(*args, **kwargs):
        if torch.empty(0).device.type != "meta":
            refuse()
        return real_build(*args, **kwargs)

    monkeypatch.setattr(checkpoint, "load_file", refuse)
    monkeypatch.setattr(checkpoint, "build_model", meta_only)


def _edit_model_config(path: Path, **settings) -> None:
    config = json.loads((path / "config.json").read_text())
    config["model"].update(settings)
    (path / "config.json").write_text(json.dumps(config))


def _edit_header(file: Path, edit) -> None:
    """Rewrite a safetensors file's JSON header with ``edit(header)``, keeping the data bytes."""
    data = file.read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + length])
    edit(header)
    raw = json.dumps(header).encode()
    file.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + length :])


def test_absurd_num_items_is_refused_at_once_without_allocating(shipped_copy, no_tensor_reads):
    _edit_model_config(shipped_copy, num_items=10**12)
    start = time.perf_counter()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(shipped_copy)
    assert time.perf_counter() - start < 5
    message = str(err.value)
    assert "num_items=1000000000000" in message and "outside 2..2000000000" in message
    assert "config.json" in message and "retrain it with: recviz train" in message


def test_num_items_must_match_the_weights_item_table(shipped_copy, no_tensor_reads):
    _edit_model_config(shipped_copy, num_items=9068)
    with pytest.raises(CheckpointError,
                       match=r"num_items=9068 .*history_embedding\.items\.weight has 9067 rows"):
        load_checkpoint(shipped_copy)


@pytest.mark.parametrize(
    ("setting", "value", "problem"),
    [
        ("dim", 10**9, "outside 1..65536"),
        ("num_interests", 10**6, "outside 1..1024"),
        ("max_length", 10**15, "outside 1..100000"),
        ("hidden", 10**7, "outside 1..65536"),
        ("num_layers", 10**6, "outside 0..128"),
        ("num_items", -5, "outside 2..2000000000"),
        ("dim", "64", "not a whole number"),
        ("dim", 64.0, "not a whole number"),
        ("num_interests", True, "not a whole number"),
        ("heads", None, "not a whole number"),
        ("dropout", float("nan"), "not a finite number"),
        ("dropout", 2.0, "not a finite number in [0, 1)"),
    ],
)
def test_insane_model_settings_are_refused_before_allocation(shipped_copy, no_tensor_reads, setting, value,
                                                               problem):
    _edit_model_config(shipped_copy, **{setting: value})
    with pytest.raises(CheckpointError, match=rf"model setting {setting}=.* {re.escape(problem)}"):
        load_checkpoint(shipped_copy)


def test_sane_settings_that_disagree_with_the_header_are_refused_before_allocation(shipped_copy,
                                                                                    no_tensor_reads):
    _edit_model_config(shipped_copy, max_length=60, hidden=4096)
    with pytest.raises(CheckpointError, match="shape mismatch") as err:
        load_checkpoint(shipped_copy)
    assert "positions: file (50, 64) vs model (60, 64)" in str(err.value)
    assert "w1.weight: file (32, 64) vs model (4096, 64)" in str(err.value)


def test_header_claiming_absurd_tensors_is_refused(shipped_copy, no_tensor_reads):
    def huge(header):
        entry = header["history_embedding.items.weight"]
        entry["shape"] = [10**12, 64]
        entry["data_offsets"] = [entry["data_offsets"][0], entry["data_offsets"][0] + 10**12 * 64 * 4]

    _edit_header(shipped_copy / MODEL_FILE, huge)
    with pytest.raises(CheckpointError, match="more than the 2000000000"):
        load_checkpoint(shipped_copy)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda h: h["w1.weight"].update(shape=[64, 64]), "header entry of tensor 'w1.weight' is malformed"),
        (lambda h: h["w1.weight"].update(dtype="F128"), "header entry of tensor 'w1.weight' is malformed"),
        (lambda h: h["w1.weight"].update(shape=[32, -64]), "header entry of tensor 'w1.weight' is malformed"),
        (lambda h: h["w2.weight"].update(data_offsets=[0, 512]), "overlapping or gapped"),
        (lambda h: h.pop("w2.weight"), "truncated or padded"),
    ],
    ids=["shape-vs-offsets", "unknown-dtype", "negative-dim", "overlap", "unaccounted-bytes"],
)
def test_inconsistent_header_is_refused(shipped_copy, no_tensor_reads, edit, message):
    _edit_header(shipped_copy / MODEL_FILE, edit)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(shipped_copy)


def test_oversized_header_is_refused_without_reading_it(shipped_copy, no_tensor_reads):
    file = shipped_copy / MODEL_FILE
    length = 200 * 2**20
    with open(file, "wb") as fh:  # a sparse file: the header length fits the file, but is absurd
        fh.write(struct.pack("<Q", length) + b"{")
        fh.truncate(8 + length + 16)
    with pytest.raises(CheckpointError, match=r"declares a 209715200-byte header \(at most 104857600"):
        load_checkpoint(shipped_copy)


@pytest.mark.parametrize(("tensor", "value"), [("w1.weight", float("nan")), ("positions", float("inf")),
                                               ("history_embedding.items.weight", float("-inf"))])
def test_non_finite_weights_name_the_tensor(ckpt, tensor, value):
    loaded = load_checkpoint(ckpt)
    with torch.no_grad():
        dict(loaded.model.state_dict(keep_vars=True))[tensor].view(-1)[1] = value
    save_checkpoint(ckpt, loaded.model, loaded.vocab, loaded.catalogue, {"command": COMMAND},
                    loaded.item_counts)
    with pytest.raises(CheckpointError,
                       match=rf"tensor '{re.escape(tensor)}' holds 1 NaN or infinite value") as err:
        load_checkpoint(ckpt)
    assert "diverged" in str(err.value) and COMMAND in str(err.value)


def test_shipped_checkpoints_pass_every_check():
    for name in ("comirec-sa-ml-latest-small", "comirec-dr-ml-latest-small"):
        loaded = load_checkpoint(SHIPPED.parent / name)
        assert loaded.model.num_items == len(loaded.vocab) == 9067
