"""A synthetic interaction log with planted interests: scale data and ground truth in one.

Items fall into ``clusters`` with power-law (Zipf) popularity inside each cluster. Each user mixes 1–5
distinct clusters; every cluster of a user has a peak time, and its weight rises and falls around that peak
(drift). A small share of interactions are noise (any item, by global popularity). Everything is drawn with
vectorised numpy from one seeded generator in a fixed order, so the same settings give the same bytes.

Files written to ``out`` (all Parquet, written to a temporary folder that is renamed into place only when
complete, so a failure leaves nothing half-written):

- ``interactions.parquet``  user_id, item_id (int64), rating (float32), timestamp (int64 Unix seconds)
- ``items.parquet``         item_id, title, year (int16), genres ("A|B", derived from the cluster)
- ``item_clusters.parquet`` item_id, cluster
- ``user_clusters.parquet`` user_id, phase (0..PHASES-1, equal quarters of the user's time span),
  cluster, weight (the planted share of the user's interest drawn from that cluster in that phase)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from recviz.errors import ConfigError, DataError

MAX_USER_CLUSTERS = 5
PHASES = 4
START = 1_420_070_400  # 2015-01-01 UTC
_CHUNK = 2_000_000     # interactions drawn per block (bounds memory; part of the seeded draw order)
_GENRE_WORDS = (
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Fantasy", "Horror",
    "Musical", "Mystery", "Noir", "Romance", "Sci-Fi", "Space", "Sports", "Thriller", "War", "Western",
    "Heist", "Cyberpunk", "Biopic", "Satire", "Martial-Arts",
)
_ADJECTIVES = ("Silent", "Crimson", "Last", "Hidden", "Broken", "Golden", "Frozen", "Distant", "Electric",
               "Wild", "Secret", "Midnight", "Hollow", "Iron", "Velvet", "Burning")
_NOUNS = ("River", "Empire", "Garden", "Signal", "Harbor", "Machine", "Promise", "Shadow", "Horizon",
          "Letter", "Kingdom", "Mirror", "Station", "Orchard", "Tide", "Voyage")
FILES = ("interactions.parquet", "items.parquet", "item_clusters.parquet", "user_clusters.parquet")


@dataclass(frozen=True)
class SynthConfig:
    """The generator's settings. ``zipf`` is the exponent of popularity within a cluster, ``noise`` the
    share of interactions drawn outside the user's clusters, ``drift_width`` the spread (in units of the
    user's time span) of each cluster's weight around its peak."""

    users: int
    items: int
    clusters: int
    interactions: int
    seed: int = 0
    zipf: float = 1.0
    noise: float = 0.05
    drift_width: float = 0.3

    def __post_init__(self) -> None:
        if min(self.users, self.items, self.clusters, self.interactions) < 1:
            raise ConfigError("synth: users, items, clusters and interactions must all be ≥ 1")
        if self.clusters > self.items:
            raise ConfigError(f"synth: {self.clusters} clusters need at least as many items "
                              f"(got {self.items})")
        if self.interactions < self.users:
            raise ConfigError(f"synth: {self.interactions} interactions cannot give each of {self.users} "
                              "users one; raise --interactions or lower --users")
        if not 0.0 <= self.noise < 1.0 or self.zipf < 0 or self.drift_width <= 0:
            raise ConfigError("synth: noise must lie in [0, 1), zipf ≥ 0 and drift_width > 0")


@dataclass
class SynthData:
    """The generated columns (raw ids start at 1; ``item_cluster[i - 1]`` is item i's cluster)."""

    config: SynthConfig
    user_id: np.ndarray            # [M] int64, sorted by user then time
    item_id: np.ndarray            # [M] int64
    rating: np.ndarray             # [M] float32
    timestamp: np.ndarray          # [M] int64, strictly increasing within a user
    item_cluster: np.ndarray       # [N] int32
    user_clusters: np.ndarray      # [U, 5] int32, -1 where the user has fewer clusters
    user_peaks: np.ndarray         # [U, 5] float64 peak time of each cluster in [0, 1] of the user's span
    user_weights: np.ndarray       # [U, 5] float64 base weight of each cluster (0 where absent)
    timings: dict[str, float] = field(default_factory=dict)

    def cluster_weights(self, t: np.ndarray, users: np.ndarray) -> np.ndarray:
        """[len(t), 5] planted cluster shares of ``users`` at relative times ``t`` (rows sum to 1)."""
        w = self.user_weights[users] * np.exp(
            -0.5 * ((t[:, None] - self.user_peaks[users]) / self.config.drift_width) ** 2)  # [T, 5]
        return w / w.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class SynthResult:
    """What :func:`synth` wrote and how long each step took (seconds)."""

    out: Path
    files: dict[str, int]          # file name → bytes
    generate_s: float
    write_s: float
    timings: dict[str, float]


def _distinct_clusters(rng: np.random.Generator, users: int, clusters: int) -> np.ndarray:
    """[U, 5] distinct clusters per user (the first k_u used), by sequential sampling without replacement."""
    width = min(MAX_USER_CLUSTERS, clusters)
    picked = np.empty((users, width), dtype=np.int64)
    for j in range(width):
        val = rng.integers(0, clusters - j, size=users)  # [U] a rank among the clusters not yet picked
        done = np.sort(picked[:, :j], axis=1)            # [U, j]
        for k in range(j):  # shift past each already-picked cluster, in ascending order
            val += val >= done[:, k]
        picked[:, j] = val
    out = np.full((users, MAX_USER_CLUSTERS), -1, dtype=np.int64)
    out[:, :width] = picked
    return out


def _item_tables(rng: np.random.Generator, cfg: SynthConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Item clusters [N], items ordered by (cluster, popularity rank) [N], and the sampling key [N]:
    cluster + cumulative Zipf share within the cluster, so ``searchsorted(key, c + u)`` draws from c."""
    share = rng.dirichlet(np.full(cfg.clusters, 4.0))                       # [C] cluster sizes vary mildly
    item_cluster = np.concatenate([np.arange(cfg.clusters),                # every cluster non-empty
                                   rng.choice(cfg.clusters, cfg.items - cfg.clusters, p=share)])
    item_cluster = item_cluster[rng.permutation(cfg.items)].astype(np.int32)  # [N]
    order = np.lexsort((rng.random(cfg.items), item_cluster))               # [N] random rank in cluster
    sorted_cluster = item_cluster[order]
    starts = np.searchsorted(sorted_cluster, np.arange(cfg.clusters))      # [C]
    rank = np.arange(cfg.items) - starts[sorted_cluster]                    # [N] 0 = most popular
    weight = (rank + 1.0) ** -cfg.zipf                                      # [N]
    cum = np.cumsum(weight)
    before = np.concatenate([[0.0], cum])[starts][sorted_cluster]          # [N] mass before the cluster
    total = np.add.reduceat(weight, starts)[sorted_cluster]                # [N] cluster mass
    key = sorted_cluster + (cum - before) / total                          # [N] increasing
    return item_cluster, order, key


def generate(cfg: SynthConfig) -> SynthData:
    """Draw the whole data set in memory (vectorised; ~1 GB per 10M interactions at peak)."""
    rng = np.random.default_rng(cfg.seed)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    item_cluster, order, key = _item_tables(rng, cfg)
    global_key = np.cumsum(1.0 / (np.arange(cfg.items) + 1.0) ** cfg.zipf)
    global_key /= global_key[-1]                                            # [N] noise popularity
    noise_order = rng.permutation(cfg.items)
    timings["items"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    u, m = cfg.users, cfg.interactions
    k = rng.integers(1, MAX_USER_CLUSTERS + 1, size=u).clip(max=min(cfg.clusters, MAX_USER_CLUSTERS))  # [U]
    clusters = _distinct_clusters(rng, u, cfg.clusters)                    # [U, 5]
    present = np.arange(MAX_USER_CLUSTERS)[None, :] < k[:, None]           # [U, 5]
    clusters[~present] = -1
    weights = np.where(present, rng.dirichlet(np.full(MAX_USER_CLUSTERS, 2.0), size=u), 0.0)  # [U, 5]
    weights /= weights.sum(axis=1, keepdims=True)
    peaks = rng.random((u, MAX_USER_CLUSTERS))                              # [U, 5]
    # interactions per user: at least min(5, M // U), the rest by a heavy-tailed activity level
    floor = min(5, m // u)
    activity = rng.lognormal(0.0, 1.0, size=u)
    counts = floor + rng.multinomial(m - floor * u, activity / activity.sum())  # [U]
    starts = START + rng.integers(0, 4 * 365 * 86400, size=u)              # [U] first interaction
    mean_gap = rng.integers(600, 7 * 86400, size=u)                         # [U] seconds between events
    timings["users"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    user_of = np.repeat(np.arange(u), counts)                               # [M]
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])                   # [U] row of each user's first
    pos = np.arange(m) - first[user_of]                                     # [M] position in the sequence
    rel = (pos + 0.5) / counts[user_of]                                     # [M] relative time in (0, 1)
    item_id = np.empty(m, dtype=np.int64)
    rating = np.empty(m, dtype=np.float32)
    gaps = np.empty(m, dtype=np.int64)
    for lo in range(0, m, _CHUNK):
        hi = min(m, lo + _CHUNK)
        users = user_of[lo:hi]
        w = weights[users] * np.exp(-0.5 * ((rel[lo:hi, None] - peaks[users]) / cfg.drift_width) ** 2)
        cw = np.cumsum(w, axis=1)                                           # [B, 5]
        slot = (rng.random(hi - lo)[:, None] * cw[:, -1:] > cw).sum(axis=1).clip(max=4)  # [B]
        cluster = clusters[users, slot]                                     # [B]
        pick = order[np.searchsorted(key, cluster + rng.random(hi - lo)).clip(max=cfg.items - 1)]
        noisy = rng.random(hi - lo) < cfg.noise                             # [B]
        noise_pick = noise_order[np.searchsorted(global_key, rng.random(hi - lo)).clip(max=cfg.items - 1)]
        item_id[lo:hi] = np.where(noisy, noise_pick, pick) + 1
        mood = np.where(noisy, 2.5, 4.0) + rng.normal(0.0, 0.8, size=hi - lo)
        rating[lo:hi] = (np.round(mood * 2) / 2).clip(0.5, 5.0)
        gaps[lo:hi] = 1 + rng.exponential(1.0, size=hi - lo) * mean_gap[users]
    gaps[first] = 0
    timestamp = starts[user_of] + np.cumsum(gaps) - np.cumsum(gaps)[first][user_of]  # strictly increasing
    timings["interactions"] = time.perf_counter() - t0
    return SynthData(cfg, user_of.astype(np.int64) + 1, item_id, rating, timestamp, item_cluster,
                     clusters.astype(np.int32), peaks, weights, timings)


def genre_names(clusters: int) -> list[str]:
    """Each cluster's genre-like label: two distinct words, a distinct pair per cluster where possible."""
    n = len(_GENRE_WORDS)
    names = []
    for c in range(clusters):
        a, b = c % n, (c // n + c + 1) % n
        names.append(_GENRE_WORDS[a] if a == b else f"{_GENRE_WORDS[a]}|{_GENRE_WORDS[b]}")
    return names


def item_table(data: SynthData, seed_offset: int = 1) -> pa.Table:
    """The catalogue: titles "Adjective Noun #id", a cluster-typical year, the cluster's genres."""
    rng = np.random.default_rng([data.config.seed, seed_offset])
    n = len(data.item_cluster)
    ids = np.arange(1, n + 1, dtype=np.int64)
    adj = pc.take(pa.array(_ADJECTIVES), pa.array(rng.integers(0, len(_ADJECTIVES), n)))
    noun = pc.take(pa.array(_NOUNS), pa.array(rng.integers(0, len(_NOUNS), n)))
    title = pc.binary_join_element_wise(adj, noun, pc.binary_join_element_wise("#", pc.cast(ids, pa.string()),
                                                                               ""), " ")
    era = 1950 + (np.arange(data.config.clusters) * 37) % 65                 # [C] each cluster's decade
    year = (era[data.item_cluster] + rng.integers(0, 10, n)).astype(np.int16)
    genres = pc.take(pa.array(genre_names(data.config.clusters)), pa.array(data.item_cluster))
    return pa.table({"item_id": ids, "title": title, "year": year, "genres": genres})


def user_cluster_table(data: SynthData) -> pa.Table:
    """Ground truth over time: each user's planted cluster shares at the middle of each phase."""
    u = len(data.user_clusters)
    users = np.repeat(np.arange(u), PHASES)                                  # [U*P]
    t = np.tile((np.arange(PHASES) + 0.5) / PHASES, u)                       # [U*P]
    share = data.cluster_weights(t, users)                                   # [U*P, 5]
    cluster = data.user_clusters[users]                                      # [U*P, 5]
    keep = cluster >= 0
    return pa.table({
        "user_id": np.repeat(users + 1, MAX_USER_CLUSTERS)[keep.ravel()].astype(np.int64),
        "phase": np.repeat(np.tile(np.arange(PHASES), u), MAX_USER_CLUSTERS)[keep.ravel()].astype(np.int8),
        "cluster": cluster[keep].astype(np.int32),
        "weight": share[keep].astype(np.float32),
    })


def write(data: SynthData, out: str | Path) -> dict[str, int]:
    """Write the four Parquet files to ``out`` atomically (temp folder, then rename); returns sizes.

    ``out`` must not exist or be an empty directory, so a previous data set is never mixed with a new one.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"{out}: already exists and is not an empty directory; choose a new --out or "
                        "remove it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the data set is for everyone who can read the parent
        tables = {
            "interactions.parquet": pa.table({"user_id": data.user_id, "item_id": data.item_id,
                                              "rating": data.rating, "timestamp": data.timestamp}),
            "items.parquet": item_table(data),
            "item_clusters.parquet": pa.table({"item_id": np.arange(1, len(data.item_cluster) + 1),
                                               "cluster": data.item_cluster}),
            "user_clusters.parquet": user_cluster_table(data),
        }
        for name, table in tables.items():
            # fixed writer settings (no statistics timestamps, one row group size) keep the bytes stable
            pq.write_table(table, tmp / name, compression="zstd", row_group_size=1 << 20,
                           write_statistics=True, store_schema=True)
        (tmp / "synth.json").write_text(json.dumps(asdict(data.config), indent=2) + "\n")
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {p.name: p.stat().st_size for p in sorted(out.iterdir())}


def synth(cfg: SynthConfig, out: str | Path) -> SynthResult:
    """Generate and write a synthetic data set; the timings say where the time went."""
    t0 = time.perf_counter()
    data = generate(cfg)
    t1 = time.perf_counter()
    sizes = write(data, out)
    t2 = time.perf_counter()
    return SynthResult(Path(out), sizes, t1 - t0, t2 - t1, dict(data.timings))
