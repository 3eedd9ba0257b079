"""Comparison → a standalone HTML report (lists, interest matching, maps) and JSON.

Like the Explanation's report, the output depends only on the Comparison (and the maps), so the app's
download and ``recviz compare`` give the same bytes for the same inputs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from recviz.explain.compare import BASIS_TEXT, Comparison
from recviz.report.export import check_format, write_rendered
from recviz.report.html import chip, display_time, esc, figure_div, folded, section
from recviz.report.page import render_page
from recviz.viz import figures
from recviz.viz.compare import lists_figure, matching_figure

if TYPE_CHECKING:
    from recviz.explain.projection import ItemMap

Maps = tuple["ItemMap | None", "ItemMap | None"]


def render_comparison_json(cmp: Comparison) -> str:
    """The Comparison as JSON with sorted keys (the same Comparison always gives the same bytes)."""
    return cmp.to_json() + "\n"


def _lists_section(cmp: Comparison) -> str:
    a, b = cmp.lists.a, cmp.lists.b
    titles = {**dict(zip(a, cmp.lists.a_titles, strict=False)),
              **dict(zip(b, cmp.lists.b_titles, strict=False))}
    rank_a = {i: r for r, i in enumerate(a, start=1)}
    rank_b = {i: r for r, i in enumerate(b, start=1)}
    name_a, name_b = cmp.side_names()
    rows = []
    for r in range(max(len(a), len(b))):
        cells = []
        for items, other in ((a, rank_b), (b, rank_a)):
            if r < len(items):
                item = items[r]
                there = f"#{other[item]}" if item in other else "—"
                cells.append(f"<td>{esc(titles.get(item, f'Movie {item}'))} <span class=\"in-fused\">({item})"
                             f"</span></td><td class=\"num\">{esc(there)}</td>")
            else:
                cells.append("<td></td><td></td>")
        rows.append(f'<tr><td class="num">{r + 1}</td>{"".join(cells)}</tr>')
    table = (f'<table><thead><tr><th class="num">#</th><th>{esc(name_a)}</th><th class="num">in B</th>'
             f'<th>{esc(name_b)}</th><th class="num">in A</th></tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table>')
    lead = (f"Jaccard@{max(len(a), len(b))} = {cmp.lists.jaccard:.3f} ({len(cmp.lists.shared)} shared "
            f"items); rank-biased overlap (p = {cmp.lists.p:g}, top-weighted) = {cmp.lists.rbo:.3f}.")
    if cmp.catalogue is not None and not cmp.catalogue.identical:
        lead += (f" Compared among the {cmp.catalogue.shared:,} catalogue items both models know "
                 f"({cmp.catalogue.a_items:,} and {cmp.catalogue.b_items:,}).")
    return section("lists", "Recommendations side by side", lead,
                   figure_div(lists_figure(cmp), "fig-cmp-lists") + table)


def _interests_section(cmp: Comparison) -> str:
    m = cmp.matching
    rows = "".join(
        f"<tr><td>{chip(p.a)} {esc(cmp.a.interests[p.a].label)}</td>"
        f"<td>{chip(p.b)} {esc(cmp.b.interests[p.b].label)}</td>"
        f'<td class="num">{p.similarity:.3f}</td></tr>'
        for p in m.pairs
    )
    table = (f'<table><thead><tr><th>{esc(cmp.side_names()[0])}</th><th>{esc(cmp.side_names()[1])}</th>'
             f'<th class="num">Similarity</th></tr></thead><tbody>{rows}</tbody></table>')
    extra = "".join(f'<p class="note">{esc(t)}</p>' for t in [
        m.note,
        f"Unmatched on side A: {', '.join(str(k + 1) for k in m.unmatched_a)}." if m.unmatched_a else "",
        f"Unmatched on side B: {', '.join(str(k + 1) for k in m.unmatched_b)}." if m.unmatched_b else "",
    ] if t)
    return section("interests", "Interests matched", f"Hungarian matching on the {BASIS_TEXT[m.basis]}.",
                   '<div class="grid2"><div>' + figure_div(matching_figure(cmp), "fig-cmp-matching")
                   + f"</div><div>{table}{extra}</div></div>")


def _maps_section(cmp: Comparison, maps: Maps) -> str:
    parts = []
    for side, (exp, item_map, name) in enumerate(zip((cmp.a, cmp.b), maps, cmp.side_names(), strict=True)):
        if item_map is None:
            body = (f'<p class="note">No interest map for {esc(name)} (create one with '
                    "<code>recviz project</code>).</p>")
        elif not exp.interests:
            body = f'<p class="note">{esc(name)} has no interests to place (empty history).</p>'
        else:
            body = figure_div(figures.interest_map_figure(exp, item_map), f"fig-cmp-map-{side}")
        parts.append(f"<div><h3>{esc(name)}</h3>{body}</div>")
    lead = ("Each checkpoint's own map: positions are not comparable across maps, the neighbourhoods are."
            if cmp.kind == "checkpoints" else "Both users' interests on the checkpoint's map.")
    return section("maps", "Interest maps", lead, f'<div class="grid2">{"".join(parts)}</div>')


def _history_section(cmp: Comparison) -> str:
    if cmp.kind != "users":
        return ""
    count = len(cmp.shared_history)
    names = ", ".join(f"{esc(t)} <span class=\"in-fused\">({i})</span>"
                      for i, t in zip(cmp.shared_history, cmp.shared_history_titles, strict=False)) or "—"
    return section("history", "Shared history", f"{count} item(s) are in both users' whole histories.",
                   folded(f"Shared items ({count})", f"<p>{names}</p>", open_=False))


def render_comparison_html(cmp: Comparison, maps: Maps = (None, None)) -> str:
    """The whole comparison report as one HTML string (plotly.js inlined: it opens offline)."""
    name_a, name_b = cmp.side_names()
    kind = "two checkpoints" if cmp.kind == "checkpoints" else "two users"
    meta: list[tuple[str, object]] = [("Compares", kind)]
    for label, exp in (("A", cmp.a), ("B", cmp.b)):
        who = f"user {exp.user_id}" if exp.user_id is not None else "custom history"
        meta.append((f"Side {label}", f"{exp.model_name} · {exp.checkpoint} · {exp.checkpoint_hash} · "
                     f"{who} · {len(exp.history)} items read · {len(exp.interests)} interests"))
    fusion = cmp.a.fusion
    meta += [("Fusion", f"{fusion.mode}, top {fusion.top_n}"), ("Created", display_time(cmp.created_at))]
    if cmp.catalogue is not None:
        meta.append(("Catalogues", f"{cmp.catalogue.shared:,} shared of {cmp.catalogue.a_items:,} / "
                                   f"{cmp.catalogue.b_items:,}"))
    notices = [*cmp.notices, *(f"{name_a}: {n}" for n in cmp.a.notices),
               *(f"{name_b}: {n}" for n in cmp.b.notices)]
    sections = [("lists", "Lists", _lists_section(cmp)),
                ("interests", "Interests", _interests_section(cmp)),
                ("maps", "Maps", _maps_section(cmp, maps)),
                ("history", "Shared history", _history_section(cmp))]
    return render_page(f"recviz · {name_a} vs {name_b}", "recviz · comparison report",
                       f"{name_a} vs {name_b}", meta, sections, notices,
                       f"comparison schema v{cmp.schema_version}")


def comparison_filename(cmp: Comparison, fmt: str) -> str:
    """``recviz-compare-<A>-vs-<B>-<stamp>.<fmt>``, safe on every file system."""
    check_format(fmt)
    a, b = (_slug(n) for n in _side_ids(cmp))
    stamp = re.sub(r"[^0-9T]", "", cmp.created_at.split("+")[0]) or "undated"
    return f"recviz-compare-{a}-vs-{b}-{stamp}.{fmt}"


def write_comparison(cmp: Comparison, path: Path | str, fmt: str, maps: Maps = (None, None)) -> Path:
    """Write the report; ``path`` is a file, or an existing directory to put ``comparison_filename`` in."""
    check_format(fmt)
    text = render_comparison_html(cmp, maps) if fmt == "html" else render_comparison_json(cmp)
    return write_rendered(path, comparison_filename(cmp, fmt), text)


def _side_ids(cmp: Comparison) -> Sequence[str]:
    if cmp.kind == "checkpoints":
        who = f"-user{cmp.a.user_id}" if cmp.a.user_id is not None else ""
        return cmp.a.checkpoint + who, cmp.b.checkpoint
    return (cmp.a.checkpoint + f"-user{cmp.a.user_id}", f"user{cmp.b.user_id}")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "x"
