"""Estimate a load's memory before doing it, and refuse with the figures when it will not fit."""

from __future__ import annotations

import math
import os
from pathlib import Path

from recviz.errors import ConfigError, DataError

# peak bytes per interaction while loading: the typed columns (8+8+8+8), their Arrow/CSV source, the
# duplicate check's hash and sort, and the final DataFrame. Measured: 2.4 GB peak RSS (Parquet) and 3.0 GB
# (CSV) for 20M interactions with a 1M-item catalogue, i.e. 120–150 B per interaction
BYTES_PER_INTERACTION = 120
GB = 1024**3


MEMORY_ENV = "RECVIZ_MEMORY_BYTES"  # the memory at hand, when set (tests; a cap on a shared machine)


def available_bytes() -> int | float:
    """Bytes this process may still use: ``$RECVIZ_MEMORY_BYTES`` when set, else the smaller of the kernel's
    MemAvailable and the cgroup's remaining limit (containers); unknown → unlimited (inf). The one estimate of
    the memory at hand, for data loads and checkpoint loads alike."""
    raw = os.environ.get(MEMORY_ENV)
    if raw:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"${MEMORY_ENV}={raw!r} is not a number of bytes; unset it or set e.g. "
                              "8000000000") from None
    known = [v for v in (_meminfo_available(), _cgroup_remaining()) if v is not None]
    return min(known) if known else math.inf


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_remaining() -> int | None:
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else int(limit) - used


def check_fits(path: Path, rows: int, bytes_per_row: int = BYTES_PER_INTERACTION,
               estimated: bool = False) -> None:
    """Raise :class:`DataError` before loading ``rows`` interactions from ``path`` if they would not fit."""
    need = rows * bytes_per_row
    have = available_bytes()
    if need > have:
        about = "about " if estimated else ""
        raise DataError(
            f"{path}: {about}{rows:,} interactions need about {need / GB:.1f} GB of memory to load, but only "
            f"{have / GB:.1f} GB is available; free memory, use a larger machine, or load a sample "
            "(fewer users) of the data"
        )


def estimate_csv_rows(path: Path, sample_bytes: int = 1 << 20) -> int:
    """Rows of a delimited file, from its size and the mean length of the lines in its first megabyte."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(sample_bytes)
    lines = head.count(b"\n")
    if lines == 0 or size <= len(head):
        return max(lines, 1)
    return int(size / (len(head) / lines))
