"""Counterfactuals → plotly figures and pandas tables, for the app's panel and the report's sections.

Pure functions on the result dataclasses of :mod:`recviz.explain.counterfactual` (no Streamlit, no I/O).
Methods keep their colours (:func:`recviz.viz.style.method_color`) so the counterfactual check reads beside
the deletion curves; data strings go through :func:`recviz.viz.text.plot_text` inside figures.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from recviz.explain.types import Counterfactual, CounterfactualCheck, WhyNot
from recviz.viz.figures import BOTTOM_LEGEND, message_figure
from recviz.viz.style import RANDOM_BASELINE, method_color, method_label, style_figure
from recviz.viz.text import interest_name

RANDOM_CHECK_LABEL = "Random items (mean)"


def _label(method: str) -> str:
    return RANDOM_CHECK_LABEL if method == RANDOM_BASELINE else method_label(method)


def check_figure(check: CounterfactualCheck | None) -> go.Figure:
    """Grouped bars: per attribution method (and k random history items), the share of recommendations
    whose top-k attributed items form a counterfactual, for each k. Higher than random = more faithful."""
    title = "Counterfactual check"
    rates = [] if check is None else [r for r in check.rates if r.pairs and not math.isnan(r.rate)]
    if not rates:
        return message_figure(title, "No recommendation had a history long enough to test.")
    ks = sorted({r.k for r in rates})
    fig = go.Figure()
    for method in dict.fromkeys(r.method for r in rates):
        mine = {r.k: r for r in rates if r.method == method}
        random = method == RANDOM_BASELINE
        fig.add_trace(go.Bar(
            x=[f"top {k}" for k in ks if k in mine], y=[mine[k].rate for k in ks if k in mine],
            name=_label(method), marker={"color": method_color(method),
                                         "pattern": {"shape": "/" if random else ""}},
            text=[f"{mine[k].rate:.0%}" for k in ks if k in mine], textposition="outside",
            hovertext=[f"{_label(method)}, top {k}: {mine[k].rate:.0%} of {mine[k].pairs} recommendation(s)"
                       for k in ks if k in mine],
            hovertemplate="%{hovertext}<extra></extra>",
        ))
    fig.update_yaxes(title_text="removal drops it out of the top N", tickformat=".0%", range=[0, 1.12])
    fig.update_xaxes(title_text="history items removed (most credited first)")
    fig.update_layout(barmode="group", height=420, legend=BOTTOM_LEGEND, margin={"b": 64})
    scope = (f"{check.users} user(s) × top {check.targets_per_user}, top-N = {check.top_n}; "
             f"random: mean of {check.random_draws} draws")
    return style_figure(fig, f"{title}<br><sup>{scope}; higher than random = more faithful</sup>")


def check_table(check: CounterfactualCheck | None) -> pd.DataFrame:
    """One row per method (random last): the hit rate for each k and the recommendations tested."""
    if check is None or not check.rates:
        return pd.DataFrame(columns=["method", "label", "pairs"])
    rows: dict[str, dict] = {}
    for r in check.rates:
        row = rows.setdefault(r.method, {"method": r.method, "label": _label(r.method), "pairs": 0})
        row[f"top_{r.k}"] = r.rate
        row["pairs"] = max(row["pairs"], r.pairs)
    return pd.DataFrame(list(rows.values()))


def edit_table(cf: Counterfactual) -> pd.DataFrame:
    """The edit's items in the order the search chose them."""
    return pd.DataFrame({"step": range(1, cf.size + 1), "item_id": cf.items, "title": cf.item_titles})


def rank_change_table(cf: Counterfactual) -> pd.DataFrame:
    """The item's rank in the fused list and in each interest's list, before and after the edit (None: beyond
    a diverse list, or no verified edit)."""
    after = cf.ranks_by_interest_after or [None] * len(cf.ranks_by_interest_before)
    return pd.DataFrame({
        "list": ["Fused", *(interest_name(k) for k in range(len(cf.ranks_by_interest_before)))],
        "before": [cf.rank_before, *cf.ranks_by_interest_before],
        "after": [cf.rank_after, *after],
    }).astype({"before": "Int64", "after": "Int64"})


def why_not_table(wn: WhyNot) -> pd.DataFrame:
    """Per interest: the item's rank in its list, its score, the cosine to the item, and the closest one."""
    return pd.DataFrame({
        "interest": list(range(len(wn.ranks_by_interest))),
        "name": [interest_name(k) for k in range(len(wn.ranks_by_interest))],
        "rank": wn.ranks_by_interest,
        "score": wn.scores_by_interest,
        "cosine": wn.cosine_by_interest,
        "closest": [k == wn.closest_interest for k in range(len(wn.ranks_by_interest))],
    })


def verdict(cf: Counterfactual) -> str:
    """One line: what the edit does to the item, or that the budget ran out."""
    if not cf.found:
        return "not found within the budget"
    where = f"#{cf.rank_after}" if cf.rank_after is not None else f"outside the top {cf.top_n}"
    verb = "removing" if cf.kind == "remove" else "adding"
    return f"{verb} {cf.size} item(s): #{cf.rank_before or '–'} → {where}"
