"""The training loop: data → split → vocab → model → AdamW over cut-point samples, early stopping on
validation Recall@20 (full-catalogue, via recviz.eval.evaluate), then an optional checkpoint."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.metadata
import json
import platform
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from recviz.config import TrainConfig
from recviz.data.fingerprint import dataset_fingerprint
from recviz.data.sequences import build_sequences
from recviz.data.splits import Split, make_split
from recviz.data.types import Dataset
from recviz.data.vocab import Vocab
from recviz.errors import ConfigError
from recviz.eval import evaluate
from recviz.models.checkpoint import save_checkpoint
from recviz.models.features import NUM_YEAR_BUCKETS, build_feature_tables
from recviz.models.registry import build_model, model_arguments
from recviz.train.losses import batch_loss
from recviz.train.sampler import CutPointSampler

EARLY_STOP_METRIC = "recall@20"
EVAL_KS = (10, 20, 50)
_RESERVED = ("num_items", "max_length", "num_genres", "num_year_buckets")


@dataclass
class TrainResult:
    """What a training run produced; ``model`` holds the best weights (by validation Recall@20), in eval
    mode."""

    model: nn.Module
    vocab: Vocab
    split: Split
    history: list[dict] = field(default_factory=list)   # per epoch: epoch, loss, seconds, valid metrics
    valid_metrics: dict[str, float] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    checkpoint_path: Path | None = None
    item_counts: np.ndarray | None = None  # [N] training interactions per dense index
    best_epoch: int = 0


def train(dataset: Dataset, config: TrainConfig, out_dir: Path | str | None = None,
          progress: bool = True) -> TrainResult:
    """Train ``config.model`` on ``dataset`` and (with ``out_dir``) write a checkpoint there.

    Deterministic for a given config: torch and numpy are seeded from ``config.seed`` and the number of
    torch threads is fixed to ``config.threads`` for the run.
    """
    start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        result = _train(dataset, config, progress)
    finally:
        torch.set_num_threads(threads)
    result.seconds = time.perf_counter() - start
    if out_dir is not None:
        result.checkpoint_path = save_checkpoint(
            out_dir, result.model, result.vocab, dataset.catalogue,
            _record(dataset, config, result, Path(out_dir)), result.item_counts,
        )
    return result


def build_vocab(split: Split) -> Vocab:
    """Every item of the (filtered) sequences, sorted by raw id: held-out users' items stay rankable."""
    items = {i for seq in split.train.values() for i in seq}
    for case in (*split.valid, *split.test):
        items.update(case.history)
        items.update(case.targets)
    return Vocab(sorted(items))


def item_counts(split: Split, vocab: Vocab) -> np.ndarray:
    """Training interactions per dense index ([N], 0 for padding and for items only held-out users have)."""
    counts = np.zeros(len(vocab), dtype=np.int64)
    for seq in split.train.values():
        np.add.at(counts, vocab.encode(seq), 1)
    return counts


def make_model(config: TrainConfig, dataset: Dataset, vocab: Vocab, counts: np.ndarray) -> nn.Module:
    """The untrained model: registry defaults, the config's model kwargs, and the data-derived sizes."""
    known = model_arguments(config.model)
    clash = sorted(set(config.model_kwargs) & set(_RESERVED))
    if clash:
        raise ConfigError(f"model setting(s) {clash} are set by training itself; "
                          "use max_length / side_features")
    kwargs: dict = {"num_items": len(vocab), "max_length": config.max_length, **config.model_kwargs}
    tables = build_feature_tables(dataset.catalogue, vocab) if config.side_features else None
    if tables is not None and "num_genres" in known:
        kwargs.update(num_genres=len(tables.genre_names), num_year_buckets=NUM_YEAR_BUCKETS)
    model = build_model(config.model, **kwargs)
    if tables is not None and "num_genres" in known:
        model.history_embedding.features.load_tables(tables)
    if hasattr(model, "fit_counts"):
        model.fit_counts(counts)
    return model


def _train(dataset: Dataset, config: TrainConfig, progress: bool) -> TrainResult:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    sequences = build_sequences(dataset, min_rating=config.min_rating, kcore=config.kcore)
    split = make_split(sequences, config.protocol, seed=config.split_seed)
    vocab = build_vocab(split)
    counts = item_counts(split, vocab)
    model = make_model(config, dataset, vocab, counts)
    result = TrainResult(model, vocab, split, item_counts=counts)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:  # popularity: counting was the training
        result.valid_metrics = _metrics(model, split.valid, vocab)
        result.test_metrics = _metrics(model, split.test, vocab)
        model.eval()
        return result

    sampler = CutPointSampler([vocab.encode(s) for s in split.train.values()], config.max_length)
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    best_score, best_state, stale = -1.0, copy.deepcopy(model.state_dict()), 0
    bar = tqdm(range(1, config.epochs + 1), desc=f"train {config.model}", unit="epoch", disable=not progress)
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        total, steps = 0.0, 0
        for batch in sampler.epoch(rng, config.batch_size, config.samples_per_epoch):
            negatives = None if config.full_softmax else torch.as_tensor(
                rng.integers(1, len(vocab), size=config.negatives))  # [M]
            loss = batch_loss(model, batch.items, batch.mask, batch.targets, negatives,
                              config.selection, config.label_power)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total, steps = total + loss.item(), steps + 1
        valid = _metrics(model, split.valid, vocab)
        score = valid.get(EARLY_STOP_METRIC, 0.0)
        result.history.append({"epoch": epoch, "loss": total / steps, "seconds": time.perf_counter() - t0,
                               **{f"valid_{k}": v for k, v in valid.items()}})
        bar.set_postfix(loss=f"{total / steps:.4f}", r20=f"{score:.4f}",
                        r50=f"{valid.get('recall@50', 0):.4f}")
        if score > best_score:
            best_score, best_state, stale, result.best_epoch = (score, copy.deepcopy(model.state_dict()), 0,
                                                                epoch)
            result.valid_metrics = valid
        else:
            stale += 1
            if stale >= config.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    result.test_metrics = _metrics(model, split.test, vocab)
    return result


def _metrics(model: nn.Module, cases: list, vocab: Vocab) -> dict[str, float]:
    if not cases:
        return {}
    with torch.no_grad():
        return evaluate(model, cases, vocab, ks=EVAL_KS, fusion="max", exclude_history=True).metrics


def train_command(config: TrainConfig, data_path: str, out_dir: str | Path | None) -> str:
    """The ``recviz train`` command line that reproduces ``config``.

    Every setting is spelled out (None values excepted: they are the only way to say "off"), so the command
    still reproduces the run if a default changes later.
    """
    parts = ["recviz", "train", "--data", data_path, "--model", config.model]
    if out_dir is not None:
        parts += ["--out", str(out_dir)]
    for name, value in config.to_dict().items():
        if name in ("model", "model_kwargs") or value is None:
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag if value else "--no-" + name.replace("_", "-"))
        else:
            parts += [flag, str(value)]
    for key, value in config.model_kwargs.items():
        parts += ["--set", f"{key}={json.dumps(value)}"]
    return shlex.join(parts)


def _relative(path: str) -> str:
    """``path`` relative to the working directory when it lies inside it (a repo-relative data path)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(Path.cwd())) if resolved.is_relative_to(Path.cwd()) else str(resolved)


def _record(dataset: Dataset, config: TrainConfig, result: TrainResult, out_dir: Path) -> dict:
    """The config.json sections besides "model": data, split, training, metrics, command, created, versions
    (read back as :class:`recviz.models.record.CheckpointRecord`)."""
    data_path = _relative(dataset.source) if dataset.source else dataset.name
    fingerprint = dataset_fingerprint(dataset.interactions)
    return {
        "data": {"path": data_path, "name": dataset.name, "fingerprint": fingerprint,
                 "min_rating": config.min_rating, "kcore": config.kcore, "protocol": config.protocol,
                 "seed": config.split_seed},
        "split": result.split.summary(),
        "train": {**config.to_dict(), "best_epoch": result.best_epoch, "epochs_run": len(result.history),
                  "seconds": round(result.seconds, 1), "history": result.history},
        "metrics": {"valid": result.valid_metrics, "test": result.test_metrics},
        "command": train_command(config, data_path, _relative(str(out_dir))),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": {"recviz": _version("recviz"), "torch": torch.__version__, "numpy": np.__version__,
                     "safetensors": _version("safetensors"), "python": platform.python_version()},
        "seconds": round(result.seconds, 1),
    }


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
