"""Fitting one checkpoint's interest map: load it, fit the map, place the training users' interests, store
both beside it (what ``recviz train`` and ``recviz project`` run). It sits above :mod:`.projection` (the pure
map functions) and :mod:`.users` (the training histories), which ``projection`` must not import back."""

from __future__ import annotations

from pathlib import Path

from recviz.explain.projection import (
    ItemMap,
    build_item_map,
    population_points,
    save_item_map,
    save_population,
)
from recviz.explain.users import training_histories
from recviz.models.checkpoint import load_checkpoint


def project_checkpoint(checkpoint_path: Path | str, *, seed: int = 42) -> ItemMap:
    """Fit the map and the population view of one checkpoint and store them beside it (what train calls).
    A checkpoint that records no training data (made without `recviz train`, e.g. a synthetic benchmark
    catalogue) gets the map only: the population view needs the training users."""
    checkpoint = load_checkpoint(checkpoint_path)
    item_map = build_item_map(checkpoint, seed=seed)
    save_item_map(checkpoint.path, item_map)
    if checkpoint.record.data.path:
        histories = training_histories(checkpoint)
        save_population(checkpoint.path, population_points(checkpoint, item_map, histories))
    return item_map
