"""Interests over time: each interest's attention along a user's *whole* history, not just the window the
model reads.

**Windows.** The model reads at most ``max_length`` items. The history is tiled with windows of that length
from the newest item backwards, ``stride`` items apart (default: the window length, so windows do not
overlap except the oldest, which is the first ``max_length`` items); every item is in at least one window and
the newest window is exactly what the model reads now (what the workbench explains). All windows go through
the model in one batch (one ``attention`` call, plus one ``interests`` call when slots are matched).

**Relative attention.** A window's attention row sums to 1 over its items, so a value is scaled by the
window's length: 1.0 is the uniform share, 3.0 three times it. An item read by several windows gets the mean.
The curve shown is that value smoothed by a centred moving average over ``smoothing`` items.

**Appears, peaks, fades.** An interest *appears* at the first item where its smoothed relative attention
exceeds ``threshold``, *peaks* at its maximum, and *fades* at the last item above the threshold, unless it is
above it somewhere in the newest window (``active_now``: it has not faded). One that never exceeds the
threshold never stands out (``appears`` is None). The threshold defaults to the 95th percentile of all the
timeline's smoothed values, and never less than 1 (the uniform share): fixed values do not carry across
models (ComiRec-SA's heads put 10× the uniform share on a few items, ComiRec-DR's routing rarely 2×).
Attention is normalised within each window, so every interest attends *somewhere* in every window; a model
whose heads attend sharply everywhere shows its interests active throughout, which is what it does.

**Slot identity across windows.** ComiRec-SA's interests are fixed attention heads (rows of ``W2``), so
slot k is the same interest in every window (``alignment = "fixed"``; also for single-interest models).
Dynamic routing (ComiRec-DR / MIND) forms its capsules anew for every window and nothing ties capsule k of
one window to capsule k of another, so each window's slots are matched to the newest window's by the
Hungarian algorithm on the cosine of their interest vectors (``alignment = "matched"``, ``slot_maps`` records
each window's permutation). Either way interest k here is interest k of the workbench.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from recviz.errors import ConfigError
from recviz.explain.edits import NO_EDITS, HistoryEdits
from recviz.explain.labels import dominant_genres, interest_label
from recviz.explain.projection import unit_rows
from recviz.explain.types import SchemaError
from recviz.explain.users import user_history
from recviz.models.base import NoAttentionError
from recviz.models.checkpoint import Checkpoint
from recviz.models.scoring import pad_histories

TIMELINE_SCHEMA = 1
DEFAULT_SMOOTHING = 15         # items in the moving average
THRESHOLD_QUANTILE = 95        # default threshold: this percentile of the timeline's smoothed values
FIXED_SLOTS = ("comirec-sa",)  # models whose interest k is the same parameters (attention head) everywhere
Alignment = Literal["fixed", "matched"]


@dataclass
class InterestPhase:
    """When one interest appears, peaks and fades (history positions, 0 = oldest, and their timestamps)."""

    interest: int
    label: str
    peaks: int
    peak_value: float                  # smoothed relative attention at the peak
    appears: int | None = None         # None: never above the threshold
    fades: int | None = None           # None: never above it, or still active in the newest window
    active_now: bool = False           # above the threshold somewhere in the window the model reads now
    appears_at: int | None = None      # Unix seconds, where the item has a timestamp
    peaks_at: int | None = None
    fades_at: int | None = None


@dataclass
class Timeline:
    """Every interest's attention along a whole history (lists indexed by history position, oldest first)."""

    model_name: str
    checkpoint: str
    checkpoint_hash: str
    user_id: int | None
    item_ids: list[int]                # the whole history the model knows
    titles: list[str]
    timestamps: list[int | None]       # Unix seconds; None for items without one (added by an edit)
    window: int                        # the model's max_length
    stride: int
    windows: list[list[int]]           # [start, end) positions, oldest first; the last is read now
    alignment: Alignment
    slot_maps: list[list[int]]         # [W][K]: aligned interest k is slot slot_maps[w][k] of window w
    attention: list[list[float]]       # [K][T] relative attention (1 = the uniform share)
    smoothed: list[list[float]]        # [K][T]
    smoothing: int
    threshold: float | None            # None until there is a curve (empty history, no attention)
    phases: list[InterestPhase]
    has_attention: bool = True
    notices: list[str] = field(default_factory=list)
    schema_version: int = TIMELINE_SCHEMA

    @property
    def num_interests(self) -> int:
        return len(self.attention)

    def dated(self) -> bool:
        """Whether every item has a timestamp (the figure's x-axis is then time, else history position)."""
        return bool(self.timestamps) and all(t is not None for t in self.timestamps)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Timeline:
        """The Timeline ``to_json`` wrote; :class:`SchemaError` for anything else."""
        try:
            obj = json.loads(text)
            if not isinstance(obj, dict) or obj.get("schema_version") != TIMELINE_SCHEMA:
                raise SchemaError(f"not a recviz timeline of schema version {TIMELINE_SCHEMA}; re-create it "
                                  "with this version of recviz")
            return cls(**{**obj, "phases": [InterestPhase(**p) for p in obj["phases"]]})
        except json.JSONDecodeError as exc:
            raise SchemaError(f"not a timeline: invalid JSON ({exc})") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"malformed timeline JSON: {exc!r}") from None


# ------------------------------------------------------------------------------------------ the pieces


def window_bounds(length: int, window: int, stride: int | None = None) -> list[tuple[int, int]]:
    """[start, end) of the windows tiling ``length`` items, oldest first: the newest ends at ``length``,
    each older one ``stride`` (default ``window``) items earlier, the oldest starts at 0."""
    stride = window if stride is None else int(stride)
    if window < 1 or not 1 <= stride <= window:
        raise ConfigError(f"the stride must be between 1 and the window ({window} items), got {stride}")
    bounds = []
    end = length
    while length > 0:
        start = max(0, end - window)
        bounds.append((start, start + min(window, length)) if start == 0 else (start, end))
        if start == 0:
            break
        end -= stride
    return bounds[::-1]


def window_forward(model, windows: Sequence[Sequence[int]], with_vectors: bool = False
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    """Attention [W, K, L] (and interest vectors [W, K, d] when ``with_vectors``) of dense-id windows, as one
    padded batch through the model; padding positions are 0. Raises NoAttentionError without attention."""
    items, mask = pad_histories(windows, model.max_length)  # [W, L]
    with torch.no_grad():
        attention = model.attention(items, mask)  # [W, K, L]
        vectors = model.interests(items, mask) if with_vectors else None  # [W, K, d]
    return (attention.double().numpy(), None if vectors is None else vectors.double().numpy())


def align_slots(vectors: np.ndarray) -> list[list[int]]:
    """For each window's interest vectors (``vectors`` [W, K, d]), the permutation matching them to the last
    window's: ``maps[w][k]`` is the slot of window w paired with slot k of the last window (Hungarian
    matching, maximising the summed cosine)."""
    from scipy.optimize import linear_sum_assignment  # lazy: 0.5 s of import the app start skips

    reference = unit_rows(vectors[-1])  # [K, d]
    maps = []
    for window in vectors:
        _, cols = linear_sum_assignment(reference @ unit_rows(window).T, maximize=True)  # rows are 0..K-1
        maps.append([int(c) for c in cols])
    return maps


def smooth(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over the last axis of [K, T] with ``width`` items (fewer at the edges)."""
    if width <= 1 or values.shape[-1] == 0:
        return values.copy()
    kernel = np.ones(int(width))
    counts = np.convolve(np.ones(values.shape[-1]), kernel, mode="same")  # [T]
    return np.stack([np.convolve(row, kernel, mode="same") for row in values]) / counts  # [K, T]


def phases(smoothed: np.ndarray, threshold: float, newest: int, labels: Sequence[str],
           timestamps: Sequence[int | None]) -> list[InterestPhase]:
    """Appears / peaks / fades of each row of ``smoothed`` [K, T]; ``newest`` is where the newest window
    starts (above the threshold from there on: still active)."""
    out = []
    for k, row in enumerate(smoothed):
        above = np.flatnonzero(row > threshold)
        peak = int(np.argmax(row))
        phase = InterestPhase(k, labels[k], peak, float(row[peak]), peaks_at=timestamps[peak])
        if len(above):
            phase.appears, phase.active_now = int(above[0]), bool(above[-1] >= newest)
            phase.fades = None if phase.active_now else int(above[-1])
            phase.appears_at = timestamps[phase.appears]
            phase.fades_at = None if phase.fades is None else timestamps[phase.fades]
        out.append(phase)
    return out


# --------------------------------------------------------------------------------------------- timeline


def slot_alignment(model) -> Alignment:
    """How slot identity is kept across windows (see the module docstring)."""
    return "fixed" if model.name in FIXED_SLOTS or model.num_interests == 1 else "matched"


def interest_timeline(
    checkpoint: Checkpoint, history: Sequence[int], timestamps: Sequence[int | None] | None = None, *,
    user_id: int | None = None, stride: int | None = None, smoothing: int = DEFAULT_SMOOTHING,
    threshold: float | None = None,
) -> Timeline:
    """The timeline of ``history`` (raw ids, oldest first; ``timestamps`` aligned, None where unknown).
    ``threshold`` None: the default rule (module docstring). Items the model does not know are left out
    with a notice; a model without attention gives a Timeline with ``has_attention`` False and a notice."""
    model, vocab, catalogue = checkpoint.model, checkpoint.vocab, checkpoint.catalogue
    if smoothing < 1 or (threshold is not None and not threshold > 0):
        raise ConfigError(f"smoothing must be at least 1 item and the threshold positive, got {smoothing} "
                          f"and {threshold}")
    stamps = [None] * len(history) if timestamps is None else list(timestamps)
    kept = [(int(i), None if t is None else int(t)) for i, t in zip(history, stamps, strict=True)
            if i in vocab]
    items, times = [i for i, _ in kept], [t for _, t in kept]
    notices = []
    if len(kept) < len(history):
        notices.append(f"{len(history) - len(kept)} item(s) of the history are not in the model's catalogue "
                       "and were left out.")
    window = int(model.max_length)
    bounds = window_bounds(len(items), window, stride)
    alignment = slot_alignment(model)
    tl = Timeline(
        model_name=checkpoint.name, checkpoint=checkpoint.path.name, checkpoint_hash=checkpoint.hash,
        user_id=user_id, item_ids=items, titles=[catalogue.title(i) for i in items], timestamps=times,
        window=window, stride=window if stride is None else int(stride), windows=[list(b) for b in bounds],
        alignment=alignment, slot_maps=[], attention=[], smoothed=[], smoothing=int(smoothing),
        threshold=threshold, phases=[], notices=notices,
    )
    if not items:
        tl.notices.append("The history is empty, so there is no attention to follow over time.")
        return tl
    dense = np.asarray(vocab.encode(items))
    try:
        if not getattr(model, "has_attention", True):
            raise NoAttentionError(model.name)
        attention, vectors = window_forward(model, [dense[s:e].tolist() for s, e in bounds],
                                            with_vectors=alignment == "matched")  # [W, K, L], [W, K, d]
    except NoAttentionError:
        tl.has_attention = False
        tl.notices.append(f"{checkpoint.name} has no attention over the history, so there is no attention "
                          "to follow over time.")
        return tl
    K = attention.shape[1]
    maps = align_slots(vectors) if vectors is not None else [list(range(K)) for _ in bounds]
    total = np.zeros((K, len(items)))
    count = np.zeros(len(items))
    for w, (s, e) in enumerate(bounds):
        total[:, s:e] += attention[w, maps[w], : e - s] * (e - s)  # [K, e-s] relative to the uniform share
        count[s:e] += 1
    relative = total / count  # [K, T]
    smoothed = smooth(relative, smoothing)  # [K, T]
    if threshold is None:
        tl.threshold = max(1.0, float(np.percentile(smoothed, THRESHOLD_QUANTILE)))
    labels = []
    for k in range(K):
        genres = dominant_genres(items, relative[k].tolist(), catalogue)
        labels.append(interest_label(genres, catalogue.title(items[int(np.argmax(smoothed[k]))])))
    tl.slot_maps, tl.attention, tl.smoothed = maps, relative.tolist(), smoothed.tolist()
    tl.phases = phases(smoothed, tl.threshold, bounds[-1][0], labels, times)
    if alignment == "matched":
        tl.notices.append(f"{checkpoint.name} forms its interests anew in each window, so each window's "
                          "interests were matched to the newest window's by their vectors (Hungarian "
                          "matching).")
    return tl


def user_timeline(checkpoint: Checkpoint, user_id: int | None, edits: HistoryEdits = NO_EDITS, *,
                  start: Sequence[int] | None = None, **options: Any) -> Timeline:
    """The timeline of user ``user_id``'s whole history (or ``start``) after ``edits``; items of the real
    history keep their timestamps, added ones have none. ``options`` go to :func:`interest_timeline`."""
    if user_id is None and start is None:
        raise ConfigError("a timeline needs a user id or a starting history")
    real = user_history(checkpoint, user_id) if user_id is not None else None
    baseline = [int(i) for i in start] if start is not None else real.item_ids
    history = edits.apply(baseline)
    known = dict(zip(real.item_ids, real.timestamps, strict=True)) if real is not None else {}
    tl = interest_timeline(checkpoint, history, [known.get(i) for i in history], user_id=user_id, **options)
    if real is not None and start is None and real.notice():
        tl.notices.insert(0, real.notice())
    return tl
