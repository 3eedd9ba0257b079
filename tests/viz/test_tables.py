"""The tables the app and the report show, checked against the hand-built Explanation's values."""

from __future__ import annotations

import pandas as pd

from recviz.explain.types import Explanation
from recviz.viz import tables


def test_history_table_lists_the_history_with_the_interest_that_reads_each_item(explanation):
    frame = tables.history_table(explanation)
    assert list(frame["position"]) == [1, 2, 3, 4, 5, 6]
    assert list(frame["item_id"]) == [1, 260, 9001, 593, 2571, 9002]
    # argmax over the interests of each attention column, by hand
    assert list(frame["top_interest"]) == [1, 0, 1, 2, 0, 1]
    assert list(frame["attention"]) == [0.5, 0.4, 0.2, 0.5, 0.4, 0.1]
    assert list(frame["status"]) == ["", "", "", "", "", "added"]
    assert frame.loc[0, "date"] == "2001-09-09" and frame.loc[0, "genres"].startswith("Adventure, Animation")


def test_history_table_without_attention_leaves_the_interest_empty(explanation):
    for interest in explanation.interests:
        interest.attention = None
    frame = tables.history_table(explanation)
    assert frame["top_interest"].isna().all() and len(frame) == 6


def test_fused_table_marks_contributor_ranks_and_moves(explanation):
    frame = tables.fused_table(explanation)
    assert list(frame["item_id"]) == [1196, 480, 9003, 2, 318]
    assert list(frame["interest"]) == [0, 0, 1, 1, 2]
    assert frame.loc[2, "interest_label"] == "Animation · Children — Toy Story"
    assert list(frame["status"]) == ["↑1", "↓1", "new", "", "new"]
    assert frame.loc[1, "rank_i1"] == 2 and frame.loc[1, "rank_i2"] == 4 and pd.isna(frame.loc[1, "rank_i3"])


def test_fused_table_status_survives_a_json_round_trip(explanation):
    again = Explanation.from_json(explanation.to_json())
    assert list(tables.fused_table(again)["status"]) == ["↑1", "↓1", "new", "", "new"]
    explanation.diff.rank_moves = {str(k): v for k, v in explanation.diff.rank_moves.items()}
    assert list(tables.fused_table(explanation)["status"]) == ["↑1", "↓1", "new", "", "new"]


def test_without_a_diff_there_is_no_status_and_nothing_left(plain_explanation):
    assert set(tables.fused_table(plain_explanation)["status"]) == {""}
    assert tables.left_items_table(plain_explanation).empty


def test_left_items_are_ordered_by_their_old_rank_and_named(explanation):
    frame = tables.left_items_table(explanation)
    assert list(frame["item_id"]) == [50, 32] and list(frame["old_rank"]) == [3, 5]
    assert list(frame["title"]) == ["Usual Suspects, The", "Twelve Monkeys (a.k.a. 12 Monkeys)"]
    explanation.diff.left.append(7)
    explanation.diff.rank_moves[7] = [1, None]
    frame = tables.left_items_table(explanation, titles={7: "Sabrina"})
    assert list(frame["item_id"]) == [7, 50, 32] and frame.loc[0, "title"] == "Sabrina"


def test_per_interest_table_links_to_the_fused_rank(explanation):
    frame = tables.per_interest_table(explanation, 1)
    assert list(frame["item_id"]) == [2, 9003, 356, 480]
    assert (list(frame["fused_rank"].astype(object).where(frame["fused_rank"].notna(), None))
            == [4, 3, None, 2])


def test_faithfulness_table_says_which_method_to_trust(explanation):
    frame = tables.faithfulness_table(explanation)
    assert list(frame["method"]) == ["Integrated Gradients", "Occlusion (leave-one-out)", "Attention"]
    assert list(frame["targets"]) == [2, 2, 2]
    assert list(frame["area"]) == [0.31, 0.38, 0.61] and set(frame["random_area"]) == {0.55}
    assert abs(frame.loc[0, "gain"] - (0.55 - 0.31) / 0.55) < 1e-12
    assert list(frame["verdict"]) == ["most faithful: trust this one", "better than random",
                                      "no better than random"]
    # one target whose attention curve is the best
    for curve in explanation.faithfulness:
        if curve.target_item_id == 9003 and curve.method == "attention":
            curve.area = 0.2
    one = tables.faithfulness_table(explanation, 9003)
    assert list(one["targets"]) == [1, 1, 1]
    assert (one.loc[2, "verdict"] == "most faithful: trust this one"
            and one.loc[0, "verdict"] == "better than random")


def test_interest_table_has_weights_entropy_and_shift(explanation):
    frame = tables.interest_table(explanation)
    assert list(frame["name"]) == ["Interest 1", "Interest 2", "Interest 3"]
    assert list(frame["weight"]) == [0.5, 0.3, 0.2] and list(frame["shift_cosine"]) == [0.98, 0.91, 0.99]
