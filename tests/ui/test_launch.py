"""The launcher's warm-up fills the app's own caches: the first page run loads nothing again."""

from __future__ import annotations

from pathlib import Path

import pytest

from recviz.ui import launch, loaders


def test_warm_up_loads_the_default_checkpoint_its_map_and_users_once(app_env, models_dir: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = loaders.load_checkpoint
    monkeypatch.setattr(loaders, "load_checkpoint", lambda path: calls.append(Path(path).name) or real(path))
    for cached in (loaders._checkpoint, loaders._item_map, loaders.user_ids):
        cached.clear()
    launch.warm()
    assert calls == [loaders.DEFAULT_CHECKPOINT]
    ckpt = loaders.checkpoint(models_dir / loaders.DEFAULT_CHECKPOINT)  # what the page asks for
    stored = loaders.item_map(ckpt)
    assert calls == [loaders.DEFAULT_CHECKPOINT] and loaders.users(ckpt)
    if stored.item_map is not None:  # the map's catalogue picture is drawn with the map, once
        assert stored.raster is not None and stored.raster.raster.png.startswith(b"\x89PNG")
        assert sum(n for _, _, n in stored.raster.genres) == len(stored.item_map.item_ids)
        assert loaders.item_map(ckpt).raster is stored.raster


def test_warm_up_leaves_a_broken_checkpoint_to_the_page(app_env, checkpoint, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / loaders.DEFAULT_CHECKPOINT
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    monkeypatch.setenv(loaders.MODELS_ENV, str(tmp_path))
    launch.warm()  # no exception: the page shows the checkpoint's error to the user
    with pytest.raises(loaders.CheckpointError):
        loaders.checkpoint(broken)
