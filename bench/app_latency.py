"""How fast the dashboard feels: cold start and edit round-trip, measured in a real browser.

Cold start: `streamlit run app.py` is spawned on 127.0.0.1 (a free port); the clock runs from the spawn
until Debian's Chromium (through Playwright) shows the workbench's ready marker, i.e. every panel of the
first view has rendered. Edit round-trip: on a warm page, one history row is ticked and removed; the clock
runs from the click on Remove until the marker reports the edited history (the whole page re-rendered).
Each edit removes a different item, so every measured view is computed afresh (no session cache hit).

    .venv/bin/python bench/app_latency.py [--starts 3] [--edits 5] [--user 15]

Uses the checkpoints under models/ (or $RECVIZ_MODELS_DIR) and their stored interest map.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from app_server import running_app
from playwright.sync_api import sync_playwright

from recviz.models.checkpoint import list_checkpoints
from recviz.ui.loaders import default_checkpoint

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
READY = "#recviz-ready"
WAIT_MS = 120_000


def _history(page) -> str:
    return (page.wait_for_selector(READY, state="attached", timeout=WAIT_MS).get_attribute("data-history")
            or "")


def _changed(page, old: str) -> None:
    page.wait_for_function(
        "([sel, old]) => { const e = document.querySelector(sel); "
        "return e && e.getAttribute('data-history') !== old; }",
        arg=[READY, old], timeout=WAIT_MS,
    )


def cold_start(browser, env: dict[str, str], query: str) -> tuple[float, float]:
    """(seconds to a healthy server, seconds from spawn to the first full render)."""
    with running_app(env) as app:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{app.url}/{query}")
        _history(page)
        total = time.perf_counter() - app.started_at
        page.close()
        return app.healthy_after, total


def edit_round_trips(browser, env: dict[str, str], query: str, edits: int) -> list[float]:
    """Seconds from clicking Remove to the re-rendered page, for ``edits`` successive removals."""
    times = []
    with running_app(env) as app:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{app.url}/{query}")
        history = _history(page)
        remove = page.get_by_role("button", name="Remove", exact=True)
        for _ in range(edits):
            box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
            page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # tick the first row
            page.wait_for_function("(el) => !el.disabled", arg=remove.element_handle(), timeout=WAIT_MS)
            start = time.perf_counter()
            remove.click()
            _changed(page, history)
            times.append(time.perf_counter() - start)
            history = _history(page)
            page.wait_for_timeout(300)  # let the last charts settle before the next click
        page.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=3, help="cold starts to time")
    parser.add_argument("--edits", type=int, default=5, help="edits to time")
    parser.add_argument("--user", type=int, default=None, help="user to open (default: the app's first user)")
    parser.add_argument("--ckpt", default=None, help="checkpoint directory name to open (default: the app's)")
    args = parser.parse_args()

    models = os.environ.get("RECVIZ_MODELS_DIR") or "models"
    checkpoints = list_checkpoints(models)
    if not checkpoints:
        raise SystemExit(f"no checkpoint under {models}; train one first")
    params = {"ckpt": args.ckpt, "user": args.user}
    query = "?" + "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"RECVIZ_MODELS_DIR": str(Path(models).resolve()), "RECVIZ_SCENARIOS": f"{tmp}/s.sqlite"}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                starts = [cold_start(browser, env, query) for _ in range(args.starts)]
                edits = edit_round_trips(browser, env, query, args.edits)
            finally:
                browser.close()
    healthy, total = zip(*starts, strict=True)
    name = args.ckpt or default_checkpoint([c.name for c in checkpoints])
    print(f"checkpoint            {name} (map stored: {(Path(models) / name / 'map.npz').exists()})")
    print(f"user                  {args.user if args.user is not None else 'first'}")
    print(f"cpu cores             {os.cpu_count()}   load average {os.getloadavg()[0]:.2f}")
    print(f"server healthy        median {statistics.median(healthy):.2f} s over {len(healthy)} starts")
    print(f"cold start → render   median {statistics.median(total):.2f} s, max {max(total):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in total)})")
    print(f"edit → full refresh   median {statistics.median(edits):.3f} s, max {max(edits):.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in edits)})")


if __name__ == "__main__":
    main()
