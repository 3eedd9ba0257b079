"""Heavy objects, loaded once per process and shared read-only by every session (``st.cache_resource``).

Models, catalogues, the item map, data sets and users' histories never change while the app runs, so they
are loaded once; a checkpoint's cache key includes the weights file's modification time, so a retrained
checkpoint is picked up without a restart. Nothing here fits UMAP: the map is read from the checkpoint.
(``st.cache_data`` is not used: it pickles values.)
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from recviz.data import Dataset
from recviz.errors import CheckpointError
from recviz.explain.projection import MAP_JSON, MAP_NPZ, InterestMapError, ItemMap, load_item_map
from recviz.models.checkpoint import MODEL_FILE, Checkpoint, list_checkpoints, load_checkpoint
from recviz.viz.figures import CatalogueRaster, catalogue_raster

MODELS_ENV = "RECVIZ_MODELS_DIR"
DATA_ENV = "RECVIZ_DATA"
DEFAULT_DATA = Path("sample_data") / "ml-latest-small"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHECKPOINT = "comirec-sa-ml-latest-small"  # the shipped model the app opens on, when present
# Streamlit serves the folder `static` beside app.py at app/static/ (server.enableStaticServing); the map
# pictures are written under it, named by their content, so a browser fetches each one once and caches it.
STATIC_DIR = REPO_ROOT / "static"
MAP_IMAGES = "maps"


THREADS_ENV = "RECVIZ_TORCH_THREADS"


@st.cache_resource
def configure_torch() -> int:
    """Once per process: torch's CPU threads (default 1). One history is a tiny batch, and on a busy
    2-core machine two threads spin waiting for each other: ``explain()`` is 10-40× slower."""
    import torch

    threads = int(os.environ.get(THREADS_ENV) or 1)
    torch.set_num_threads(threads)
    return threads


def resolve(path: str | Path) -> Path:
    """A relative path from the working directory, else from the repository root (where `make demo` runs)."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    return REPO_ROOT / path if (REPO_ROOT / path).exists() else path


def models_dir() -> Path:
    return resolve(os.environ.get(MODELS_ENV) or "models")


def default_data_dir() -> Path:
    return resolve(os.environ.get(DATA_ENV) or DEFAULT_DATA)


def checkpoint_paths() -> dict[str, Path]:
    """Every checkpoint under the models directory, by directory name (listed afresh on each run)."""
    return {path.name: path for path in list_checkpoints(models_dir())}


def default_checkpoint(names: Sequence[str]) -> str:
    """The checkpoint a view without one opens: the shipped ComiRec-SA when present, else the first."""
    return DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT in names else names[0]


def _stamp(path: Path) -> float:
    weights = path / MODEL_FILE
    target = weights if weights.exists() else path
    return target.stat().st_mtime if target.exists() else 0.0


def checkpoint(path: Path) -> Checkpoint:
    """The loaded checkpoint (raises CheckpointError, never cached when it fails)."""
    return _checkpoint(str(path), _stamp(path))


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _checkpoint(path: str, stamp: float) -> Checkpoint:
    return load_checkpoint(path)


@dataclass(frozen=True)
class StoredMap:
    """The checkpoint's interest map, or why there is none, with the map's catalogue layer drawn once as a
    picture (``recviz.viz.figures.catalogue_raster``) and served as a static file: every view of this map
    points at it, so an edit sends and draws only the small SVG overlay (history, interests,
    recommendations). ``kind`` tells "missing" (none yet) from "stale" (fitted on other weights) and
    "corrupt" (unreadable or inconsistent files); ``problem`` is the message, with the fix."""

    item_map: ItemMap | None
    problem: str | None = None
    raster: CatalogueRaster | None = None
    kind: str | None = None  # None when the map loaded; else "missing", "stale" or "corrupt"


def item_map(ckpt: Checkpoint) -> StoredMap:
    """The interest map stored with the checkpoint (re-read when ``recviz project`` rewrites it)."""
    stamp = max(((ckpt.path / f).stat().st_mtime for f in (MAP_NPZ, MAP_JSON) if (ckpt.path / f).exists()),
                default=0.0)
    return _item_map(str(ckpt.path), ckpt.hash, stamp)


@st.cache_resource(show_spinner="Loading the interest map…", max_entries=8)
def _item_map(path: str, weights_hash: str, stamp: float) -> StoredMap:
    try:
        loaded = load_item_map(path, expected_hash=weights_hash)
        return StoredMap(loaded, raster=publish(catalogue_raster(loaded)))
    except InterestMapError as exc:
        return StoredMap(None, str(exc), kind=exc.kind)
    except CheckpointError as exc:
        return StoredMap(None, str(exc), kind="corrupt")


def publish(raster: CatalogueRaster, static_dir: Path | None = None) -> CatalogueRaster:
    """The picture with ``source`` set to its static URL (``app/static/maps/<content hash>.png``, relative
    to the page, so it also works under a base URL path), written once under ``static_dir`` (default
    STATIC_DIR). Unchanged (the figure then carries the PNG inline) when Streamlit does not serve static
    files or the folder cannot be written."""
    if not st.get_option("server.enableStaticServing"):
        return raster
    name = hashlib.sha256(raster.raster.png).hexdigest()[:24] + ".png"
    path = (static_dir or STATIC_DIR) / MAP_IMAGES / name
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            part = path.with_name(f".{name}.{os.getpid()}.part")
            part.write_bytes(raster.raster.png)
            os.replace(part, path)  # atomic: a browser never fetches half a picture
    except OSError:
        return raster
    return dataclasses.replace(raster, source=f"app/static/{MAP_IMAGES}/{name}")


@st.cache_resource(show_spinner="Reading the data set…", max_entries=4)
def dataset(path: str) -> Dataset:
    """The data set at ``path`` (any format recviz reads; raises DataError)."""
    from recviz.data import load_dataset

    return load_dataset(resolve(path))


@st.cache_resource(show_spinner="Building users' histories…", max_entries=8)
def user_ids(path: str, weights_hash: str, _ckpt: Checkpoint) -> list[int]:
    """The checkpoint's users (its data set rebuilt with the training filters; see recviz.explain.users)."""
    from recviz.explain.users import user_ids as ids

    return ids(_ckpt)


def users(ckpt: Checkpoint) -> list[int]:
    return user_ids(str(ckpt.path), ckpt.hash, ckpt)
