"""The population output directory: Parquet shards and a manifest naming the checkpoint they came from.

``manifest.json`` records the checkpoint (path, name, weights hash), the settings and the shard plan (which
users each shard holds, by a digest). A shard is written to a temporary file and renamed into place, so a
file named ``shard-NNNNN.parquet`` is always complete: a re-run skips those and computes the rest. A directory
holding another checkpoint's shards is refused, naming both.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from recviz.errors import ConfigError
from recviz.models.checkpoint import Checkpoint

MANIFEST = "manifest.json"
FORMAT = "recviz-population/1"
SHARD_GLOB = "shard-*.parquet"
DEFAULT_DIR = "population"  # <checkpoint>/population: where the CLI writes and the app looks by default


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.parquet"


def default_dir(checkpoint_path: Path) -> Path:
    return Path(checkpoint_path) / DEFAULT_DIR


def users_digest(user_ids: list[int]) -> str:
    return hashlib.sha256(",".join(map(str, user_ids)).encode()).hexdigest()[:16]


@dataclass
class Manifest:
    """What manifest.json holds."""

    checkpoint: str                    # the checkpoint directory
    checkpoint_name: str
    checkpoint_hash: str               # sha256 of its weights
    settings: dict
    shards: list[dict]                 # [{"name", "users", "digest"}] the plan, in user order
    skipped: list[dict] = field(default_factory=list)   # [{"user_id", "reason"}] users left out
    failed: list[str] = field(default_factory=list)     # shards that failed on the last run
    format: str = FORMAT

    def write(self, out: Path) -> None:
        tmp = out / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        os.replace(tmp, out / MANIFEST)


def read_manifest(out: Path) -> Manifest | None:
    """The directory's manifest, or None when it has none."""
    file = Path(out) / MANIFEST
    if not file.exists():
        return None
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
        return Manifest(**raw)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{file} is not a population manifest ({exc}); remove the directory or pick "
                          "another --out") from None


def open_output(out: Path, checkpoint: Checkpoint, settings: dict, plan: list[dict]) -> set[str]:
    """Make ``out`` ready for this run; returns the names of shards already complete (to skip).

    Refuses (:class:`ConfigError`) a directory holding shards of another checkpoint, or of the same one
    with other settings or users, naming both, so nothing mixes two runs."""
    out.mkdir(parents=True, exist_ok=True)
    old = read_manifest(out)
    present = sorted(p.name for p in out.glob(SHARD_GLOB))
    if old is None:
        if present:
            raise ConfigError(f"{out} holds {len(present)} population shard(s) without a manifest; remove "
                              "them or pick another --out")
        return set()
    if old.checkpoint_hash != checkpoint.hash:
        raise ConfigError(
            f"{out} holds the population of checkpoint {old.checkpoint} "
            f"(weights {old.checkpoint_hash[:12]}), not of {checkpoint.path} "
            f"(weights {checkpoint.hash[:12]}); pick another --out or remove it")
    if old.settings != settings or old.shards != plan:
        if present:
            raise ConfigError(
                f"{out} holds a population of {checkpoint.path} made with other settings or users; re-run "
                "with the same ones to resume, or pick another --out")
    return {s["name"] for s in plan if (out / s["name"]).exists()}


def write_shard(out: Path, name: str, table: pa.Table) -> None:
    """Write to a temporary file, then rename: a shard file is either complete or absent."""
    tmp = out / f".{name}.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, out / name)
