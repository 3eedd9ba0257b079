"""The report tests use the viz tests' hand-built Explanation and item map (one definition)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "viz"))

from viz_fixtures import explanation, item_map, movies, plain_explanation  # noqa: E402, F401
