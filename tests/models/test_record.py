"""config.json is parsed once into a typed CheckpointRecord: the shipped checkpoints parse, a wrong-typed
field is a CheckpointError naming it, missing fields take training's defaults, and the one rebuild of the
data and split is the split evaluation uses."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from recviz.config import TrainConfig
from recviz.data import Catalogue, Item, Vocab
from recviz.errors import CheckpointError
from recviz.eval import checkpoint as eval_checkpoint
from recviz.explain.users import training_histories, user_sequences
from recviz.models import CheckpointRecord, build_model, load_checkpoint, rebuild_training, save_checkpoint
from recviz.models.record import parse_record

MODELS = Path(__file__).resolve().parents[2] / "models"
SHIPPED = [MODELS / "comirec-sa-ml-latest-small", MODELS / "comirec-dr-ml-latest-small"]
pytestmark = pytest.mark.skipif(not all((p / "config.json").is_file() for p in SHIPPED),
                                reason="the shipped checkpoints are not trained")


def raw_config(path: Path) -> dict:
    return json.loads((path / "config.json").read_text())


def parse(raw: dict) -> CheckpointRecord:
    return parse_record(raw, Path("ck/config.json"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_checkpoints_parse_into_the_record(path):
    raw = raw_config(path)
    record = load_checkpoint(path).record
    assert isinstance(record, CheckpointRecord) and record == parse(raw)
    assert record.model.to_dict() == raw["model"] and record.model.name == path.name.split("-ml")[0]
    assert dataclasses.asdict(record.data) == raw["data"]
    # shipped since issue #15 under leave-one-out (where its NDCG@10 target is measured)
    assert record.data.protocol == "leave-one-out" and record.data.seed == 42 and record.data.kcore is None
    assert dataclasses.asdict(record.split) == raw["split"]
    assert {part: dict(values) for part, values in record.metrics.items()} == raw["metrics"]
    assert record.provenance.command == raw["command"] and record.provenance.seconds == raw["seconds"]
    assert dict(record.versions) == raw["versions"] and record.format == raw["format"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.data.protocol = "leave-one-out"  # type: ignore[misc]
    with pytest.raises(TypeError):
        record.model.kwargs["dim"] = 8  # type: ignore[index]


@pytest.mark.parametrize(
    ("section", "key", "value", "field"),
    [
        ("data", "protocol", 5, "data.protocol"),
        ("data", "protocol", "random", "data.protocol"),
        ("data", "kcore", "x", "data.kcore"),
        ("data", "seed", -1, "data.seed"),
        ("data", "seed", True, "data.seed"),
        ("data", "min_rating", "4", "data.min_rating"),
        ("data", "path", 3, "data.path"),
        ("split", "test_cases", 1.5, "split.test_cases"),
        ("split", "protocol", None, "split.protocol"),
        (None, "data", [1, 2], "data"),
        (None, "command", 5, "command"),
        (None, "created", "yesterday", "created"),
        (None, "versions", {"torch": 2}, "versions.torch"),
        (None, "metrics", {"test": {"recall@20": "high"}}, "metrics.test.recall@20"),
        (None, "metrics", {"test": 0.5}, "metrics.test"),
    ],
)
def test_a_wrong_typed_field_is_a_checkpoint_error_naming_it(section, key, value, field):
    raw = raw_config(SHIPPED[0])
    (raw[section] if section else raw)[key] = value
    with pytest.raises(CheckpointError, match=rf"config\.json: {field.replace('.', '[.]')}=") as err:
        parse(raw)
    assert "retrain it with: recviz train" in str(err.value) or field == "command"


def test_the_loader_refuses_a_wrong_typed_field(tmp_path):
    vocab = Vocab([10, 20, 30])
    catalogue = Catalogue([Item(10, "A", 1999, ("Drama",)), Item(20, "B", None, ()), Item(30, "C", 2001, ())])
    model = build_model("comirec-sa", num_items=len(vocab), dim=8, max_length=5)
    extra = {"data": {"name": "tiny", "kcore": "x"}, "command": "recviz train --model comirec-sa"}
    path = save_checkpoint(tmp_path / "ck", model, vocab, catalogue, extra, np.zeros(4, dtype=np.int64))
    with pytest.raises(CheckpointError, match=r"data\.kcore='x' is not a whole number") as err:
        load_checkpoint(path)
    assert "retrain it with: recviz train --model comirec-sa" in str(err.value)


def test_missing_fields_take_trainings_defaults():
    raw = raw_config(SHIPPED[0])
    bare = parse({"model": raw["model"]})
    defaults = TrainConfig()
    assert bare.data.protocol == defaults.protocol == "user-split" and bare.data.seed == defaults.split_seed
    assert bare.data.min_rating is defaults.min_rating and bare.data.kcore is defaults.kcore
    assert bare.data.path is None and bare.data.name == "" and bare.split is None and not bare.metrics
    assert bare.provenance.command is None and bare.provenance.created is None
    # without data.protocol, the protocol the recorded split was made under is the one training used
    old = copy.deepcopy(raw)
    del old["data"]["protocol"]
    old["split"]["protocol"] = "leave-one-out"
    assert parse(old).data.protocol == "leave-one-out"
    stamped = parse({**raw, "created": "2025-01-02T03:04:05+00:00"})
    assert stamped.provenance.created == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_training_records_when_it_wrote_the_checkpoint(tmp_path):
    from recviz.data import load_dataset
    from recviz.train import train

    dataset = load_dataset(MODELS.parent / "sample_data" / "ml-latest-small")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    train(dataset, TrainConfig(model="popularity"), out_dir=tmp_path / "pop", progress=False)
    created = load_checkpoint(tmp_path / "pop").record.provenance.created
    assert created is not None and before <= created <= dt.datetime.now(dt.UTC)


def test_the_one_rebuild_is_the_split_evaluation_uses(monkeypatch):
    checkpoint = load_checkpoint(SHIPPED[0])
    rebuilt = rebuild_training(checkpoint)
    # exactly the split training made, as recorded
    assert rebuilt.split.summary() == dataclasses.asdict(checkpoint.record.split)
    seen: dict = {}

    def fake_evaluate(model, cases, vocab, **kwargs):
        seen["cases"] = cases
        return eval_checkpoint.EvalResult(metrics={}, num_cases=len(cases), seconds=0.0, ks=(20,))

    monkeypatch.setattr(eval_checkpoint, "evaluate", fake_evaluate)
    monkeypatch.setattr(eval_checkpoint, "load_checkpoint", lambda path: checkpoint)
    evaluation = eval_checkpoint.evaluate_checkpoint(SHIPPED[0], ks=(20,))
    assert seen["cases"] == rebuilt.split.test and evaluation.protocol == checkpoint.record.data.protocol
    assert not evaluation.notes  # evaluated under the protocol it was trained under
    # the explain side (users, population view) reads the same rebuild
    assert training_histories(checkpoint) == rebuilt.split.train
    assert user_sequences(checkpoint).items == rebuilt.sequences.items
