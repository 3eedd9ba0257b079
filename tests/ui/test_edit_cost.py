"""The structure that keeps an edit cheap (issue #10: every panel redrawn within 0.5 s of an edit), checked
in AppTest so that a later change cannot quietly bring the slow path back:

- the map an edit sends is a small SVG overlay (no WebGL trace, a few kB) over the catalogue picture,
  which is drawn once per checkpoint map and referenced by one static URL the browser fetches once;
- the first page draws one chart (the map) and two data grids (the history, which is selectable, and the
  fused list): the details panel is drawn only when opened and the interests' lists are plain HTML;
- Streamlit does not run a full garbage collection after every script run (0.25 s, twice per edit).

bench/app_latency.py measures the times these buy in a real browser; tests/e2e/test_browser.py checks that
the browser fetches the picture once.
"""

from __future__ import annotations

import json
import tomllib

import pytest
from ui_helpers import REPO, assert_healthy, history_ids, new_app, select_history_rows

from recviz.ui import launch, loaders

MAX_MAP_JSON = 40_000  # bytes of the map figure sent per view: about 11 kB; the WebGL catalogue was 316 kB


def _map_spec(at) -> dict:
    [chart] = at.get("plotly_chart")
    assert chart.key == "interest_map"
    assert len(chart.proto.spec) < MAX_MAP_JSON, f"the map sent on a view is {len(chart.proto.spec):,} bytes"
    return json.loads(chart.proto.spec)


def test_an_edit_sends_a_small_svg_overlay_over_one_cached_picture(app_env, short_users,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = []
    real = loaders.catalogue_raster
    monkeypatch.setattr(loaders, "catalogue_raster", lambda item_map: drawn.append(1) or real(item_map))
    loaders._item_map.clear()
    at = new_app({"user": str(short_users[0])})
    specs = [_map_spec(at)]
    for _ in range(2):  # two edits, each a new view
        before = history_ids(at)
        select_history_rows(at, [0])
        at.button(key="remove_btn").click().run()
        assert_healthy(at)
        assert history_ids(at) != before
        specs.append(_map_spec(at))
    assert drawn == [1]  # the picture is drawn once per checkpoint map, not per view
    sources = set()
    for spec in specs:
        assert {trace["type"] for trace in spec["data"]} == {"scatter"}  # SVG only: no WebGL on an edit
        [image] = spec["layout"]["images"]
        sources.add(image["source"])
    [source] = sources  # one URL for every view: fetched once, then cached by the browser
    assert source.startswith("app/static/maps/") and source.endswith(".png")
    stored = loaders.item_map(loaders.checkpoint(loaders.checkpoint_paths()[at.selectbox(key="w_checkpoint")
                                                                              .value]))
    served = loaders.STATIC_DIR / source.removeprefix("app/static/")
    assert served.read_bytes() == stored.raster.raster.png


def test_the_first_page_draws_one_chart_and_two_grids(app_env, short_users) -> None:
    at = new_app({"user": str(short_users[0])})
    assert_healthy(at)
    assert [c.key for c in at.get("plotly_chart")] == ["interest_map"]  # the details panel is closed
    keys = [d.key or "" for d in at.dataframe]
    assert len(keys) == 2 and keys[0].startswith("history_table")  # history and the fused list only
    assert any("recviz-lists" in h.proto.body for h in at.get("html"))  # the interests' lists, as HTML


def test_no_full_garbage_collection_after_every_script_run() -> None:
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["postScriptGC"] is False
    assert config["server"]["enableStaticServing"] is True
    defaults = dict(zip(launch.SERVER_DEFAULTS[::2], launch.SERVER_DEFAULTS[1::2], strict=True))
    assert defaults == {"--server.enableStaticServing": "true", "--runner.postScriptGC": "false"}
