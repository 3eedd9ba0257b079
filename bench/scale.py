"""How recviz's cost grows with the catalogue: one table from 100k to 1M items.

For each size (items = users, interactions as given) every stage runs in its own process, so its peak
resident memory is its own:

- gen      `recviz data synth` (recviz.data.synth): planted clusters, Parquet out
- load     the Parquet reader (recviz.data.readers.parquet), then per-user sequences (build_sequences)
- epoch    one training epoch (every cut point once) of comirec-sa, sampled softmax, sparse item table,
           1 thread, batch 128: ``--steps`` optimiser steps timed and extrapolated (recviz.train.timing)
- index    the faiss item index of a checkpoint of that size (clustered embeddings like trained ones, from
           bench/make_big_checkpoint.py), built and written (recviz.models.item_index.rebuild_index)
- explain  load_checkpoint, then explain() of 50-item histories with the app's defaults: median of ``--runs``
- map      the interest map: UMAP fitted on a 50k sample, the rest placed in batches (project_checkpoint)

    .venv/bin/python bench/scale.py [--sizes 100000:2000000 300000:10000000 1000000:20000000] [--write]

The data and checkpoints go under ``--scratch`` (default /work/scale/bench-scale), never in the repository.
The load average is printed with each figure: on a shared machine the seconds are upper bounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DOC = REPO / "docs" / "benchmarks.md"
START, END = "<!-- scale:start -->", "<!-- scale:end -->"
STAGES = ("gen", "load", "epoch", "index", "explain", "map")


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _clusters(items: int) -> int:
    return max(20, int(round(items ** 0.5 / 5)))  # 100k → 63, 1M → 200


def stage_gen(items: int, interactions: int, root: Path) -> dict:
    from recviz.data.synth import SynthConfig, synth

    out = root / "data"
    if out.exists():
        shutil.rmtree(out)
    result = synth(SynthConfig(users=items, items=items, clusters=_clusters(items), interactions=interactions,
                               seed=0), out)
    return {"seconds": result.generate_s + result.write_s, "mb": sum(result.files.values()) / 2**20}


def stage_load(items: int, interactions: int, root: Path) -> dict:
    from recviz.data.readers import load_dataset
    from recviz.data.sequences import build_sequences

    start = time.perf_counter()
    dataset = load_dataset(root / "data")
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    sequences = build_sequences(dataset)
    return {"seconds": loaded, "sequences_seconds": time.perf_counter() - start, "users": len(sequences),
            "interactions": dataset.num_interactions}


def stage_epoch(items: int, interactions: int, root: Path, steps: int) -> dict:
    from recviz.config import TrainConfig
    from recviz.data.readers import load_dataset
    from recviz.train.timing import time_epoch

    timing = time_epoch(load_dataset(root / "data"), TrainConfig(model="comirec-sa", side_features=False,
                                                                 threads=1, batch_size=128), steps=steps)
    return {"seconds": timing.epoch_seconds, "setup_seconds": timing.setup_seconds,
            "step_ms": 1000 * timing.step_seconds / timing.steps, "cut_points": timing.cut_points,
            "extrapolated": timing.extrapolated, "full_softmax": timing.full_softmax}


def stage_index(items: int, interactions: int, root: Path) -> dict:
    sys.path.insert(0, str(BENCH))
    from make_big_checkpoint import make_checkpoint

    from recviz.models.checkpoint import load_checkpoint
    from recviz.models.item_index import THRESHOLD_ENV, rebuild_index

    ckpt = root / "ckpt"
    if ckpt.exists():
        shutil.rmtree(ckpt)
    os.environ[THRESHOLD_ENV] = str(10**12)  # write it without an index, then time the index alone
    make_checkpoint(items, ckpt)
    model = load_checkpoint(ckpt, with_index=False).model
    start = time.perf_counter()
    record = rebuild_index(ckpt, model)
    return {"seconds": time.perf_counter() - start, "kind": record.kind,
            "mb": (ckpt / "items.faiss").stat().st_size / 2**20}


def stage_explain(items: int, interactions: int, root: Path, runs: int) -> dict:
    sys.path.insert(0, str(BENCH))
    import torch
    from explain_latency import histories_of

    from recviz.config import ExplainSettings
    from recviz.explain import explain
    from recviz.models.checkpoint import load_checkpoint

    torch.set_num_threads(1)
    start = time.perf_counter()
    ckpt = load_checkpoint(root / "ckpt")
    loaded = time.perf_counter() - start
    histories = histories_of(ckpt, runs + 3)
    settings = ExplainSettings(num_targets=5)
    for history in histories[:3]:  # the first builds per-checkpoint caches
        explain(ckpt, history, settings)
    ms = []
    for history in histories[3 : 3 + runs]:
        start = time.perf_counter()
        explain(ckpt, history, settings)
        ms.append(1000 * (time.perf_counter() - start))
    return {"seconds": loaded, "median_ms": statistics.median(ms), "indexed": ckpt.item_index is not None}


def stage_map(items: int, interactions: int, root: Path) -> dict:
    from recviz.explain.mapping import project_checkpoint

    start = time.perf_counter()
    project_checkpoint(root / "ckpt")
    return {"seconds": time.perf_counter() - start}


def run_stage(stage: str, items: int, interactions: int, args: argparse.Namespace) -> dict:
    """One stage in a fresh process: its result, peak RSS and the load average after it."""
    cmd = [sys.executable, __file__, "--stage", stage, "--items", str(items), "--interactions",
           str(interactions), "--scratch", str(args.scratch), "--steps", str(args.steps),
           "--runs", str(args.runs)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        tail = (done.stderr or done.stdout)[-600:]
        return {"error": f"exit {done.returncode}: {tail}", "wall": wall, "load": os.getloadavg()[0]}
    return {**json.loads(lines[-1]), "wall": wall, "load": os.getloadavg()[0]}


def _fmt_s(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.1f} s"


def table(rows: list[tuple[int, int, dict[str, dict]]]) -> str:
    head = ("| items / users | interactions | generate | load (+ sequences) | epoch (step) | index build | "
            "load ckpt, explain() median | map (fit 50k + place) | peak RSS per stage (GB) |")
    lines = [head, "|" + "---|" * 9]
    def cell(r: dict[str, dict], stage: str, text) -> str:
        got = r.get(stage, {})
        return f"failed ({got['error'][:60]}...)" if "error" in got else (text(got) if got else "-")

    for items, interactions, r in rows:
        rss = " / ".join(f"{r[s]['peak_gb']:.1f}" if "peak_gb" in r.get(s, {}) else "-" for s in STAGES)
        lines.append(" | ".join([
            f"| {items:,}", f"{interactions:,}",
            cell(r, "gen", lambda g: _fmt_s(g["seconds"])),
            cell(r, "load", lambda g: f"{_fmt_s(g['seconds'])} (+ {_fmt_s(g['sequences_seconds'])})"),
            cell(r, "epoch", lambda g: f"{_fmt_s(g['seconds'])} ({g['step_ms']:.0f} ms)"),
            cell(r, "index", lambda g: f"{_fmt_s(g['seconds'])} ({g['kind']})"),
            cell(r, "explain", lambda g: f"{_fmt_s(g['seconds'])}, {g['median_ms']:.0f} ms"
                 + ("" if g["indexed"] else " (exact)")),
            cell(r, "map", lambda g: _fmt_s(g["seconds"])),
            f"{rss} |"]))
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text()
    if START not in doc:
        doc = doc.rstrip() + "\n\n## Scale (bench/scale.py)\n\n" + START + "\n" + END + "\n"
    head, rest = doc.split(START, 1)
    DOC.write_text(head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", help="items:interactions (users = items)",
                        default=["100000:2000000", "300000:10000000", "1000000:20000000"])
    parser.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES)
    parser.add_argument("--scratch", type=Path, default=Path("/work/scale/bench-scale"))
    parser.add_argument("--steps", type=int, default=200, help="optimiser steps timed per epoch figure")
    parser.add_argument("--runs", type=int, default=20, help="explain() runs per median")
    parser.add_argument("--write", action="store_true", help="record the table in docs/benchmarks.md")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--items", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--interactions", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.stage:  # a child: one stage, one JSON line
        root = args.scratch / f"items-{args.items}"
        root.mkdir(parents=True, exist_ok=True)
        extra = {"epoch": {"steps": args.steps}, "explain": {"runs": args.runs}}.get(args.stage, {})
        result = globals()[f"stage_{args.stage}"](args.items, args.interactions, root, **extra)
        print(json.dumps({**result, "peak_gb": _peak_gb()}), flush=True)
        return

    rows = []
    started = dt.datetime.now(dt.UTC)
    for size in args.sizes:
        items, interactions = (int(x) for x in size.split(":"))
        results: dict[str, dict] = {}
        for stage in args.stages:
            results[stage] = run_stage(stage, items, interactions, args)
            print(f"{items:>9,} items  {stage:<8} {json.dumps(results[stage])[:300]}", flush=True)
        rows.append((items, interactions, results))
    text = table(rows)
    loads = [r.get("load", 0) for _, _, res in rows for r in res.values()]
    header = (f"Command: `.venv/bin/python bench/scale.py --sizes {' '.join(args.sizes)} "
              f"--steps {args.steps} --runs {args.runs} --write` ({started:%Y-%m-%d %H:%M} UTC; "
              f"{platform.machine()}, {os.cpu_count()} CPU cores; load average after each stage "
              f"{min(loads):.1f}-{max(loads):.1f}).")
    print("\n" + header + "\n\n" + text)
    if args.write:
        write_doc(header + "\n\n" + text)


if __name__ == "__main__":
    main()
