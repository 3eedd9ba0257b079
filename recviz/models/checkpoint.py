"""Checkpoints: a directory with model.safetensors, config.json, vocab.json, catalogue.json and
item_counts.safetensors. Nothing is ever unpickled; every file is validated and a problem raises
:class:`CheckpointError` saying what is wrong and how to fix it.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from recviz.data import load_dataset
from recviz.data.fingerprint import dataset_fingerprint
from recviz.data.sequences import Sequences, build_sequences
from recviz.data.splits import PROTOCOLS, Split, make_split
from recviz.data.types import Catalogue, Dataset
from recviz.data.vocab import Vocab
from recviz.errors import CheckpointError, ConfigError, DataError
from recviz.models.footprint import check_memory
from recviz.models.item_index import CONFIG_KEY as INDEX_KEY
from recviz.models.item_index import ItemIndex, index_section, item_table, load_index
from recviz.models.record import CheckpointRecord, parse_record, recorded_command, retrain_hint
from recviz.models.registry import build_model, model_class

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
CATALOGUE_FILE = "catalogue.json"
COUNTS_FILE = "item_counts.safetensors"
REQUIRED_FILES = (MODEL_FILE, CONFIG_FILE, VOCAB_FILE, CATALOGUE_FILE, COUNTS_FILE)
FORMAT = "recviz-checkpoint/1"

# What a checkpoint may describe before anything is allocated: a header and a model this size load in seconds
# on a laptop; anything larger is a damaged or hostile file, refused with a CheckpointError.
MAX_HEADER_BYTES = 100 * 2**20
MAX_ELEMENTS = 2_000_000_000
DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
               "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}
# bounds (inclusive) of the integer model settings; others get DEFAULT_BOUNDS
SETTING_BOUNDS: dict[str, tuple[int, int]] = {
    "num_items": (2, MAX_ELEMENTS), "dim": (1, 65_536), "num_interests": (1, 1_024),
    "max_length": (1, 100_000), "hidden": (1, 65_536), "num_layers": (0, 128), "heads": (1, 1_024),
    "iterations": (1, 100), "mlp_layers": (0, 128), "num_genres": (0, 100_000),
    "num_year_buckets": (0, 100_000),
}
DEFAULT_BOUNDS = (0, 1_000_000)
# the state-dict tensor whose rows are the items (one per dense index), by model family
ITEM_TABLES = ("history_embedding.items.weight", "history_embedding.log_counts")


@dataclass(frozen=True)
class TensorEntry:
    """One tensor as a safetensors header describes it: dtype, shape and byte range in the data section."""

    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (eval mode), its vocabulary and catalogue, and everything recorded."""

    path: Path
    name: str
    model: nn.Module
    vocab: Vocab
    catalogue: Catalogue
    record: CheckpointRecord  # config.json, parsed and validated once (recviz.models.record)
    hash: str
    item_counts: np.ndarray  # [N] training interactions per dense index, 0 for padding
    item_index: ItemIndex | None = None  # faiss index for per-interest top-k past the threshold


def save_checkpoint(path: str | Path, model: nn.Module, vocab: Vocab, catalogue: Catalogue,
                    extra_config: dict, item_counts: np.ndarray | None = None) -> Path:
    """Write the checkpoint directory ``path`` (created if needed; other files in it are left alone).

    ``extra_config`` holds the data, split, metrics, command and versions sections; the model section is
    ``model.config()``. ``item_counts`` defaults to zeros. Past the item-index threshold the faiss index
    ``items.faiss`` is built and recorded too (:func:`recviz.models.item_index.index_section`).
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    counts = (np.zeros(len(vocab), dtype=np.int64) if item_counts is None
              else np.asarray(item_counts, np.int64))
    if counts.shape != (len(vocab),):
        raise ValueError(f"item_counts must have shape ({len(vocab)},), got {counts.shape}")
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path / MODEL_FILE), metadata={"format": FORMAT})
    save_file({"item_counts": torch.as_tensor(counts)}, str(path / COUNTS_FILE), metadata={"format": FORMAT})
    config = {"format": FORMAT, **{k: v for k, v in extra_config.items() if k != INDEX_KEY},
              "model": model.config()}
    config.update(index_section(path, model, len(vocab)))  # builds items.faiss past the threshold
    (path / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=False) + "\n")
    (path / VOCAB_FILE).write_text(json.dumps(vocab.to_json()) + "\n")
    catalogue_json = catalogue.to_json(keep=vocab.raw_ids)
    (path / CATALOGUE_FILE).write_text(json.dumps(catalogue_json, ensure_ascii=False) + "\n")
    return path


def file_hash(path: Path) -> str:
    """First 12 hex digits of the file's sha256: a short id for a checkpoint's weights."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def load_checkpoint(path: str | Path, *, with_index: bool = True) -> Checkpoint:
    """Load and validate a checkpoint directory; any problem raises :class:`CheckpointError`.

    Everything that can be checked without allocating the model is checked first: config.json's model
    settings (types and bounds), the safetensors header (size, offsets, dtypes, shapes) and the shapes the
    settings imply (a model built on the ``meta`` device, which allocates nothing) against that header.
    Only then are the tensors read (and refused if any holds NaN or inf) and the model built. The item
    index (``items.faiss``, recviz.models.item_index) is loaded and checked against the weights unless
    ``with_index`` is off (what `recviz index` uses to rebuild a damaged one).
    """
    path = Path(path)
    _check_directory(path)
    raw = _read_json(path / CONFIG_FILE, path)
    record = parse_record(raw, path / CONFIG_FILE)
    name, kwargs = record.model.name, dict(record.model.kwargs)
    header = read_header(path / MODEL_FILE, path, record)
    check_memory(path, header)  # refuse, with the figure, what would not fit in memory
    _check_settings(name, kwargs, path, record)
    _check_item_rows(kwargs, header, path, record)
    skeleton = _build(name, kwargs, path, record, meta=True)
    _check_against_header(skeleton, header, path, record)
    vocab, catalogue = _read_vocab_and_catalogue(path, record, kwargs.get("num_items"))
    counts = _read_counts(path, record, len(vocab))
    state = _read_safetensors(path / MODEL_FILE, path, record)
    _check_finite(state, path, record)
    model = _materialise(skeleton) or _build(name, kwargs, path, record, meta=False)
    _load_state(model, state, path, record)
    model.eval()
    wanted = with_index and INDEX_KEY in raw
    index = load_index(path, raw[INDEX_KEY], item_table(model)) if wanted else None
    return Checkpoint(path, name, model, vocab, catalogue, record, file_hash(path / MODEL_FILE),
                      counts.numpy().astype(np.int64), index)


def read_header(file: Path, path: Path, record: CheckpointRecord | None) -> dict[str, TensorEntry]:
    """The tensors a safetensors file describes, checked without reading the data: pickles and zip archives
    are refused, the header must be JSON of at most :data:`MAX_HEADER_BYTES`, every entry a known dtype with
    a shape whose byte size matches its offsets, the offsets must tile the data section exactly as the file
    size says, and the total must stay under :data:`MAX_ELEMENTS`."""
    size = file.stat().st_size
    with open(file, "rb") as fh:
        head = fh.read(16)
        # a safetensors header (JSON) starts at byte 8 with "{"; its length's first byte may be 0x80 itself
        if head[8:9] != b"{" and (head[:1] == b"\x80" or head[:2] == b"PK"):
            raise _fail(path, record, f"{file} is a pickle-based file (torch.save / pickle), "
                        "not safetensors; recviz never unpickles files because that can run arbitrary code")
        length = struct.unpack("<Q", head[:8])[0] if len(head) >= 8 else size
        if length > size - 8:
            raise _fail(path, record,
                        f"{file} is truncated or not a safetensors file (its header does not fit)")
        if length > MAX_HEADER_BYTES:
            raise _fail(path, record, f"{file} declares a {length}-byte header (at most {MAX_HEADER_BYTES} "
                        "allowed); it is not a safetensors file recviz wrote")
        fh.seek(8)
        raw = fh.read(length)
    entries = _header_entries(_header_json(raw, file, path, record), file, path, record)
    _check_offsets(entries, size - 8 - length, file, path, record)
    return entries


def _header_json(raw: bytes, file: Path, path: Path, record: CheckpointRecord) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict):
        raise _fail(path, record, f"{file} is not a safetensors file (its header is not a JSON object)")
    return header


def _header_entries(header: dict, file: Path, path: Path, record: CheckpointRecord) -> dict[str, TensorEntry]:
    entries = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        entry = _entry(info)
        if entry is None:
            raise _fail(path, record, f"{file}: the header entry of tensor {key!r} is malformed "
                        f"({str(info)[:200]}); the file is damaged")
        entries[key] = entry
    total = sum(math.prod(e.shape) for e in entries.values())
    if total > MAX_ELEMENTS:
        raise _fail(path, record, f"{file} describes {total} tensor elements, more than the {MAX_ELEMENTS} "
                    "recviz loads; it is damaged or not a recviz checkpoint")
    return entries


def _entry(info: object) -> TensorEntry | None:
    """A header entry, or None when it is not a known dtype with a shape and matching byte offsets."""
    if not isinstance(info, dict) or info.get("dtype") not in DTYPE_BYTES:
        return None
    shape, offsets = info.get("shape"), info.get("data_offsets")
    if not _int_list(shape, max_len=8) or not _int_list(offsets, max_len=2) or len(offsets) != 2:
        return None
    start, end = offsets
    if end - start != math.prod(shape) * DTYPE_BYTES[info["dtype"]]:
        return None
    return TensorEntry(info["dtype"], tuple(shape), start, end)


def _int_list(value: object, max_len: int) -> bool:
    """A list of at most ``max_len`` non-negative ints (bools excluded), each below 2**63."""
    return (isinstance(value, list) and len(value) <= max_len
            and all(type(v) is int and 0 <= v < 2**63 for v in value))


def _check_offsets(entries: dict[str, TensorEntry], data_size: int, file: Path, path: Path,
                   record: CheckpointRecord) -> None:
    """The tensors' byte ranges follow each other from 0 and end exactly at the end of the file."""
    position = 0
    for key, entry in sorted(entries.items(), key=lambda kv: (kv[1].start, kv[1].end)):
        if entry.start != position:
            raise _fail(path, record, f"{file}: tensor {key!r} starts at byte {entry.start} of the data, "
                        f"expected {position} (overlapping or gapped tensors); the file is damaged")
        position = entry.end
    if position != data_size:
        raise _fail(path, record, f"{file} is truncated or padded: its header describes {position} bytes of "
                    f"tensor data but the file holds {data_size}")


def _check_directory(path: Path) -> None:
    if not path.is_dir():
        raise CheckpointError(f"{path} is not a checkpoint directory (it does not exist or is a file); "
                              "pass a directory made by `recviz train --out DIR`")
    missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
    if missing:
        raise CheckpointError(f"{path} lacks {', '.join(missing)}; it is incomplete. "
                              f"Retrain it{_retrain_hint(path)}")


def _check_settings(name: str, kwargs: dict[str, Any], path: Path, record: CheckpointRecord) -> None:
    """Each setting has its constructor's type (int, float, bool) and lies within its bounds."""
    try:
        hints = typing.get_type_hints(model_class(name).__init__)
    except ConfigError as exc:
        raise _fail(path, record,
                    f"{path / CONFIG_FILE} describes a model this version cannot build ({exc})") from None
    for key, value in kwargs.items():
        problem = _setting_problem(key, value, hints.get(key))
        if problem:
            raise _fail(path, record, f"{path / CONFIG_FILE}: model setting {key}={str(value)[:60]} "
                        f"{problem}; config.json was edited or damaged: restore it")


def _setting_problem(key: str, value: object, kind: object) -> str | None:
    """Why ``value`` cannot be setting ``key`` of type ``kind``, or None when it can."""
    if kind is bool:
        return None if isinstance(value, bool) else "is not true or false"
    if kind is int:
        if type(value) is not int:
            return "is not a whole number"
        low, high = SETTING_BOUNDS.get(key, DEFAULT_BOUNDS)
        return (None if low <= value <= high
                else f"is outside {low}..{high} (a model that size cannot be loaded)")
    if kind is float:
        ok = type(value) in (int, float) and math.isfinite(value) and (key != "dropout" or 0 <= value < 1)
        return None if ok else "is not a finite number" + (" in [0, 1)" if key == "dropout" else "")
    return None  # unknown settings are named by build_model


def _check_item_rows(kwargs: dict[str, Any], header: dict[str, TensorEntry], path: Path,
                     record: CheckpointRecord) -> None:
    """config.json's num_items equals the rows of the weights' item table."""
    key = next((k for k in ITEM_TABLES if k in header), None)
    if key is None or not header[key].shape:
        return  # the shape comparison names a missing table
    rows = header[key].shape[0]
    if kwargs.get("num_items") != rows:
        raise _fail(path, record, f"{path / CONFIG_FILE} says num_items={kwargs.get('num_items')} "
                    f"but {MODEL_FILE}'s item table {key} has {rows} rows; "
                    "the files come from different runs or one was edited")


def _build(name: str, kwargs: dict[str, Any], path: Path, record: CheckpointRecord, *,
           meta: bool) -> nn.Module:
    """The model of config.json; on the ``meta`` device (no memory) to compare shapes before loading."""
    try:
        if not meta:
            return build_model(name, **kwargs)
        with torch.device("meta"):
            return build_model(name, **kwargs)
    except ConfigError as exc:
        raise _fail(path, record,
                    f"{path / CONFIG_FILE} describes a model this version cannot build ({exc})") from None


def _materialise(skeleton: nn.Module) -> nn.Module | None:
    """The meta-device skeleton given uninitialised CPU memory, when the weights file fills every tensor it
    holds (no non-persistent buffers): the random initialisation a fresh build would run (~1 s for a
    million-item table) is skipped, as the loaded weights overwrite it. None for a model with state outside
    its state dict (it is built the ordinary way)."""
    persistent = set(skeleton.state_dict())
    tensors = {name for name, _ in (*skeleton.named_parameters(), *skeleton.named_buffers())}
    return skeleton.to_empty(device="cpu") if tensors <= persistent else None


def _check_against_header(skeleton: nn.Module, header: dict[str, TensorEntry], path: Path,
                          record: CheckpointRecord) -> None:
    """The tensors the settings imply (names and shapes) are exactly those the weights file holds."""
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    found = {k: e.shape for k, e in header.items()}
    _check_shapes(expected, found, path, record)


def _check_shapes(expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]], path: Path,
                  record: CheckpointRecord) -> None:
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = [f"{k}: file {found[k]} vs model {v}"
             for k, v in expected.items() if k in found and found[k] != v]
    if missing or unexpected or wrong:
        parts = ([f"missing tensors {missing[:5]}"] if missing else []) + (
            [f"unexpected tensors {unexpected[:5]}"] if unexpected else []) + (
            [f"shape mismatch {wrong[:5]}"] if wrong else [])
        raise _fail(path, record,
                    f"{path / MODEL_FILE} does not match the model in config.json ({'; '.join(parts)})")


def _read_vocab_and_catalogue(path: Path, record: CheckpointRecord,
                              num_items: object) -> tuple[Vocab, Catalogue]:
    try:
        vocab = Vocab.from_json(_read_json(path / VOCAB_FILE, path))
        catalogue = Catalogue.from_json(_read_json(path / CATALOGUE_FILE, path))
    except (DataError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _fail(path, record, f"{path}: vocab.json or catalogue.json is malformed ({exc})") from None
    if num_items != len(vocab):
        raise _fail(path, record, f"{path}: the model has {num_items} item rows but vocab.json has "
                    f"{len(vocab)} entries; the files come from different runs")
    return vocab, catalogue


def _read_counts(path: Path, record: CheckpointRecord, n: int) -> torch.Tensor:
    counts = _read_safetensors(path / COUNTS_FILE, path, record).get("item_counts")
    if counts is None or tuple(counts.shape) != (n,):
        raise _fail(path, record, f"{path / COUNTS_FILE} does not hold item_counts of shape ({n},)")
    return counts


def _check_finite(state: dict[str, torch.Tensor], path: Path, record: CheckpointRecord) -> None:
    """Every floating-point tensor is free of NaN and ±inf (a diverged run or a damaged file)."""
    for key, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise _fail(path, record, f"{path / MODEL_FILE}: tensor {key!r} holds {bad} NaN or infinite "
                        f"value(s) of {tensor.numel()}; the training diverged or the file is damaged")


def list_checkpoints(root: str | Path = "models") -> list[Path]:
    """Checkpoint directories directly under ``root`` (those with a config.json), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / CONFIG_FILE).is_file())


def _retrain_hint(path: Path, record: CheckpointRecord | None = None) -> str:
    """The record's command, else the one a (possibly damaged) config.json holds, else the general form."""
    command = record.provenance.command if record is not None else None
    if command is None and (path / CONFIG_FILE).is_file():
        try:
            command = recorded_command(json.loads((path / CONFIG_FILE).read_text()))
        except (ValueError, OSError):
            command = None
    return retrain_hint(command)


def _read_json(file: Path, path: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{file} is not valid JSON ({exc}); the checkpoint is corrupt, "
                              f"retrain it{_retrain_hint(path)}") from None


def _fail(path: Path, record: CheckpointRecord | None, problem: str) -> CheckpointError:
    """A CheckpointError saying ``problem`` and how to rebuild the checkpoint."""
    return CheckpointError(f"{problem}; retrain it{_retrain_hint(path, record)}")


def _read_safetensors(file: Path, path: Path, record: CheckpointRecord) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file whose header :func:`read_header` accepted (never unpickled)."""
    read_header(file, path, record)
    try:
        return load_file(str(file))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise _fail(path, record, f"{file} is not a readable safetensors file ({exc})") from None


def _load_state(model: nn.Module, state: dict[str, torch.Tensor], path: Path,
                record: CheckpointRecord) -> None:
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    _check_shapes(expected, {k: tuple(v.shape) for k, v in state.items()}, path, record)
    model.load_state_dict(state, strict=True)


def training_data_path(checkpoint: Checkpoint, data: str | Path | None = None) -> Path:
    """The data the checkpoint was trained on: ``data`` if given, else ``record.data.path`` (as given to
    train, relative to the directory it ran in) looked up from the working directory, then beside each of
    the checkpoint's ancestor directories (so the repo's models open from anywhere)."""
    if data is not None:
        return Path(data)
    recorded = checkpoint.record.data.path
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
    return check_training_data(checkpoint, load_dataset(training_data_path(checkpoint, data)))


def check_training_data(checkpoint: Checkpoint, dataset: Dataset) -> Dataset:
    """``dataset`` if it matches the fingerprint training recorded: a changed file raises
    :class:`DataError` instead of silently evaluating or explaining other users' histories."""
    recorded = checkpoint.record.data.fingerprint
    if recorded and recorded != dataset_fingerprint(dataset.interactions):
        raise DataError(
            f"the data at {dataset.source or dataset.name} differs from what {checkpoint.path} "
            "was trained on (fingerprints differ); use the original data or retrain the checkpoint"
        )
    return dataset


@dataclass(frozen=True)
class TrainingSplit:
    """A checkpoint's training data rebuilt from its record: every user's sequence (the recorded
    ``min_rating`` and ``kcore`` applied) and those sequences split under one protocol."""

    sequences: Sequences
    split: Split


def rebuild_training(checkpoint: Checkpoint, protocol: str | None = None, data: str | Path | None = None,
                     dataset: Dataset | None = None) -> TrainingSplit:
    """The one rebuild of a checkpoint's sequences and split, exactly as training made them (same data,
    filters and split seed from ``checkpoint.record.data``), under ``protocol`` (default: the one training
    used). What evaluation, the users the app and CLI explain, and the population view all use.

    ``data`` is where to read the data if not where the record says; ``dataset`` is the data already loaded.
    Either way its fingerprint must match the recorded one, else :class:`DataError`.
    """
    info = checkpoint.record.data
    protocol = protocol or info.protocol
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    dataset = training_data(checkpoint, data) if dataset is None else check_training_data(checkpoint, dataset)
    sequences = build_sequences(dataset, info.min_rating, info.kcore)
    return TrainingSplit(sequences, make_split(sequences, protocol, seed=info.seed))
