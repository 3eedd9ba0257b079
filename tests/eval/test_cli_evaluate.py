"""`recviz evaluate` on real checkpoints of the shipped sample: the rebuilt split reproduces the test
figures training recorded, the JSON has the agreed shape, and wrong data or paths give clear errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from recviz.cli import main
from recviz.config import TrainConfig
from recviz.data import load_dataset
from recviz.errors import DataError
from recviz.eval.checkpoint import evaluate_checkpoint
from recviz.models.checkpoint import load_checkpoint, rebuild_training
from recviz.train import train

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "sample_data/ml-latest-small"
SHIPPED = ROOT / "models" / "comirec-sa-ml-latest-small"


@pytest.fixture(scope="module")
def popularity_checkpoint(tmp_path_factory):
    """The popularity baseline trained (counted) on the sample: a real checkpoint in a second or two."""
    out = tmp_path_factory.mktemp("ckpt") / "popularity"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)   # the checkpoint records the data path relative to where training ran
        result = train(load_dataset(SAMPLE), TrainConfig(model="popularity"), out_dir=out, progress=False)
    return out, result


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["recviz", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_evaluate_reproduces_the_recorded_test_metrics(popularity_checkpoint, tmp_path, monkeypatch,
                                                           capsys):
    path, result = popularity_checkpoint
    monkeypatch.chdir(ROOT)
    report = tmp_path / "eval.json"
    code, out, _ = run_cli(monkeypatch, capsys, "evaluate", "--checkpoint", str(path), "--protocol",
                           "user-split", "--k", "10", "20", "50", "--json", str(report))
    assert code == 0
    assert "recall" in out and "auc" in out
    payload = json.loads(report.read_text())
    assert payload["protocol"] == "user-split"
    assert payload["k"] == [10, 20, 50]
    assert payload["num_cases"] == len(result.split.test)
    for name in ("recall@20", "ndcg@50", "hitrate@10", "map@20", "mrr", "auc"):
        assert payload["metrics"][name] == pytest.approx(result.test_metrics[name], abs=1e-6), name
    # popularity ranks well above chance on MovieLens
    assert payload["metrics"]["auc"] > 0.8
    # every user sees the same list minus their history, so coverage is tiny
    assert payload["metrics"]["coverage@10"] < 0.01


def test_valid_part_and_included_history(popularity_checkpoint, monkeypatch):
    path, result = popularity_checkpoint
    monkeypatch.chdir(ROOT)
    valid = evaluate_checkpoint(path, ks=(20,), part="valid")
    assert valid.result.metrics["recall@20"] == pytest.approx(result.valid_metrics["recall@20"])
    # with the history allowed, popular items the user already saw take top slots: recall cannot rise
    kept = evaluate_checkpoint(path, ks=(20,), exclude_history=False)
    assert kept.result.metrics["recall@20"] <= result.test_metrics["recall@20"] + 1e-12


def test_changed_data_is_refused(popularity_checkpoint):
    path, _ = popularity_checkpoint
    dataset = load_dataset(ROOT / SAMPLE)
    dataset.interactions = dataset.interactions.iloc[:-1]
    with pytest.raises(DataError, match="fingerprints differ"):
        rebuild_training(load_checkpoint(path), dataset=dataset)


def test_cli_errors_are_one_clear_line(tmp_path, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "evaluate", "--checkpoint", str(tmp_path / "nope"))
    assert code == 2
    assert "not a checkpoint directory" in err and "Traceback" not in err


@pytest.mark.skipif(not SHIPPED.is_dir(), reason="the shipped comirec-sa checkpoint is not trained yet")
def test_shipped_checkpoint_reproduces_its_recorded_test_metrics(monkeypatch):
    monkeypatch.chdir(ROOT)
    config = json.loads((SHIPPED / "config.json").read_text())
    evaluation = evaluate_checkpoint(SHIPPED, protocol=config["data"]["protocol"], ks=(20, 50))
    recorded = config["metrics"]["test"]
    for name in ("recall@20", "recall@50", "ndcg@50"):
        assert evaluation.result.metrics[name] == pytest.approx(recorded[name], abs=1e-6), name
