"""Make tests/fixtures/recbole: one small SINE, SASRec and GRU4Rec trained by RecBole 1.2.1 on ML-100K,
exported with scripts/export_recbole.py, plus RecBole's own scores, top-50 lists and test metrics.

The tests then prove recviz's rebuilt models equal RecBole's without RecBole installed. Run it in a
separate venv (never the project's), as the README's "RecBole import" section says::

    python3.11 -m venv /tmp/recbole-venv
    /tmp/recbole-venv/bin/pip install torch==2.13.0
    /tmp/recbole-venv/bin/pip install --no-deps recbole==1.2.1
    /tmp/recbole-venv/bin/pip install numpy==1.26.4 pandas==2.1.4 scipy scikit-learn colorlog==4.7.2 \
        colorama==0.4.4 tabulate tensorboard thop texttable psutil pyyaml tqdm plotly safetensors==0.8.0
    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 /tmp/recbole-venv/bin/python scripts/make_recbole_fixtures.py

The data are the ML-100K atomic files inside the recbole wheel (``recbole/dataset_example/ml-100k``), with
the interaction rows put in (user, timestamp) order, stably, under the name ``ml-100k-ordered`` (RecBole
reads a data set named exactly ``ml-100k`` from its wheel, whatever ``data_path`` says). RecBole holds
timestamps as float32 after min-max scaling, which merges ratings a second or two apart, and its stable sort
then keeps the file's row order for them; recviz orders by the exact integer seconds. On the wheel's row
order the two disagree on the test window of 37 of the 943 users (``recviz import`` says so); with the rows
already in time order they agree everywhere (the tests check it), so `recviz evaluate` can be compared with
RecBole's own test figures.

Writes, under ``--out`` (default tests/fixtures/recbole):
- ``ml-100k-ordered/ml-100k-ordered.inter.gz`` and ``.item``: the data both sides read (the tests unpack);
- ``exports/<class>/``: what ``scripts/export_recbole.py`` writes (weights.safetensors + recbole.json);
- ``reference/<class>.npz``: for 20 test users, RecBole's input histories and ``full_sort_predict`` scores
  (padding set to -inf as its trainer does) and top-50 lists, in RecBole's internal ids;
- ``reference/<class>.json``: RecBole's test and validation metrics, the training settings and time;
- ``reference/test_cases.json``: every test case (user, history, target) RecBole evaluated, in RecBole's
  internal ids (the same for the three classes: one data set, one split).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # RecBole's trainer reloads its own pickle

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_recbole import export_checkpoint  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATASET = "ml-100k-ordered"
NUM_USERS = 20
TOP = 50
COMMON = {
    "MAX_ITEM_LIST_LENGTH": 50, "loss_type": "CE", "train_neg_sample_args": None,
    "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "group_by": "user", "mode": "full"},
    "metrics": ["Recall", "MRR", "NDCG", "Hit", "Precision"], "topk": [10, 20, 50], "valid_metric": "NDCG@10",
    "train_batch_size": 1024, "eval_batch_size": 4096, "learning_rate": 0.003, "stopping_step": 3,
    "seed": 2020, "reproducibility": True, "use_gpu": False, "show_progress": False, "state": "WARNING",
    "log_wandb": False,
    # what RecBole's properties/dataset/ml-100k.yaml sets, which a data set of another name does not get
    "load_col": {"inter": ["user_id", "item_id", "rating", "timestamp"]}, "normalize_all": True,
}
MODELS: dict[str, dict] = {
    "SINE": {"embedding_size": 32, "prototype_size": 50, "interest_size": 4, "tau_ratio": 0.1,
             "reg_loss_ratio": 0.1, "epochs": 2},
    "SASRec": {"hidden_size": 32, "inner_size": 64, "n_layers": 2, "n_heads": 2, "hidden_dropout_prob": 0.2,
               "attn_dropout_prob": 0.2, "epochs": 2},
    "GRU4Rec": {"embedding_size": 32, "hidden_size": 64, "num_layers": 1, "dropout_prob": 0.2, "epochs": 2},
}


def prepare_data(out: Path, work: Path) -> Path:
    """The wheel's ML-100K with the interactions in (user, timestamp) order: written plain to ``work`` for
    RecBole and gzipped (plus the item file) to ``out/ml-100k`` for the tests. Returns ``work``."""
    import pandas as pd
    import recbole

    source = Path(recbole.__file__).parent / "dataset_example" / "ml-100k"
    frame = pd.read_csv(source / "ml-100k.inter", sep="\t", dtype=str, keep_default_na=False)
    key = frame[["user_id:token", "timestamp:float"]].astype(np.int64)
    order = np.lexsort((np.arange(len(frame)), key["timestamp:float"].to_numpy(),
                        key["user_id:token"].to_numpy()))
    text = frame.iloc[order].to_csv(sep="\t", index=False, lineterminator="\n")
    (work / DATASET).mkdir(parents=True, exist_ok=True)
    (work / DATASET / f"{DATASET}.inter").write_text(text, encoding="utf-8")
    shutil.copy(source / "ml-100k.item", work / DATASET / f"{DATASET}.item")
    (out / DATASET).mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(out / DATASET / f"{DATASET}.inter.gz", "wb", mtime=0) as fh:
        fh.write(text.encode("utf-8"))
    shutil.copy(source / "ml-100k.item", out / DATASET / f"{DATASET}.item")
    return work


def train_one(name: str, data_dir: Path, work: Path, out: Path) -> None:
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_logger, init_seed

    torch.autograd.set_detect_anomaly(False)  # recbole's sine.py turns it on at import: 10x slower, same math
    settings = {**COMMON, **MODELS[name], "data_path": str(data_dir), "checkpoint_dir": str(work / "saved")}
    config = Config(model=name, dataset=DATASET, config_dict=settings)
    assert Path(config["data_path"]) == data_dir / DATASET, config["data_path"]
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    init_seed(config["seed"], config["reproducibility"])
    model = get_model(name)(config, train_data._dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], name)(config, model)
    start = time.perf_counter()
    best_valid_score, valid_result = trainer.fit(train_data, valid_data, saved=True, show_progress=False)
    seconds = time.perf_counter() - start
    test_result = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
    export_dir = export_checkpoint(trainer.saved_model_file, out / "exports" / name)

    model.eval()
    cases = next(iter(test_data))[0]  # one batch: every test case (eval_batch_size > users)
    users = cases[dataset.uid_field].numpy()
    histories = cases[dataset.iid_field + config["LIST_SUFFIX"]].numpy()        # [U, 50] right-padded
    lengths = cases[config["ITEM_LIST_LENGTH_FIELD"]].numpy()                  # [U]
    targets = cases[dataset.iid_field].numpy()                                 # [U]
    picked = np.linspace(0, len(users) - 1, NUM_USERS).round().astype(int)     # 20 users spread over the ids
    with torch.no_grad():
        scores = model.full_sort_predict(cases[picked]).view(len(picked), -1)  # [20, n_items]
    scores[:, 0] = -np.inf  # as RecBole's trainer does before ranking
    top = torch.topk(scores, TOP, dim=-1)
    user_tokens = dataset.field2id_token[dataset.uid_field]
    np.savez_compressed(
        out / "reference" / f"{name}.npz",
        users=np.asarray([int(user_tokens[u]) for u in users[picked]]),
        histories=histories[picked], lengths=lengths[picked], targets=targets[picked],
        scores=scores.numpy().astype(np.float32), top_ids=top.indices.numpy(), top_scores=top.values.numpy(),
    )
    gap = (top.values[:, :-1] - top.values[:, 1:]).min().item()
    reference = {
        "model": name, "recbole_export": str(export_dir.relative_to(out)),
        "settings": {k: v for k, v in settings.items() if k not in ("data_path", "checkpoint_dir")},
        "train_seconds": round(seconds, 1),
        "best_valid_score": float(best_valid_score),
        "valid_result": {k: float(v) for k, v in valid_result.items()},
        "test_result": {k: float(v) for k, v in test_result.items()},
        "smallest_gap_in_top50": gap,
    }
    (out / "reference" / f"{name}.json").write_text(json.dumps(reference, indent=1) + "\n", encoding="utf-8")
    cases = {"users": [int(user_tokens[u]) for u in users], "targets": targets.tolist(),
             "histories": [h[:n].tolist() for h, n in zip(histories, lengths, strict=True)]}
    (out / "reference" / "test_cases.json").write_text(json.dumps(cases) + "\n", encoding="utf-8")
    print(f"{name}: {seconds:.0f} s, test {dict(test_result)}, smallest top-50 gap {gap:.2e}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "recbole")
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    out = args.out.resolve()
    (out / "reference").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="recbole-fixtures-") as tmp:
        work = Path(tmp)
        os.chdir(work)  # RecBole writes log/ and log_tensorboard/ into the working directory
        data_dir = prepare_data(out, work)
        for name in args.models:
            train_one(name, data_dir, work, out)


if __name__ == "__main__":
    main()
