"""Explanation → pandas DataFrames for the app's tables and the report's lists.

Plain values only (no markup): the app shows them with ``st.dataframe`` and the report escapes every cell.
Interest columns hold the 0-based interest index; readers see ``interest_name(k)`` and its colour.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from recviz.explain.types import Explanation
from recviz.viz.style import method_label
from recviz.viz.text import interest_name

STATUS_NEW = "new"


def _genres(genres: list[str]) -> str:
    return ", ".join(genres)


def _date(timestamp: int | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(int(timestamp), tz=UTC).strftime("%Y-%m-%d")


def _rank_move(exp: Explanation, item_id: int) -> list[int | None] | None:
    """[old rank, new rank] of an item from the diff; JSON round-trips turn the int keys into strings."""
    if exp.diff is None:
        return None
    moves = exp.diff.rank_moves
    return moves.get(item_id, moves.get(str(item_id)))  # type: ignore[call-overload]


def rank_status(exp: Explanation, item_id: int) -> str:
    """How a fused item moved against the baseline history: "new", "↑3", "↓2" or ""."""
    if exp.diff is None:
        return ""
    if item_id in exp.diff.entered:
        return STATUS_NEW
    move = _rank_move(exp, item_id)
    if move is None:
        return ""
    old, new = move
    if old is None:
        return STATUS_NEW
    if new is None or old == new:
        return ""
    return f"↑{old - new}" if new < old else f"↓{new - old}"


def history_table(exp: Explanation) -> pd.DataFrame:
    """The history, oldest first: position, id, title, genres, date, the interest attending most, status
    ("added" or "moved" against the baseline history)."""
    attention = [i.attention for i in exp.interests]
    has_attention = bool(attention) and all(a is not None for a in attention)
    att = np.asarray(attention, dtype=float) if has_attention and exp.history else None  # [K, L]
    added = set(exp.diff.added) if exp.diff else set()
    moved = set(exp.diff.moved) if exp.diff else set()
    rows = []
    for entry in exp.history:
        p = entry.position
        rows.append({
            "position": p + 1,
            "item_id": entry.item_id,
            "title": entry.title,
            "genres": _genres(entry.genres),
            "date": _date(entry.timestamp),
            "top_interest": int(att[:, p].argmax()) if att is not None else None,
            "attention": float(att[:, p].max()) if att is not None else None,
            "status": "added" if entry.item_id in added else "moved" if entry.item_id in moved else "",
        })
    columns = ["position", "item_id", "title", "genres", "date", "top_interest", "attention", "status"]
    return pd.DataFrame(rows, columns=columns).astype({"top_interest": "Int64", "attention": "Float64"})


def per_interest_table(exp: Explanation, k: int) -> pd.DataFrame:
    """Interest ``k``'s own top-N: rank, id, title, genres, score, and the item's rank in the fused list."""
    fused_rank = {f.item_id: f.rank for f in exp.fused}
    rows = [{
        "rank": item.rank,
        "item_id": item.item_id,
        "title": item.title,
        "genres": _genres(item.genres),
        "score": item.score,
        "fused_rank": fused_rank.get(item.item_id),
    } for item in exp.per_interest[k]]
    frame = pd.DataFrame(rows, columns=["rank", "item_id", "title", "genres", "score", "fused_rank"])
    return frame.astype({"fused_rank": "Int64"})


def fused_table(exp: Explanation) -> pd.DataFrame:
    """The fused top-N: rank, id, title, genres, score, contributing interest (index and label), the rank
    in each interest's list (``rank_i1``...; empty beyond its top-N) and the status against the baseline."""
    k_count = len(exp.interests)
    rows = []
    for item in exp.fused:
        row = {
            "rank": item.rank,
            "item_id": item.item_id,
            "title": item.title,
            "genres": _genres(item.genres),
            "score": item.score,
            "interest": item.contributor,
            "interest_label": (exp.interests[item.contributor].label if 0 <= item.contributor < k_count
                               else ""),
        }
        for k in range(k_count):
            ranks = item.ranks_by_interest
            row[f"rank_i{k + 1}"] = ranks[k] if k < len(ranks) else None
        row["status"] = rank_status(exp, item.item_id)
        rows.append(row)
    columns = ["rank", "item_id", "title", "genres", "score", "interest", "interest_label",
               *[f"rank_i{k + 1}" for k in range(k_count)], "status"]
    return pd.DataFrame(rows, columns=columns).astype({f"rank_i{k + 1}": "Int64" for k in range(k_count)})


def left_items_table(exp: Explanation, titles: Mapping[int, str] | None = None) -> pd.DataFrame:
    """Items that left the fused top-N after the edit, with their rank before it. ``titles`` (id → title,
    e.g. from the catalogue or the item map) names items the Explanation itself no longer lists."""
    columns = ["old_rank", "item_id", "title"]
    if exp.diff is None:
        return pd.DataFrame([], columns=columns)
    known = {item.item_id: item.title for ranked in exp.per_interest for item in ranked}
    rows = []
    for item_id in exp.diff.left:
        move = _rank_move(exp, item_id)
        rows.append({
            "old_rank": move[0] if move else None,
            "item_id": item_id,
            "title": known.get(item_id) or (titles or {}).get(item_id) or f"Movie {item_id}",
        })
    frame = pd.DataFrame(rows, columns=columns).astype({"old_rank": "Int64"})
    return frame.sort_values("old_rank", kind="stable", na_position="last").reset_index(drop=True)


def faithfulness_table(exp: Explanation, target_item_id: int | None = None) -> pd.DataFrame:
    """Per method: mean deletion area (over all explained targets, or one), the random baseline's, the
    gain over random, and a verdict. Lower area = removing the method's top items hurts the score sooner
    = the method describes what the model does."""
    targets = exp.explained_targets() if target_item_id is None else [target_item_id]
    areas: dict[str, list[float]] = {}
    randoms: dict[str, list[float]] = {}
    for target in targets:
        methods, baseline = exp.curves_for(target)
        for curve in methods:
            areas.setdefault(curve.method, []).append(curve.area)
            rnd = (curve.random_area if curve.random_area is not None
                   else (baseline.area if baseline else None))
            if rnd is not None and np.isfinite(rnd):
                randoms.setdefault(curve.method, []).append(float(rnd))
    columns = ["method", "targets", "area", "random_area", "gain", "verdict"]
    if not areas:
        return pd.DataFrame([], columns=columns)
    rows = []
    for method, values in areas.items():
        area = float(np.mean(values))
        rnd = float(np.mean(randoms[method])) if randoms.get(method) else float("nan")
        gain = (rnd - area) / rnd if np.isfinite(rnd) and rnd != 0 else float("nan")
        rows.append({"method": method_label(method), "targets": len(values), "area": area,
                     "random_area": rnd, "gain": gain, "verdict": ""})
    best = min(range(len(rows)), key=lambda i: rows[i]["area"])
    for i, row in enumerate(rows):
        if np.isfinite(row["random_area"]) and row["area"] >= row["random_area"]:
            row["verdict"] = "no better than random"
        elif i == best:
            row["verdict"] = "most faithful: trust this one"
        else:
            row["verdict"] = "better than random"
    return pd.DataFrame(rows, columns=columns)


def interest_table(exp: Explanation) -> pd.DataFrame:
    """One row per interest: index, name, label, weight, attention entropy, dominant genres, shift after
    the edit (cosine of old and new vector, when a diff is present)."""
    shift = exp.diff.interest_shift if exp.diff is not None else []
    rows = [{
        "interest": k,
        "name": interest_name(k),
        "label": i.label,
        "weight": i.weight,
        "entropy": i.entropy,
        "dominant_genres": _genres(i.dominant_genres),
        "shift_cosine": shift[k] if k < len(shift) else None,
    } for k, i in enumerate(exp.interests)]
    columns = ["interest", "name", "label", "weight", "entropy", "dominant_genres", "shift_cosine"]
    return pd.DataFrame(rows, columns=columns).astype({"entropy": "Float64", "shift_cosine": "Float64"})
