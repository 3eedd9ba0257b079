"""Fixtures of the app tests: the shipped checkpoint, a private scenario file, short users to explain."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ui_helpers import REPO

from recviz.models.checkpoint import list_checkpoints


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The shipped checkpoints (RECVIZ_MODELS_DIR may point elsewhere); the app tests need one."""
    root = Path(os.environ.get("RECVIZ_MODELS_DIR") or REPO / "models")
    if not list_checkpoints(root):
        pytest.fail(f"no checkpoint under {root}: the app tests run on the shipped model (models/)")
    return root


@pytest.fixture
def app_env(models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at the shipped models and a fresh scenario file; returns the scenario file."""
    monkeypatch.setenv("RECVIZ_MODELS_DIR", str(models_dir))
    scenarios = tmp_path / "scenarios.sqlite"
    monkeypatch.setenv("RECVIZ_SCENARIOS", str(scenarios))
    monkeypatch.chdir(REPO)
    return scenarios


@pytest.fixture(scope="session")
def checkpoint(models_dir: Path):
    from recviz.models.checkpoint import load_checkpoint
    from recviz.ui.loaders import default_checkpoint

    paths = {p.name: p for p in list_checkpoints(models_dir)}
    return load_checkpoint(paths[default_checkpoint(list(paths))])  # the one the app opens on


@pytest.fixture(scope="session")
def short_users(checkpoint) -> list[int]:
    """Users with short histories (fast to explain), the app's first user excluded."""
    from recviz.explain.users import user_history, user_ids

    users = user_ids(checkpoint)
    return [u for u in users[1:] if len(user_history(checkpoint, u).item_ids) <= 25][:3]
