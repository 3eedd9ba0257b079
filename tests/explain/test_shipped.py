"""On the shipped, trained comirec-sa: attributions predict the model (deleting the top-attributed history
items lowers the target's score sooner than random deletion, on average over a sample of users), and its
stored interest map places vectors consistently."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recviz.config import ExplainSettings
from recviz.explain import explain
from recviz.explain.projection import load_item_map
from recviz.explain.users import user_history, user_ids
from recviz.models.checkpoint import load_checkpoint

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "comirec-sa-ml-latest-small"
pytestmark = pytest.mark.skipif(not (SHIPPED / "config.json").is_file(),
                                reason=f"{SHIPPED} is not trained yet (the models helper ships it)")


@pytest.fixture(scope="module")
def shipped():
    return load_checkpoint(SHIPPED)


def test_top_attributed_deletion_beats_random(shipped):
    rng = np.random.default_rng(0)
    users = [u for u in user_ids(shipped) if len(user_history(shipped, u).item_ids) >= 10]
    sample = rng.choice(users, size=12, replace=False)
    settings = ExplainSettings(num_targets=3, ig_steps=16, random_orders=5,
                               methods=("integrated_gradients", "occlusion"))
    areas: dict[str, list[float]] = {"integrated_gradients": [], "occlusion": []}
    randoms: list[float] = []
    for user in sample:
        exp = explain(shipped, user_history(shipped, int(user)).item_ids, settings)
        for curve in exp.faithfulness:
            areas[curve.method].append(curve.area)
            if curve.method == "occlusion":
                randoms.append(curve.random_area)
    for method, values in areas.items():
        assert np.mean(values) < np.mean(randoms), (method, np.mean(values), np.mean(randoms))


@pytest.mark.skipif(not (SHIPPED / "map.npz").is_file(), reason="the shipped model has no interest map yet")
def test_stored_map_places_items_near_their_own_position(shipped):
    item_map = load_item_map(SHIPPED, expected_hash=shipped.hash)
    sample = np.random.default_rng(0).choice(len(item_map.item_ids), size=300, replace=False)
    placed = item_map.place(item_map.embeddings[sample])  # [300, 2]
    np.testing.assert_array_equal(placed, item_map.place(item_map.embeddings[sample]))  # deterministic
    extent = np.ptp(item_map.xy, axis=0).max()
    gaps = np.linalg.norm(placed - item_map.xy[sample], axis=1)
    assert np.median(gaps) < 0.1 * extent
