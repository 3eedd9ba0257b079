"""Shared by the viz and report tests (a uniquely named module, so it never clashes with another
directory's ``conftest``): a hand-built Explanation (K=3 interests, L=6 history items, titles from the
shipped MovieLens sample plus three hostile titles) and an ItemMap over the whole sample catalogue, for the
viz and report tests.

The values are chosen by hand so tests can check them: attention rows sum to 1, interest 0 has the largest
weight, IG is the most faithful method for both targets and attention is no better than random.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from recviz.config import ExplainSettings
from recviz.explain.projection import ItemMap, unit_rows
from recviz.explain.types import (
    Attribution,
    DeletionCurve,
    Explanation,
    FusedItem,
    FusionSettings,
    HistoryDiff,
    HistoryEntry,
    Interest,
    InterestHealth,
    RankedItem,
)

MOVIES = Path(__file__).resolve().parents[2] / "sample_data" / "ml-latest-small" / "movies.csv"
SCRIPT_TITLE = "<script>alert(1)</script>"
QUOTES_TITLE = '"quotes" & <b>'
IMG_TITLE = "<img src=x onerror=alert(2)>"
HOSTILE = {9001: SCRIPT_TITLE, 9002: QUOTES_TITLE, 9003: IMG_TITLE}
HISTORY_IDS = [1, 260, 9001, 593, 2571, 9002]
TARGETS = [1196, 9003]


def read_movies() -> dict[int, tuple[str, list[str]]]:
    with open(MOVIES, newline="", encoding="utf-8") as fh:
        return {int(r["movieId"]): (r["title"], r["genres"].split("|")) for r in csv.DictReader(fh)}


@pytest.fixture(scope="session")
def movies() -> dict[int, tuple[str, list[str]]]:
    out = read_movies()
    out.update({i: (t, ["Drama"]) for i, t in HOSTILE.items()})
    return out


def _ranked(movies, ids, scores, cls=RankedItem, **extra):
    return [cls(i, movies[i][0], movies[i][1], s, r + 1, **{k: v[r] for k, v in extra.items()})
            for r, (i, s) in enumerate(zip(ids, scores, strict=True))]


def _curve(target, method, scores, area, random_area, random_scores):
    ranks = [1 + 3 * n for n in range(len(scores))]
    return DeletionCurve(target, method, scores, ranks, area, random_area, random_scores)


def build_explanation(movies, with_diff: bool = True) -> Explanation:
    history = [HistoryEntry(i, movies[i][0], movies[i][1], p, 1_000_000_000 + 86_400 * p)
               for p, i in enumerate(HISTORY_IDS)]
    attention = [
        [0.05, 0.40, 0.05, 0.05, 0.40, 0.05],   # interest 0: Sci-Fi (Star Wars, Matrix)
        [0.50, 0.10, 0.20, 0.05, 0.05, 0.10],   # interest 1: Toy Story
        [0.05, 0.05, 0.10, 0.50, 0.20, 0.10],   # interest 2: Silence of the Lambs
    ]
    labels = ["Sci-Fi · Action — Star Wars: Episode IV - A New Hope", "Animation · Children — Toy Story",
              f"Thriller · Crime — {SCRIPT_TITLE}"]
    interests = [
        Interest(k, labels[k], [float(v) for v in np.eye(4)[k] + 0.1], w, attention[k],
                 float(-np.sum(np.asarray(attention[k]) * np.log(attention[k]))),
                 labels[k].split(" — ")[0].split(" · "),
                 HISTORY_IDS[int(np.argmax(attention[k]))], [float(k), float(2 * k)])
        for k, w in enumerate([0.5, 0.3, 0.2])
    ]
    per_interest = [
        _ranked(movies, [1196, 480, 589, 32], [9.1, 8.4, 8.0, 7.2]),
        _ranked(movies, [2, 9003, 356, 480], [7.7, 7.5, 6.9, 6.1]),
        _ranked(movies, [318, 50, 296, 9003], [6.6, 6.2, 6.0, 5.5]),
    ]
    fused = _ranked(movies, [1196, 480, 9003, 2, 318], [9.1, 8.4, 7.5, 7.2, 6.6], FusedItem,
                    contributor=[0, 0, 1, 1, 2],
                    ranks_by_interest=[[1, None, None], [2, 4, None], [None, 2, 4], [None, 1, None],
                                       [None, None, 1]])
    attributions, faithfulness = [], []
    for t, target in enumerate(TARGETS):
        k = [0, 1][t]
        ig = [0.1, 2.0, -0.3, 0.2, 1.5, 0.0] if t == 0 else [1.2, 0.1, 0.9, -0.2, 0.0, 0.4]
        occ = [0.2, 1.0, 0.0, 0.1, 0.8, -0.1] if t == 0 else [0.6, 0.0, 0.5, 0.0, 0.1, 0.2]
        score = fused[[0, 2][t]].score
        attributions += [
            Attribution(target, "integrated_gradients", ig, k, score, score - sum(ig) + 0.01, 0.01),
            Attribution(target, "occlusion", occ, k, score),
            Attribution(target, "attention", attention[k], k, score),
        ]
        rnd = [score - 0.9 * n for n in range(7)]
        faithfulness += [
            _curve(target, "integrated_gradients", [score - 2.0 * n for n in range(7)], 0.31, 0.55, rnd),
            _curve(target, "occlusion", [score - 1.5 * n for n in range(7)], 0.38, 0.55, rnd),
            _curve(target, "attention", [score - 0.7 * n for n in range(7)], 0.61, 0.55, rnd),
        ]
    diff = HistoryDiff(
        removed=[32], added=[9002], moved=[], entered=[9003, 318], left=[50, 32],
        rank_moves={1196: [2, 1], 480: [1, 2], 9003: [None, 3], 2: [4, 4], 318: [None, 5], 50: [3, None],
                    32: [5, None]},
        interest_shift=[0.98, 0.91, 0.99], baseline_map_xy=[[-1.0, 0.5], [1.5, 1.0], [4.0, 4.0]],
    ) if with_diff else None
    return Explanation(
        model_name="comirec-sa", checkpoint="comirec-sa-ml", checkpoint_hash="0123456789ab",
        dataset="ml-latest-small", user_id=42, history=history, interests=interests,
        interest_health=InterestHealth([[1.0, 0.21, -0.05], [0.21, 1.0, 0.34], [-0.05, 0.34, 1.0]], 2.8,
                                       False, "3 distinct interests (effective number 2.8 of 3)"),
        per_interest=per_interest, fused=fused, fusion=FusionSettings("weighted", 1.0, 0.5, 5, True),
        attributions=attributions, faithfulness=faithfulness, settings=ExplainSettings(top_n=5).to_dict(),
        edits={"remove": [32], "add": [9002]} if with_diff else {}, diff=diff,
        notices=[f"Item {SCRIPT_TITLE} has no genres"], timing={"interests": 3.2, "attributions": 41.5},
        created_at="2026-11-28T17:30:00+00:00",
    )


@pytest.fixture()
def explanation(movies) -> Explanation:
    return build_explanation(movies)


@pytest.fixture()
def plain_explanation(movies) -> Explanation:
    """The same explanation without a baseline history (no diff, no edits)."""
    return build_explanation(movies, with_diff=False)


@pytest.fixture(scope="session")
def item_map(movies) -> ItemMap:
    """The whole sample catalogue (and the hostile items) on a seeded random layout."""
    ids = np.asarray(sorted(movies), dtype=np.int64)  # [M]
    rng = np.random.default_rng(7)
    emb = unit_rows(rng.normal(size=(len(ids), 4)))  # [M, 4]
    return ItemMap(ids, rng.normal(size=(len(ids), 2)).astype(np.float32), [movies[i][0] for i in ids],
                   [movies[i][1][0] for i in ids], emb)
