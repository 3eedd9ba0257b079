"""Planted-interest check: do learned interests and attributions find the structure the data was made with?

A synthetic data set (``recviz.data.synth``: items in clusters with Zipf popularity, each user mixing 1–5
clusters with drift) is written to a temporary folder, read back through the Parquet reader and each model
is trained on it by :func:`recviz.train.train` (no side features: the cluster-derived genres would hand the
clusters to the model). On the held-out test users (user split) it measures:

- **interest purity@k**: for each interest of each user, the share of its top-k catalogue items lying in
  their most common planted cluster, averaged over users and interests; against k random items (uniform)
  and the k globally most popular items;
- **clusters recovered**: the share of a user's planted clusters (share ≥ 0.2 at the end of the user's
  time span) that are the majority cluster of at least one interest's top-k;
- **attribution precision@5**: for each user's top fused recommendations (max fusion, history excluded),
  the share of the 5 history items with the largest attribution that lie in the target's cluster, per
  method (Integrated Gradients, occlusion, attention: ``recviz.explain.attributions.METHODS``, each run
  batched over the targets of one history); against 5 random history items (its exact expectation: the
  share of the history in the target's cluster).

    .venv/bin/python bench/planted.py                    # table printed (≈ 5 min on 1 thread)
    .venv/bin/python bench/planted.py --write            # ... and appended to docs/benchmarks.md
    .venv/bin/python bench/planted.py --quick            # smoke run: tiny data, 1 epoch
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from recviz.config import TrainConfig
from recviz.data import load_dataset
from recviz.data.synth import SynthConfig, SynthData, generate, write
from recviz.explain.attributions import METHODS, supports
from recviz.explain.scorer import HistoryScorer
from recviz.models.scoring import banned_items, fuse, interest_scores, pad_histories, top_k
from recviz.train import train

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
MODELS = ("comirec-sa", "comirec-dr", "youtube-dnn")
DATA = SynthConfig(users=3000, items=5000, clusters=20, interactions=150_000, seed=7)
QUICK_DATA = SynthConfig(users=400, items=800, clusters=8, interactions=12_000, seed=7)
BUDGET = {"epochs": 6, "samples_per_epoch": 40_000, "patience": 2, "threads": 1, "side_features": False,
          "lr": 3e-3}
QUICK = {"epochs": 1, "samples_per_epoch": 2_000}
TOP_K = 20           # items per interest for purity
TARGETS = 3          # fused recommendations explained per user
ATTR_USERS = 150     # users whose recommendations are attributed
PRESENT = 0.2        # a planted cluster counts as present at the end of a user's span from this share


@dataclass
class ModelRow:
    model: str
    train_s: float
    recall20: float
    purity: float
    recovered: float
    precision: dict[str, float | None]   # method → attribution precision@5 (None: method not supported)


@dataclass
class Baselines:
    purity_random: float
    purity_popular: float


def purity(clusters: np.ndarray) -> np.ndarray:
    """[..., k] cluster ids → [...] share of the most common cluster among the k."""
    k = clusters.shape[-1]
    flat = clusters.reshape(-1, k)
    counts = np.zeros((len(flat), int(clusters.max()) + 1), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(len(flat)), k), flat.ravel()), 1)
    return (counts.max(1) / k).reshape(clusters.shape[:-1])


def majority(clusters: np.ndarray) -> np.ndarray:
    """[..., k] cluster ids → [...] the most common cluster (lowest id on ties)."""
    k = clusters.shape[-1]
    flat = clusters.reshape(-1, k)
    counts = np.zeros((len(flat), int(clusters.max()) + 1), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(len(flat)), k), flat.ravel()), 1)
    return counts.argmax(1).reshape(clusters.shape[:-1])


def measure(name: str, dataset, data: SynthData, budget: dict) -> ModelRow:
    t0 = time.perf_counter()
    result = train(dataset, TrainConfig(model=name, **budget), progress=False)
    train_s = time.perf_counter() - t0
    model = result.model.eval()
    raw = result.vocab.as_array()                                        # [N] raw id per dense index
    cluster_of = np.r_[-1, data.item_cluster][np.maximum(raw, 0)]         # [N] planted cluster (pad: -1)
    cases = [c for c in result.split.test if any(i in result.vocab for i in c.history)]
    histories = [result.vocab.encode([i for i in c.history if i in result.vocab]) for c in cases]
    with torch.no_grad():
        table = model.item_embeddings().detach()                         # [N, d]
        items, mask = pad_histories(histories, model.max_length)         # [B, L]
        vectors = model.interests(items, mask)                           # [B, K, d]
        scores = interest_scores(vectors, table)                         # [B, K, N]
        scores[:, :, 0] = -torch.inf                                     # never the padding row
        top = top_k(scores, TOP_K)[1].numpy()                            # [B, K, k]
    top_clusters = cluster_of[top]                                       # [B, K, k]
    users = np.asarray([c.user_id for c in cases]) - 1                   # [B] 0-based synthetic users
    planted = data.user_clusters[users]                                  # [B, 5]
    share = data.cluster_weights(np.full(len(users), 0.95), users)       # [B, 5] near the span's end
    present = (planted >= 0) & (share >= PRESENT)                        # [B, 5]
    found = majority(top_clusters)                                       # [B, K]
    hit = (planted[:, :, None] == found[:, None, :]).any(2) & present    # [B, 5]
    precision = attribution_precision(model, table, histories[:ATTR_USERS], cluster_of)
    return ModelRow(name, train_s, float(result.test_metrics.get("recall@20", float("nan"))),
                    float(purity(top_clusters).mean()), float(hit.sum() / present.sum()), precision)


def attribution_precision(model, table: torch.Tensor, histories: list[list[int]],
                          cluster_of: np.ndarray) -> dict[str, float | None]:
    """Per method, the mean share of the top-5 attributed history items in the explained target's cluster."""
    hits: dict[str, list[float]] = {m: [] for m in METHODS if supports(model, m)}
    chance: list[float] = []  # 5 random history items: in expectation the history's share in the cluster
    for history in histories:
        if len(history) < 6:
            continue
        history = history[-model.max_length:]
        scorer = HistoryScorer(model, history, table)
        vectors = scorer.interests([history])                            # [1, K, d]
        items, _ = scorer.pack([history])                                # [1, L]
        scores = interest_scores(vectors, table)                         # [1, K, N]
        fused = fuse(scores, "max")
        ranked = fused.scores.masked_fill(banned_items(items, len(table)), -torch.inf)  # [1, N]
        dense = top_k(ranked, TARGETS)[1][0]                             # [T]
        interest = fused.contributor[0, dense]                           # [T]
        targets = scorer.targets(vectors[0], dense.tolist(), dense.tolist(), interest.tolist())
        target_cluster = cluster_of[dense.numpy()]                       # [T]
        same = cluster_of[np.asarray(history)][None, :] == target_cluster[:, None]  # [T, L]
        chance.extend(same.mean(1).tolist())
        for method in hits:
            values = METHODS[method](scorer, targets, 50).values         # [T, L]
            top5 = np.argsort(-values, axis=1, kind="stable")[:, :5]     # [T, 5]
            hits[method].extend(np.take_along_axis(same, top5, 1).mean(1).tolist())
    return {"random": float(np.mean(chance)), **{m: (float(np.mean(hits[m])) if m in hits else None)
                                                 for m in METHODS}}


def baselines(dataset, data: SynthData, rng: np.random.Generator) -> Baselines:
    """Purity of k uniform random items and of the k most popular items."""
    counts = np.bincount(dataset.interactions["item_id"].to_numpy(), minlength=len(data.item_cluster) + 1)
    popular = np.argsort(-counts[1:], kind="stable")[:TOP_K]             # [k] 0-based items
    random_items = rng.integers(0, len(data.item_cluster), size=(2000, TOP_K))
    return Baselines(float(purity(data.item_cluster[random_items]).mean()),
                     float(purity(data.item_cluster[popular][None])[0]))


def table(rows: list[ModelRow], base: Baselines) -> str:
    methods = ["random", *METHODS]
    head = (["model", "train s", "test recall@20", f"interest purity@{TOP_K}", "clusters recovered"]
            + [f"precision@5 {m}" for m in methods])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        prec = ["n/a" if r.precision[m] is None else f"{r.precision[m]:.3f}" for m in methods]
        lines.append(f"| {r.model} | {r.train_s:.0f} | {r.recall20:.3f} | {r.purity:.3f} | "
                     f"{r.recovered:.3f} | "
                     + " | ".join(prec) + " |")
    lines.append(f"| random items | – | – | {base.purity_random:.3f} (the {TOP_K} most popular: "
                 f"{base.purity_popular:.3f}) | – |" + " – |" * len(methods))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--quick", action="store_true", help="tiny data, 1 epoch (smoke run)")
    parser.add_argument("--write", action="store_true", help="append the table to docs/benchmarks.md")
    args = parser.parse_args(argv)
    cfg = QUICK_DATA if args.quick else DATA
    budget = {**BUDGET, **(QUICK if args.quick else {})}
    t0 = time.perf_counter()
    data = generate(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        write(data, Path(tmp) / "planted")
        dataset = load_dataset(Path(tmp) / "planted")
    print(f"data: {cfg} ({time.perf_counter() - t0:.1f} s)", flush=True)
    rows = []
    for name in args.models:
        rows.append(measure(name, dataset, data, budget))
        print(f"{name}: {rows[-1]}", flush=True)
    text = table(rows, baselines(dataset, data, np.random.default_rng(0)))
    print(text)
    if args.write:
        command = "bench/planted.py " + shlex.join(argv if argv is not None else sys.argv[1:])
        section = (
            f"\n## Planted interests\n\n"
            f"`.venv/bin/python {command.strip()}` ({dt.date.today().isoformat()}; data: {cfg.users:,} "
            f"users, {cfg.items:,} items in {cfg.clusters} clusters, {cfg.interactions:,} interactions, "
            f"seed {cfg.seed}; training: {budget}). Purity, recovery and precision are measured on the user "
            f"split's test users "
            f"(precision on the top {TARGETS} fused recommendations of {ATTR_USERS} users); 'precision@5 "
            f"random' is 5 random history items (its expectation); the last row is k uniform random items."
            f"\n\n{text}\n"
        )
        with DOC.open("a") as handle:
            handle.write(section)
        print(f"appended to {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
