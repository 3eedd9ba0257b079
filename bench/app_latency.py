"""How fast the dashboard feels: cold start and edit round-trip, measured in a real browser, with a clock
that stops only when every chart on the page has finished drawing.

The clock. An init script (installed in every page before Streamlit's code runs) records, in the page's
own clock (``performance.now()``):
- every Plotly draw: Plotly announces the end of each draw with ``gd.emit('plotly_afterplot')`` on the graph
  div; the script catches the assignment of ``gd.emit`` (an accessor on ``HTMLElement.prototype``) and wraps
  it, so even a draw that completes synchronously in the task that mounted the chart is seen. Each draw is
  recorded with the chart's identity: the Streamlit element key (``st-key-…`` class) of the chart, else its
  position on the page and its title. A picture a chart shows by URL (the interest map's catalogue layer)
  counts as one more draw of that chart when the browser has it loaded and decoded;
- every change of the ready marker's ``data-history`` (``#recviz-ready``), every change of Streamlit's script
  state (``data-test-script-state`` on the app root) and every click.

A view counts as drawn when the marker shows the expected history, the script has finished
(``notRunning``), no element is stale or still loading (Streamlit shows a skeleton until an element's
code has loaded), every chart on the page has drawn at least once since it was mounted (a chart whose
figure changed is remounted by Streamlit and must draw again; a chart whose figure did not change is kept
as drawn), and nothing has happened for ``QUIET_MS``. The time is the last of those events (the last draw,
the marker or the end of the script run, whichever is latest), not the moment of the check. "Browser
busy": the main thread's time in tasks over 50 ms (long tasks) from the start of the clock to its end.

Cold start: ``python -m recviz.ui.launch`` is spawned on 127.0.0.1 (a free port); timed from the server
answering its health check (and, as before, from the spawn) to the first page drawn. Edit round-trip: on a
drawn page, the history's first row is ticked and **Remove** clicked; timed from the click to the edited
view drawn. Each edit removes a different item, so every measured view is computed afresh (no session cache
hit). Per chart: when its last draw after the click ended ("kept" when the chart was not redrawn); the
tables and text have no draw event of their own, the marker (the page's last element) stands for them. The
load average (1 min) is read beside every figure. ``--details`` also times the edits with the details panel
(attributions, attention, interest health; drawn only while open) opened first.

    .venv/bin/python bench/app_latency.py [--starts 3] [--edits 5] [--user 42] [--details] [--late-chart-ms 0]

``--late-chart-ms N`` is the clock's own check: it holds back the browser's Plotly code by N ms on every
cold start (the charts draw late, the marker does not); the cold-start times must grow by about N while the
marker's time stays.

Uses the checkpoints under models/ (or $RECVIZ_MODELS_DIR) and their stored interest map.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from app_server import running_app
from playwright.sync_api import sync_playwright

from recviz.models.checkpoint import list_checkpoints
from recviz.ui.loaders import default_checkpoint

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
READY = "#recviz-ready"
DETAILS = "Why these recommendations"  # the details panel's label (recviz.ui.workbench)
WAIT_MS = 120_000
QUIET_MS = 300   # nothing drawn for this long after the last draw: the view is complete
POLL_MS = 50

# Installed before any of the page's scripts (page.add_init_script). Everything is stamped in the page clock.
CLOCK_JS = r"""
(() => {
  if (window.__recviz) return;
  const R = window.__recviz = {draws: [], clicks: [], markers: [], states: [], mounts: [], last: 0};
  const EMIT = Symbol('recvizEmit'), DRAWN = Symbol('recvizDrawn');
  const identity = (gd) => {
    for (let el = gd; el && el !== document.body; el = el.parentElement) {
      const m = (typeof el.className === 'string') && el.className.match(/(?:^|\s)st-key-([A-Za-z0-9_-]+)/);
      if (m) return m[1];
    }
    const all = Array.from(document.querySelectorAll('.js-plotly-plot'));
    const t = gd.layout && gd.layout.title;
    const title = t && (typeof t === 'string' ? t : t.text);
    return 'chart' + all.indexOf(gd) + (title ? ' (' + String(title).slice(0, 30) + ')' : '');
  };
  R.identity = identity;
  // Plotly's Events.init assigns gd.emit; the accessor wraps it, so no draw escapes, however it is scheduled.
  Object.defineProperty(HTMLElement.prototype, 'emit', {
    configurable: true,
    get() { return this[EMIT]; },
    set(fn) {
      const gd = this;
      this[EMIT] = typeof fn !== 'function' ? fn : function (name) {
        const out = fn.apply(this, arguments);
        if (name === 'plotly_afterplot') {
          const t = performance.now();
          gd[DRAWN] = t;
          R.draws.push({id: identity(gd), t});
          R.last = Math.max(R.last, t);
        }
        return out;
      };
    },
  });
  window.addEventListener('click', () => R.clicks.push(performance.now()), true);
  R.longtasks = [];  // main-thread tasks over 50 ms (where the browser's time goes)
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) R.longtasks.push([e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: true});
  } catch (e) { /* not supported: no long-task figures */ }
  let history = null, state = null, charts = new WeakSet(), pictures = new WeakMap();
  R.pictures = [];
  const watch = () => {
    const t = performance.now();
    const marker = document.querySelector('#recviz-ready');
    const h = marker ? marker.getAttribute('data-history') : null;
    if (h !== history) { history = h; R.markers.push({t, history: h}); R.last = Math.max(R.last, t); }
    const app = document.querySelector('[data-testid="stApp"]');
    const s = app ? app.getAttribute('data-test-script-state') : null;
    if (s !== state) { state = s; R.states.push({t, state: s}); R.last = Math.max(R.last, t); }
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      if (!charts.has(gd)) {
        charts.add(gd);
        R.mounts.push({id: identity(gd), t});
        R.last = Math.max(R.last, t);
      }
      // a picture in the chart (plotly layout image by URL) counts as drawn once the browser has it decoded
      for (const el of gd.querySelectorAll('image')) {
        const src = el.getAttribute('href') || el.getAttribute('xlink:href');
        if (!src || src.startsWith('data:') || (pictures.get(el) || {}).src === src) continue;
        const rec = {src, done: false};
        pictures.set(el, rec);
        R.pictures.push(rec);
        const img = new Image();
        img.src = new URL(src, document.baseURI).href;
        const done = () => {
          const now = performance.now();
          rec.done = true;
          R.draws.push({id: identity(gd), t: now, picture: true});
          R.last = Math.max(R.last, now);
        };
        img.decode().then(done, done);
      }
    }
  };
  new MutationObserver(watch).observe(document, {subtree: true, childList: true, attributes: true,
    attributeFilter: ['data-history', 'data-test-script-state', 'class', 'data-stale', 'href']});
  // The view is drawn (see the module's docstring); returns the page clock's time of the check, or null.
  R.settled = (old, quiet) => {
    watch();
    const now = performance.now();
    if (history === null || (old !== null && history === old)) return null;
    if (state !== 'notRunning') return null;
    if (document.querySelector('[data-stale="true"]')) return null;
    if (document.querySelector('[data-testid="stSkeleton"]')) return null;  // an element still loading
    for (const box of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
      const gd = box.querySelector('.js-plotly-plot');
      if (!gd || gd[DRAWN] === undefined) return null;
    }
    if (R.pictures.some((p) => !p.done)) return null;
    return now - R.last >= quiet ? now : null;
  };
  R.charts = () => Array.from(document.querySelectorAll('.js-plotly-plot')).map(identity);
})();
"""


@dataclass
class View:
    """One timed view, all times in seconds from the clock's start (the click, or the health check)."""
    total: float                      # every chart drawn and the run over (the latest of the three events)
    marker: float                     # the marker shows the new history (what the old clock measured)
    script_done: float | None         # Streamlit's script run finished (notRunning)
    charts: dict[str, float | None] = field(default_factory=dict)  # chart -> its last draw; None: kept
    busy: float = 0.0                 # the browser's main thread in tasks over 50 ms, up to the end
    load: float = 0.0                 # 1-minute load average when the view was drawn
    spawn_total: float | None = None  # cold start only: from spawning the server


def _wait_settled(page, old: str | None) -> float:
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        if page.evaluate("([old, q]) => window.__recviz.settled(old, q)", [old, QUIET_MS]) is not None:
            return time.monotonic()
        page.wait_for_timeout(POLL_MS)
    raise TimeoutError(f"the page was not drawn within {WAIT_MS / 1000:.0f} s")


def _view(page, since_ms: float, old: str | None) -> View:
    """The view drawn after ``since_ms`` (page clock), timed from there."""
    _wait_settled(page, old)
    rec = page.evaluate("() => ({draws: __recviz.draws, markers: __recviz.markers, states: __recviz.states,"
                        " charts: __recviz.charts(), longtasks: __recviz.longtasks})")
    draws = [d for d in rec["draws"] if d["t"] > since_ms]
    marker = next(m["t"] for m in rec["markers"] if m["t"] > since_ms and m["history"] is not None
                  and m["history"] != old)
    done = [s["t"] for s in rec["states"] if s["t"] > since_ms and s["state"] == "notRunning"]
    charts: dict[str, float | None] = {}
    for chart in rec["charts"]:
        times = [d["t"] for d in draws if d["id"] == chart]
        charts[chart] = (max(times) - since_ms) / 1000 if times else None
    end = max([marker, *done[-1:], *(d["t"] for d in draws)])
    return View(total=(end - since_ms) / 1000, marker=(marker - since_ms) / 1000,
                script_done=(done[-1] - since_ms) / 1000 if done else None, charts=charts,
                busy=sum(max(0.0, min(t + d, end) - max(t, since_ms)) for t, d in rec["longtasks"]) / 1000,
                load=os.getloadavg()[0])


def _history(page) -> str:
    return page.evaluate("(sel) => document.querySelector(sel).getAttribute('data-history')", READY) or ""


def _new_page(browser, late_chart_ms: int = 0):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.add_init_script(CLOCK_JS)
    if late_chart_ms:
        held: list[tuple[float, object]] = []
        page.route("**/PlotlyChart*.js", lambda route: held.append((time.monotonic(), route)))
        page._recviz_held = held  # released by _release (the sync API cannot sleep inside a handler)
    return page


def _release(page, late_chart_ms: int) -> None:
    held = getattr(page, "_recviz_held", None)
    while held is not None and held and time.monotonic() - held[0][0] >= late_chart_ms / 1000:
        held.pop(0)[1].continue_()


def cold_start(browser, env: dict[str, str], query: str, late_chart_ms: int = 0) -> tuple[float, View]:
    """(seconds to a healthy server, the first page timed from the health check). The browser tab (a fresh
    context: nothing cached) is open before the server starts, as a user's browser would be."""
    page = _new_page(browser, late_chart_ms)
    with running_app(env) as app:
        healthy_epoch_ms = (time.time() - (time.perf_counter() - app.started_at - app.healthy_after)) * 1000
        page.goto(f"{app.url}/{query}", wait_until="domcontentloaded")
        if late_chart_ms:  # poll here so the held script can be released while waiting
            while page.evaluate("(q) => window.__recviz.settled(null, q)", QUIET_MS) is None:
                _release(page, late_chart_ms)
                page.wait_for_timeout(POLL_MS)
        origin = page.evaluate("() => performance.timeOrigin")
        view = _view(page, healthy_epoch_ms - origin, None)
        view.spawn_total = view.total + app.healthy_after
        page.close()
        return app.healthy_after, view


def _open_details(page) -> None:
    """Open the details panel (attributions, attention, health: drawn only while open) and wait for it."""
    before = page.evaluate("() => performance.now()")
    page.get_by_text(DETAILS, exact=False).first.click()
    page.wait_for_function("(t) => __recviz.states.some((s) => s.t > t && s.state === 'running')", arg=before,
                           timeout=WAIT_MS)
    _wait_settled(page, None)


def edit_round_trips(browser, env: dict[str, str], query: str, edits: int, details: bool = False
                     ) -> list[View]:
    """Each edit: from the click on Remove to the edited view drawn, for ``edits`` successive removals;
    with ``details``, the details panel is opened first (its charts are then redrawn on every edit)."""
    views = []
    with running_app(env) as app:
        page = _new_page(browser)
        page.goto(f"{app.url}/{query}")
        _view(page, 0.0, None)
        if details:
            _open_details(page)
        history = _history(page)
        remove = page.get_by_role("button", name="Remove", exact=True)
        for _ in range(edits):
            grid = page.locator('[data-testid="stDataFrame"]').first
            grid.scroll_into_view_if_needed()
            box = grid.bounding_box()
            page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # tick the first row
            page.wait_for_function("(el) => !el.disabled", arg=remove.element_handle(), timeout=WAIT_MS)
            page.wait_for_function("() => __recviz.settled(null, 0) !== null", timeout=WAIT_MS)
            remove.click()
            click = page.evaluate("() => __recviz.clicks[__recviz.clicks.length - 1]")
            view = _view(page, click, history)
            views.append(view)
            history = _history(page)
        page.close()
    return views


def _median(values) -> str:
    values = [v for v in values if v is not None]
    return f"{statistics.median(values):.3f}" if values else "-"


def _report(title: str, views: list[View]) -> None:
    print(f"\n{title}")
    charts = list(dict.fromkeys(c for v in views for c in v.charts))
    header = ["run", "load", "all drawn", "marker", "script done", "browser busy", *charts]
    rows = [[str(i + 1), f"{v.load:.2f}", f"{v.total:.3f}", f"{v.marker:.3f}",
             "-" if v.script_done is None else f"{v.script_done:.3f}", f"{v.busy:.3f}",
             *("kept" if v.charts.get(c) is None and c in v.charts else
               ("-" if c not in v.charts else f"{v.charts[c]:.3f}") for c in charts)]
            for i, v in enumerate(views)]
    rows.append(["median", _median(v.load for v in views), _median(v.total for v in views),
                 _median(v.marker for v in views), _median(v.script_done for v in views),
                 _median(v.busy for v in views),
                 *(_median(v.charts.get(c) for v in views) for c in charts)])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  " + "  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=3, help="cold starts to time")
    parser.add_argument("--edits", type=int, default=5, help="edits to time")
    parser.add_argument("--user", type=int, default=None, help="user to open (default: the app's first user)")
    parser.add_argument("--ckpt", default=None, help="checkpoint directory name to open (default: the app's)")
    parser.add_argument("--late-chart-ms", type=int, default=0,
                        help="check the clock: hold the browser's Plotly code back this long on cold starts")
    parser.add_argument("--details", action="store_true",
                        help="also time the edits with the details panel open (its charts redrawn too)")
    args = parser.parse_args()

    models = os.environ.get("RECVIZ_MODELS_DIR") or "models"
    checkpoints = list_checkpoints(models)
    if not checkpoints:
        raise SystemExit(f"no checkpoint under {models}; train one first")
    params = {"ckpt": args.ckpt, "user": args.user}
    query = "?" + "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"RECVIZ_MODELS_DIR": str(Path(models).resolve()), "RECVIZ_SCENARIOS": f"{tmp}/s.sqlite"}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                starts = [cold_start(browser, env, query, args.late_chart_ms) for _ in range(args.starts)]
                edits = edit_round_trips(browser, env, query, args.edits) if args.edits else []
                opened = (edit_round_trips(browser, env, query, args.edits, details=True)
                          if args.edits and args.details else [])
            finally:
                browser.close()
    load_after = os.getloadavg()
    healthy = [h for h, _ in starts]
    views = [v for _, v in starts]
    name = args.ckpt or default_checkpoint([c.name for c in checkpoints])
    print(f"checkpoint            {name} (map stored: {(Path(models) / name / 'map.npz').exists()})")
    print(f"user                  {args.user if args.user is not None else 'first'}")
    print(f"date (UTC)            {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}")
    print(f"cpu cores             {os.cpu_count()}   load average before "
          f"{' '.join(f'{x:.2f}' for x in load_before)} → after {' '.join(f'{x:.2f}' for x in load_after)}")
    if args.late_chart_ms:
        print(f"clock check           the browser's Plotly code held back {args.late_chart_ms} ms per start")
    print(f"server healthy        median {statistics.median(healthy):.2f} s over {len(healthy)} starts")
    if views:
        print(f"cold start → drawn    median {statistics.median(v.total for v in views):.2f} s from healthy, "
              f"{statistics.median(v.spawn_total for v in views):.2f} s from spawn "
              f"(max {max(v.total for v in views):.2f} s; marker {_median(v.marker for v in views)} s)")
        _report("cold start, seconds from the health check (chart: its last draw)", views)
    if edits:
        print(f"edit → all drawn      median {statistics.median(v.total for v in edits):.3f} s, "
              f"max {max(v.total for v in edits):.3f} s (marker {_median(v.marker for v in edits)} s)")
        _report("edit, seconds from the click (chart: its last draw; kept: not redrawn)", edits)
    if opened:
        print(f"\nedit, details open   median {statistics.median(v.total for v in opened):.3f} s, "
              f"max {max(v.total for v in opened):.3f} s (marker {_median(v.marker for v in opened)} s)")
        _report("edit with the details panel open, seconds from the click", opened)


if __name__ == "__main__":
    main()
