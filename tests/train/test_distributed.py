"""Training across processes: the sharded sampler, the lean cut-point arrays, the softmax rule, and a real
two-process gloo run (torchrun's launcher through `recviz train --nproc 2`) against one process."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from recviz import cli
from recviz.config import TrainConfig
from recviz.data import load_dataset
from recviz.data.vocab import Vocab
from recviz.errors import ConfigError, UnknownItemError
from recviz.train import train
from recviz.train.distributed import DistContext, choose_backend, launched_by_torchrun, loss_module
from recviz.train.loop import FULL_SOFTMAX_MAX_ITEMS, uses_full_softmax
from recviz.train.sampler import CutPointSampler, dense_sequences
from recviz.train.timing import time_epoch

SAMPLE = "sample_data/ml-latest-small"
ROOT = Path(__file__).resolve().parents[2]
# The two-process run sees exactly the batches and negatives of the one-process run, split in halves, and
# DDP averages the halves' gradients: only float summation order differs. Tolerances: per-epoch loss within
# 1e-4 relative, every validation/test metric within 0.01 absolute.
LOSS_RTOL, METRIC_ATOL = 1e-4, 0.01


def _padded(sequences: list[list[int]], max_length: int) -> list[tuple[list[int], int]]:
    """Every cut point by hand: (history left-aligned, target)."""
    return [(s[max(0, t - max_length) : t], s[t]) for s in sequences for t in range(1, len(s))]


def test_lean_sampler_serves_every_cut_point_as_padded_histories():
    rng = np.random.default_rng(3)
    sequences = [list(rng.integers(1, 50, size=n)) for n in (1, 2, 7, 30, 4)]
    sampler = CutPointSampler(sequences, max_length=5)
    expected = _padded(sequences, 5)
    assert len(sampler) == len(expected) == 0 + 1 + 6 + 29 + 3
    batch = sampler.batch(np.arange(len(sampler)))
    assert batch.items.shape == (len(expected), 5) and batch.items.dtype == torch.long
    for row, mask, target, (history, want) in zip(batch.items, batch.mask, batch.targets, expected,
                                                 strict=True):
        assert row[: len(history)].tolist() == history and not row[len(history):].any()
        assert mask.sum() == len(history) and target == want
    # no padded [S, L] copy is kept: 12 bytes a sample plus the flat items
    assert sampler.nbytes == 4 * sum(map(len, sequences)) + 12 * len(sampler)


def test_ranks_get_disjoint_parts_of_the_same_batches():
    sampler = CutPointSampler([list(range(1, 40)), list(range(40, 69))], max_length=4)  # 38 + 28 cut points
    one = [b.targets.tolist() for b in sampler.epoch(np.random.default_rng(5), batch_size=10)]
    ranks = [[b.targets.tolist() for b in sampler.epoch(np.random.default_rng(5), 10, rank=r, world_size=3)]
             for r in range(3)]
    assert len(one) == 7 and [len(b) for b in one] == [10] * 6 + [6]
    assert all(len(r) == len(one) for r in ranks)  # every rank steps together
    for step, whole in enumerate(one):
        parts = [r[step] for r in ranks]
        assert sorted(sum(parts, [])) == sorted(whole) and sum(parts, []) == whole  # disjoint, in order
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    # a last batch smaller than the world is left out on every rank alike
    short = [list(sampler.epoch(np.random.default_rng(5), 10, samples=63, rank=r, world_size=3))
             for r in range(3)]
    assert [len(s) for s in short] == [7, 7, 7]
    shorter = [list(sampler.epoch(np.random.default_rng(5), 10, samples=62, rank=r, world_size=3))
               for r in range(3)]
    assert [len(s) for s in shorter] == [6, 6, 6]


def test_dense_sequences_match_the_vocabulary():
    vocab = Vocab([3, 10, 42, 7])  # insertion order, not sorted: the slow path
    ordered = Vocab([3, 7, 10, 42])
    seqs = [[42, 3], [7, 7, 10]]
    for v in (vocab, ordered):
        flat, lengths = dense_sequences(seqs, v)
        assert flat.tolist() == v.encode([42, 3, 7, 7, 10]) and lengths.tolist() == [2, 3]
    with pytest.raises(UnknownItemError, match="99"):
        dense_sequences([[3, 99]], ordered)


def test_sampled_softmax_past_the_catalogue_threshold(caplog):
    config = TrainConfig(full_softmax=True, negatives=500)
    assert uses_full_softmax(config, FULL_SOFTMAX_MAX_ITEMS)
    with caplog.at_level(logging.WARNING, logger="recviz.train.loop"):
        assert not uses_full_softmax(config, FULL_SOFTMAX_MAX_ITEMS + 1)
    assert "sampled softmax over 500 shared negatives" in caplog.text
    assert not uses_full_softmax(TrainConfig(full_softmax=False), 10)


def test_backend_choice_and_single_process_defaults():
    assert choose_backend("auto") == ("nccl" if torch.cuda.is_available() else "gloo")
    assert choose_backend("gloo") == "gloo"
    with pytest.raises(ConfigError, match="unknown distributed backend"):
        choose_backend("mpi2")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="needs CUDA"):
            choose_backend("nccl")
    ctx = DistContext()
    assert ctx.is_main and not ctx.distributed and ctx.sum(1.0, 2.0) == [1.0, 2.0] and ctx.agree(True)
    model = torch.nn.Linear(2, 2)
    assert loss_module(model, "argmax", 2.0, ctx).model is model  # no DDP wrapper for one process
    assert not launched_by_torchrun()


def test_cli_refuses_bad_process_settings_before_launching(capsys, monkeypatch):
    command = ["recviz", "train", "--data", SAMPLE, "--nproc"]
    monkeypatch.setattr(sys, "argv", [*command, "4", "--batch-size", "2"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2
    assert "batch_size 2 is the total batch of all 4 processes" in capsys.readouterr().err
    if not torch.cuda.is_available():
        monkeypatch.setattr(sys, "argv", [*command, "2", "--backend", "nccl"])
        with pytest.raises(SystemExit):
            cli.main()
        assert "needs CUDA" in capsys.readouterr().err


def test_epoch_timing_on_a_small_set():
    full = load_dataset(SAMPLE)
    config = TrainConfig(batch_size=64, model_kwargs={"dim": 8}, side_features=False, max_length=10)
    timing = time_epoch(full, config, steps=3)
    assert timing.steps == 3 and timing.extrapolated and timing.full_softmax
    assert timing.cut_points == timing.interactions - timing.users  # every cut point of every sequence
    assert timing.epoch_seconds == pytest.approx(timing.step_seconds / 3 * -(-timing.cut_points // 64))
    assert timing.items > 9000 and timing.peak_rss_mb > 0 and timing.sampler_mb > 0
    with pytest.raises(ConfigError, match="steps"):
        time_epoch(full, config, steps=0)


@pytest.mark.slow
def test_two_processes_reach_the_metrics_of_one(tmp_path):
    """`recviz train --nproc 2` (gloo, through torchrun's launcher) against one process with the same total
    batch: the same losses and metrics within the tolerances above; rank 0 alone writes the checkpoint."""
    args = ["--data", SAMPLE, "--epochs", "2", "--samples-per-epoch", "1536", "--batch-size", "64",
            "--max-length", "20", "--set", "dim=16", "--no-side-features", "--quiet", "--no-map"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "recviz.cli", "train", *args, "--nproc", "2",
                          "--out", str(tmp_path / "two")], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("valid:") == 1  # rank 0 alone reports
    two = json.loads((tmp_path / "two" / "config.json").read_text())
    assert two["train"]["nproc"] == 2 and two["command"].endswith(" --nproc 2")

    config = TrainConfig(epochs=2, samples_per_epoch=1536, batch_size=64, max_length=20,
                         model_kwargs={"dim": 16}, side_features=False)
    one = train(load_dataset(ROOT / SAMPLE), config, progress=False)
    assert [h["loss"] for h in two["train"]["history"]] == pytest.approx(
        [h["loss"] for h in one.history], rel=LOSS_RTOL)
    for split, metrics in (("valid", one.valid_metrics), ("test", one.test_metrics)):
        assert set(two["metrics"][split]) == set(metrics)
        for name, value in metrics.items():
            assert abs(two["metrics"][split][name] - value) <= METRIC_ATOL, (split, name)
