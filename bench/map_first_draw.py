"""First draw of the interest map of a (large) checkpoint: read the stored map, draw the catalogue picture
(a density layer past 200k items) and build the figure with one explanation's overlay — what the app does
the first time it shows a checkpoint's map (every later view reuses the picture).

    .venv/bin/python bench/map_first_draw.py --checkpoint DIR
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from ann_recall import synthetic_histories

from recviz.config import ExplainSettings
from recviz.explain import explain
from recviz.explain.projection import load_item_map
from recviz.models.checkpoint import load_checkpoint
from recviz.models.item_index import item_table
from recviz.viz.figures import catalogue_raster, interest_map_figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    args = parser.parse_args()
    ckpt = load_checkpoint(args.checkpoint)
    history = ckpt.vocab.decode(synthetic_histories(item_table(ckpt.model), 1, np.random.default_rng(0))[0])
    exp = explain(ckpt, history, ExplainSettings(num_targets=5))
    start = time.perf_counter()
    item_map = load_item_map(ckpt.path, expected_hash=ckpt.hash)
    loaded = time.perf_counter()
    raster = catalogue_raster(item_map)
    drawn = time.perf_counter()
    interest_map_figure(exp, item_map, catalogue=raster)
    done = time.perf_counter()
    print(f"{len(item_map.item_ids):,} items: read map {loaded - start:.2f} s, catalogue picture "
          f"{drawn - loaded:.2f} s, figure with overlay {done - drawn:.2f} s: first draw "
          f"{done - start:.2f} s (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
