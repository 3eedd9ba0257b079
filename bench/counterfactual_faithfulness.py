"""Counterfactuals as a faithfulness check: how often each attribution method's top-k items form a
counterfactual.

For each of ``--users`` users (a seeded sample of the users whose history has more than max(k) items) and
each of their top 5 fused recommendations, every attribution method (the app's defaults: Integrated
Gradients with 50 steps, occlusion, attention) ranks the model's window; its top k items (k = 1, 3, 5) are
removed and the edited history re-scored with the app's default settings (top-10 weighted fusion, the whole
history excluded). A hit: the item left the top 10. The reference removes k random window items (10 draws
per user and k). Computed by :func:`recviz.explain.counterfactual.counterfactual_check`; prints a Markdown
table.

    .venv/bin/python bench/counterfactual_faithfulness.py                 # 100 users (about a minute)
    .venv/bin/python bench/counterfactual_faithfulness.py --users 10      # smoke check
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from recviz.config import ExplainSettings
from recviz.explain.counterfactual import CHECK_KS, RANDOM, counterfactual_check
from recviz.explain.users import user_history, user_ids
from recviz.models.checkpoint import load_checkpoint
from recviz.options import method_label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="models/comirec-sa-ml-latest-small")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--targets", type=int, default=5, help="top recommendations per user")
    parser.add_argument("--random-draws", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0, help="seed of the user sample and the random draws")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    ckpt = load_checkpoint(args.checkpoint)
    settings = ExplainSettings()  # the app's and the CLI's defaults
    eligible = [u for u in user_ids(ckpt) if len(user_history(ckpt, u).item_ids) > max(CHECK_KS)]
    rng = np.random.default_rng(args.seed)
    chosen = sorted(int(u) for u in rng.choice(eligible, size=min(args.users, len(eligible)), replace=False))
    histories = [user_history(ckpt, u).item_ids for u in chosen]
    load = os.getloadavg()
    start = time.perf_counter()
    check = counterfactual_check(ckpt, histories, settings, ks=CHECK_KS, targets_per_user=args.targets,
                                 random_draws=args.random_draws, seed=args.seed)
    seconds = time.perf_counter() - start

    print(f"{ckpt.name} ({ckpt.path.name}), {check.users} users × top {check.targets_per_user}, "
          f"top-N = {check.top_n}, {settings.fusion} fusion, IG {settings.ig_steps} steps, random: mean of "
          f"{check.random_draws} draws; {seconds:.1f} s, {args.threads} torch thread(s); load average before "
          f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}, after "
          + " / ".join(f"{v:.2f}" for v in os.getloadavg()))
    rates = {(r.method, r.k): r for r in check.rates}
    methods = list(dict.fromkeys(r.method for r in check.rates))
    print()
    print("| method | " + " | ".join(f"top-{k} removed: left the top {check.top_n}" for k in CHECK_KS)
          + " | recommendations tested (k = " + " / ".join(map(str, CHECK_KS)) + ") |")
    print("|---|" + "---|" * len(CHECK_KS) + "---|")
    for method in methods:
        label = "random k items (mean)" if method == RANDOM else method_label(method)
        cells = []
        for k in CHECK_KS:
            rate, base = rates[(method, k)].rate, rates[(RANDOM, k)].rate
            lift = "" if method == RANDOM or base == 0 else f" ({rate / base:.1f}× random)"
            cells.append(f"{rate:.1%}{lift}")
        pairs = " / ".join(str(rates[(method, k)].pairs) for k in CHECK_KS)
        print(f"| {label} | " + " | ".join(cells) + f" | {pairs} |")


if __name__ == "__main__":
    main()
