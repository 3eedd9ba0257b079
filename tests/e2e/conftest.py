"""The browser tests drive the app through bench/app_server.py (the harness the benchmarks use too), which
is not part of the installed package: put bench/ on the import path."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
