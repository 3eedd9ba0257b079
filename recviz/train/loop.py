"""The training loop: data → split → vocab → model → AdamW over cut-point samples, early stopping on
a validation metric (``TrainConfig.early_stop``, Recall@20 by default; full-catalogue, via
recviz.eval.evaluate), then an optional checkpoint."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.metadata
import json
import logging
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
from recviz.train.distributed import DistContext, check_total_batch, distributed_context, loss_module
from recviz.train.sampler import CutPointSampler, dense_sequences

EVAL_KS = (10, 20, 50)
_RESERVED = ("num_items", "max_length", "num_genres", "num_year_buckets")
# Past this many items the full softmax's [B, N] logits and their gradient cost more than the rest of the step
# (measured: 3x the sampled step at 96k items; 0.5 GB of logits per step at 1M items and B = 128); training
# then uses config.negatives shared sampled negatives instead.
FULL_SOFTMAX_MAX_ITEMS = 50_000
_LOG = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a training run produced; ``model`` holds the best weights (by the validation metric
    ``TrainConfig.early_stop``), in eval mode."""

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
    nproc: int = 1  # processes that trained together (the torch.distributed world size)


def train(dataset: Dataset, config: TrainConfig, out_dir: Path | str | None = None,
          progress: bool = True) -> TrainResult:
    """Train ``config.model`` on ``dataset`` and (with ``out_dir``) write a checkpoint there.

    Deterministic for a given config: torch and numpy are seeded from ``config.seed`` and the number of
    torch threads is fixed to ``config.threads`` for the run. Inside a torch.distributed process group
    (see :mod:`recviz.train.distributed`) every rank trains on its share of each batch, and only rank 0
    validates, returns metrics and writes the checkpoint; deterministic for a given seed and world size.
    """
    start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        result = _train(dataset, config, progress, distributed_context())
    finally:
        torch.set_num_threads(threads)
    result.seconds = time.perf_counter() - start
    if out_dir is not None and distributed_context().is_main:
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
    return np.bincount(dense_sequences(split.train.values(), vocab)[0], minlength=len(vocab))


def uses_full_softmax(config: TrainConfig, num_items: int) -> bool:
    """Whether training takes the softmax over the whole catalogue: when ``config.full_softmax`` asks for
    it and the catalogue has at most FULL_SOFTMAX_MAX_ITEMS items; past that, sampled softmax (logged)."""
    if config.full_softmax and num_items > FULL_SOFTMAX_MAX_ITEMS:
        _LOG.warning("%s items > %s: training with a sampled softmax over %s shared negatives instead of "
                     "the full softmax", f"{num_items:,}", f"{FULL_SOFTMAX_MAX_ITEMS:,}", config.negatives)
        return False
    return config.full_softmax


def run_epoch(step: nn.Module, optimizer: torch.optim.Optimizer, sampler: CutPointSampler,
              rng: np.random.Generator, config: TrainConfig, num_items: int, full_softmax: bool,
              ctx: DistContext, max_steps: int | None = None) -> tuple[float, int]:
    """One epoch of optimiser steps on this rank's share of each batch (or its first ``max_steps``): the
    summed loss and the number of steps. ``step`` is :func:`recviz.train.distributed.loss_module`'s."""
    total, steps = 0.0, 0
    for batch in sampler.epoch(rng, config.batch_size, config.samples_per_epoch, ctx.rank, ctx.world_size):
        negatives = None if full_softmax else torch.as_tensor(
            rng.integers(1, num_items, size=config.negatives), device=ctx.device)  # [M]
        loss = step(batch.items.to(ctx.device), batch.mask.to(ctx.device), batch.targets.to(ctx.device),
                    negatives)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total, steps = total + loss.item(), steps + 1
        if steps == max_steps:
            break
    return total, steps


def make_optimizer(params: list[nn.Parameter], config: TrainConfig,
                   sparse: list[nn.Parameter] | None = None) -> torch.optim.Optimizer | SparseDenseAdam:
    """AdamW, fused (one kernel over each tensor: 9x faster than the per-op loop on a 1M × 64 CPU embedding
    table, the same update up to float rounding). ``sparse`` parameters (a big catalogue's item table, see
    :func:`sparse_item_table`) get their own lazy Adam, which updates only the rows a batch touched."""
    sparse = sparse or []
    dense = [p for p in params if all(p is not q for q in sparse)]
    adamw = torch.optim.AdamW(dense, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    return SparseDenseAdam(adamw, torch.optim.SparseAdam(sparse, lr=config.lr)) if sparse else adamw


class SparseDenseAdam:
    """Two optimisers stepped as one: AdamW over the dense parameters and SparseAdam over the sparse ones."""

    def __init__(self, dense: torch.optim.Optimizer, sparse: torch.optim.Optimizer) -> None:
        self.optimizers = (dense, sparse)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        for opt in self.optimizers:
            opt.step()


def sparse_item_table(model: nn.Module, full_softmax: bool) -> list[nn.Parameter]:
    """Past FULL_SOFTMAX_MAX_ITEMS (sampled softmax), the item embedding table gets sparse gradients: a step
    then touches the batch's rows, not a [N, d] dense gradient and an AdamW pass over all N rows (2.1 s a
    step at 1M items before). Lazy Adam's moments of untouched rows are not decayed, and weight decay does not
    apply to the table: the two differences from AdamW, both only past the threshold. Returns the table's
    parameter (empty when dense: small catalogues, full softmax, or a model without ``history_embedding``)."""
    table = getattr(getattr(model, "history_embedding", None), "items", None)
    if full_softmax or not isinstance(table, nn.Embedding):
        return []
    table.sparse = True
    return [table.weight]


def training_sampler(split: Split, vocab: Vocab, max_length: int) -> CutPointSampler:
    """Every training cut point, held as flat arrays (no Python list per user)."""
    return CutPointSampler.from_csr(*dense_sequences(split.train.values(), vocab), max_length)


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


@dataclass
class TrainingData:
    """What training derives from the data set before any model exists (seeded from ``config.seed``)."""

    split: Split
    vocab: Vocab
    counts: np.ndarray          # [N] training interactions per dense index
    model: nn.Module            # untrained, on the CPU
    rng: np.random.Generator    # the run's sampling generator


@dataclass
class TrainingSteps:
    """What takes optimiser steps: the sampler, the (DDP-wrapped) loss module and the optimiser."""

    sampler: CutPointSampler
    full_softmax: bool
    sparse: list[nn.Parameter]  # the item table when it trains with sparse gradients, else empty
    step: nn.Module
    optimizer: torch.optim.Optimizer | SparseDenseAdam


def prepare_data(dataset: Dataset, config: TrainConfig) -> TrainingData:
    """Seed, sequences, split, vocabulary, counts and the untrained model: training's first half (also what
    :func:`recviz.train.timing.time_epoch` times)."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    sequences = build_sequences(dataset, min_rating=config.min_rating, kcore=config.kcore)
    split = make_split(sequences, config.protocol, seed=config.split_seed)
    vocab = build_vocab(split)
    counts = item_counts(split, vocab)
    return TrainingData(split, vocab, counts, make_model(config, dataset, vocab, counts), rng)


def prepare_steps(data: TrainingData, config: TrainConfig, ctx: DistContext) -> TrainingSteps:
    """The sampler, loss module and optimiser for a model with trainable parameters, on ``ctx``'s device."""
    check_total_batch(config.batch_size, ctx.world_size)
    model = data.model
    params = [p for p in model.parameters() if p.requires_grad]
    sampler = training_sampler(data.split, data.vocab, config.max_length)
    full_softmax = uses_full_softmax(config, len(data.vocab))
    model.to(ctx.device)
    sparse = sparse_item_table(model, full_softmax)  # before DDP wraps the model
    step = loss_module(model, config.selection, config.label_power, ctx)
    if ctx.distributed:  # dropout differs between ranks (the weights were seeded alike, and DDP synced them)
        torch.manual_seed(config.seed + ctx.rank)
    return TrainingSteps(sampler, full_softmax, sparse, step, make_optimizer(params, config, sparse))


def _train(dataset: Dataset, config: TrainConfig, progress: bool, ctx: DistContext) -> TrainResult:
    data = prepare_data(dataset, config)
    model, vocab, split, rng = data.model, data.vocab, data.split, data.rng
    result = TrainResult(model, vocab, split, item_counts=data.counts, nproc=ctx.world_size)
    if not any(p.requires_grad for p in model.parameters()):  # popularity: counting was the training
        result.valid_metrics = _metrics(model, split.valid, vocab)
        result.test_metrics = _metrics(model, split.test, vocab)
        model.eval()
        return result

    prepared = prepare_steps(data, config, ctx)
    sampler, full_softmax, sparse = prepared.sampler, prepared.full_softmax, prepared.sparse
    step, optimizer = prepared.step, prepared.optimizer
    best_score, best_state, stale = -1.0, copy.deepcopy(model.state_dict()), 0
    bar = tqdm(range(1, config.epochs + 1), desc=f"train {config.model}", unit="epoch",
               disable=not (progress and ctx.is_main))
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        total, steps = ctx.sum(*run_epoch(step, optimizer, sampler, rng, config, len(vocab), full_softmax,
                                          ctx))
        steps = max(steps, 1)
        valid = _metrics(_on_cpu(model), split.valid, vocab) if ctx.is_main else {}
        score = valid.get(config.early_stop, 0.0)
        result.history.append({"epoch": epoch, "loss": total / steps, "seconds": time.perf_counter() - t0,
                               **{f"valid_{k}": v for k, v in valid.items()}})
        bar.set_postfix(loss=f"{total / steps:.4f}", valid=f"{score:.4f}",
                        r50=f"{valid.get('recall@50', 0):.4f}")
        if score > best_score:
            best_score, best_state, stale, result.best_epoch = (score, copy.deepcopy(model.state_dict()), 0,
                                                                epoch)
            result.valid_metrics = valid
        else:
            stale += 1
        if ctx.agree(stale >= config.patience):  # rank 0 validated: it decides for every rank
            break
    if sparse:  # the trained model's table is an ordinary one again (explanations, checkpoints)
        model.history_embedding.items.sparse = False
    model.load_state_dict(best_state)
    model.to("cpu").eval()
    result.test_metrics = _metrics(model, split.test, vocab) if ctx.is_main else {}
    return result


def _on_cpu(model: nn.Module) -> nn.Module:
    """``model`` itself on the CPU, else a CPU copy (evaluation scores on the CPU)."""
    device = next(model.parameters()).device
    return model if device.type == "cpu" else copy.deepcopy(model).to("cpu")


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
                  "seconds": round(result.seconds, 1), "history": result.history, "nproc": result.nproc},
        "metrics": {"valid": result.valid_metrics, "test": result.test_metrics},
        "command": train_command(config, data_path, _relative(str(out_dir)))
        + (f" --nproc {result.nproc}" if result.nproc > 1 else ""),
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
