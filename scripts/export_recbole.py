"""Export a trained RecBole model for ``recviz import recbole``: run this INSIDE your RecBole environment.

RecBole's checkpoints are pickles (``torch.save``), and recviz never unpickles a file. This script opens
your own checkpoint in your own RecBole environment, where you already trust it, and writes a directory
that holds no code:

- ``weights.safetensors``: the model's ``state_dict`` under RecBole's tensor names;
- ``recbole.json``: the RecBole and torch versions, the model class, the hyper-parameters its architecture
  needs, the data set, and the item tokens in RecBole's internal id order (index 0 is ``[PAD]``).

Usage (RecBole 1.2.1; SINE, SASRec and GRU4Rec are supported)::

    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 python scripts/export_recbole.py \
        --checkpoint saved/SINE-Jan-01-2025_10-00-00.pth --out exports/sine-ml-100k
    recviz import recbole --export exports/sine-ml-100k --data path/to/ml-100k --out models/sine-ml-100k

The data set is rebuilt from the checkpoint's own config (``data_path``, ``dataset``) to read the item
tokens, as RecBole's own ``load_data_and_model`` does; run it where that path exists, or pass ``--data-path``.
This file imports RecBole and is not part of the recviz package; it needs only RecBole, torch and
safetensors (``pip install safetensors``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
from pathlib import Path

FORMAT = "recviz-recbole-export/1"
WEIGHTS_FILE = "weights.safetensors"
META_FILE = "recbole.json"
# The hyper-parameters each supported class's architecture reads from RecBole's config (and nothing else).
HYPER_PARAMETERS: dict[str, tuple[str, ...]] = {
    "SINE": ("embedding_size", "prototype_size", "interest_size", "tau_ratio", "reg_loss_ratio",
             "layer_norm_eps"),
    "SASRec": ("n_layers", "n_heads", "hidden_size", "inner_size", "hidden_dropout_prob", "attn_dropout_prob",
               "hidden_act", "layer_norm_eps", "initializer_range"),
    "GRU4Rec": ("embedding_size", "hidden_size", "num_layers", "dropout_prob"),
}
# How the data set was read and filtered: recviz needs the same items and sequences.
DATA_SETTINGS = ("USER_ID_FIELD", "ITEM_ID_FIELD", "TIME_FIELD", "MAX_ITEM_LIST_LENGTH", "eval_args",
                 "load_col", "rm_dup_inter", "val_interval", "user_inter_num_interval",
                 "item_inter_num_interval", "threshold", "normalize_all", "loss_type")


def _plain(value):
    """A config value as JSON: numbers, strings, lists and dicts (anything else as its text)."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export(model, dataset, config, out_dir: str | Path, source: str | Path | None = None,
           extra: dict | None = None) -> Path:
    """Write ``weights.safetensors`` and ``recbole.json`` for a RecBole ``model`` built on ``dataset`` with
    ``config`` (the objects RecBole's own scripts hold). ``source``: the checkpoint file it came from."""
    import recbole
    import torch
    from safetensors.torch import save_file

    name = type(model).__name__
    if name not in HYPER_PARAMETERS:
        raise SystemExit(f"error: {name} is not supported by recviz's import; supported: "
                         f"{', '.join(HYPER_PARAMETERS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out / WEIGHTS_FILE), metadata={"format": FORMAT, "model": name})
    item_field = dataset.iid_field
    meta = {
        "format": FORMAT,
        "recbole_version": recbole.__version__,
        "torch_version": torch.__version__,
        "model": name,
        "hyper_parameters": {k: _plain(config[k]) for k in HYPER_PARAMETERS[name]},
        "max_item_list_length": int(config["MAX_ITEM_LIST_LENGTH"]),
        "dataset": str(config["dataset"]),
        "data_settings": {k: _plain(config[k]) for k in DATA_SETTINGS},
        "item_field": item_field,
        "num_items": int(dataset.item_num),
        "item_tokens": [str(t) for t in dataset.field2id_token[item_field].tolist()],
        "tensors": {k: list(v.shape) for k, v in state.items()},
        "source": None if source is None else {"file": Path(source).name, "sha256": _sha256(Path(source))},
        "exported": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return out


def export_checkpoint(checkpoint: str | Path, out_dir: str | Path, data_path: str | None = None) -> Path:
    """Load a RecBole checkpoint file (a pickle: only ever your own) and export it to ``out_dir``."""
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    import torch
    from recbole.data import create_dataset
    from recbole.utils import get_model, init_seed

    saved = torch.load(str(checkpoint), map_location="cpu", weights_only=False)
    config = saved["config"]
    if data_path is not None:
        config["data_path"] = str(Path(data_path) / config["dataset"])
    config["device"] = torch.device("cpu")
    init_seed(config["seed"], config["reproducibility"])
    dataset = create_dataset(config)
    model = get_model(config["model"])(config, dataset)
    model.load_state_dict(saved["state_dict"])
    extra = {"best_valid_score": _plain(saved.get("best_valid_score")), "epoch": _plain(saved.get("epoch"))}
    return export(model, dataset, config, out_dir, source=checkpoint, extra=extra)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="RecBole .pth file written by its trainer")
    parser.add_argument("--out", required=True, help="directory to write weights.safetensors + recbole.json")
    parser.add_argument("--data-path", default=None,
                        help="directory holding the data set's folder, if not the checkpoint's data_path")
    args = parser.parse_args(argv)
    out = export_checkpoint(args.checkpoint, args.out, args.data_path)
    print(f"wrote {out / WEIGHTS_FILE} and {out / META_FILE}; next: recviz import recbole --export {out} "
          "--data DATA_DIR --out models/NAME")


if __name__ == "__main__":
    sys.exit(main())
