"""Training: the sampler's cut points, the losses by hand, determinism, the recorded command, a checkpoint."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from typer.testing import CliRunner

from recviz import cli
from recviz.config import TrainConfig
from recviz.data import Dataset, load_dataset
from recviz.errors import ConfigError
from recviz.models import load_checkpoint
from recviz.train import train, train_command
from recviz.train.losses import select_interest, softmax_loss
from recviz.train.sampler import CutPointSampler

SAMPLE = "sample_data/ml-latest-small"


@pytest.fixture(scope="module")
def small() -> Dataset:
    """The sample's first 40 users (about 6k interactions), same catalogue."""
    full = load_dataset(SAMPLE)
    users = sorted(full.interactions["user_id"].unique())[:40]
    frame = full.interactions[full.interactions["user_id"].isin(users)].reset_index(drop=True)
    return Dataset("ml-small-40", frame, full.catalogue, source=full.source)


def test_cut_points_by_hand():
    sampler = CutPointSampler([[5, 6, 7, 8], [9, 4]], max_length=2)
    assert sampler.items.tolist() == [[5, 0], [5, 6], [6, 7], [9, 0]]
    assert sampler.targets.tolist() == [6, 7, 8, 4]
    batches = list(sampler.epoch(np.random.default_rng(0), batch_size=3))
    assert [len(b.targets) for b in batches] == [3, 1]
    seen = sorted(t for b in batches for t in b.targets.tolist())
    assert seen == [4, 6, 7, 8]  # every cut point once per epoch
    again = list(sampler.epoch(np.random.default_rng(0), batch_size=3))
    assert [b.targets.tolist() for b in again] == [b.targets.tolist() for b in batches]
    assert sum(len(b.targets) for b in sampler.epoch(np.random.default_rng(1), 3, samples=2)) == 2


def test_select_interest_by_hand():
    interests = torch.tensor([[[1.0, 0.0], [0.0, 2.0]]])  # [1, 2, 2]
    target = torch.tensor([[0.0, 1.0]])  # scores 0 and 2
    assert torch.equal(select_interest(interests, target, "argmax"), torch.tensor([[0.0, 2.0]]))
    w = torch.softmax(torch.tensor([0.0, 2.0 * 3.0]), 0)  # label-aware with p = 3
    expected = w[0] * interests[0, 0] + w[1] * interests[0, 1]
    assert torch.allclose(select_interest(interests, target, "label-aware", power=3.0)[0], expected)


def test_softmax_losses_by_hand():
    user = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    items = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # row 0 = padding
    targets = torch.tensor([1, 2])
    full = softmax_loss(user, items, targets, None)
    # candidates 1..3: user 0 scores [1, 0, 1] → target score 1; user 1 scores [0, 1, 1]
    by_hand = -(1 - np.log(np.e + 1 + np.e)) * 2 / 2
    assert np.isclose(full.item(), by_hand, atol=1e-6)
    # sampled: negatives {2, 3, 1}; the accidental hit (item 1 for user 0, item 2 for user 1) is dropped
    sampled = softmax_loss(user, items, targets, torch.tensor([2, 3, 1]))
    assert np.isclose(sampled.item(), F.cross_entropy(torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]]),
                                                       torch.tensor([0, 2])).item(), atol=1e-6)


def test_same_seed_same_numbers_and_a_checkpoint(small, tmp_path):
    config = TrainConfig(epochs=1, samples_per_epoch=256, batch_size=64, negatives=256, full_softmax=False,
                         model_kwargs={"dim": 16}, max_length=20, threads=1)
    first = train(small, config, out_dir=tmp_path / "ck", progress=False)
    second = train(small, config, progress=False)
    assert first.history[0]["loss"] == second.history[0]["loss"]
    assert first.valid_metrics == second.valid_metrics and "recall@20" in first.valid_metrics
    other = train(small, TrainConfig(**{**config.to_dict(), "seed": 7}), progress=False)
    assert other.history[0]["loss"] != first.history[0]["loss"]

    ckpt = load_checkpoint(first.checkpoint_path)
    recorded = json.loads((ckpt.path / "config.json").read_text())
    assert recorded["data"]["path"] == SAMPLE and recorded["data"]["protocol"] == "user-split"
    assert len(recorded["data"]["fingerprint"]) == 64 and recorded["data"]["seed"] == 42
    assert recorded["metrics"]["valid"] == first.valid_metrics
    assert recorded["command"].startswith(f"recviz train --data {SAMPLE} --model comirec-sa --out ")
    assert recorded["model"]["num_genres"] == len(small.catalogue.all_genres())
    assert ckpt.item_counts.sum() == sum(len(s) for s in first.split.train.values())
    assert (json.loads((first.checkpoint_path / "config.json").read_text())["versions"]["torch"]
            == torch.__version__)


def test_recorded_command_reproduces_the_config(tmp_path):
    """The command in config.json, run through the real CLI, trains with exactly the same settings."""
    config = TrainConfig(model="comirec-dr", epochs=1, samples_per_epoch=64, side_features=False,
                         model_kwargs={"dim": 8, "shared_map": True}, max_length=10)
    command = train_command(config, SAMPLE, tmp_path / "ck")
    assert command.startswith(f"recviz train --data {SAMPLE} --model comirec-dr --out {tmp_path / 'ck'} ")
    assert " --no-side-features " in command and " --samples-per-epoch 64 " in command
    assert command.endswith(" --set dim=8 --set shared_map=true") and "--min-rating" not in command
    result = CliRunner().invoke(cli.app, shlex.split(command)[1:] + ["--quiet", "--no-map"])
    assert result.exit_code == 0, result.output
    recorded = json.loads((load_checkpoint(tmp_path / "ck").path / "config.json").read_text())
    assert recorded["command"] == command
    assert TrainConfig.from_dict({k: v for k, v in recorded["train"].items()
                                  if k in config.to_dict()}) == config


def test_bad_settings_are_config_errors(small):
    with pytest.raises(ConfigError, match="interest selection"):
        TrainConfig(selection="soft")
    with pytest.raises(ConfigError, match="set by training itself"):
        train(small, TrainConfig(model_kwargs={"num_items": 3}), progress=False)
    with pytest.raises(ConfigError, match="unknown training setting"):
        TrainConfig.from_dict({"epoch": 3})


def test_early_stopping_follows_the_chosen_metric(small):
    """The kept epoch is the one with the best validation ``early_stop`` metric (here NDCG@10)."""
    config = TrainConfig(epochs=3, samples_per_epoch=512, batch_size=64, model_kwargs={"dim": 16},
                         max_length=20, early_stop="ndcg@10", patience=3, threads=1, lr=1e-2)
    result = train(small, config, progress=False)
    scores = [h["valid_ndcg@10"] for h in result.history]
    assert len(scores) == 3
    assert result.best_epoch == 1 + int(np.argmax(scores))
    assert result.valid_metrics["ndcg@10"] == max(scores)
    with pytest.raises(ConfigError, match="early-stopping metric"):
        TrainConfig(early_stop="auc")


def test_recorded_command_reproduces_the_context_options(tmp_path):
    """The new options (early stopping metric, GRU encoder, recency positions, dropout) survive the recorded
    command through the real CLI and are rebuilt from the checkpoint."""
    config = TrainConfig(model="comirec-sa", epochs=1, samples_per_epoch=64, early_stop="ndcg@10",
                         model_kwargs={"dim": 8, "encoder": "gru", "position": "recency", "dropout": 0.1},
                         max_length=10)
    command = train_command(config, SAMPLE, tmp_path / "ck")
    assert " --early-stop ndcg@10 " in command and """--set 'encoder="gru"'""" in command
    result = CliRunner().invoke(cli.app, shlex.split(command)[1:] + ["--quiet", "--no-map"])
    assert result.exit_code == 0, result.output
    ckpt = load_checkpoint(tmp_path / "ck")
    recorded = json.loads((ckpt.path / "config.json").read_text())
    assert recorded["command"] == command and recorded["train"]["early_stop"] == "ndcg@10"
    assert {k: recorded["model"][k] for k in ("encoder", "position", "dropout")} == {
        "encoder": "gru", "position": "recency", "dropout": 0.1}
    assert ckpt.model.context.gru is not None
