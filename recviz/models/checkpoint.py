"""Checkpoints: a directory with model.safetensors, config.json, vocab.json, catalogue.json and
item_counts.safetensors. Nothing is ever unpickled; every file is validated and a problem raises
:class:`CheckpointError` saying what is wrong and how to fix it.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from recviz.data.fingerprint import dataset_fingerprint
from recviz.data.types import Catalogue, Dataset
from recviz.data.vocab import Vocab
from recviz.errors import CheckpointError, ConfigError, DataError
from recviz.models.registry import build_model

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
CATALOGUE_FILE = "catalogue.json"
COUNTS_FILE = "item_counts.safetensors"
REQUIRED_FILES = (MODEL_FILE, CONFIG_FILE, VOCAB_FILE, CATALOGUE_FILE, COUNTS_FILE)
FORMAT = "recviz-checkpoint/1"


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (eval mode), its vocabulary and catalogue, and everything recorded."""

    path: Path
    name: str
    model: nn.Module
    vocab: Vocab
    catalogue: Catalogue
    config: dict
    hash: str
    item_counts: np.ndarray  # [N] training interactions per dense index, 0 for padding


def save_checkpoint(path: str | Path, model: nn.Module, vocab: Vocab, catalogue: Catalogue,
                    extra_config: dict, item_counts: np.ndarray | None = None) -> Path:
    """Write the checkpoint directory ``path`` (created if needed; other files in it are left alone).

    ``extra_config`` holds the data, split, metrics, command and versions sections; the model section is
    ``model.config()``. ``item_counts`` defaults to zeros.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    counts = np.zeros(len(vocab), dtype=np.int64) if item_counts is None else np.asarray(item_counts, np.int64)
    if counts.shape != (len(vocab),):
        raise ValueError(f"item_counts must have shape ({len(vocab)},), got {counts.shape}")
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path / MODEL_FILE), metadata={"format": FORMAT})
    save_file({"item_counts": torch.as_tensor(counts)}, str(path / COUNTS_FILE), metadata={"format": FORMAT})
    config = {"format": FORMAT, **extra_config, "model": model.config()}
    (path / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=False) + "\n")
    (path / VOCAB_FILE).write_text(json.dumps(vocab.to_json()) + "\n")
    ids = set(vocab.raw_ids)
    records = [r for r in catalogue.to_records() if r["item_id"] in ids]
    (path / CATALOGUE_FILE).write_text(json.dumps(records, ensure_ascii=False) + "\n")
    return path


def file_hash(path: Path) -> str:
    """First 12 hex digits of the file's sha256: a short id for a checkpoint's weights."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load and validate a checkpoint directory; any problem raises :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{path} is not a checkpoint directory (it does not exist or is a file); "
                              "pass a directory made by `recviz train --out DIR`")
    missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
    if missing:
        raise CheckpointError(f"{path} lacks {', '.join(missing)}; it is incomplete. "
                              f"Retrain it{_retrain_hint(path)}")
    config = _read_json(path / CONFIG_FILE, path)
    if not isinstance(config, dict) or not isinstance(config.get("model"), dict) or "name" not in config["model"]:
        raise CheckpointError(f"{path / CONFIG_FILE} has no model section with a name; retrain the checkpoint")
    kwargs = dict(config["model"])
    name = str(kwargs.pop("name"))
    try:
        model = build_model(name, **kwargs)
    except ConfigError as exc:
        raise CheckpointError(f"{path / CONFIG_FILE} describes a model this version cannot build ({exc}); "
                              f"retrain it{_retrain_hint(path, config)}") from None
    state = _read_safetensors(path / MODEL_FILE, path, config)
    _load_state(model, state, path, config)
    try:
        vocab = Vocab.from_json(_read_json(path / VOCAB_FILE, path))
        catalogue = Catalogue.from_records(_read_json(path / CATALOGUE_FILE, path))
    except (DataError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: vocab.json or catalogue.json is malformed ({exc}); "
                              f"retrain it{_retrain_hint(path, config)}") from None
    num_items = kwargs.get("num_items")
    if num_items != len(vocab):
        raise CheckpointError(f"{path}: the model has {num_items} item rows but vocab.json has {len(vocab)} "
                              f"entries; the files come from different runs. Retrain it{_retrain_hint(path, config)}")
    counts = _read_safetensors(path / COUNTS_FILE, path, config).get("item_counts")
    if counts is None or tuple(counts.shape) != (len(vocab),):
        raise CheckpointError(f"{path / COUNTS_FILE} does not hold item_counts of shape ({len(vocab)},); "
                              f"retrain it{_retrain_hint(path, config)}")
    model.eval()
    return Checkpoint(path, name, model, vocab, catalogue, config, file_hash(path / MODEL_FILE),
                      counts.numpy().astype(np.int64))


def list_checkpoints(root: str | Path = "models") -> list[Path]:
    """Checkpoint directories directly under ``root`` (those with a config.json), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / CONFIG_FILE).is_file())


def _retrain_hint(path: Path, config: dict | None = None) -> str:
    command = (config or {}).get("command") if isinstance(config, dict) else None
    if command is None and (path / CONFIG_FILE).is_file():
        try:
            command = json.loads((path / CONFIG_FILE).read_text()).get("command")
        except (ValueError, AttributeError, OSError):
            command = None
    return f" with: {command}" if command else " with `recviz train --data DATA --model NAME --out DIR`"


def _read_json(file: Path, path: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{file} is not valid JSON ({exc}); the checkpoint is corrupt, "
                              f"retrain it{_retrain_hint(path)}") from None


def _read_safetensors(file: Path, path: Path, config: dict) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file; pickles, zip archives and truncated files are refused before parsing."""
    head = file.read_bytes()[:16]
    if head[:1] == b"\x80" or head[:2] == b"PK":
        raise CheckpointError(f"{file} is a pickle-based file (torch.save / pickle), not safetensors; recviz "
                              f"never unpickles files because that can run arbitrary code. "
                              f"Retrain it{_retrain_hint(path, config)}")
    if len(head) < 8 or struct.unpack("<Q", head[:8])[0] > file.stat().st_size - 8:
        raise CheckpointError(f"{file} is truncated or not a safetensors file (its header does not fit); "
                              f"retrain it{_retrain_hint(path, config)}")
    try:
        return load_file(str(file))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{file} is not a readable safetensors file ({exc}); "
                              f"retrain it{_retrain_hint(path, config)}") from None


def _load_state(model: nn.Module, state: dict[str, torch.Tensor], path: Path, config: dict) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}"
             for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if missing or unexpected or wrong:
        parts = ([f"missing tensors {missing[:5]}"] if missing else []) + (
            [f"unexpected tensors {unexpected[:5]}"] if unexpected else []) + (
            [f"shape mismatch {wrong[:5]}"] if wrong else [])
        raise CheckpointError(f"{path / MODEL_FILE} does not match the model in config.json ({'; '.join(parts)}); "
                              f"retrain it{_retrain_hint(path, config)}")
    model.load_state_dict(state, strict=True)


def training_data_path(checkpoint: Checkpoint, data: str | Path | None = None) -> Path:
    """The data the checkpoint was trained on: ``data`` if given, else ``config["data"]["path"]`` (as given to
    train, relative to the directory it ran in) looked up from the working directory, then beside each of
    the checkpoint's ancestor directories (so the repo's models open from anywhere)."""
    if data is not None:
        return Path(data)
    recorded = (checkpoint.config.get("data") or {}).get("path")
    if not recorded:
        raise CheckpointError(f"{checkpoint.path}: config.json records no data path; pass the data directory")
    candidates = [Path(recorded)] + [parent / recorded for parent in Path(checkpoint.path).resolve().parents]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise DataError(
        f"the training data {recorded!r} of {checkpoint.path} was not found from {Path.cwd()} or beside the "
        "checkpoint; run recviz from the directory the model was trained in, or pass the data directory"
    )


def training_data(checkpoint: Checkpoint, data: str | Path | None = None) -> Dataset:
    """The checkpoint's training data, loaded and checked with :func:`check_training_data`."""
    from recviz.data import load_dataset

    return check_training_data(checkpoint, load_dataset(training_data_path(checkpoint, data)))


def check_training_data(checkpoint: Checkpoint, dataset: Dataset) -> Dataset:
    """``dataset`` if it matches the fingerprint training recorded: a changed file raises
    :class:`DataError` instead of silently evaluating or explaining other users' histories."""
    recorded = (checkpoint.config.get("data") or {}).get("fingerprint")
    if recorded and recorded != dataset_fingerprint(dataset.interactions):
        raise DataError(
            f"the data at {dataset.source or dataset.name} differs from what {checkpoint.path} was trained on "
            "(fingerprints differ); use the original data or retrain the checkpoint"
        )
    return dataset
