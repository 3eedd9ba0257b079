"""Timeline → its report section (HTML), a standalone HTML report, and JSON.

:func:`timeline_section` is the "Interests over time" section (figure + phases table); the standalone page
and ``recviz timeline`` use it, and so can any report that holds a Timeline.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from recviz.explain.timeline import InterestPhase, Timeline
from recviz.report.export import check_format, write_rendered
from recviz.report.html import chip, esc, figure_div, section
from recviz.report.page import render_page
from recviz.viz.timeline import timeline_figure


def when(tl: Timeline, position: int | None) -> str:
    """A history position as a reader wants it: the item's date (where known) and title."""
    if position is None:
        return ""
    stamp = tl.timestamps[position]
    return f"{day(stamp) if stamp is not None else f'#{position + 1}'} · {tl.titles[position]}"


def day(stamp: int) -> str:
    return datetime.fromtimestamp(int(stamp), UTC).strftime("%Y-%m-%d")


def phase_text(tl: Timeline, phase: InterestPhase) -> tuple[str, str, str]:
    """(appears, peaks, fades) as shown in tables: dates and titles, or why there is none."""
    if phase.appears is None:
        return "never stands out", when(tl, phase.peaks), ""
    fades = "still active (in the window read now)" if phase.active_now else when(tl, phase.fades)
    return when(tl, phase.appears), when(tl, phase.peaks), fades


def timeline_section(tl: Timeline) -> str:
    """The "Interests over time" report section."""
    rows = []
    for phase in tl.phases:
        appears, peaks, fades = phase_text(tl, phase)
        rows.append(f"<tr><td>{chip(phase.interest)}</td><td>{esc(phase.label)}</td><td>{esc(appears)}</td>"
                    f"<td>{esc(peaks)}</td><td>{esc(fades)}</td></tr>")
    table = ("<table><thead><tr><th>Interest</th><th>Label</th><th>Appears</th><th>Peaks</th><th>Fades</th>"
             f"</tr></thead><tbody>{''.join(rows)}</tbody></table>") if rows else ""
    threshold = "" if tl.threshold is None else f"{tl.threshold:.2f}"
    lead = (f"The model reads the last {tl.window} items; {len(tl.windows)} window(s) of that length cover "
            f"all {len(tl.item_ids):,} items of the history. Each line is an interest's attention on each "
            "item (times the window's length, so 1 is an even share), smoothed over "
            f"{tl.smoothing} items; an interest is active above the threshold {threshold}.")
    alignment = ("Interest k is the same attention head in every window." if tl.alignment == "fixed" else
                 "Each window's interests were matched to the newest window's by their vectors.")
    return section("timeline", "Interests over time", lead,
                   figure_div(timeline_figure(tl), "fig-timeline")
                   + f'<p class="note">{esc(alignment)}</p>' + table)


def render_timeline_json(tl: Timeline) -> str:
    return tl.to_json() + "\n"


def render_timeline_html(tl: Timeline) -> str:
    """A standalone report of the timeline (plotly.js inlined: it opens offline)."""
    who = f"user {tl.user_id}" if tl.user_id is not None else "custom history"
    dates = [t for t in tl.timestamps if t is not None]
    span = f"{day(min(dates))} – {day(max(dates))}" if dates else "no dates"
    meta = [("Model", tl.model_name), ("Checkpoint", f"{tl.checkpoint} · {tl.checkpoint_hash}"),
            ("User", who), ("History", f"{len(tl.item_ids):,} items · {span}"),
            ("Windows", f"{len(tl.windows)} of {tl.window} items, stride {tl.stride}"),
            ("Slots", tl.alignment)]
    return render_page(f"recviz · interests over time · {who} · {tl.model_name}",
                       "recviz · interests over time", f"{who.capitalize()} · {tl.model_name}", meta,
                       [("timeline", "Interests over time", timeline_section(tl))], tl.notices,
                       f"{tl.checkpoint} ({tl.checkpoint_hash})")


def timeline_filename(tl: Timeline, fmt: str) -> str:
    check_format(fmt)
    who = f"user{tl.user_id}" if tl.user_id is not None else "custom"
    return f"recviz-timeline-{re.sub(r'[^A-Za-z0-9._-]+', '-', tl.checkpoint).strip('-.') or 'x'}-{who}.{fmt}"


def write_timeline(tl: Timeline, path: Path | str, fmt: str) -> Path:
    """Write the report; ``path`` is a file, or an existing directory to put ``timeline_filename`` in."""
    check_format(fmt)
    text = render_timeline_html(tl) if fmt == "html" else render_timeline_json(tl)
    return write_rendered(path, timeline_filename(tl, fmt), text)
