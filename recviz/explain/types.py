"""The Explanation: everything the dashboard shows and every report holds, as plain dataclasses that
serialise to versioned JSON. Produced by :func:`recviz.explain.explain`; consumed by ``viz``, ``report``,
``ui`` and the CLI. Lists are indexed by history position (oldest first) or by interest index."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from recviz.errors import RecvizError
from recviz.options import FusionName, MethodName

SCHEMA_VERSION = 2
# versions this recviz reads: 2 added the optional counterfactual fields (version 1 reports load with
# them empty)
READABLE_VERSIONS: tuple[int, ...] = (1, 2)


class SchemaError(RecvizError):
    """A serialised Explanation is malformed or was written by another schema version."""


@dataclass
class HistoryEntry:
    item_id: int
    title: str
    genres: list[str]
    position: int                      # 0 = oldest item of the (possibly truncated) history
    timestamp: int | None = None       # Unix seconds where known (a real user's history)


@dataclass
class Interest:
    index: int
    label: str                         # human label: dominant genres + most-attended history item
    vector: list[float]                # [d]
    weight: float                      # share of the fused list this interest contributed (sums to 1)
    attention: list[float] | None      # [L] over history; None when the model has no attention
    entropy: float | None              # of the attention row, in nats
    dominant_genres: list[str]
    top_item_id: int | None            # most-attended history item
    map_xy: list[float] | None = None  # position on the interest map ([x, y]); None without a map


@dataclass
class InterestHealth:
    similarity: list[list[float]]      # [K, K] cosine similarity of interest vectors
    effective_number: float            # exp(entropy of interest weights): 1..K
    collapsed: bool                    # some pair of interests is nearly identical
    message: str                       # human-readable verdict


@dataclass
class RankedItem:
    item_id: int
    title: str
    genres: list[str]
    score: float
    rank: int                          # 1-based


@dataclass
class FusedItem(RankedItem):
    contributor: int = 0               # interest that contributed most to this item's fused score
    # rank in each interest's list (None: beyond top-N)
    ranks_by_interest: list[int | None] = field(default_factory=list)


@dataclass
class FusionSettings:
    mode: FusionName
    tau: float = 1.0                   # temperature of the weighted fusion
    diversity_lambda: float = 0.0      # λ of the diverse greedy aggregation
    top_n: int = 10
    exclude_history: bool = True


@dataclass
class Attribution:
    target_item_id: int
    method: MethodName
    values: list[float]                # [L] one value per history item
    interest: int                      # the interest that retrieved the target
    target_score: float                # the fused-target score explained (the interest's score)
    baseline_score: float | None = None  # score at the baseline (IG), for completeness checks
    convergence_delta: float | None = None  # IG's delta: sum(values) − (score − baseline_score)


@dataclass
class DeletionCurve:
    target_item_id: int
    method: MethodName                 # an attribution method
    scores: list[float]                # [L] target score s_j(t) after deleting 0..L-1 items in method order
    ranks: list[int]                   # [L] target's rank in interest j's full-catalogue ranking (1-based)
    area: float                        # area of the target's catalogue z-score (lower: more faithful)
    random_area: float | None = None   # mean area over random deletion orders
    random_scores: list[float] | None = None  # [L] mean random curve


@dataclass
class HistoryDiff:
    removed: list[int]                 # item ids removed from the baseline history
    added: list[int]                   # item ids added
    moved: list[int]                   # item ids whose position changed
    entered: list[int]                 # items that entered the fused top-N
    left: list[int]                    # items that left the fused top-N
    rank_moves: dict[int, list[int | None]]  # item id -> [old rank, new rank] (None: not in top-N)
    interest_shift: list[float]        # [K] cosine similarity between each interest's old and new vector
    baseline_map_xy: list[list[float]] | None = None  # [K][2] old interest positions on the map


@dataclass
class Counterfactual:
    """A verified history edit that changes whether ``item_id`` is in the fused top-N: removals that drop a
    recommendation out of it (``kind="remove"``), or additions that bring an item into it (``"add"``).
    Every rank here was re-computed on the edited history with the Explanation's settings (see
    :mod:`recviz.explain.counterfactual`)."""

    item_id: int
    title: str
    kind: str                          # "remove" or "add"
    found: bool                        # an edit within the budget flips the item (False: see message)
    items: list[int]                   # the edit's items in search order (not found: the closest attempt)
    item_titles: list[str]             # their titles
    rank_before: int | None            # fused rank on the history as it is (None: beyond a diverse list)
    rank_after: int | None             # verified fused rank after the edit
    ranks_by_interest_before: list[int]  # [K] rank in each interest's full-catalogue list
    ranks_by_interest_after: list[int]   # [K]
    top_n: int
    method: str | None                 # the attribution method that ordered the removal candidates
    evaluated: int                     # candidate edits re-scored
    max_size: int                      # budget: items per edit
    max_candidates: int                # budget: candidate edits re-scored
    message: str

    @property
    def size(self) -> int:
        return len(self.items)


@dataclass
class WhyNot:
    """Why ``item_id`` is not recommended: where each interest and the fusion rank it, the interest closest
    to it, and the fewest additions found that bring it into the top-N."""

    item_id: int
    fused_rank: int | None             # None: beyond a diverse list (which ranks only its candidates)
    ranks_by_interest: list[int]       # [K] rank in each interest's full-catalogue list
    scores_by_interest: list[float]    # [K] s_j(item)
    cosine_by_interest: list[float]    # [K] cosine between interest j and the item's embedding
    closest_interest: int
    additions: Counterfactual


@dataclass
class CounterfactualRate:
    """How often removing a method's top-k attributed history items drops the item out of the top-N."""

    method: str                        # an attribution method, or "random" (k random history items)
    k: int
    rate: float                        # share of (user, item) pairs (random: mean over draws)
    pairs: int                         # pairs tested: those whose history keeps an item after k removals


@dataclass
class CounterfactualCheck:
    """Counterfactuals as a faithfulness check, over ``users`` histories and their top recommendations."""

    users: int
    targets_per_user: int
    top_n: int
    random_draws: int
    rates: list[CounterfactualRate]


@dataclass
class Explanation:
    model_name: str
    checkpoint: str                    # checkpoint directory name
    checkpoint_hash: str               # sha256 prefix of model.safetensors
    dataset: str
    user_id: int | None
    history: list[HistoryEntry]
    interests: list[Interest]
    interest_health: InterestHealth
    per_interest: list[list[RankedItem]]   # [K][top-N]
    fused: list[FusedItem]
    fusion: FusionSettings
    attributions: list[Attribution]
    faithfulness: list[DeletionCurve]
    settings: dict[str, Any] = field(default_factory=dict)
    edits: dict[str, Any] = field(default_factory=dict)   # {"remove": [...], "add": [...], "order": [...]}
    diff: HistoryDiff | None = None
    notices: list[str] = field(default_factory=list)      # truncation, fallbacks, missing attention...
    fallback: str | None = None                           # "popularity" when the history was empty
    timing: dict[str, float] = field(default_factory=dict)  # stage -> milliseconds
    created_at: str = ""
    schema_version: int = SCHEMA_VERSION
    counterfactuals: list[Counterfactual] = field(default_factory=list)  # "what removal drops it"
    why_not: list[WhyNot] = field(default_factory=list)                 # "why not X, what brings it in"
    counterfactual_check: CounterfactualCheck | None = None             # top-k removals per method

    def item_title(self, item_id: int) -> str:
        """The title of an item this Explanation mentions (fused, per-interest or history), else
        ``Movie <id>``."""
        for item in self.fused:
            if item.item_id == item_id:
                return item.title
        for ranked in self.per_interest:
            for item in ranked:
                if item.item_id == item_id:
                    return item.title
        for entry in self.history:
            if entry.item_id == item_id:
                return entry.title
        return f"Movie {item_id}"

    def explained_targets(self) -> list[int]:
        """The explained target items, in the order of their first attribution."""
        return list(dict.fromkeys(a.target_item_id for a in self.attributions))

    def curves_for(self, target_item_id: int) -> tuple[list[DeletionCurve], DeletionCurve | None]:
        """The deletion curves of one target's methods, and the random baseline (its own curve or the
        ``random_scores`` carried by a method curve)."""
        curves = [c for c in self.faithfulness if c.target_item_id == target_item_id]
        methods = [c for c in curves if c.method != "random"]
        baseline = next((c for c in curves if c.method == "random"), None)
        if baseline is None:
            carrier = next((c for c in methods if c.random_scores is not None), None)
            if carrier is not None:
                area = carrier.random_area if carrier.random_area is not None else float("nan")
                baseline = DeletionCurve(target_item_id, "random", list(carrier.random_scores or []), [],
                                         float(area))
        return methods, baseline

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Explanation:
        """The Explanation ``to_json`` wrote (round-trip equal); rejects other schema versions clearly."""
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"not an Explanation: invalid JSON ({exc})") from None
        if not isinstance(obj, dict):
            raise SchemaError("not an Explanation: the JSON is not an object")
        version = obj.get("schema_version")
        if type(version) is not int or version not in READABLE_VERSIONS:  # (True == 1 in Python)
            raise SchemaError(
                f"Explanation schema_version {version!r} is not supported (this recviz reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))}); re-create the report with this version of recviz"
            )
        try:
            return cls._from_dict(obj)
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"malformed Explanation JSON: {exc!r}") from None

    @classmethod
    def _from_dict(cls, obj: dict[str, Any]) -> Explanation:
        diff = obj.get("diff")
        if diff is not None:
            diff = HistoryDiff(**{**diff, "rank_moves": {int(k): v for k, v in diff["rank_moves"].items()}})
        return cls(
            **{
                **obj,
                "history": [HistoryEntry(**h) for h in obj["history"]],
                "interests": [Interest(**i) for i in obj["interests"]],
                "interest_health": InterestHealth(**obj["interest_health"]),
                "per_interest": [[RankedItem(**r) for r in lst] for lst in obj["per_interest"]],
                "fused": [FusedItem(**f) for f in obj["fused"]],
                "fusion": FusionSettings(**obj["fusion"]),
                "attributions": [Attribution(**a) for a in obj["attributions"]],
                "faithfulness": [DeletionCurve(**c) for c in obj["faithfulness"]],
                "diff": diff,
                "counterfactuals": [Counterfactual(**c) for c in obj.get("counterfactuals", [])],
                "why_not": [WhyNot(**{**w, "additions": Counterfactual(**w["additions"])})
                            for w in obj.get("why_not", [])],
                "counterfactual_check": _check_from_dict(obj.get("counterfactual_check")),
            }
        )


def _check_from_dict(obj: dict[str, Any] | None) -> CounterfactualCheck | None:
    if obj is None:
        return None
    return CounterfactualCheck(**{**obj, "rates": [CounterfactualRate(**r) for r in obj["rates"]]})
