"""Side by side: two checkpoints on one (edited) history, or two users on one checkpoint.

Both sides are ordinary :class:`~recviz.explain.types.Explanation` s from :func:`recviz.explain.explain`
(without attributions: a comparison is about lists and interests), and the comparison adds:

- **list overlap** of the two fused top-N lists: Jaccard@N and rank-biased overlap (RBO, Webber et al.
  2010, extrapolated, p = 0.9: the top of the lists weighs most; identical lists give 1, disjoint ones 0);
- **interest matching**: each interest of side A paired with one of side B by the Hungarian algorithm
  (``scipy.optimize.linear_sum_assignment``, maximising the summed similarity). Two checkpoints are matched on
  the cosine between their attention rows over the shared history (aligned by history position, 0 where a
  model does not read an item); when either model has no attention, on the centred cosine (Pearson
  correlation) of their per-interest score vectors ``s_j(i)`` over the catalogue items both know, i.e. "do
  these interests rank the catalogue alike". Two users on one checkpoint are matched on the cosine of their
  interest vectors (one embedding space).

Two checkpoints whose catalogues differ are compared on the items both know: history items one model lacks
are left out for it (with a notice), and the overlap is measured on each model's top-N among the shared
items. Checkpoints that share no item cannot be compared (:class:`CompareError`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import torch

from recviz.config import ExplainSettings
from recviz.errors import ConfigError
from recviz.explain.edits import NO_EDITS, HistoryEdits, edit_summary
from recviz.explain.explain import DEFAULT_SETTINGS, explain
from recviz.explain.projection import ItemMap, unit_rows
from recviz.explain.types import Explanation, SchemaError
from recviz.explain.users import explain_history, user_history
from recviz.models.checkpoint import Checkpoint
from recviz.models.scoring import (
    NEG_INF,
    banned_items,
    diverse_rerank,
    fused_ranking_scores,
    item_genre_matrix,
    model_fusion_scores,
    model_weights,
    pad_histories,
    score_items,
    seen_histories,
    top_k,
)

COMPARISON_SCHEMA = 1
RBO_P = 0.9
Basis = Literal["attention", "scores", "vectors"]
BASIS_TEXT: dict[str, str] = {
    "attention": "cosine between the two models' attention rows over the shared history",
    "scores": "centred cosine (Pearson correlation) of the interests' scores over the shared catalogue",
    "vectors": "cosine of the interest vectors (one checkpoint, one embedding space)",
}


class CompareError(ConfigError):
    """Two views cannot be compared (no shared item, the same user twice, ...)."""


# ------------------------------------------------------------------------------------------ list overlap


def jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """|A ∩ B| / |A ∪ B| of two lists as sets (1.0 for two empty lists)."""
    sa, sb = set(a), set(b)
    union = sa | sb
    return len(sa & sb) / len(union) if union else 1.0


def rank_biased_overlap(a: Sequence[int], b: Sequence[int], p: float = RBO_P) -> float:
    """Extrapolated rank-biased overlap of two rankings without repeats (Webber, Moffat & Zobel 2010, eq. 32).

    With ``X_d`` the overlap of the top ``d`` of both lists, ``s`` and ``l`` the shorter and longer length:
    ``RBO = (1-p)/p · (Σ_{d=1..l} X_d/d · p^d + Σ_{d=s+1..l} X_s·(d-s)/(s·d) · p^d)
    + ((X_l - X_s)/l + X_s/s) · p^l``. For equal lengths this is ``(1-p)/p · Σ X_d/d · p^d + X_l/l · p^l``.
    1 for identical lists, 0 for disjoint ones; symmetric. Two empty lists give 1.
    """
    if not 0.0 < p < 1.0:
        raise ConfigError(f"RBO's p must be in (0, 1), got {p}")
    short, long_ = (list(a), list(b)) if len(a) <= len(b) else (list(b), list(a))
    s, l_ = len(short), len(long_)
    if s == 0:
        return 1.0 if l_ == 0 else 0.0
    seen_s: set[int] = set()
    seen_l: set[int] = set()
    overlap = 0
    x = np.zeros(l_ + 1)  # x[d] = X_d
    for d in range(1, l_ + 1):
        item_l = long_[d - 1]
        if d <= s:
            item_s = short[d - 1]
            if item_s == item_l:
                overlap += 1
            else:
                overlap += (item_s in seen_l) + (item_l in seen_s)
            seen_s.add(item_s)
        else:
            overlap += item_l in seen_s
        seen_l.add(item_l)
        x[d] = overlap
    depth = np.arange(1, l_ + 1)
    weights = p ** depth  # [l]
    total = (x[1:] / depth * weights).sum()
    tail = depth > s
    total += (x[s] * (depth[tail] - s) / (s * depth[tail]) * weights[tail]).sum()
    return float((1 - p) / p * total + ((x[l_] - x[s]) / l_ + x[s] / s) * p ** l_)


@dataclass
class ListOverlap:
    """Two ranked lists (raw ids, best first) and how much they agree."""

    a: list[int]
    b: list[int]
    shared: list[int]          # items in both lists, in A's order
    jaccard: float             # Jaccard@N of the two top-N sets
    rbo: float                 # extrapolated rank-biased overlap with persistence p
    p: float = RBO_P
    a_titles: list[str] = field(default_factory=list)  # titles of ``a``'s items, where known
    b_titles: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, a: Sequence[int], b: Sequence[int], p: float = RBO_P,
           catalogues: Sequence = ()) -> ListOverlap:
        """The overlap of ``a`` and ``b``; ``catalogues`` (A's, B's) give the items' titles."""
        a, b = [int(i) for i in a], [int(i) for i in b]
        in_b = set(b)
        titles = [[c.title(i) for i in items] for c, items in zip(catalogues, (a, b), strict=False)]
        titles += [[]] * (2 - len(titles))
        return cls(a, b, [i for i in a if i in in_b], jaccard(a, b), rank_biased_overlap(a, b, p), p, *titles)


# ------------------------------------------------------------------------------------ interest matching


@dataclass
class InterestPair:
    a: int                     # interest index on side A
    b: int                     # interest index on side B
    similarity: float          # the matched pair's entry of the similarity matrix


@dataclass
class InterestMatching:
    """Which interest of B corresponds to which of A: the one-to-one pairing of largest summed similarity."""

    basis: Basis
    similarity: list[list[float]]   # [K_a, K_b]
    pairs: list[InterestPair]       # ordered by A's interest
    unmatched_a: list[int]          # interests left over when K_a > K_b
    unmatched_b: list[int]
    note: str = ""                  # why this basis (e.g. a model without attention)

    def b_for(self, a: int) -> int | None:
        return next((p.b for p in self.pairs if p.a == a), None)


def cosine_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``a`` [Ka, D] with every row of ``b`` [Kb, D] → [Ka, Kb]; a zero
    row has similarity 0 with everything."""
    return np.clip(unit_rows(np.asarray(a, np.float64)) @ unit_rows(np.asarray(b, np.float64)).T, -1.0, 1.0)


def match_interests(similarity: np.ndarray, basis: Basis, note: str = "") -> InterestMatching:
    """Hungarian matching maximising the summed ``similarity`` [Ka, Kb] (rectangular allowed)."""
    from scipy.optimize import linear_sum_assignment  # lazy: 0.5 s of import the app start skips

    sim = np.asarray(similarity, dtype=np.float64)
    rows, cols = linear_sum_assignment(sim, maximize=True) if sim.size else (np.zeros(0, int),) * 2
    pairs = sorted((InterestPair(int(r), int(c), float(sim[r, c])) for r, c in zip(rows, cols, strict=True)),
                   key=lambda pair: pair.a)
    return InterestMatching(
        basis, sim.tolist(), pairs, sorted(set(range(sim.shape[0])) - set(rows.tolist())),
        sorted(set(range(sim.shape[1] if sim.ndim == 2 else 0)) - set(cols.tolist())), note,
    )


# ------------------------------------------------------------------------------------------- comparison


@dataclass
class CatalogueOverlap:
    """How many catalogue items each checkpoint knows and how many both do."""

    a_items: int
    b_items: int
    shared: int

    @property
    def identical(self) -> bool:
        return self.a_items == self.b_items == self.shared


@dataclass
class Comparison:
    """Two views side by side: what ``compare_checkpoints`` / ``compare_users`` return and reports hold."""

    kind: Literal["checkpoints", "users"]
    a: Explanation
    b: Explanation
    lists: ListOverlap
    matching: InterestMatching
    catalogue: CatalogueOverlap | None = None   # checkpoints only
    shared_history: list[int] = field(default_factory=list)  # users: items both whole histories hold
    shared_history_titles: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    created_at: str = ""
    schema_version: int = COMPARISON_SCHEMA

    def side_names(self) -> tuple[str, str]:
        """How a reader tells the sides apart: checkpoint names, or users."""
        if self.kind == "checkpoints":
            return self.a.checkpoint, self.b.checkpoint
        return tuple(f"user {e.user_id}" if e.user_id is not None else "custom history"
                     for e in (self.a, self.b))  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Comparison:
        """The Comparison ``to_json`` wrote; :class:`SchemaError` for anything else."""
        try:
            obj = json.loads(text)
            if not isinstance(obj, dict) or obj.get("schema_version") != COMPARISON_SCHEMA:
                raise SchemaError(f"not a recviz comparison of schema version {COMPARISON_SCHEMA}; re-create "
                                  "it with this version of recviz")
            matching = obj["matching"]
            return cls(**{
                **obj,
                "a": Explanation.from_json(json.dumps(obj["a"])),
                "b": Explanation.from_json(json.dumps(obj["b"])),
                "lists": ListOverlap(**obj["lists"]),
                "matching": InterestMatching(**{**matching, "pairs": [InterestPair(**p)
                                                                      for p in matching["pairs"]]}),
                "catalogue": None if obj["catalogue"] is None else CatalogueOverlap(**obj["catalogue"]),
            })
        except json.JSONDecodeError as exc:
            raise SchemaError(f"not a comparison: invalid JSON ({exc})") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"malformed comparison JSON: {exc!r}") from None


def comparison_settings(settings: ExplainSettings) -> ExplainSettings:
    """The view's settings without attributions (a comparison shows lists and interests, not attributions)."""
    return dataclasses.replace(settings, methods=(), targets=None, num_targets=0)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _side(ckpt: Checkpoint, history: list[int], baseline: list[int], stamps: dict[int, int] | None,
          settings: ExplainSettings, user_id: int | None, item_map: ItemMap | None) -> Explanation:
    """One checkpoint's Explanation of ``history`` (edited from ``baseline``) without the items it lacks."""
    known = [i for i in history if i in ckpt.vocab]
    edited = history != baseline
    base_known = [i for i in baseline if i in ckpt.vocab]
    exp = explain(
        ckpt, known, settings, user_id=user_id, baseline_history=base_known if edited else None,
        edits=edit_summary(baseline, history) if edited else None,
        item_map=item_map, timestamps=None if stamps is None else [stamps.get(i) for i in known],
    )
    missing = sorted(set(history) - set(known))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        exp.notices.insert(0, f"{len(missing)} item(s) of the history are not in the catalogue of "
                              f"{ckpt.path.name} and were left out for it: {shown}.")
    return exp


def _shared_top(ckpt: Checkpoint, history: list[int], seen: list[int], settings: ExplainSettings,
                shared: np.ndarray) -> list[int]:
    """The fused top-N of ``ckpt`` among the ``shared`` raw ids only (the same fusion and bans as the
    Explanation's list): what the overlap of two checkpoints with different catalogues is measured on.
    ``history`` is what the model reads, ``seen`` the whole history (raw ids it knows)."""
    vocab, model = ckpt.vocab, ckpt.model
    allowed = torch.zeros(len(vocab), dtype=torch.bool)  # [N]
    allowed[vocab.encode(shared.tolist())] = True
    if not history:  # the popularity fallback, among the shared items
        counts = np.where(allowed.numpy(), ckpt.item_counts.astype(np.float64), -np.inf)  # [N]
        counts[0] = -np.inf
        order = np.argsort(-counts, kind="stable")[: settings.top_n]
        return vocab.decode([int(i) for i in order if np.isfinite(counts[i])])
    items, mask = pad_histories([vocab.encode(history)], model.max_length)  # [1, L]
    vectors, scores = score_items(model, items, mask)  # [1, K, d], [1, K, N]
    weights = model_weights(model, items, mask)  # [1, K] the model's own (SINE), else None
    whole = seen_histories([vocab.encode(seen)])  # [1, H]
    if settings.fusion == "diverse":
        banned = banned_items(whole, scores.shape[-1], settings.exclude_history) | ~allowed  # [1, N]
        genres = item_genre_matrix(vocab, ckpt.catalogue)[0]  # [N, G]
        ranked = diverse_rerank(scores.masked_fill(banned[:, None, :], NEG_INF), genres, settings.top_n,
                                settings.diversity_lambda)
        ids, values = ranked.ids[0], ranked.scores[0]
    else:
        merged = fused_ranking_scores(scores, whole, settings.fusion, settings.tau, settings.exclude_history,
                                      weights, model_fusion_scores(model, vectors, weights, settings.fusion))
        values, ids = top_k(merged.scores.masked_fill(~allowed, NEG_INF), settings.top_n)
        values, ids = values[0], ids[0]
    return vocab.decode([i for i, v in zip(ids.tolist(), values.tolist(), strict=True)
                         if i > 0 and np.isfinite(v)])


def _read_positions(history: list[int], ckpt: Checkpoint) -> list[int]:
    """Positions in ``history`` of the items ``ckpt`` reads: those it knows, the most recent max_length."""
    known = [p for p, i in enumerate(history) if i in ckpt.vocab]
    return known[-ckpt.model.max_length:] if known else []


def _attention_on(exp: Explanation, positions: list[int], length: int) -> np.ndarray | None:
    """The Explanation's attention rows [K, length] laid on the whole history's positions (0 elsewhere)."""
    if not exp.interests or any(i.attention is None for i in exp.interests):
        return None
    rows = np.zeros((len(exp.interests), length))
    rows[:, positions] = np.asarray([i.attention for i in exp.interests], dtype=np.float64)
    return rows


def _score_rows(exp: Explanation, ckpt: Checkpoint, shared: np.ndarray) -> np.ndarray:
    """Each interest's scores over the shared items, centred per interest: [K, S]."""
    vectors = torch.as_tensor(np.asarray([i.vector for i in exp.interests], np.float32))  # [K, d]
    with torch.no_grad():
        table = ckpt.model.item_embeddings()[ckpt.vocab.encode(shared.tolist())]  # [S, d]
        scores = (vectors @ table.T).double().numpy()  # [K, S]
    return scores - scores.mean(1, keepdims=True)


def _checkpoint_matching(a: Explanation, b: Explanation, ckpt_a: Checkpoint, ckpt_b: Checkpoint,
                         history: list[int], shared: np.ndarray) -> InterestMatching:
    att_a = _attention_on(a, _read_positions(history, ckpt_a), len(history))
    att_b = _attention_on(b, _read_positions(history, ckpt_b), len(history))
    if att_a is not None and att_b is not None:
        return match_interests(cosine_between(att_a, att_b), "attention")
    lacking = [c.name for c, att in ((ckpt_a, att_a), (ckpt_b, att_b)) if att is None]
    if not a.interests or not b.interests:
        return match_interests(np.zeros((len(a.interests), len(b.interests))), "scores",
                               "One side has no interests (its history is empty), so nothing is matched.")
    note = (f"{' and '.join(dict.fromkeys(lacking))} has no attention over the history, so the interests are "
            f"matched on how alike they rank the {len(shared):,} shared catalogue items instead.")
    return match_interests(cosine_between(_score_rows(a, ckpt_a, shared), _score_rows(b, ckpt_b, shared)),
                           "scores", note)


def _start(ckpt: Checkpoint, user_id: int | None, start: Sequence[int] | None):
    if user_id is None and start is None:
        raise ConfigError("a comparison needs a user id or a starting history")
    real = user_history(ckpt, user_id) if user_id is not None else None
    baseline = [int(i) for i in start] if start is not None else real.item_ids
    stamps = dict(zip(real.item_ids, real.timestamps, strict=True)) if real is not None else None
    return real, baseline, stamps


def compare_checkpoints(
    a: Checkpoint, b: Checkpoint, user_id: int | None, edits: HistoryEdits = NO_EDITS,
    settings: ExplainSettings = DEFAULT_SETTINGS, *, start: Sequence[int] | None = None,
    item_maps: tuple[ItemMap | None, ItemMap | None] = (None, None),
) -> Comparison:
    """Checkpoints ``a`` and ``b`` on the same history: user ``user_id``'s (read from ``a``'s data) or
    ``start``, after ``edits``. Each side is explained on the items it knows; lists are compared among the
    items both catalogues hold; interests are matched (see the module docstring). ``item_maps`` place each
    side's interests on its own map."""
    shared = np.asarray(sorted(set(a.vocab.raw_ids) & set(b.vocab.raw_ids)), dtype=np.int64)
    if not len(shared):
        raise CompareError(f"{a.path.name} and {b.path.name} share no catalogue item, so their lists and "
                           "interests cannot be compared; pick two checkpoints trained on the same data")
    real, baseline, stamps = _start(a, user_id, start)
    history = edits.apply(baseline)
    settings = comparison_settings(settings)
    exp_a = _side(a, history, baseline, stamps, settings, user_id, item_maps[0])
    exp_b = _side(b, history, baseline, stamps, settings, user_id, item_maps[1])
    catalogue = CatalogueOverlap(len(a.vocab.raw_ids), len(b.vocab.raw_ids), len(shared))
    notices = [n for n in [real.notice() if real is not None and start is None else None] if n]
    if catalogue.identical:
        lists = ListOverlap.of([f.item_id for f in exp_a.fused], [f.item_id for f in exp_b.fused],
                               catalogues=(a.catalogue, b.catalogue))
    else:
        tops = [_shared_top(c, [e.item_id for e in exp.history], [i for i in history if i in c.vocab],
                            settings, shared) for c, exp in ((a, exp_a), (b, exp_b))]
        lists = ListOverlap.of(*tops, catalogues=(a.catalogue, b.catalogue))
        notices.append(f"The catalogues differ: {a.path.name} knows {catalogue.a_items:,} items, "
                       f"{b.path.name} {catalogue.b_items:,}, and {catalogue.shared:,} are shared; the "
                       "overlap compares each model's top-N among the shared items only.")
    if user_id is not None and start is None:
        notices.append(f"The history is user {user_id}'s in the data of {a.path.name}.")
    matching = _checkpoint_matching(exp_a, exp_b, a, b, history, shared)
    return Comparison("checkpoints", exp_a, exp_b, lists, matching, catalogue, notices=notices,
                      created_at=_now())


def compare_users(
    checkpoint: Checkpoint, user_a: int | None, user_b: int, edits: HistoryEdits = NO_EDITS,
    settings: ExplainSettings = DEFAULT_SETTINGS, *, start: Sequence[int] | None = None,
    item_map: ItemMap | None = None,
) -> Comparison:
    """Users ``user_a`` (after ``edits``, or ``start`` as the starting history) and ``user_b`` (their real
    history) on one checkpoint: shared recommendations (the fused lists' overlap) and shared interests (the
    interest vectors matched by cosine)."""
    if user_a is not None and int(user_a) == int(user_b) and start is None and not edits:
        raise CompareError(f"user {user_a} compared with themself; pick another user to compare with")
    settings = comparison_settings(settings)
    exp_a = explain_history(checkpoint, user_a, edits, settings, start=start, item_map=item_map)
    exp_b = explain_history(checkpoint, user_b, NO_EDITS, settings, item_map=item_map)
    vectors = [np.asarray([i.vector for i in e.interests]).reshape(len(e.interests), -1)
               for e in (exp_a, exp_b)]
    if all(len(v) for v in vectors):
        matching = match_interests(cosine_between(*vectors), "vectors")
    else:
        matching = match_interests(np.zeros((len(vectors[0]), len(vectors[1]))), "vectors",
                                   "One side has no interests (its history is empty), so nothing is matched.")
    lists = ListOverlap.of([f.item_id for f in exp_a.fused], [f.item_id for f in exp_b.fused],
                           catalogues=(checkpoint.catalogue,) * 2)
    whole_a = edits.apply(list(start) if start is not None else user_history(checkpoint, user_a).item_ids)
    in_b = set(user_history(checkpoint, user_b).item_ids)
    shared_history = list(dict.fromkeys(int(i) for i in whole_a if i in in_b))
    notices = [] if start is None else ["Side A is an uploaded history."]
    return Comparison("users", exp_a, exp_b, lists, matching, shared_history=shared_history,
                      shared_history_titles=[checkpoint.catalogue.title(i) for i in shared_history],
                      notices=notices, created_at=_now())
