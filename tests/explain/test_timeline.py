"""Interests over time: the windows cover the whole history, the batched forward equals one forward per
window, the newest window is what the workbench explains, appear/peak/fade follow their definitions, routing
models' slots are aligned across windows, and the timeline's figure, reports and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from recviz.cli import app
from recviz.config import ExplainSettings
from recviz.errors import ConfigError
from recviz.explain import explain
from recviz.explain.edits import HistoryEdits
from recviz.explain.timeline import (
    Timeline,
    align_slots,
    interest_timeline,
    user_timeline,
    window_bounds,
    window_forward,
)
from recviz.explain.users import user_history
from recviz.models.checkpoint import load_checkpoint
from recviz.models.scoring import pad_histories
from recviz.report.timeline import render_timeline_html, render_timeline_json, write_timeline
from recviz.viz.timeline import resolve_axis, timeline_figure

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "comirec-sa-ml-latest-small"
LONG_USER, LONG_LENGTH = 564, 1_868  # the sample's long history


def test_window_bounds_tile_from_the_newest_item() -> None:
    assert window_bounds(120, 50) == [(0, 50), (20, 70), (70, 120)]
    assert window_bounds(100, 50) == [(0, 50), (50, 100)]
    assert window_bounds(30, 50) == [(0, 30)] and window_bounds(0, 50) == []
    assert window_bounds(120, 50, stride=40) == [(0, 50), (30, 80), (70, 120)]
    with pytest.raises(ConfigError, match="stride"):
        window_bounds(120, 50, stride=60)


@pytest.fixture(scope="module")
def shipped():
    if not (SHIPPED / "config.json").is_file():
        pytest.skip(f"{SHIPPED} is not trained yet")
    return load_checkpoint(SHIPPED)


@pytest.fixture(scope="module")
def long_timeline(shipped) -> Timeline:
    return user_timeline(shipped, LONG_USER)


def test_windows_cover_every_item_of_a_long_history(shipped, long_timeline) -> None:
    tl, window = long_timeline, shipped.model.max_length
    assert len(tl.item_ids) == LONG_LENGTH and tl.item_ids == user_history(shipped, LONG_USER).item_ids
    covered = np.zeros(LONG_LENGTH, dtype=int)
    for start, end in tl.windows:
        assert end - start == window
        covered[start:end] += 1
    assert covered.min() >= 1  # every item is read by some window
    assert tl.windows[-1] == [LONG_LENGTH - window, LONG_LENGTH]  # the newest is what the model reads now
    assert np.asarray(tl.attention).shape == (shipped.model.num_interests, LONG_LENGTH)
    assert tl.alignment == "fixed" and all(m == list(range(4)) for m in tl.slot_maps)
    assert tl.dated() and tl.timestamps == user_history(shipped, LONG_USER).timestamps


def test_batched_forward_equals_one_forward_per_window(shipped, long_timeline) -> None:
    dense = shipped.vocab.encode(long_timeline.item_ids)
    windows = [dense[s:e] for s, e in long_timeline.windows]
    batched, vectors = window_forward(shipped.model, windows, with_vectors=True)  # [W, K, L], [W, K, d]
    for w, window in enumerate(windows):
        items, mask = pad_histories([window], shipped.model.max_length)
        with torch.no_grad():
            alone = shipped.model.attention(items, mask)[0].double().numpy()  # [K, L]
            vector = shipped.model.interests(items, mask)[0].double().numpy()  # [K, d]
        np.testing.assert_allclose(batched[w], alone, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(vectors[w], vector, rtol=1e-5, atol=1e-6)


def test_the_newest_window_is_the_explained_attention(shipped, long_timeline) -> None:
    tl = long_timeline
    exp = explain(shipped, tl.item_ids, ExplainSettings(methods=(), num_targets=0))
    start, end = tl.windows[-1]
    newest = np.asarray(tl.attention)[:, start:end] / (end - start)  # [K, L]: read by this window only
    np.testing.assert_allclose(newest, [i.attention for i in exp.interests], rtol=1e-5, atol=1e-8)


def test_appears_peaks_and_fades_follow_their_definitions(long_timeline) -> None:
    tl = long_timeline
    smoothed = np.asarray(tl.smoothed)
    assert tl.threshold == pytest.approx(max(1.0, float(np.percentile(smoothed, 95))))
    newest = tl.windows[-1][0]
    for phase, row in zip(tl.phases, smoothed, strict=True):
        assert phase.peaks == int(np.argmax(row)) and phase.peaks_at == tl.timestamps[phase.peaks]
        above = np.flatnonzero(row > tl.threshold)
        if phase.appears is None:
            assert not len(above) and phase.fades is None
            continue
        assert phase.appears == above[0] and (row[: phase.appears] <= tl.threshold).all()
        assert phase.active_now == (above[-1] >= newest)
        if not phase.active_now:
            assert phase.fades == above[-1] and (row[phase.fades + 1:] <= tl.threshold).all()
        assert phase.appears <= phase.peaks


def test_routing_slots_are_matched_to_the_newest_window(checkpoints, long_user) -> None:
    rng = np.random.default_rng(0)
    final = rng.normal(size=(4, 8))
    perms = [[1, 2, 3, 0], [3, 2, 0, 1]]  # slot j of window w holds the final window's interest perms[w][j]
    vectors = np.stack([final[p] + 0.01 * rng.normal(size=(4, 8)) for p in perms] + [final])
    # maps[w][k]: the slot of window w holding the final window's interest k
    assert align_slots(vectors) == [np.argsort(p).tolist() for p in perms] + [[0, 1, 2, 3]]

    ckpt = checkpoints["comirec-dr"]
    tl = user_timeline(ckpt, long_user, stride=10)
    assert tl.alignment == "matched" and tl.slot_maps[-1] == [0, 1, 2, 3]
    assert all(sorted(m) == [0, 1, 2, 3] for m in tl.slot_maps) and "matched" in tl.notices[-1]


def test_edits_model_without_attention_and_empty_history(checkpoints, sequences) -> None:
    user = sequences.users()[4]
    seq = sequences.items[user]
    ckpt = checkpoints["comirec-sa"]
    extra = next(i for i in ckpt.vocab.raw_ids if i not in seq)
    tl = user_timeline(ckpt, user, HistoryEdits.from_lists(remove=[seq[0]], add=[extra]))
    assert tl.item_ids == seq[1:] + [extra] and tl.timestamps[-1] is None and not tl.dated()
    assert resolve_axis(tl) == "order"

    flat = user_timeline(checkpoints["popularity"], user)
    assert not flat.has_attention and not flat.phases and "no attention" in flat.notices[-1]
    assert "no attention" in json.dumps(timeline_figure(flat).to_dict())
    empty = interest_timeline(ckpt, [])
    assert empty.windows == [] and "empty" in empty.notices[-1]
    with pytest.raises(ConfigError, match="smoothing"):
        interest_timeline(ckpt, seq, smoothing=0)


def test_figure_reports_and_cli(shipped, long_timeline, tmp_path) -> None:
    tl = long_timeline
    figure = timeline_figure(tl)
    lines = [t for t in figure.data if t.mode == "lines"]
    assert len(lines) == 4 and len(lines[0].x) == LONG_LENGTH
    assert resolve_axis(tl) == "order"  # user 564 rated most of the history on two days
    assert str(timeline_figure(tl, "time").data[0].x[0]).startswith("2000-11-20")
    text = render_timeline_json(tl)
    assert Timeline.from_json(text).to_json() + "\n" == text
    page = render_timeline_html(tl)
    assert 'id="timeline"' in page and "fig-timeline" in page and "Appears" in page
    written = write_timeline(tl, tmp_path, "json")
    assert written.name == "recviz-timeline-comirec-sa-ml-latest-small-user564.json"

    out = tmp_path / "tl.json"
    result = CliRunner().invoke(app, ["timeline", "--checkpoint", str(shipped.path), "--user", str(LONG_USER),
                                      "--out", str(out), "--format", "json", "--smoothing", "5"])
    assert result.exit_code == 0, result.output
    written = Timeline.from_json(out.read_text())
    assert written.smoothing == 5 and len(written.windows) == len(tl.windows)
    assert "38 windows" in result.output
