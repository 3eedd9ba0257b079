"""End to end: `streamlit run app.py` on 127.0.0.1, driven by Debian's Chromium through Playwright.

Picks a user, removes a history item, sees the recommendations change, downloads the report and saves a
screenshot (to test-artifacts/, and to docs/screenshot.png when RECVIZ_UPDATE_SCREENSHOT=1).
Never runs `playwright install`: the browser is /usr/bin/chromium (`apt-get install chromium`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from app_server import running_app  # bench/app_server.py, on the path from conftest.py
from e2e_helpers import CHROMIUM, browser_or_skip

from recviz.explain.projection import MAP_NPZ
from recviz.models.checkpoint import list_checkpoints
from recviz.ui.loaders import default_checkpoint

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
READY = "#recviz-ready"
WAIT_MS = 90_000
USER = 42  # a mid-length history (70 items) whose interests are distinct on the shipped ComiRec-SA


def _marker(page) -> dict[str, str]:
    element = page.wait_for_selector(READY, state="attached", timeout=WAIT_MS)
    return {k: element.get_attribute(f"data-{k}") or "" for k in ("fused", "scores", "history")}


def _wait_for_change(page, attribute: str, old: str) -> None:
    page.wait_for_function(
        "([sel, attr, old]) => { const e = document.querySelector(sel); "
        "return e && e.getAttribute(attr) !== old; }",
        arg=[READY, f"data-{attribute}", old], timeout=WAIT_MS,
    )


def test_pick_user_edit_history_download_report(tmp_path: Path) -> None:
    browser_or_skip()
    from playwright.sync_api import sync_playwright

    models = Path(os.environ.get("RECVIZ_MODELS_DIR") or REPO / "models")
    checkpoints = list_checkpoints(models)
    assert checkpoints, f"no checkpoint under {models}: the browser test runs on the shipped model"
    by_name = {c.name: c for c in checkpoints}
    default = by_name[default_checkpoint(list(by_name))]
    shown = next((c for c in [default, *checkpoints] if (c / MAP_NPZ).exists()), default)  # one with its map
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    env = {"RECVIZ_MODELS_DIR": str(models), "RECVIZ_SCENARIOS": str(tmp_path / "scenarios.sqlite")}
    with running_app(env, log=artifacts / "e2e-server.log") as app, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
            pictures: list[str] = []  # requests for the map's catalogue picture (a static file)
            page.on("request", lambda r: pictures.append(r.url) if "/app/static/maps/" in r.url else None)
            page.goto(f"{app.url}/?ckpt={shown.name}")
            first = _marker(page)

            # pick a user: type the id into the sidebar's user box
            user_box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
                has_text="User")
            user_box.click()
            page.keyboard.type(str(USER))
            page.keyboard.press("Enter")
            _wait_for_change(page, "history", first["history"])
            picked = _marker(page)
            assert page.get_by_role("heading", name=f"user {USER}").count() == 1

            # remove the first item of the table: tick its row box, then Remove
            grid = page.locator('[data-testid="stDataFrame"]').first
            box = grid.bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # first row's box (header row is 35 px)
            remove = page.get_by_role("button", name="Remove", exact=True)
            remove.wait_for(state="visible")
            page.wait_for_function("(el) => !el.disabled", arg=remove.element_handle(), timeout=WAIT_MS)
            remove.click()
            _wait_for_change(page, "history", picked["history"])
            edited = _marker(page)
            before, after = picked["history"].split(","), edited["history"].split(",")
            [removed] = [i for i in before if i not in after]
            assert len(after) == len(before) - 1 and f"edit=-{removed}" in page.url
            assert (edited["fused"], edited["scores"]) != (picked["fused"], picked["scores"])
            assert f"user={USER}" in page.url
            # three views (first user, picked user, edit), one fetch of the catalogue picture: an edit sends
            # and draws only the map's small overlay (tests/ui/test_edit_cost.py checks the figure itself)
            page.wait_for_timeout(500)
            assert len(pictures) == 1 and pictures[0].endswith(".png"), pictures

            # download the HTML report of this view
            with page.expect_download(timeout=WAIT_MS) as download:
                page.get_by_role("button", name="HTML", exact=True).click()
            saved = artifacts / download.value.suggested_filename
            download.value.save_as(saved)
            text = saved.read_text(encoding="utf-8")
            assert text.lstrip().lower().startswith("<!doctype html") and f"-user{USER}-edited-" in saved.name

            page.mouse.move(0, 0)  # no tooltip in the picture
            page.set_viewport_size({"width": 1500, "height": 1400})
            page.wait_for_timeout(1500)  # let plotly finish drawing at the new size
            shot = artifacts / "workbench.png"
            page.screenshot(path=str(shot))
            page.set_viewport_size({"width": 1500, "height": 3800})
            page.wait_for_timeout(1500)
            page.screenshot(path=str(artifacts / "workbench-full.png"), full_page=True)
            assert shot.stat().st_size > 50_000
            if os.environ.get("RECVIZ_UPDATE_SCREENSHOT") == "1":
                shutil.copyfile(shot, REPO / "docs" / "screenshot.png")

            # one counterfactual: open the details panel, its Counterfactual tab, search, and see the verdict
            page.set_viewport_size({"width": 1600, "height": 1000})
            page.get_by_text("Why these recommendations", exact=False).first.click()
            page.get_by_role("tab", name="Counterfactual").click()
            page.get_by_role("button", name="Find the smallest removal").click()
            verdict = page.locator('[data-testid="stAlert"]').filter(has_text="top").first
            verdict.wait_for(state="visible", timeout=WAIT_MS)
            assert page.get_by_role("button", name="Apply this edit").count() <= 1

            # one comparison: a link naming a second user opens the Compare tab's metrics
            page.goto(f"{app.url}/?ckpt={shown.name}&user={USER}&vs=15")
            _marker(page)
            page.get_by_text("Why these recommendations", exact=False).first.click()
            page.get_by_role("tab", name="Compare").click()
            page.get_by_text("Rank-biased overlap").first.wait_for(state="visible", timeout=WAIT_MS)
            assert page.get_by_text("Shared recommendations").count() >= 1

            # the Population page: the population of the checkpoint, or the command that makes one
            page.goto(f"{app.url}/population")
            page.get_by_text("Collapse rate").or_(page.get_by_text("No population run")).first.wait_for(
                state="visible", timeout=WAIT_MS)
            assert page.locator('[data-testid="stException"]').count() == 0
            server_log = (artifacts / "e2e-server.log").read_text(encoding="utf-8", errors="replace")
            assert "Traceback" not in server_log
        finally:
            browser.close()
