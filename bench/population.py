"""Population throughput: users per second of `recviz population` on Ray with 1 and 2 workers.

What is timed: the run from the workers being ready (Ray started, checkpoint loaded in every worker) to the
last shard written, i.e. the batched computation (interests, health, fused-list shares, held-out ranks and
metrics, IG of the top recommendation) plus Parquet writing, not Ray's start-up. Faithfulness is off (it is
per user, on a sample). The shipped sample has 671 users, too few to time: its users are repeated
``--repeat`` times (each repeat computed afresh, in shards of ``--shard-size``). ``--compute-only`` also times
the same computation in this process without Ray (one core).

    .venv/bin/python bench/population.py [--repeat 8] [--workers 1 2]
    .venv/bin/python bench/population.py --checkpoint /work/scale/synth-1m --users 50000

A checkpoint without its data set (a synthetic one from bench/make_big_checkpoint.py) gets ``--users``
synthetic histories: lengths drawn like MovieLens' (20..300, log-uniform), items drawn uniformly from the
vocabulary; they have no held-out targets. The load average is printed beside every figure: the machine
may be shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from recviz.errors import RecvizError
from recviz.models.checkpoint import Checkpoint, load_checkpoint
from recviz.population.compute import PopulationSettings, ShardComputer, ShardInput
from recviz.population.inputs import PreparedUsers, prepare_users
from recviz.population.runner import connect, run_prepared

SAMPLE = Path(__file__).resolve().parents[1] / "models" / "comirec-sa-ml-latest-small"


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def synthetic_users(ckpt: Checkpoint, count: int, seed: int = 0) -> PreparedUsers:
    rng = np.random.default_rng(seed)
    raw = np.asarray(ckpt.vocab.raw_ids)
    lengths = np.exp(rng.uniform(np.log(20), np.log(300), count)).astype(int)
    histories = [raw[rng.integers(0, len(raw), n)].tolist() for n in lengths]
    stamps = [list(range(0, 86400 * n, 86400)) for n in lengths]
    users = ShardInput(list(range(1, count + 1)), histories, stamps, [0] * count, ["train"] * count,
                       [[]] * count, [[]] * count, [False] * count)
    return PreparedUsers(users)


def users_for(ckpt: Checkpoint, repeat: int, count: int | None) -> PreparedUsers:
    try:
        base = prepare_users(ckpt)
    except RecvizError as exc:  # no data set to rebuild (a synthetic checkpoint)
        print(f"no data set ({str(exc)[:80]}...): {count or 50_000} synthetic users")
        return synthetic_users(ckpt, count or 50_000)
    u = base.users
    if count is not None:
        repeat = -(-count // len(u))
    rows = ShardInput(*(getattr(u, f) * repeat for f in u.__dataclass_fields__))
    return PreparedUsers(rows.rows(0, count or len(rows)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=SAMPLE)
    parser.add_argument("--repeat", type=int, default=8, help="Repeat the data set's users (sample: 671).")
    parser.add_argument("--users", type=int, default=None, help="Exactly this many users (repeated or "
                                                                  "synthetic); overrides --repeat.")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--shard-size", type=int, default=512)
    parser.add_argument("--compute-only", action="store_true", help="Also time one process without Ray.")
    parser.add_argument("--scratch", type=Path, default=Path("/work/scale/tmp"),
                        help="Where the shards go (deleted after each run).")
    args = parser.parse_args()

    ckpt = load_checkpoint(args.checkpoint)
    prepared = users_for(ckpt, args.repeat, args.users)
    n = len(prepared.users)
    print(f"{ckpt.path.name}: {len(ckpt.vocab):,} items, {n:,} users, shards of {args.shard_size}")
    settings = PopulationSettings()
    if args.compute_only:
        import torch

        torch.set_num_threads(1)
        computer = ShardComputer(ckpt, settings)
        computer.compute(prepared.users.rows(0, 64))  # warm-up
        part = prepared.users.rows(0, min(n, 4 * args.shard_size))
        start = time.perf_counter()
        computer.compute(part)
        seconds = time.perf_counter() - start
        print(f"compute only, 1 process, 1 thread: {len(part) / seconds:,.0f} users/s "
              f"({len(part)} users in {seconds:.2f} s; load {load()})")
    rates = {}
    args.scratch.mkdir(parents=True, exist_ok=True)
    for workers in args.workers:
        ray = connect(None, workers)
        out = Path(tempfile.mkdtemp(prefix="population-bench-", dir=args.scratch))
        try:
            result = run_prepared(ckpt, prepared, out, workers=workers, settings=settings,
                                  shard_size=args.shard_size, progress=False)
        finally:
            shutil.rmtree(out, ignore_errors=True)
            ray.shutdown()
        rates[workers] = result.rows / result.seconds
        print(f"{workers} worker(s): {rates[workers]:,.0f} users/s ({result.rows:,} users in "
              f"{result.seconds:.1f} s, {len(result.failed)} failed shards; load {load()})")
    if 1 in rates and 2 in rates:
        print(f"speed-up 1 -> 2 workers: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    try:
        main()
    except RecvizError as exc:
        raise SystemExit(f"error: {exc}") from None
