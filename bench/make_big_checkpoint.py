"""A large checkpoint for developing and measuring at catalogue scale, without training one.

A registered model (comirec-sa, random attention weights) whose item embeddings are *clustered like trained
ones*: cluster centroids plus per-item noise, cluster sizes following a power law, item norms that grow with
popularity. That is the structure ANN indexes exploit and trained embeddings have; iid Gaussian embeddings
(no structure at all) are the unrealistic worst case for approximate search, so recall measured here is for
trained-like data, not a bound for every table. The catalogue is synthetic (titles, years, a genre per
cluster). Everything is written through the normal ``save_checkpoint``, so the index, loading, explaining and
the map downstream run the real code.

    .venv/bin/python bench/make_big_checkpoint.py --items 1000000 --out /work/scale/ckpt-1m
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from recviz.data.types import Catalogue, Item
from recviz.data.vocab import Vocab
from recviz.models.checkpoint import save_checkpoint
from recviz.models.registry import build_model

GENRES = ("Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
          "Western")


@dataclass(frozen=True)
class ClusteredTable:
    """Item embeddings [N, d] (no padding row), each item's cluster [N] and training counts [N]."""

    embeddings: np.ndarray
    cluster: np.ndarray
    counts: np.ndarray


def clustered_table(items: int, dim: int = 64, clusters: int | None = None, noise: float = 0.45,
                    zipf: float = 1.1, seed: int = 0) -> ClusteredTable:
    """Centroids on a sphere of radius 1, cluster sizes ∝ rank^-zipf (at least one item each), items =
    centroid + isotropic noise of total norm ≈ ``noise``, scaled by a popularity factor in [0.8, 1.25]."""
    rng = np.random.default_rng(seed)
    clusters = clusters or max(8, int(math.sqrt(items) * 2))
    weights = np.arange(1, clusters + 1, dtype=np.float64) ** -zipf  # [C] power-law cluster sizes
    sizes = np.maximum(1, np.floor(weights / weights.sum() * items)).astype(np.int64)
    sizes[0] += items - sizes.sum()  # exact total; the largest cluster absorbs the rounding
    cluster = rng.permutation(np.repeat(np.arange(clusters), sizes))  # [N] clusters spread over ids
    centroids = rng.standard_normal((clusters, dim)).astype(np.float32)  # [C, d]
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    emb = np.empty((items, dim), dtype=np.float32)  # [N, d]
    for start in range(0, items, 200_000):  # bounded temporaries
        part = slice(start, min(items, start + 200_000))
        n = part.stop - part.start
        emb[part] = centroids[cluster[part]] + rng.standard_normal((n, dim)).astype(np.float32) * (
            noise / math.sqrt(dim))
    counts = np.floor(rng.pareto(1.2, items) * 3).astype(np.int64) + 1  # [N] long-tailed popularity
    emb *= (0.8 + 0.45 * (np.log1p(counts) / np.log1p(counts.max())))[:, None].astype(np.float32)
    return ClusteredTable(emb, cluster, counts)


def synthetic_catalogue(cluster: np.ndarray, seed: int = 0) -> Catalogue:
    """Item ids 1..N with a title, a year and the genre(s) of their cluster."""
    rng = np.random.default_rng(seed + 1)
    years = rng.integers(1950, 2025, len(cluster))
    second = rng.random(len(cluster)) < 0.3
    items = []
    for i, (c, y, two) in enumerate(zip(cluster.tolist(), years.tolist(), second.tolist(), strict=True)):
        genres = (GENRES[c % len(GENRES)],) + ((GENRES[(c * 7 + 3) % len(GENRES)],) if two else ())
        items.append(Item(i + 1, f"Synthetic item {i + 1} (cluster {c})", y, tuple(dict.fromkeys(genres))))
    return Catalogue(items)


def make_checkpoint(items: int, out: Path, dim: int = 64, seed: int = 0) -> Path:
    """Write the checkpoint (the index too, past the threshold: save_checkpoint decides)."""
    table = clustered_table(items, dim, seed=seed)
    model = build_model("comirec-sa", num_items=items + 1, dim=dim)
    with torch.no_grad():
        model.history_embedding.items.weight[1:] = torch.from_numpy(table.embeddings)  # [N, d]
    vocab = Vocab(range(1, items + 1))
    extra = {"data": {"name": f"synthetic-clustered-{items}"},
             "command": f"python bench/make_big_checkpoint.py --items {items} --out {out} --seed {seed}"}
    counts = np.concatenate([[0], table.counts])  # [N+1] padding first
    return save_checkpoint(out, model, vocab, synthetic_catalogue(table.cluster, seed), extra, counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    path = make_checkpoint(args.items, args.out, args.dim, args.seed)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"wrote {path} ({args.items:,} items, d={args.dim}) in {time.perf_counter() - start:.1f} s, "
          f"peak RSS {rss:.1f} GB, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
