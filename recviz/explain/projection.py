"""The interest map: a 2-D UMAP of the item embeddings, fitted once per checkpoint and stored beside it.

The fit is slow (numba compiles on the first ``import umap``, then the layout takes seconds), so it runs in
``recviz project`` / after training, never in a request. Interest vectors are placed on the stored map
without UMAP: a vector lands at the similarity-weighted mean of the 2-D positions of its ``k`` nearest items
by cosine in embedding space. That is how UMAP's own ``transform`` initialises new points, it needs no
fitted reducer in the process, and it is deterministic, so the same vector lands on the same spot in every
process and the map never jumps between edits.

A catalogue larger than :data:`MAP_SAMPLE` items is mapped without fitting UMAP on all of it: UMAP is fitted
on a fixed random sample and the other items are placed with the fitted reducer's ``transform`` in batches
(a progress bar on stderr), never refitting; interests are then placed among the sample's items only
(``anchors``), so placing a vector costs the same at a million items as at fifty thousand.

Files (plain arrays, ``allow_pickle=False``): ``map.npz`` (item_ids, xy, unit embeddings, and for a sampled
map ``anchors``: the rows whose embeddings are stored), ``map.json`` (titles, primary genres, fit settings,
checkpoint hash) and ``population.npz`` (training users' interests).
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from recviz.errors import CheckpointError
from recviz.models.scoring import pad_histories

MAP_NPZ, MAP_JSON, POPULATION_NPZ = "map.npz", "map.json", "population.npz"
MAP_FORMAT = 1
MAP_SAMPLE = 50_000   # items UMAP is fitted on; a larger catalogue's other items are placed by transform
PLACE_BATCH = 50_000  # items per transform call (memory stays bounded; the progress bar moves per batch)
NO_GENRE = "(no genres listed)"


class InterestMapError(CheckpointError):
    """The stored interest map cannot be used. ``kind`` says why, so callers can tell "none yet" (show
    nothing, or suggest ``recviz project``) from a map that exists but must not be trusted:

    - ``"missing"`` (:class:`MissingMapError`): the checkpoint has no map;
    - ``"stale"`` (:class:`StaleMapError`): the map was fitted on other weights;
    - ``"corrupt"`` (:class:`CorruptMapError`): the files are unreadable, incomplete or inconsistent.
    """

    kind = "corrupt"


class MissingMapError(InterestMapError):
    kind = "missing"


class StaleMapError(InterestMapError):
    kind = "stale"


class CorruptMapError(InterestMapError):
    kind = "corrupt"


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)  # [M, 1]
    return matrix / np.where(norms > 0, norms, 1.0)


@dataclass
class ItemMap:
    """Items' 2-D positions on the interest map, plus what :meth:`place` needs to put vectors on it."""

    item_ids: np.ndarray               # [M] raw ids (dense index order, padding excluded)
    xy: np.ndarray                     # [M, 2]
    titles: list[str]
    genres: list[str]                  # primary genre per item
    embeddings: np.ndarray             # [A, d] unit-length embeddings of the anchor items (all: A = M)
    neighbours: int = 15               # k of the placement
    meta: dict = field(default_factory=dict)  # fit settings, checkpoint hash, seconds
    anchors: np.ndarray | None = None  # [A] rows of the items interests are placed among; None: all

    @property
    def anchor_xy(self) -> np.ndarray:
        """Positions of the anchor items [A, 2] (rows ``anchors``, or every item)."""
        return self.xy if self.anchors is None else self.xy[self.anchors]

    def place(self, vectors: np.ndarray) -> np.ndarray:
        """2-D positions of ``vectors`` [K, d]: similarity-weighted mean of their k nearest items' positions.

        Weights are the cosine similarities clipped at a small positive floor, so a vector that resembles
        one cluster lands inside it; an all-zero vector lands at the map's centre.
        """
        vectors = unit_rows(np.atleast_2d(vectors))  # [K, d]
        if len(vectors) == 0:
            return np.zeros((0, 2), dtype=np.float32)
        # einsum, not @: the product is tiny and BLAS's thread pool costs 10-50x more than it saves on a
        # busy CPU
        sims = np.einsum("kd,md->km", vectors, self.embeddings)  # [K, A]
        k = min(self.neighbours, sims.shape[1])
        nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]  # [K, k]
        weights = np.clip(np.take_along_axis(sims, nearest, axis=1), 1e-3, None)  # [K, k]
        anchor_xy = self.anchor_xy  # [A, 2]
        xy = (weights[..., None] * anchor_xy[nearest]).sum(1) / weights.sum(1, keepdims=True)  # [K, 2]
        zero = ~np.any(vectors != 0, axis=1)
        xy[zero] = self.xy.mean(0)
        return xy.astype(np.float32)


@dataclass
class Population:
    """Training users' interest vectors placed on the map: one point per (user, interest)."""

    user_ids: np.ndarray   # [P]
    interest: np.ndarray   # [P] interest index
    xy: np.ndarray         # [P, 2]


def primary_genre(genres: Sequence[str]) -> str:
    """The first listed genre, or the "no genres" marker."""
    return genres[0] if genres else NO_GENRE


def build_item_map(
    checkpoint, *, neighbours: int = 15, min_dist: float = 0.1, seed: int = 42, place_k: int = 15,
    sample: int = MAP_SAMPLE, batch: int = PLACE_BATCH, progress: bool = True,
) -> ItemMap:
    """Fit the 2-D UMAP (cosine metric, fixed ``seed``) on the checkpoint's item embeddings. Slow: run
    once. Past ``sample`` items, UMAP is fitted on ``sample`` of them (drawn with ``seed``) and the rest are
    placed by :func:`place_rest` (batches of ``batch``, a progress bar unless ``progress`` is off)."""
    import umap  # first import compiles numba (~25 s): only here, never at module import

    start = time.perf_counter()
    with torch.no_grad():
        table = checkpoint.model.item_embeddings().detach().cpu().numpy()[1:]  # [M, d] without padding
    ids = np.asarray(checkpoint.vocab.raw_ids, dtype=np.int64)  # [M]
    fitted = (np.arange(len(ids)) if len(ids) <= sample
              else np.sort(np.random.default_rng(seed).choice(len(ids), sample, replace=False)))  # [S]
    reducer = umap.UMAP(
        n_components=2, n_neighbors=min(neighbours, len(fitted) - 1), min_dist=min_dist, metric="cosine",
        random_state=seed, n_jobs=1,
    )
    xy = np.zeros((len(ids), 2), dtype=np.float32)  # [M, 2]
    xy[fitted] = reducer.fit_transform(table[fitted]).astype(np.float32)  # [S, 2]
    fit_seconds = time.perf_counter() - start
    anchors = None if len(fitted) == len(ids) else fitted
    if anchors is not None:
        place_rest(reducer, table, xy, anchors, batch, progress)
    cat = checkpoint.catalogue
    meta = {
        "format": MAP_FORMAT, "method": "umap", "metric": "cosine", "n_neighbors": neighbours,
        "min_dist": min_dist, "random_state": seed,
        "placement": f"similarity-weighted mean of {place_k} nearest",
        "checkpoint_hash": checkpoint.hash, "seconds": round(time.perf_counter() - start, 2),
        "fitted_on": int(len(fitted)), "fit_seconds": round(fit_seconds, 2),
    }
    return ItemMap(
        item_ids=ids, xy=xy, titles=[cat.title(int(i)) for i in ids],
        genres=[primary_genre(cat.genres(int(i))) for i in ids],
        embeddings=unit_rows(table if anchors is None else table[anchors]), neighbours=place_k, meta=meta,
        anchors=anchors,
    )


def place_rest(reducer, table: np.ndarray, xy: np.ndarray, fitted: np.ndarray, batch: int = PLACE_BATCH,
               progress: bool = True) -> None:
    """Fill ``xy`` [M, 2] for the rows of ``table`` [M, d] outside ``fitted`` with the fitted ``reducer``'s
    ``transform``, ``batch`` rows at a time (UMAP is not refitted; bounded memory; a tqdm bar on stderr)."""
    from tqdm.auto import tqdm

    rest = np.setdiff1d(np.arange(len(table)), fitted)  # [R]
    with tqdm(total=len(rest), desc="placing items on the map", unit="item", disable=not progress) as bar:
        for start in range(0, len(rest), batch):
            rows = rest[start : start + batch]  # [b]
            xy[rows] = reducer.transform(table[rows]).astype(np.float32)  # [b, 2]
            bar.update(len(rows))


def save_item_map(checkpoint_path: Path | str, item_map: ItemMap) -> Path:
    """Write ``map.npz`` (arrays) and ``map.json`` (titles, genres, settings) into the checkpoint
    directory."""
    path = Path(checkpoint_path)
    anchors = {} if item_map.anchors is None else {"anchors": item_map.anchors}
    np.savez(path / MAP_NPZ, item_ids=item_map.item_ids, xy=item_map.xy, embeddings=item_map.embeddings,
             **anchors)
    meta = {**item_map.meta, "neighbours": item_map.neighbours, "titles": item_map.titles,
            "genres": item_map.genres}
    (path / MAP_JSON).write_text(json.dumps(meta, ensure_ascii=False))
    return path / MAP_NPZ


def load_item_map(checkpoint_path: Path | str, expected_hash: str | None = None) -> ItemMap:
    """The stored map. Raises :class:`MissingMapError` when there is none, :class:`CorruptMapError` when its
    files are unreadable, incomplete or inconsistent, and :class:`StaleMapError` when it was fitted on other
    weights than ``expected_hash`` (all three are :class:`InterestMapError`, a ``CheckpointError``)."""
    path = Path(checkpoint_path)
    fix = f"re-create it with `recviz project --checkpoint {path}`"
    present = [name for name in (MAP_NPZ, MAP_JSON) if (path / name).is_file()]
    if not present:
        raise MissingMapError(
            f"{path} has no interest map ({MAP_NPZ}/{MAP_JSON}); "
            f"create it with `recviz project --checkpoint {path}`"
        )
    if len(present) == 1:
        lost = MAP_JSON if present == [MAP_NPZ] else MAP_NPZ
        raise CorruptMapError(f"the interest map in {path} is corrupt: "
                              f"{lost} is missing beside {present[0]}; {fix}")
    ids, xy, emb, anchors = _read_map_arrays(path, fix)
    meta, titles, genres, neighbours = _read_map_meta(path, fix)
    _check_map_shapes(ids, xy, emb if anchors is None else None, titles, genres, path, fix)
    if anchors is not None:
        _check_anchors(anchors, emb, len(ids), path, fix)
    if expected_hash is not None and meta.get("checkpoint_hash") != expected_hash:
        raise StaleMapError(
            f"the interest map in {path} is stale: it was fitted on other weights (hash "
            f"{meta.get('checkpoint_hash')}, model {expected_hash}); {fix}"
        )
    return ItemMap(ids, xy, titles, genres, emb, neighbours, meta, anchors)


def _read_map_arrays(path: Path, fix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """item_ids [M], xy [M, 2], embeddings [A, d] and anchors [A] (None: A = M) of map.npz (plain arrays
    only, never unpickled)."""
    try:
        with np.load(path / MAP_NPZ, allow_pickle=False) as arrays:
            anchors = arrays["anchors"] if "anchors" in arrays.files else None
            return arrays["item_ids"], arrays["xy"], arrays["embeddings"], anchors
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise CorruptMapError(f"the interest map in {path} is corrupt: "
                              f"{MAP_NPZ} is unreadable ({exc}); {fix}") from None


def _read_map_meta(path: Path, fix: str) -> tuple[dict, list[str], list[str], int]:
    """map.json's settings, titles [M], primary genres [M] and the placement's k."""
    try:
        meta = json.loads((path / MAP_JSON).read_text(encoding="utf-8"))
        titles, genres, neighbours = meta.pop("titles"), meta.pop("genres"), meta.pop("neighbours")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorruptMapError(f"the interest map in {path} is corrupt: "
                              f"{MAP_JSON} is unreadable ({exc}); {fix}") from None
    texts = all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in (titles, genres))
    if not texts or type(neighbours) is not int or neighbours < 1:
        raise CorruptMapError(f"the interest map in {path} is corrupt: {MAP_JSON} lacks lists of titles and "
                              f"genres or a positive neighbour count; {fix}")
    return meta, titles, genres, neighbours


def _check_anchors(anchors: np.ndarray, emb: np.ndarray, items: int, path: Path, fix: str) -> None:
    """A sampled map's anchors: distinct rows of the map, one per stored embedding, finite embeddings."""
    ok = (anchors.ndim == 1 and anchors.dtype.kind in "iu" and emb.ndim == 2 and emb.dtype.kind == "f"
          and len(anchors) == len(emb) > 0 and anchors.min() >= 0 and anchors.max() < items
          and len(np.unique(anchors)) == len(anchors) and np.isfinite(emb).all())
    if not ok:
        raise CorruptMapError(f"the interest map in {path} is corrupt: its anchors {anchors.shape} do not "
                              f"match its embeddings {emb.shape} and {items} items; {fix}")


def _check_map_shapes(ids: np.ndarray, xy: np.ndarray, emb: np.ndarray | None, titles: list[str],
                      genres: list[str], path: Path, fix: str) -> None:
    """One row per item everywhere (``emb`` None: checked with the anchors), 2-D positions, finite numbers."""
    emb = np.zeros((len(ids), 1), np.float32) if emb is None else emb
    shaped = (ids.ndim == 1 and ids.dtype.kind in "iu" and xy.ndim == 2 and xy.shape[1:] == (2,)
              and emb.ndim == 2 and emb.dtype.kind == "f" and xy.dtype.kind == "f")
    if not shaped or not (len(ids) == len(xy) == len(emb) == len(titles) == len(genres)) or not len(ids):
        raise CorruptMapError(
            f"the interest map in {path} is corrupt (inconsistent: {MAP_NPZ} holds item_ids {ids.shape}, "
            f"xy {xy.shape}, embeddings {emb.shape}; "
            f"{MAP_JSON} {len(titles)} titles, {len(genres)} genres); {fix}"
        )
    if not (np.isfinite(xy).all() and np.isfinite(emb).all()):
        raise CorruptMapError(f"the interest map in {path} is corrupt: it holds NaN or infinite positions or "
                              f"embeddings; {fix}")


def population_points(
    checkpoint, item_map: ItemMap, histories: Mapping[int, Sequence[int]], batch_size: int = 256
) -> Population:
    """Every given user's interest vectors (raw-id histories; unknown ids skipped) placed on ``item_map``."""
    model, vocab = checkpoint.model, checkpoint.vocab
    users = [u for u in sorted(histories) if any(i in vocab for i in histories[u])]
    dense = [[vocab.index(i) for i in histories[u] if i in vocab] for u in users]
    vectors = []
    with torch.no_grad():
        for start in range(0, len(dense), batch_size):
            items, mask = pad_histories(dense[start : start + batch_size], model.max_length)  # [B, L]
            vectors.append(model.interests(items, mask).cpu().numpy())  # [B, K, d]
    if not vectors:
        empty = np.zeros(0, dtype=np.int64)
        return Population(empty, empty, np.zeros((0, 2), dtype=np.float32))
    stacked = np.concatenate(vectors)  # [U, K, d]
    U, K, d = stacked.shape
    xy = item_map.place(stacked.reshape(U * K, d))  # [U*K, 2]
    return Population(np.repeat(np.asarray(users, dtype=np.int64), K), np.tile(np.arange(K), U), xy)


def save_population(checkpoint_path: Path | str, population: Population) -> Path:
    out = Path(checkpoint_path) / POPULATION_NPZ
    np.savez(out, user_ids=population.user_ids, interest=population.interest, xy=population.xy)
    return out


def load_population(checkpoint_path: Path | str) -> Population | None:
    """The stored population view, or None when the checkpoint has none yet."""
    path = Path(checkpoint_path) / POPULATION_NPZ
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return Population(arrays["user_ids"], arrays["interest"], arrays["xy"])
    except (OSError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{path} is unreadable ({exc}); re-create it with `recviz project`") from None
