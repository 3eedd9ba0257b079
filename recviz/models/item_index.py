"""Per-interest top-k over a large catalogue: a faiss IVF index beside a checkpoint, searched exactly.

Past :func:`index_threshold` items (200,000 by default; ``$RECVIZ_INDEX_THRESHOLD`` changes it), a checkpoint
carries ``items.faiss``: a faiss ``IndexIVFFlat`` over its item embeddings, rows 1..N-1 (padding excluded),
written with faiss's own format (``faiss.write_index``; never pickle). ``config.json``'s ``item_index``
section records its kind, parameters, row count, dimension and a hash of the embeddings it was built from;
an index that disagrees with the weights (record or stored vectors) is refused with a
:class:`CheckpointError`.

How it is searched was chosen by measurement on a clustered 1M×64 table (bench/ann_recall.py): graph and
probe-count search missed too much for recall@50 ≥ 0.99 (HNSW over the MIPS→L2 reduction, M=32,
efSearch=512: 0.85 on interest vectors; faiss's own IVF inner-product search with 128 of 4,096 lists: 0.74
on mixtures). So the IVF partition is searched with a bound instead of a fixed number of probes: an item
``x`` of list ``c`` (centroid ``μ_c``, radius ``r_c = max |x − μ_c|``) scores at most ``q·μ_c + |q|·r_c``;
every list whose bound reaches the k-th best score of the query's most promising lists is scanned, no
other. The result is the exact top-k (recall 1 up to float rounding), and on clustered embeddings only the
lists near the query are scanned. On unstructured (iid Gaussian) embeddings the bounds prune little and the
search approaches a full scan: still exact, just slower.

Only per-interest *candidates* come from the index; :func:`recviz.models.scoring.recommend` re-scores the
union of the interests' candidates, so the fused list is exact for the max fusion (an item in the max-fused
top-n is in the top-n of the interest that gives its score) and ranks the same candidates for the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from recviz.errors import CheckpointError

INDEX_FILE = "items.faiss"
CONFIG_KEY = "item_index"
THRESHOLD_ENV = "RECVIZ_INDEX_THRESHOLD"
DEFAULT_THRESHOLD = 200_000
KIND = "ivf-flat-bounded"
FLOOR_ITEMS = 16  # × k items scored for each query's floor (bench/ann_recall.py: fewer lists pass)


@dataclass(frozen=True)
class IndexSettings:
    """IVF parameters: lists (k-means centroids), training points per list, k-means seed."""

    nlist: int = 4096
    train_per_list: int = 40
    seed: int = 1234


@dataclass(frozen=True)
class IndexRecord:
    """What config.json records about the index (section ``item_index``)."""

    kind: str
    rows: int                 # items indexed (dense ids 1..rows)
    dim: int
    embeddings_hash: str      # :func:`embeddings_hash` of the table it was built from
    params: dict[str, int]
    seconds: float            # build time
    file: str = INDEX_FILE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ItemIndex:
    """A loaded index: the IVF lists as one contiguous table in list order, with each list's centroid and
    radius for the bound. :meth:`search` returns the exact top-k as dense ids (row + 1)."""

    def __init__(self, index: Any, record: IndexRecord) -> None:
        import faiss

        self.index, self.record = index, record
        invlists = index.invlists
        nlist, d = index.nlist, index.d
        sizes = np.asarray([invlists.list_size(c) for c in range(nlist)], dtype=np.int64)  # [C]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])  # [C+1]
        self.vectors = np.empty((int(sizes.sum()), d), dtype=np.float32)  # [M, d] in list order
        self.ids = np.empty(int(sizes.sum()), dtype=np.int64)  # [M] table row of each
        for c in np.flatnonzero(sizes).tolist():
            n, at = int(sizes[c]), slice(self.offsets[c], self.offsets[c + 1])
            codes = faiss.rev_swig_ptr(invlists.get_codes(c), n * d * 4)  # uint8 view of the list's floats
            self.vectors[at] = codes.view(np.float32).reshape(n, d)
            self.ids[at] = faiss.rev_swig_ptr(invlists.get_ids(c), n)
        quantizer = faiss.downcast_index(index.quantizer)
        self.centroids = faiss.rev_swig_ptr(quantizer.get_xb(), nlist * d).reshape(nlist, d).copy()  # [C, d]
        self.radii = np.zeros(nlist, dtype=np.float32)  # [C]
        for c in np.flatnonzero(sizes):
            part = self.vectors[self.offsets[c] : self.offsets[c + 1]] - self.centroids[c]  # [n, d]
            self.radii[c] = np.sqrt((part * part).sum(1).max())
        self.radii *= 1.0 + 1e-5  # float rounding never makes the bound too tight

    def search(self, queries: np.ndarray, k: int, batch: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-``k`` by inner product of each query [Q, d]: scores [Q, k] and dense ids [Q, k], best
        first (ties: lower dense id). Queries go ``batch`` at a time: each list is read once per batch."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)  # [Q, d]
        k = max(1, min(int(k), self.record.rows))
        parts = [self._search_batch(queries[i : i + batch], k) for i in range(0, len(queries), batch)]
        if not parts:
            return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
        return np.concatenate([s for s, _ in parts]), np.concatenate([i for _, i in parts])

    def _search_batch(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Two passes: the k-th best score among each query's most promising lists (just enough items) is a
        floor; every list whose bound reaches it is scored; an unscored item's score is below its list's
        bound, hence below the floor, hence below the final k-th best: the result is exact."""
        norms = np.sqrt((queries * queries).sum(1))  # [Q]
        bound = queries @ self.centroids.T + norms[:, None] * self.radii[None, :]  # [Q, C]
        floor = np.array([self._floor(q, b, k) for q, b in zip(queries, bound, strict=True)])  # [Q]
        chosen = bound >= floor[:, None]  # [Q, C] the lists each query must score
        scores, rows = [], []
        for c in np.flatnonzero(chosen.any(0)).tolist():
            a, b = int(self.offsets[c]), int(self.offsets[c + 1])
            block = np.full((b - a, len(queries)), -np.inf, dtype=np.float32)  # [n, Q]
            block[:, chosen[:, c]] = self.vectors[a:b] @ queries[chosen[:, c]].T  # only the queries it needs
            scores.append(block)
            rows.append(np.arange(a, b))
        block, at = np.concatenate(scores), np.concatenate(rows)  # [P, Q], [P]
        if len(block) > k:
            top = np.argpartition(-block, k - 1, axis=0)[:k].T  # [Q, k] rows of block
        else:  # every chosen item (exactly k: the floor guarantees at least k)
            top = np.tile(np.arange(len(block)), (len(queries), 1))  # [Q, k]
        best = np.take_along_axis(block.T, top, 1)  # [Q, k]
        ids = self.ids[at[top]]  # [Q, k] table rows
        order = np.lexsort((ids, -best), axis=1)  # best first, ties: lower id
        return np.take_along_axis(best, order, 1), np.take_along_axis(ids, order, 1) + 1

    def _floor(self, q: np.ndarray, bound: np.ndarray, k: int) -> float:
        """The k-th best score of ``q`` [d] among the fewest top-bound lists holding ``FLOOR_ITEMS·k`` items
        (a floor close to the final k-th best, so that few lists reach it)."""
        order = np.argsort(-bound, kind="stable")
        sizes = self.offsets[order + 1] - self.offsets[order]  # [C] in bound order
        last = int(np.searchsorted(np.cumsum(sizes), FLOOR_ITEMS * k))  # these lists hold ≥ FLOOR_ITEMS·k
        scores = np.concatenate([self.vectors[self.offsets[c] : self.offsets[c + 1]] @ q
                                 for c in order[: last + 1].tolist()])
        return float(np.partition(scores, len(scores) - k)[len(scores) - k]) if len(scores) >= k else -np.inf


def index_threshold() -> int:
    """Items (padding excluded) from which a checkpoint carries an index: ``$RECVIZ_INDEX_THRESHOLD`` or
    :data:`DEFAULT_THRESHOLD`."""
    raw = os.environ.get(THRESHOLD_ENV)
    if not raw:
        return DEFAULT_THRESHOLD
    try:
        value = int(raw)
    except ValueError:
        raise CheckpointError(f"${THRESHOLD_ENV}={raw!r} is not a whole number of items; "
                              "set it to e.g. 200000 or unset it") from None
    if value < 1:
        raise CheckpointError(f"${THRESHOLD_ENV}={value} must be at least 1; set it to e.g. 200000")
    return value


def item_table(model: nn.Module) -> np.ndarray:
    """The model's scoring table without the padding row, float32 and contiguous: [N-1, d]."""
    with torch.no_grad():
        table = model.item_embeddings().detach()[1:]  # [N-1, d]
    return np.ascontiguousarray(table.cpu().numpy(), dtype=np.float32)


def embeddings_hash(table: np.ndarray) -> str:
    """A short hash of a float32 table's shape and bytes (what an index was built from)."""
    table = np.ascontiguousarray(table, dtype=np.float32)
    digest = hashlib.blake2b(digest_size=12)
    digest.update(repr(table.shape).encode())
    digest.update(memoryview(table).cast("B"))
    return digest.hexdigest()


def build_index(table: np.ndarray, settings: IndexSettings = IndexSettings()) -> ItemIndex:
    """An IVF partition of ``table`` [M, d] (row r is dense id r + 1): k-means (L2) on a fixed sample of
    ``nlist × train_per_list`` rows, every row stored in its nearest list."""
    import faiss

    table = np.ascontiguousarray(table, dtype=np.float32)
    start = time.perf_counter()
    nlist = max(1, min(settings.nlist, len(table) // 8))
    quantizer = faiss.IndexFlatL2(table.shape[1])
    index = faiss.IndexIVFFlat(quantizer, table.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = settings.seed
    sample = np.random.default_rng(settings.seed).choice(
        len(table), min(len(table), nlist * settings.train_per_list), replace=False)
    index.train(table[np.sort(sample)])
    index.add(table)
    params = {**asdict(settings), "nlist": nlist}
    record = IndexRecord(KIND, int(table.shape[0]), int(table.shape[1]), embeddings_hash(table), params,
                         round(time.perf_counter() - start, 2))
    return ItemIndex(index, record)


def write_index(directory: Path, item_index: ItemIndex) -> dict[str, Any]:
    """Write ``items.faiss`` into ``directory`` atomically (a temporary file, then renamed) and return the
    config.json section that describes it."""
    import faiss

    final = Path(directory) / INDEX_FILE
    part = final.with_name(f".{INDEX_FILE}.{os.getpid()}.part")
    try:
        faiss.write_index(item_index.index, str(part))
        os.replace(part, final)
    finally:
        part.unlink(missing_ok=True)
    return item_index.record.to_dict()


def index_section(directory: Path, model: nn.Module, num_items: int) -> dict[str, Any]:
    """``{"item_index": record}`` after building and writing the index when the catalogue (``num_items``
    rows, padding included) reaches the threshold; ``{}`` below it."""
    if num_items - 1 < index_threshold():
        return {}
    return {CONFIG_KEY: write_index(directory, build_index(item_table(model)))}


def parse_record(raw: object, where: Path) -> IndexRecord:
    """The config.json ``item_index`` section, checked field by field."""
    fix = f"rebuild the index with `recviz index --checkpoint {where}`"
    fields = {"kind": str, "rows": int, "dim": int, "embeddings_hash": str, "params": dict,
              "seconds": (int, float), "file": str}
    if not isinstance(raw, dict) or any(not isinstance(raw.get(k), t) for k, t in fields.items()):
        raise CheckpointError(f"{where / 'config.json'}: the item_index section is malformed; {fix}")
    if raw["kind"] != KIND or raw["file"] != INDEX_FILE:
        raise CheckpointError(f"{where / 'config.json'}: item_index kind {raw['kind']!r} / file "
                              f"{raw['file']!r} is not one this version reads ({KIND}, {INDEX_FILE}); {fix}")
    params = raw["params"]
    bad = any(type(v) is not int or v < 1 for v in params.values())
    if set(params) != set(asdict(IndexSettings())) or bad:
        raise CheckpointError(f"{where / 'config.json'}: item_index params {params} are malformed; {fix}")
    return IndexRecord(**{k: raw[k] for k in fields})


def load_index(directory: Path, raw: object, table: np.ndarray) -> ItemIndex:
    """The checkpoint's index, checked against the weights' table [N-1, d] (rows, dimension, hash).

    Raises :class:`CheckpointError` when the file is missing or unreadable or does not match the weights.
    """
    import faiss

    directory = Path(directory)
    record = parse_record(raw, directory)
    fix = f"rebuild it with `recviz index --checkpoint {directory}`"
    file = directory / INDEX_FILE
    if not file.is_file():
        raise CheckpointError(f"{directory}: config.json records an item index but {INDEX_FILE} is missing; "
                              f"{fix}")
    rows, dim = table.shape
    if (record.rows, record.dim) != (rows, dim):
        raise CheckpointError(f"{file} was built for {record.rows} items of dimension {record.dim} but the "
                              f"weights hold {rows} items of dimension {dim}; {fix}")
    found = embeddings_hash(table)
    if record.embeddings_hash != found:
        raise CheckpointError(f"{file} was built from other item embeddings (hash {record.embeddings_hash}, "
                              f"weights {found}); {fix}")
    with open(file, "rb") as fh:
        head = fh.read(4)
    if head[:1] == b"\x80" or head[:2] == b"PK":
        raise CheckpointError(f"{file} is a pickle-based file, not a faiss index; recviz never unpickles "
                              f"files; {fix}")
    try:
        index = faiss.read_index(str(file))
    except RuntimeError as exc:
        raise CheckpointError(f"{file} is not a readable faiss index ({str(exc).splitlines()[0][:200]}); "
                              f"{fix}") from None
    if not isinstance(index, faiss.IndexIVFFlat) or index.ntotal != rows or index.d != dim:
        raise CheckpointError(f"{file} holds {index.ntotal} vectors of dimension {index.d} "
                              f"({type(index).__name__}); the weights need an IVF-Flat index of {rows} "
                              f"vectors of dimension {dim}; {fix}")
    loaded = ItemIndex(index, record)
    _check_stored_rows(loaded, table, file, fix)
    return loaded


def _check_stored_rows(index: ItemIndex, table: np.ndarray, file: Path, fix: str, probes: int = 1024) -> None:
    """Every row is stored once and the stored vectors are the weights' rows (``probes`` rows spread over the
    table, compared exactly): an index of other embeddings under a record copied from this one is refused."""
    where = np.full(len(table), -1, dtype=np.int64)  # [M] position of each row in list order
    inside = (index.ids >= 0) & (index.ids < len(table))
    where[index.ids[inside]] = np.flatnonzero(inside)
    rows = np.unique(np.linspace(0, len(table) - 1, min(probes, len(table))).astype(np.int64))  # [P]
    complete = bool(inside.all()) and len(index.ids) == len(table) and bool((where >= 0).all())
    if not complete or not np.array_equal(index.vectors[where[rows]], table[rows]):
        raise CheckpointError(f"{file} stores other item vectors than the weights (its record matches, its "
                              f"content does not); {fix}")


def rebuild_index(directory: Path, model: nn.Module,
                  settings: IndexSettings = IndexSettings()) -> IndexRecord:
    """(Re)build a checkpoint's index whatever its size and record it in config.json; both files are replaced
    atomically (the index first, then config.json), so an interrupted rebuild leaves the old pair or a
    complete new index with the old record (refused as a mismatch, fixed by running this again)."""
    directory = Path(directory)
    config_file = directory / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    item_index = build_index(item_table(model), settings)
    config[CONFIG_KEY] = write_index(directory, item_index)
    part = config_file.with_name(f".config.json.{os.getpid()}.part")
    part.write_text(json.dumps(config, indent=2, sort_keys=False) + "\n")
    os.replace(part, config_file)
    return item_index.record
