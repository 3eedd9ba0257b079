"""Latency of explain() and of placing interests on the interest map.

explain(): a 50-item history (real users with ≥ 50 items, their 50 most recent), IG on the top 5 fused items
(50 steps), occlusion, attention and the deletion curves with 10 random orders: the app's defaults.
Placement: ItemMap.place of one history's K interest vectors on the stored map, after warm-up.
A checkpoint without training data (bench/make_big_checkpoint.py's million-item one) is explained on
synthetic 50-item histories: 1-3 seed items, each with its exact nearest items (bench/ann_recall.py).

    .venv/bin/python bench/explain_latency.py [--checkpoint DIR] [--runs 30] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch
from ann_recall import synthetic_histories

from recviz.config import ExplainSettings
from recviz.errors import RecvizError
from recviz.explain import explain
from recviz.explain.projection import load_item_map
from recviz.explain.users import user_history, user_ids
from recviz.models.checkpoint import load_checkpoint
from recviz.models.item_index import item_table


def histories_of(ckpt, count: int = 60) -> list[list[int]]:
    """The 50 most recent items of real users with ≥ 50 items, else synthetic histories (raw ids)."""
    try:
        users = (user_history(ckpt, u) for u in user_ids(ckpt))
        return [h.item_ids[-50:] for h in users if len(h.item_ids) >= 50]
    except RecvizError as exc:
        print(f"no training data ({str(exc)[:80]}...): synthetic 50-item histories")
    dense = synthetic_histories(item_table(ckpt.model), count, np.random.default_rng(0))
    return [ckpt.vocab.decode(h) for h in dense]


def summary(ms: list[float]) -> str:
    return f"median {statistics.median(ms):7.1f} ms   p95 {np.percentile(ms, 95):7.1f} ms   (n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="models/comirec-sa-ml-latest-small")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    ckpt = load_checkpoint(args.checkpoint)
    print(f"load_checkpoint {time.perf_counter() - start:.1f} s"
          + ("" if ckpt.item_index is None else f" (with its item index, {ckpt.item_index.record.kind})"))
    histories = histories_of(ckpt)
    settings = ExplainSettings(num_targets=5)
    try:
        item_map = load_item_map(ckpt.path, expected_hash=ckpt.hash)
    except Exception as exc:  # the map is optional for the explain() figure
        print(f"no interest map ({exc}); placement not measured")
        item_map = None
    print(f"{ckpt.name} ({ckpt.path}), {len(ckpt.vocab) - 1} items, K={ckpt.model.num_interests}, "
          f"{len(histories)} users with ≥ 50 items; torch threads {torch.get_num_threads()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    start = time.perf_counter()
    explain(ckpt, histories[0], settings, item_map=item_map)  # the first one builds the per-checkpoint caches
    print(f"first explain() (builds the item table and moments once per checkpoint): "
          f"{1000 * (time.perf_counter() - start):.0f} ms")
    for h in histories[1:3]:  # warm-up
        explain(ckpt, h, settings, item_map=item_map)
    totals, cpu, stages = [], [], {}
    for i in range(args.runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        exp = explain(ckpt, histories[i % len(histories)], settings, item_map=item_map)
        totals.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.process_time() - start_cpu))
        for stage, ms in exp.timing.items():
            stages.setdefault(stage, []).append(ms)
    print(f"explain() 50 items, IG top-5 x 50 steps: {summary(totals)}   "
          f"(load average {os.getloadavg()[0]:.1f} after the runs)")
    print(f"  CPU time of the process (all threads; quiet-machine wall time approaches it): {summary(cpu)}")
    print("  median per stage: " + ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in stages.items()))
    print("  p95 per stage:    " + ", ".join(f"{k} {np.percentile(v, 95):.1f}" for k, v in stages.items()))

    if item_map is not None:
        vectors = np.asarray([i.vector for i in exp.interests], dtype=np.float32)  # [K, d]
        for _ in range(5):
            item_map.place(vectors)
        placed = []
        for _ in range(200):
            start = time.perf_counter()
            item_map.place(vectors)
            placed.append(1000 * (time.perf_counter() - start))
        print(f"place {len(vectors)} interests on a {len(item_map.item_ids)}-item map: {summary(placed)}")


if __name__ == "__main__":
    main()
