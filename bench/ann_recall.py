"""Recall@k of a checkpoint's faiss item index against exact search (every item scored), and its speed.

Queries are what the index answers in the app: the model's interest vectors of 50-item histories. A
checkpoint with training data uses its users' histories; one without (bench/make_big_checkpoint.py) uses
synthetic ones: each of 1-3 seed items with its 25 exact nearest items (a user with a few coherent
interests). "mixtures" adds the harder case of the mean of 5 random items' embeddings (an interest between
unrelated clusters).

    .venv/bin/python bench/ann_recall.py --checkpoint /work/scale/ckpt-1m [--queries 200] [--k 50]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from recviz.models.checkpoint import load_checkpoint
from recviz.models.item_index import item_table
from recviz.models.scoring import pad_histories


def exact_top(table: np.ndarray, queries: np.ndarray, k: int, chunk: int = 131_072) -> np.ndarray:
    """Exact top-``k`` dense ids [Q, k] by inner product, the catalogue walked in chunks."""
    q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))  # [Q, d]
    best_v = torch.full((len(q), k), -torch.inf)  # [Q, k]
    best_i = torch.zeros((len(q), k), dtype=torch.long)  # [Q, k]
    for start in range(0, len(table), chunk):
        block = q @ torch.from_numpy(table[start : start + chunk]).T  # [Q, c]
        v, i = torch.cat([best_v, block], 1), torch.cat([best_i, torch.arange(start, start + block.shape[1])
                                                        .expand(len(q), -1)], 1)
        top = torch.topk(v, k, dim=1)
        best_v, best_i = top.values, i.gather(1, top.indices)
    return best_i.numpy() + 1


def synthetic_histories(table: np.ndarray, n: int, rng: np.random.Generator) -> list[list[int]]:
    """``n`` histories of 50 dense ids: 1-3 random seed items, each with its exact 25 (or 50) nearest."""
    out = []
    for _ in range(n):
        seeds = rng.integers(0, len(table), rng.integers(1, 4))
        near = exact_top(table, table[seeds], 50 // len(seeds) + 1)  # [S, m] dense ids, seed included
        out.append(list(dict.fromkeys(near.reshape(-1).tolist()))[:50])
    return out


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / truth.shape[1] for a, b in zip(found, truth, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--queries", type=int, default=200, help="histories (each gives K interest queries)")
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    ckpt = load_checkpoint(args.checkpoint)
    print(f"loaded {ckpt.path} in {time.perf_counter() - start:.1f} s")
    if ckpt.item_index is None:
        raise SystemExit(f"{ckpt.path} has no item index (build one: recviz index --checkpoint {ckpt.path})")
    record = ckpt.item_index.record
    table = item_table(ckpt.model)  # [M, d]
    rng = np.random.default_rng(args.seed)
    histories = synthetic_histories(table, args.queries, rng)
    items, mask = pad_histories(histories, ckpt.model.max_length)  # [Q, L]
    with torch.no_grad():
        interests = ckpt.model.interests(items, mask).reshape(-1, table.shape[1]).numpy()  # [Q*K, d]
    mixtures = table[rng.integers(0, len(table), (args.queries, 5))].mean(1)  # [Q, d]
    print(f"{len(table):,} items, d={table.shape[1]}, index {record.kind} {record.params}, built in "
          f"{record.seconds:.0f} s; load average {os.getloadavg()[0]:.1f}")
    for name, queries in (("interest vectors", interests), ("mixtures of 5 random items", mixtures)):
        truth = exact_top(table, queries, args.k)
        began = time.perf_counter()
        _, found = ckpt.item_index.search(queries, args.k)
        ms = 1000 * (time.perf_counter() - began) / len(queries)
        print(f"  {name:28s} recall@{args.k} {recall(found, truth):.4f} over {len(queries)} queries, "
              f"{ms:.2f} ms/query (batched)")


if __name__ == "__main__":
    main()
