"""``recviz import recbole``: a RecBole 1.2.1 model, exported by scripts/export_recbole.py, rebuilt as a
normal recviz checkpoint. Nothing is unpickled, ever.

The export directory holds ``weights.safetensors`` (RecBole's ``state_dict``) and ``recbole.json`` (versions,
model class, hyper-parameters, item tokens in RecBole's internal id order). Everything is checked before a
tensor is read: no pickle anywhere in the directory, RecBole 1.2.1, a supported class, hyper-parameters of
the right types, weights whose names and shapes are exactly those the hyper-parameters imply, and item
tokens that are exactly the data set's items. The checkpoint's vocabulary keeps RecBole's id order (dense
index = RecBole's internal id), so its item table is RecBole's, row for row; its record says where the
weights came from and its protocol is leave-one-out, RecBole's ``LS: valid_and_test``.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recviz.data import load_dataset
from recviz.data.fingerprint import dataset_fingerprint
from recviz.data.sequences import build_sequences
from recviz.data.splits import leave_one_out
from recviz.data.types import Dataset
from recviz.data.vocab import Vocab
from recviz.errors import CheckpointError, ConfigError, DataError
from recviz.models.checkpoint import file_hash, load_checkpoint, read_header, save_checkpoint
from recviz.models.recbole_layers import RECBOLE_RENAMES
from recviz.models.registry import build_model

EXPORT_FORMAT = "recviz-recbole-export/1"
RECBOLE_VERSION = "1.2.1"
WEIGHTS_FILE = "weights.safetensors"
META_FILE = "recbole.json"
PAD_TOKEN = "[PAD]"
PICKLE_SUFFIXES = (".pth", ".pt", ".pkl", ".pickle", ".ckpt", ".bin", ".joblib")
EXPORT_HINT = ("export the model with scripts/export_recbole.py inside your RecBole environment and pass the "
               "directory it writes (weights.safetensors and recbole.json only)")


@dataclass(frozen=True)
class RecBoleClass:
    """A RecBole class recviz rebuilds: its recviz model and RecBole hyper-parameter → recviz setting."""

    model: str
    settings: dict[str, tuple[str, type]]


CLASSES: dict[str, RecBoleClass] = {
    "SINE": RecBoleClass("recbole-sine", {
        "embedding_size": ("dim", int), "interest_size": ("num_interests", int),
        "prototype_size": ("prototype_size", int), "tau_ratio": ("tau_ratio", float),
        "layer_norm_eps": ("layer_norm_eps", float)}),
    "SASRec": RecBoleClass("recbole-sasrec", {
        "hidden_size": ("dim", int), "n_layers": ("n_layers", int), "n_heads": ("n_heads", int),
        "inner_size": ("inner_size", int), "hidden_dropout_prob": ("hidden_dropout_prob", float),
        "attn_dropout_prob": ("attn_dropout_prob", float), "hidden_act": ("hidden_act", str),
        "layer_norm_eps": ("layer_norm_eps", float)}),
    "GRU4Rec": RecBoleClass("recbole-gru4rec", {
        "embedding_size": ("dim", int), "hidden_size": ("hidden_size", int),
        "num_layers": ("num_layers", int), "dropout_prob": ("dropout_prob", float)}),
}


@dataclass
class RecBoleExport:
    """An export directory, read and checked (no tensor read yet)."""

    path: Path
    meta: dict[str, Any]
    model_class: str              # RecBole's class name, e.g. "SINE"
    model: str                    # the recviz model that rebuilds it, e.g. "recbole-sine"
    kwargs: dict[str, Any]        # its recviz settings
    tokens: list[str]             # item tokens in RecBole's internal id order, [PAD] first


@dataclass
class ImportResult:
    path: Path
    export: RecBoleExport
    notes: list[str] = field(default_factory=list)


def read_export(path: str | Path) -> RecBoleExport:
    """The export at ``path``, checked; any problem is a :class:`CheckpointError` naming the file."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{path} is not a directory; {EXPORT_HINT}")
    _refuse_pickles(path)
    meta_file, weights_file = path / META_FILE, path / WEIGHTS_FILE
    for file in (meta_file, weights_file):
        if not file.is_file():
            raise CheckpointError(f"{path} has no {file.name}; {EXPORT_HINT}")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{meta_file} is not valid JSON ({exc}); re-export the model") from None
    if not isinstance(meta, dict) or meta.get("format") != EXPORT_FORMAT:
        raise CheckpointError(f"{meta_file} is not a recviz RecBole export (format {EXPORT_FORMAT!r}); "
                              f"{EXPORT_HINT}")
    version = meta.get("recbole_version")
    if version != RECBOLE_VERSION:
        raise CheckpointError(
            f"{meta_file} comes from RecBole {version}; recviz rebuilds RecBole {RECBOLE_VERSION}'s "
            f"architectures exactly and no other version's: train (or load and re-export) the model with "
            f"RecBole {RECBOLE_VERSION}")
    model_class = meta.get("model")
    if model_class not in CLASSES:
        raise CheckpointError(
            f"{meta_file}: model class {model_class!r} cannot be imported; recviz rebuilds "
            f"{', '.join(CLASSES)} from RecBole {RECBOLE_VERSION} (another model can enter as a plugin: "
            "see docs/extending.md)")
    spec = CLASSES[model_class]
    tokens = _tokens(meta, meta_file)
    kwargs = {"num_items": len(tokens), "max_length": _setting(meta, "max_item_list_length", int, meta_file)}
    hyper = meta.get("hyper_parameters")
    if not isinstance(hyper, dict):
        raise CheckpointError(f"{meta_file} has no hyper_parameters object; re-export the model")
    for key, (setting, kind) in spec.settings.items():
        kwargs[setting] = _setting(hyper, key, kind, meta_file)
    export = RecBoleExport(path, meta, model_class, spec.model, kwargs, tokens)
    _check_weights(export)
    return export


def _refuse_pickles(path: Path) -> None:
    """No file of the export directory may be a pickle (by name or by its first bytes)."""
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        with open(file, "rb") as fh:
            head = fh.read(16)
        is_safetensors = file.name == WEIGHTS_FILE and head[8:9] == b"{"
        magic = head[:1] == b"\x80" or head[:4] == b"PK\x03\x04"
        if file.suffix.lower() in PICKLE_SUFFIXES or (magic and not is_safetensors):
            raise CheckpointError(
                f"{file} is a pickle (torch.save / pickle file); recviz never unpickles a file, because "
                f"loading one can run any code. Remove it from {path}: {EXPORT_HINT}")


def _tokens(meta: dict, meta_file: Path) -> list[str]:
    tokens = meta.get("item_tokens")
    if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) for t in tokens):
        raise CheckpointError(f"{meta_file}: item_tokens is not a list of strings; re-export the model")
    if tokens[0] != PAD_TOKEN:
        raise CheckpointError(f"{meta_file}: item_tokens must start with RecBole's {PAD_TOKEN!r} (internal "
                              f"id 0), found {tokens[0][:40]!r}; re-export it with scripts/export_recbole.py")
    if len(set(tokens)) != len(tokens):
        raise CheckpointError(f"{meta_file}: item_tokens repeats a token; re-export the model")
    if meta.get("num_items") not in (None, len(tokens)):
        raise CheckpointError(f"{meta_file}: num_items={meta.get('num_items')} but item_tokens has "
                              f"{len(tokens)} entries; the file was edited or damaged: re-export the model")
    return tokens


def _setting(section: dict, key: str, kind: type, meta_file: Path) -> Any:
    value = section.get(key)
    ok = (type(value) is kind or (kind is float and type(value) is int)) and not isinstance(value, bool)
    if not ok:
        raise CheckpointError(f"{meta_file}: {key}={str(value)[:40]} is missing or not a "
                              f"{'text' if kind is str else kind.__name__}; re-export the model")
    return float(value) if kind is float else value


def _check_weights(export: RecBoleExport) -> None:
    """weights.safetensors holds exactly the tensors, under RecBole's names, that the hyper-parameters in
    recbole.json imply (checked on the header; a model built on the meta device allocates nothing)."""
    meta_file, weights_file = export.path / META_FILE, export.path / WEIGHTS_FILE
    header = read_header(weights_file, export.path, None)
    try:
        with torch.device("meta"):
            skeleton = build_model(export.model, **export.kwargs)
    except ConfigError as exc:
        raise CheckpointError(f"{meta_file} describes a {export.model_class} recviz cannot build ({exc}); "
                              "re-export the model") from None
    inverse = {v: k for k, v in RECBOLE_RENAMES.items()}
    expected = {inverse.get(k, k): tuple(v.shape) for k, v in skeleton.state_dict().items()
                if not k.startswith("history_embedding.features")}
    found = {k: e.shape for k, e in header.items()}
    missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    wrong = [f"{k} is {list(found[k])} in the file but {list(v)} by recbole.json"
             for k, v in expected.items() if k in found and found[k] != v]
    if missing or extra or wrong:
        parts = ([f"missing {missing[:4]}"] if missing else []) + (
            [f"unexpected {extra[:4]}"] if extra else []) + wrong[:4]
        raise CheckpointError(
            f"{weights_file} does not match the {export.model_class} that {meta_file} describes "
            f"({'; '.join(parts)}); the two files come from different exports or one was edited: re-export "
            "the model")


def _item_ids(export: RecBoleExport, dataset: Dataset, data_dir: Path) -> list[int]:
    """The data set's item id of every RecBole token (index 1 on): they must be exactly its items."""
    meta_file = export.path / META_FILE
    ids = []
    for token in export.tokens[1:]:
        try:
            ids.append(int(token))
        except ValueError:
            raise DataError(f"{meta_file}: item token {token[:40]!r} is not an integer id, and the items of "
                            f"{data_dir} are integers; pass the data set the model was trained on") from None
    known = set(dataset.interactions["item_id"].unique().tolist())
    unknown = [i for i in ids if i not in known]
    unseen = sorted(known - set(ids))
    if unknown or unseen:
        problem = (f"{len(unknown)} of its {len(ids)} item tokens are not items of {data_dir} "
                   f"(e.g. {unknown[:5]})" if unknown else
                   f"{data_dir} has {len(unseen)} items the model does not know (e.g. {unseen[:5]})")
        raise DataError(
            f"{meta_file} does not match the data set: {problem}. Pass the data directory RecBole read, with "
            "the same filters (RecBole's filters are in recbole.json's data_settings)")
    return ids


def recbole_order_conflicts(dataset: Dataset, normalized: bool) -> int:
    """Users whose sequence RecBole orders differently from recviz: RecBole stores timestamps as float32
    (min-max scaled when ``normalize_all``), so ratings seconds apart can tie, and its stable sort then keeps
    the file's row order; recviz sorts by the exact seconds."""
    frame = dataset.interactions
    users, items = frame["user_id"].to_numpy(), frame["item_id"].to_numpy()
    stamps = frame["timestamp"].to_numpy(np.float64)
    span = stamps.max() - stamps.min()
    key = ((stamps - stamps.min()) / span if normalized and span > 0 else stamps).astype(np.float32)
    rows = np.arange(len(frame))
    exact = np.lexsort((rows, stamps, users))
    theirs = np.lexsort((rows, key, users))
    return int(np.unique(users[exact][items[exact] != items[theirs]]).size)


def import_recbole(export_dir: str | Path, data_dir: str | Path, out_dir: str | Path,
                   command: str | None = None) -> ImportResult:
    """Rebuild the export at ``export_dir`` on the data at ``data_dir`` as a checkpoint at ``out_dir``."""
    export = read_export(export_dir)
    data_dir = Path(data_dir)
    dataset = load_dataset(data_dir)
    ids = _item_ids(export, dataset, data_dir)
    vocab = Vocab(ids)  # dense index = RecBole's internal id
    from safetensors.torch import load_file  # the header was checked by read_export

    state = {RECBOLE_RENAMES.get(k, k): v for k, v in load_file(str(export.path / WEIGHTS_FILE)).items()}
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise CheckpointError(f"{export.path / WEIGHTS_FILE}: tensor(s) {bad[:3]} hold NaN or infinite "
                              "values; "
                              "the RecBole training diverged or the file is damaged")
    model = build_model(export.model, **export.kwargs)
    model.load_state_dict(state, strict=False)  # the (empty) side-feature buffers are recviz's own
    model.eval()
    sequences = build_sequences(dataset)
    split = leave_one_out(sequences)
    counts = np.zeros(len(vocab), dtype=np.int64)
    for seq in split.train.values():
        np.add.at(counts, vocab.encode(seq), 1)
    out = Path(out_dir)
    record = _record(export, dataset, split, data_dir, out, command)
    save_checkpoint(out, model, vocab, dataset.catalogue, record, counts)
    notes = []
    settings = export.meta.get("data_settings") or {}
    conflicts = recbole_order_conflicts(dataset, bool(settings.get("normalize_all", True)))
    if conflicts:
        notes.append(
            f"{conflicts} user(s) have ratings whose timestamps RecBole's float32 storage cannot tell apart "
            "and whose file order is not their time order: RecBole ordered their sequences differently, so "
            "`recviz evaluate` can differ a little from RecBole's figures. Sort the .inter file by user and "
            "timestamp before training in RecBole to make both agree.")
    load_checkpoint(out)  # the checkpoint opens as every other one does
    return ImportResult(out, export, notes)


def _relative(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(Path.cwd())) if resolved.is_relative_to(Path.cwd()) else str(resolved)


def _record(export: RecBoleExport, dataset: Dataset, split, data_dir: Path, out: Path,
            command: str | None) -> dict:
    """config.json's sections besides the model: the data (leave-one-out, RecBole's protocol), the split,
    the command that re-imports it, and where the weights came from."""
    data_path = _relative(data_dir)
    meta = export.meta
    command = command or shlex.join(["recviz", "import", "recbole", "--export", _relative(export.path),
                                     "--data", data_path, "--out", _relative(out)])
    return {
        "data": {"path": data_path, "name": dataset.name,
                 "fingerprint": dataset_fingerprint(dataset.interactions), "min_rating": None, "kcore": None,
                 "protocol": "leave-one-out", "seed": 42},
        "split": split.summary(),
        "command": command,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": {"recviz": _version("recviz"), "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "source": {
            "kind": "recbole", "recbole_version": meta.get("recbole_version"),
            "recbole_torch_version": meta.get("torch_version"), "model_class": export.model_class,
            "hyper_parameters": meta.get("hyper_parameters"), "data_settings": meta.get("data_settings"),
            "dataset": meta.get("dataset"), "export": _relative(export.path),
            "weights_sha256_12": file_hash(export.path / WEIGHTS_FILE),
            "recbole_checkpoint": meta.get("source"),
            "exported": meta.get("exported"),
        },
    }


def _version(package: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
