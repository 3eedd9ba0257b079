"""Quality benchmark: train and evaluate every registered model on the shipped sample under both protocols.

Each model is trained with the same seeds by :func:`recviz.train.train` (early stopping on validation
Recall@20) and evaluated on the full catalogue by :func:`recviz.eval.evaluate` (max fusion, history
excluded). The table (validation / test side by side) is printed and written into docs/benchmarks.md
between ``<!-- quality:start -->`` and ``<!-- quality:end -->``, with the command and the date.

    .venv/bin/python bench/quality.py                         # everything (tens of minutes on 2 cores)
    .venv/bin/python bench/quality.py --quick --no-write      # smoke check: 1 short epoch per model
    .venv/bin/python bench/quality.py --models comirec-sa popularity --protocols user-split
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shlex
import sys
from pathlib import Path

import torch

from recviz.config import TrainConfig
from recviz.data import load_dataset
from recviz.data.splits import PROTOCOLS
from recviz.models.registry import MODEL_NAMES
from recviz.train import TrainResult, train

ROOT = Path(__file__).resolve().parents[1]
DATA = "sample_data/ml-latest-small"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- quality:start -->", "<!-- quality:end -->"
COLUMNS = ("recall@20", "recall@50", "ndcg@20", "ndcg@50", "hitrate@20", "hitrate@50", "auc")
QUICK = {"epochs": 1, "samples_per_epoch": 3000}


def run(models: list[str], protocols: list[str], seed: int, overrides: dict) -> list[tuple[str, str, TrainResult]]:
    """Train and evaluate each (model, protocol) pair; the same seeds and settings for every run."""
    dataset = load_dataset(ROOT / DATA)
    runs = []
    for protocol in protocols:
        for name in models:
            config = TrainConfig(model=name, protocol=protocol, seed=seed, split_seed=seed, **overrides)
            print(f"training {name} under {protocol} ...", file=sys.stderr, flush=True)
            result = train(dataset, config, out_dir=None, progress=False)
            print(f"  {result.seconds:.0f} s, best epoch {result.best_epoch}, "
                  f"test recall@50 {result.test_metrics.get('recall@50', float('nan')):.4f}",
                  file=sys.stderr, flush=True)
            runs.append((name, protocol, result))
    return runs


def markdown(runs: list[tuple[str, str, TrainResult]], command: str, reduced: bool) -> str:
    """One table per protocol: each cell is validation / test; training time in seconds."""
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Command: `{command}` ({when}; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPU cores, torch {torch.__version__}, {torch.get_num_threads()} threads"
        + ("; **reduced training budget: a smoke run, not the reported figures**" if reduced else "") + ").",
        "",
        "Full-catalogue ranking, max fusion, history items excluded. Each cell is **validation / test**; "
        "models are chosen by validation Recall@20 (early stopping), test is reported. Seconds cover "
        "training including the per-epoch validation.",
    ]
    for protocol in dict.fromkeys(p for _, p, _ in runs):
        subset = [(n, r) for n, p, r in runs if p == protocol]
        cases = subset[0][1].split.summary()
        lines += [
            "",
            f"**{protocol}** ({cases['valid_cases']} validation / {cases['test_cases']} test cases)",
            "",
            "| model | " + " | ".join(COLUMNS) + " | epochs | seconds |",
            "|---|" + "---|" * (len(COLUMNS) + 2),
        ]
        for name, result in subset:
            cells = [f"{result.valid_metrics.get(c, float('nan')):.4f} / {result.test_metrics.get(c, float('nan')):.4f}"
                     for c in COLUMNS]
            epochs = len(result.history) or "-"
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {epochs} | {result.seconds:.0f} |")
    return "\n".join(lines)


def write_section(doc: Path, body: str) -> None:
    """Replace the text between the quality markers (adding a section with them if they are missing)."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    block = f"{START}\n{body}\n{END}"
    if START in text and END in text:
        text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + f"\n\n## Quality (bench/quality.py)\n\n{block}\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODEL_NAMES), choices=MODEL_NAMES)
    parser.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=PROTOCOLS)
    parser.add_argument("--quick", action="store_true", help="one short epoch per model (smoke check)")
    parser.add_argument("--epochs", type=int, help="override the most epochs of every model")
    parser.add_argument("--samples-per-epoch", type=int, help="override the cut points per epoch")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    overrides = dict(QUICK) if args.quick else {}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.samples_per_epoch is not None:
        overrides["samples_per_epoch"] = args.samples_per_epoch
    runs = run(args.models, args.protocols, args.seed, overrides)
    command = shlex.join(["python", "bench/quality.py", *(sys.argv[1:] if argv is None else argv)])
    body = markdown(runs, command, bool(overrides))
    print(body)
    if not args.no_write:
        write_section(DOC, body)
        print(f"\nwrote the quality section of {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
