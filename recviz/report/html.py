"""Explanation → one self-contained HTML report that opens offline.

plotly.js is embedded once in the head; every figure is a ``<div>`` with a fixed id plus a small script
that draws it from the figure's JSON. The output depends only on the Explanation (and the map): no clock,
no random ids, so the app's download and the CLI's file are the same bytes.

Security: every title, id, label or notice from the data goes through :func:`html.escape` here and through
:func:`recviz.viz.text.plot_text` inside figures; figure JSON embedded in ``<script>`` cannot close the tag
(plotly writes ``<``, ``>`` and ``/`` as ``\\u003c`` ``\\u003e`` ``\\u002f``; :func:`script_json` enforces
it).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go
import plotly.offline

from recviz import __version__
from recviz.explain.types import Counterfactual, Explanation
from recviz.options import fusion_caption
from recviz.report.template import CSS, PAGE
from recviz.viz import counterfactual as cf_viz
from recviz.viz import figures, tables
from recviz.viz.style import interest_color, method_label
from recviz.viz.text import interest_name

if TYPE_CHECKING:
    from recviz.explain.projection import ItemMap

PLOTLY_CONFIG = '{"displaylogo": false, "responsive": true}'
Cell = Callable[[Any], str]
FOLD_ROWS = 15  # tables longer than this start folded


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.js as shipped with the installed plotly (about 4.8 MB); checked safe to inline."""
    js = plotly.offline.get_plotlyjs()
    if "</script" in js.lower() or "<!--" in js:
        raise RuntimeError("this plotly.js build cannot be inlined in a <script> tag")
    return js


def esc(value: object) -> str:
    """Text for HTML content and attribute values: shown as written, never interpreted."""
    return html.escape("" if value is None else str(value), quote=True)


def script_json(text: str) -> str:
    """JSON made safe inside ``<script>``: no ``</`` (closes the tag) and no ``<!--`` (comment state)."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def figure_div(fig: go.Figure, div_id: str) -> str:
    """A figure as a fixed-id div plus the script that draws it (plotly.js is loaded once in the head)."""
    spec = script_json(fig.to_json())
    return (
        f'<div id="{esc(div_id)}" class="figure"></div>\n'
        f"<script>(function(){{var s={spec};"
        f'Plotly.newPlot("{esc(div_id)}",s.data,s.layout,{PLOTLY_CONFIG});}})();'
        "</script>"
    )


def chip(k: int, text: str | None = None) -> str:
    """Interest ``k``'s name (or ``text``) behind a square in its colour."""
    return f'<span class="chip" style="--c:{interest_color(k)}">{esc(text or interest_name(k))}</span>'


def badge(status: str) -> str:
    if not status:
        return ""
    kind = {"new": "new", "added": "added", "moved": "moved", "left": "left"}.get(
        status, "up" if status.startswith("↑") else "down" if status.startswith("↓") else "moved")
    return f'<span class="badge {kind}">{esc(status)}</span>'


def number(digits: int) -> Cell:
    return lambda v: "" if v is None or pd.isna(v) else f"{float(v):.{digits}f}"


def percent(v: Any) -> str:
    return "" if v is None or pd.isna(v) else f"{float(v):.0%}"


def plain(v: Any) -> str:
    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else esc(v)


def title_cell(row: pd.Series) -> str:
    genres = f'<span class="genres">{esc(row["genres"])}</span>' if row.get("genres") else ""
    return f"{esc(row['title'])}{genres}"


def html_table(frame: pd.DataFrame, columns: dict[str, tuple[str, Callable[[pd.Series], str]]],
               numeric: Iterable[str] = ()) -> str:
    """A table of ``frame``: ``columns`` maps a header to (css class, row → cell HTML). Cells escape."""
    numeric = set(numeric)
    head = "".join(f'<th class="{"num" if h in numeric else ""}">{esc(h)}</th>' for h in columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="{css}">{render(row)}</td>' for css, render in columns.values())
        + "</tr>"
        for _, row in frame.iterrows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def col(name: str, fmt: Cell = plain) -> Callable[[pd.Series], str]:
    return lambda row: fmt(row[name])


# ------------------------------------------------------------------------------------------- sections


def title_lookup(exp: Explanation, item_map: ItemMap | None) -> dict[int, str]:
    """id → title for every item the report may name (history, lists, and the map's catalogue)."""
    titles: dict[int, str] = {}
    if item_map is not None:
        titles.update({int(i): t for i, t in zip(item_map.item_ids, item_map.titles, strict=True)})
    titles.update({e.item_id: e.title for e in exp.history})
    titles.update({i.item_id: i.title for ranked in exp.per_interest for i in ranked})
    titles.update({i.item_id: i.title for i in exp.fused})
    return titles


def named(ids: Iterable[int], titles: dict[int, str]) -> str:
    parts = [f"{esc(titles.get(int(i), f'Movie {int(i)}'))} <span class=\"in-fused\">({int(i)})</span>"
             for i in ids]
    return ", ".join(parts) if parts else "—"


def display_time(created_at: str) -> str:
    try:
        return datetime.fromisoformat(created_at).strftime("%Y-%m-%d %H:%M %Z").strip()
    except ValueError:
        return created_at or "—"


def edits_text(exp: Explanation, titles: dict[int, str]) -> str:
    if not exp.edits and exp.diff is None:
        return "none (the user's real history)"
    parts = []
    for key in ("remove", "add"):
        if exp.edits.get(key):
            parts.append(f"{esc(key)}: {named(exp.edits[key], titles)}")
    if exp.edits.get("order"):
        parts.append("reordered")
    other = sorted(k for k in exp.edits if k not in ("remove", "add", "order"))
    parts += [f"{esc(k)}: {esc(exp.edits[k])}" for k in other]
    return "; ".join(parts) or "edited"


def header(exp: Explanation, titles: dict[int, str]) -> str:
    who = f"User {exp.user_id}" if exp.user_id is not None else "Custom history"
    edited = " · edited history" if exp.edits else ""
    fusion = exp.fusion
    params = fusion_caption(fusion.mode, fusion)  # "τ = 1": the fusion's own parameters
    fusion_text = f"{fusion.mode}, top {fusion.top_n}" + (f", {params}" if params else "")
    methods = exp.settings.get("methods") or sorted({a.method for a in exp.attributions})
    meta = [
        ("Model", exp.model_name),
        ("Checkpoint", f"{exp.checkpoint} · {exp.checkpoint_hash}"),
        ("Data set", exp.dataset),
        ("Created", display_time(exp.created_at)),
        ("User", exp.user_id if exp.user_id is not None else "custom history"),
        ("History", f"{len(exp.history)} items · {len(exp.interests)} interests"),
        ("Fusion", fusion_text),
        ("Attribution", ", ".join(method_label(m) for m in methods) or "—"),
    ]
    if exp.fallback:
        meta.append(("Fallback", exp.fallback))
    if "ig_steps" in exp.settings:
        meta.append(("IG steps", exp.settings["ig_steps"]))
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in meta)
    items += f"<div><dt>Edits</dt><dd>{edits_text(exp, titles)}</dd></div>"
    return (f'<header class="top"><div class="brand">recviz · explanation report</div>'
            f"<h1>{esc(who)} · {esc(exp.model_name)}{esc(edited)}</h1>"
            f"<dl class=\"meta\">{items}</dl></header>")


def notices(exp: Explanation) -> str:
    if not exp.notices:
        return ""
    items = "".join(f"<li>{esc(n)}</li>" for n in exp.notices)
    return f'<div class="notices" id="notices"><h2>Notices</h2><ul>{items}</ul></div>'


def section(anchor: str, title: str, lead: str, content: str) -> str:
    return (f'<section id="{anchor}"><h2>{esc(title)}</h2>'
            + (f'<p class="lead">{esc(lead)}</p>' if lead else "") + content + "</section>")


def interests_section(exp: Explanation) -> str:
    frame = tables.interest_table(exp)
    cards = []
    for _, row in frame.iterrows():
        k = int(row["interest"])
        stats = [f"weight {row['weight']:.0%}"]
        if not pd.isna(row["entropy"]):
            stats.append(f"attention entropy {row['entropy']:.2f} nats")
        if not pd.isna(row["shift_cosine"]):
            stats.append(f"cosine to before the edit {row['shift_cosine']:.2f}")
        cards.append(f'<div class="card" style="--c:{interest_color(k)}">{chip(k)}'
                     f'<div class="label">{esc(row["label"])}</div>'
                     f'<div class="stats">{esc(" · ".join(stats))}'
                     "</div></div>")
    return section("interests", "Interests", "Each interest is one direction of the user's taste; "
                   "its colour is the same in every figure and list.",
                   '<div class="grid2"><div>'
                   + figure_div(figures.interest_weights_figure(exp), "fig-weights")
                   + f'</div><div class="cards one">{"".join(cards)}</div></div>')


def map_section(exp: Explanation, item_map: ItemMap | None) -> str:
    if item_map is None:
        return section("map", "Interest map", "", '<p class="note">No interest map was given for this report '
                       "(create one with <code>recviz project</code>).</p>")
    return section("map", "Interest map", "The catalogue laid out by the model's item embeddings (UMAP); the "
                   "interests sit among the items they retrieve.",
                   figure_div(figures.interest_map_figure(exp, item_map), "fig-map"))


def attention_section(exp: Explanation) -> str:
    frame = tables.history_table(exp)
    cols = {
        "#": ("num", col("position")),
        "Title": ("", title_cell),
        "Date": ("", col("date")),
        "Read most by": ("", lambda r: "" if pd.isna(r["top_interest"]) else chip(int(r["top_interest"]))),
        "Attention": ("num", col("attention", number(2))),
        "": ("", lambda r: badge(r["status"])),
    }
    return section("attention", "Attention over the history", "How strongly each interest attends to each "
                   "history item (each row sums to 1).",
                   figure_div(figures.attention_heatmap(exp), "fig-attention")
                   + folded(f"History ({len(frame)} items)",
                            html_table(frame, cols, numeric=("#", "Attention")),
                            open_=len(frame) <= FOLD_ROWS))


def folded(summary: str, content: str, open_: bool) -> str:
    """A collapsible block (long tables start closed so the figures stay in view)."""
    return (f'<details{" open" if open_ else ""}><summary>{esc(summary)}</summary>{content}</details>')


def lists_section(exp: Explanation, titles: dict[int, str]) -> str:
    fused_frame = tables.fused_table(exp)
    k_count = len(exp.interests)
    cols = {
        "#": ("num", col("rank")),
        "Title": ("", title_cell),
        "Score": ("num", col("score", number(3))),
        "From": ("", lambda r: chip(int(r["interest"])) if int(r["interest"]) < k_count else "—"),
        **{f"In {interest_name(k)}": ("num", col(f"rank_i{k + 1}")) for k in range(k_count)},
        "Change": ("", lambda r: badge(r["status"])),
    }
    parts = [f"<h3>Fused list ({esc(exp.fusion.mode)} fusion)</h3>",
             html_table(fused_frame, cols,
                        numeric=["#", "Score", *[f"In {interest_name(k)}" for k in range(k_count)]])]
    if exp.diff is not None:
        left = tables.left_items_table(exp, titles)
        parts.append("<h3>Left the fused list after the edit</h3>")
        parts.append(html_table(left, {"Was #": ("num", col("old_rank")), "Title": ("", col("title")),
                                       "": ("", lambda r: badge("left"))}, numeric=["Was #"])
                     if len(left) else '<p class="note">No item left the list.</p>')
    lists = []
    for k, interest in enumerate(exp.interests):
        frame = tables.per_interest_table(exp, k)
        rows = html_table(frame, {
            "#": ("num", col("rank")),
            "Title": ("", lambda r: title_cell(r)
                      + (f'<span class="in-fused">fused #{int(r["fused_rank"])}</span>'
                         if not pd.isna(r["fused_rank"]) else "")),
            "Score": ("num", col("score", number(2))),
        }, numeric=["#", "Score"])
        lists.append(f'<div class="list" style="--c:{interest_color(k)}"><h4>{chip(k)}</h4>'
                     f"<p>{esc(interest.label)}</p>{rows}</div>")
    parts.append("<h3>Each interest's own list</h3>")
    parts.append(f'<div class="cols">{"".join(lists)}</div>')
    return section("recommendations", "Recommendations", "The fused list with the interest that contributed "
                   "each item, beside each interest's own list.", "".join(parts))


def attributions_section(exp: Explanation) -> str:
    targets = exp.explained_targets()
    if not targets:
        return section("attributions", "Attributions", "", '<p class="note">No attribution was computed.</p>')
    rank = {f.item_id: f.rank for f in exp.fused}
    faith_cols = {
        "Method": ("", col("method")),
        "Deletion area": ("num", col("area", number(3))),
        "Random area": ("num", col("random_area", number(3))),
        "Gain": ("num", col("gain", percent)),
        "Verdict": ("", lambda r: f'<span class="{verdict_class(r["verdict"])}">{esc(r["verdict"])}</span>'),
    }
    numeric = ["Deletion area", "Random area", "Gain"]
    parts = ["<h3>Which method to trust (mean over the explained items)</h3>",
             html_table(tables.faithfulness_table(exp), faith_cols, numeric)]
    for target in targets:
        target = int(target)
        where = f"fused #{rank[target]}" if target in rank else "not in the fused list"
        parts.append(f"<h3>{esc(exp.item_title(target))} <span class=\"in-fused\">({target}, {esc(where)})"
                     "</span></h3>")
        parts.append('<div class="grid2"><div>'
                     + figure_div(figures.attribution_figure(exp, target), f"fig-attr-{target}")
                     + "</div><div>"
                     + figure_div(figures.faithfulness_figure(exp, target), f"fig-faith-{target}")
                     + "</div></div>")
        parts.append(html_table(tables.faithfulness_table(exp, target), faith_cols, numeric))
    return section("attributions", "Attributions and faithfulness", "Which history items drive each "
                   "recommendation, by each method; "
                   "the deletion curves show which method predicts the model.",
                   "".join(parts))


def counterfactuals_section(exp: Explanation) -> str:
    """The counterfactual check, and each asked-for counterfactual and why-not (empty when there is none)."""
    if not exp.counterfactuals and not exp.why_not and exp.counterfactual_check is None:
        return ""
    parts = []
    if exp.counterfactual_check is not None:
        table = cf_viz.check_table(exp.counterfactual_check)
        rates = {f"Top {c[4:]}": ("num", col(c, percent)) for c in table.columns if c.startswith("top_")}
        parts.append("<h3>Do the top-k attributed items form a counterfactual?</h3>"
                     + grid2(figure_div(cf_viz.check_figure(exp.counterfactual_check), "fig-cf-check"),
                             html_table(table, {"Method": ("", col("label")), **rates,
                                                "Tested": ("num", col("pairs"))}, [*rates, "Tested"])))
    for cf in exp.counterfactuals:
        parts.append(f"<h3>What removal drops {esc(cf.title)} <span class=\"in-fused\">({cf.item_id}, "
                     f"{esc(cf_viz.verdict(cf))})</span></h3>" + counterfactual_edit(cf))
    for wn in exp.why_not:
        where = f"fused #{wn.fused_rank}" if wn.fused_rank else "beyond the diverse list"
        parts.append(f"<h3>Why not {esc(wn.additions.title)} <span class=\"in-fused\">({wn.item_id}, "
                     f"{esc(where)})</span></h3>")
        parts.append(html_table(cf_viz.why_not_table(wn), {
            "Interest": ("", lambda r: chip(int(r["interest"]))), "Rank": ("num", col("rank")),
            "Score": ("num", col("score", number(3))), "Cosine": ("num", col("cosine", number(3))),
            "": ("", lambda r: "closest" if r["closest"] else "")}, ["Rank", "Score", "Cosine"]))
        parts.append(counterfactual_edit(wn.additions))
    return section("counterfactuals", "Counterfactuals", "Edits of the history that change a recommendation, "
                   "each verified by re-scoring the edited history with the settings above.", "".join(parts))


def counterfactual_edit(cf: Counterfactual) -> str:
    """The search's verdict, the edit's items and the item's ranks before and after it."""
    edit = html_table(cf_viz.edit_table(cf), {"#": ("num", col("step")), "Title": ("", col("title")),
                                              "Id": ("num", col("item_id"))}, ["#", "Id"])
    ranks = html_table(cf_viz.rank_change_table(cf), {
        "List": ("", col("list")), "Before": ("num", col("before")), "After": ("num", col("after"))},
        ["Before", "After"])
    return f'<p class="note">{esc(cf.message)}</p>' + grid2(edit, ranks)


def grid2(left: str, right: str) -> str:
    return f'<div class="grid2"><div>{left}</div><div>{right}</div></div>'


def verdict_class(verdict: str) -> str:
    if verdict.startswith("most faithful"):
        return "verdict-good"
    return "verdict-bad" if verdict.startswith("no better") else ""


def health_section(exp: Explanation) -> str:
    return section("health", "Interest health", "Interests that point the same way retrieve the same items: "
                   "a collapsed pair wastes one interest.",
                   '<div class="grid2"><div>' + figure_div(figures.similarity_figure(exp), "fig-similarity")
                   + "</div><div>" + health_summary(exp) + "</div></div>")


def health_summary(exp: Explanation) -> str:
    health = exp.interest_health
    flag = ('<span class="verdict-bad">collapsed</span>' if health.collapsed
            else '<span class="verdict-good">distinct</span>')
    rows = html_table(tables.interest_table(exp), {
        "Interest": ("", lambda r: chip(int(r["interest"]))),
        "Weight": ("num", col("weight", percent)),
        "Entropy": ("num", col("entropy", number(2))),
        "Genres": ("", col("dominant_genres")),
    }, numeric=["Weight", "Entropy"])
    return (f"<h3>Effective number of interests: {health.effective_number:.2f} of {len(exp.interests)} · "
            f"{flag}</h3><p class=\"note\">{esc(health.message)}</p>{rows}")


def changes_section(exp: Explanation, titles: dict[int, str]) -> str:
    if exp.diff is None:
        return ""
    diff = exp.diff
    rows = [("Removed from the history", diff.removed), ("Added to the history", diff.added),
            ("Moved in the history", diff.moved), ("Entered the fused list", diff.entered),
            ("Left the fused list", diff.left)]
    body = "".join(f"<tr><th>{esc(k)}</th><td>{named(v, titles)}</td></tr>" for k, v in rows)
    shift = "".join(f"<tr><th>{chip(k)}</th><td>cosine {s:.3f} to its vector before the edit</td></tr>"
                    for k, s in enumerate(diff.interest_shift))
    return section("changes", "What the edit changed", "Against the user's real history.",
                   f"<table><tbody>{body}{shift}</tbody></table>")


def settings_section(exp: Explanation) -> str:
    """Every explain setting, and the time each stage took."""
    settings = "".join(f"<tr><td>{esc(k)}</td><td>{esc(json.dumps(v, ensure_ascii=False))}</td></tr>"
                       for k, v in sorted(exp.settings.items()))
    parts = [f"<h3>Explain settings</h3><table><tbody>{settings}</tbody></table>"] if settings else []
    if exp.timing:
        body = "".join(f'<tr><td>{esc(k)}</td><td class="num">{float(v):.1f}</td></tr>'
                       for k, v in exp.timing.items())
        parts.append(f'<h3>Timings</h3><table><thead><tr><th>Stage</th><th class="num">ms</th></tr></thead>'
                     f"<tbody>{body}</tbody></table>")
    return section("settings", "Settings and timings", "", "".join(parts)) if parts else ""


def render_html(exp: Explanation, item_map: ItemMap | None = None) -> str:
    """The whole report as one HTML string (about 5 MB: plotly.js is inlined so it opens offline)."""
    titles = title_lookup(exp, item_map)
    sections = [
        ("interests", "Interests", interests_section(exp)),
        ("map", "Map", map_section(exp, item_map)),
        ("attention", "Attention", attention_section(exp)),
        ("recommendations", "Recommendations", lists_section(exp, titles)),
        ("attributions", "Attributions", attributions_section(exp)),
        ("counterfactuals", "Counterfactuals", counterfactuals_section(exp)),
        ("health", "Interest health", health_section(exp)),
        ("changes", "Changes", changes_section(exp, titles)),
        ("settings", "Settings", settings_section(exp)),
    ]
    toc = "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t, html_ in sections if html_)
    body = (header(exp, titles) + f'<nav class="toc">{toc}</nav><main>' + notices(exp)
            + "".join(h for _, _, h in sections) + "</main>"
            + f"<footer>recviz {esc(__version__)} · Explanation schema v{esc(exp.schema_version)} · "
            f"{esc(exp.checkpoint)} ({esc(exp.checkpoint_hash)})</footer>")
    who = f"user {exp.user_id}" if exp.user_id is not None else "custom history"
    return PAGE.format(version=esc(__version__), title=esc(f"recviz · {who} · {exp.model_name}"), css=CSS,
                       plotlyjs=plotly_js(), body=body)
