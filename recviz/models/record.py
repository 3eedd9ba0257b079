"""What a checkpoint's config.json records, as one frozen, typed :class:`CheckpointRecord`.

config.json is parsed and validated once, by :func:`parse_record` when the checkpoint loads; everything
else reads ``checkpoint.record`` and never the raw JSON, so there is one set of defaults. A wrong-typed or
unknown value raises :class:`CheckpointError` naming the field (``data.kcore``, ``split.test_cases``...).

Defaults for sections an older checkpoint lacks are training's own: the data filters, protocol and split
seed default to :class:`recviz.config.TrainConfig`'s (``min_rating`` and ``kcore`` None, protocol
``"user-split"``, seed 42), except that a recorded ``split.protocol`` fills a missing ``data.protocol``,
since that is the protocol training actually used.

The model's settings are checked against its constructor (types and bounds) by the loader, which needs the
registry; the ``train`` section (the TrainConfig and per-epoch history) is not part of the record: nothing
reads it back, and the recorded command reproduces it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from recviz.config import TrainConfig
from recviz.data.splits import PROTOCOLS
from recviz.errors import CheckpointError

_TRAINING = TrainConfig()
DEFAULT_PROTOCOL: str = _TRAINING.protocol
DEFAULT_SEED: int = _TRAINING.split_seed
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return _EMPTY


@dataclass(frozen=True)
class ModelArgs:
    """The registered model name and the constructor settings that rebuild it (``model.config()``)."""

    name: str
    kwargs: Mapping[str, Any] = field(default_factory=_empty)

    def to_dict(self) -> dict[str, Any]:
        """The model section as written: ``{"name": ..., **kwargs}`` (what ``model.config()`` returns)."""
        return {"name": self.name, **self.kwargs}


@dataclass(frozen=True)
class DataRecord:
    """The data a checkpoint was trained on and how its sequences and split were made from it."""

    path: str | None = None            # as given to train, relative to the directory it ran in
    name: str = ""
    fingerprint: str | None = None     # sha256 of the interactions (recviz.data.fingerprint)
    min_rating: float | None = _TRAINING.min_rating
    kcore: int | None = _TRAINING.kcore
    protocol: str = DEFAULT_PROTOCOL   # the protocol training split under
    seed: int = DEFAULT_SEED           # the split seed


@dataclass(frozen=True)
class SplitRecord:
    """The split training made (``Split.summary()``)."""

    protocol: str
    train_users: int
    train_interactions: int
    valid_cases: int
    test_cases: int
    seed: int


@dataclass(frozen=True)
class Provenance:
    """How the checkpoint came to be."""

    command: str | None = None             # the `recviz train` command line that reproduces it
    # when training wrote it (None for checkpoints older than the field)
    created: dt.datetime | None = None
    seconds: float | None = None           # training wall time


@dataclass(frozen=True)
class CheckpointRecord:
    """Everything config.json records, typed; read-only mappings where the content is open-ended."""

    model: ModelArgs
    data: DataRecord = field(default_factory=DataRecord)
    split: SplitRecord | None = None
    # "valid" / "test" → metric → value (at the best epoch)
    metrics: Mapping[str, Mapping[str, float]] = field(default_factory=_empty)
    provenance: Provenance = field(default_factory=Provenance)
    versions: Mapping[str, str | None] = field(default_factory=_empty)  # package → version training ran with
    format: str | None = None


def retrain_hint(command: str | None) -> str:
    """How to rebuild a checkpoint: its recorded command, else the general form."""
    return f" with: {command}" if command else " with `recviz train --data DATA --model NAME --out DIR`"


def recorded_command(raw: Any) -> str | None:
    """The ``command`` of a config.json's JSON, or None (tolerant: used to word errors about broken files)."""
    command = raw.get("command") if isinstance(raw, dict) else None
    return command if isinstance(command, str) else None


def parse_record(raw: Any, file: Path) -> CheckpointRecord:
    """The :class:`CheckpointRecord` of config.json's parsed JSON ``raw`` (read from ``file``).

    Raises :class:`CheckpointError` naming the first bad field and how to rebuild the checkpoint.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("model"), dict) or "name" not in raw["model"]:
        raise CheckpointError(f"{file} has no model section with a name; retrain the checkpoint")
    parser = _Parser(file, recorded_command(raw))
    provenance = Provenance(parser.optional(raw, "command", str), parser.time(raw, "created"),
                            parser.number(raw, "seconds"))
    split = parser.split(raw)
    return CheckpointRecord(
        model=parser.model(raw["model"]), data=parser.data(raw, split), split=split,
        metrics=parser.metrics(raw), provenance=provenance, versions=parser.versions(raw),
        format=parser.optional(raw, "format", str),
    )


class _Parser:
    """Field readers that name the field (``section.key``) in the error when a value has the wrong type."""

    def __init__(self, file: Path, command: str | None) -> None:
        self.file, self.command = file, command

    def fail(self, name: str, value: Any, problem: str) -> CheckpointError:
        return CheckpointError(
            f"{self.file}: {name}={repr(value)[:60]} {problem}; "
            "config.json was edited or damaged: restore it; "
            f"retrain it{retrain_hint(self.command)}"
        )

    def section(self, raw: dict, key: str, prefix: str = "") -> dict:
        value = raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(prefix + key, value, "is not an object (a JSON {...} section)")
        return value

    def optional(self, raw: dict, key: str, kind: type, prefix: str = "") -> Any:
        value = raw.get(key)
        if value is not None and not isinstance(value, kind):
            raise self.fail(prefix + key, value, f"is not a {'text' if kind is str else kind.__name__}")
        return value

    def integer(self, raw: dict, key: str, prefix: str = "", default: int | None = None) -> int | None:
        value = raw.get(key, default)
        if value is not None and (type(value) is not int or value < 0):
            raise self.fail(prefix + key, value, "is not a whole number ≥ 0")
        return value

    def number(self, raw: dict, key: str, prefix: str = "") -> float | None:
        value = raw.get(key)
        if value is None:
            return None
        if type(value) not in (int, float) or not math.isfinite(value):
            raise self.fail(prefix + key, value, "is not a finite number")
        return float(value)

    def protocol(self, raw: dict, key: str, prefix: str, default: str | None) -> str | None:
        value = raw.get(key, default)
        if value is not None and value not in PROTOCOLS:
            raise self.fail(prefix + key, value, f"is not a protocol ({', '.join(PROTOCOLS)})")
        return value

    def time(self, raw: dict, key: str) -> dt.datetime | None:
        value = self.optional(raw, key, str)
        if value is None:
            return None
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(key, value, "is not an ISO-8601 time") from None

    def model(self, section: dict) -> ModelArgs:
        name = section["name"]
        if not isinstance(name, str) or not name:
            raise self.fail("model.name", name, "is not a model name")
        return ModelArgs(name, MappingProxyType({k: v for k, v in section.items() if k != "name"}))

    def data(self, raw: dict, split: SplitRecord | None) -> DataRecord:
        section, p = self.section(raw, "data"), "data."
        return DataRecord(
            path=self.optional(section, "path", str, p) or None,
            name=self.optional(section, "name", str, p) or "",
            fingerprint=self.optional(section, "fingerprint", str, p) or None,
            min_rating=self.number(section, "min_rating", p),
            kcore=self.integer(section, "kcore", p),
            protocol=self.protocol(section, "protocol", p, split.protocol if split else DEFAULT_PROTOCOL),
            seed=self.integer(section, "seed", p, DEFAULT_SEED),
        )

    def split(self, raw: dict) -> SplitRecord | None:
        section, p = self.section(raw, "split"), "split."
        if not section:
            return None
        for key in ("protocol", "train_users", "train_interactions", "valid_cases", "test_cases", "seed"):
            if section.get(key) is None:
                raise self.fail(p + key, None, "is missing")
        counts = {key: self.integer(section, key, p)
                  for key in ("train_users", "train_interactions", "valid_cases", "test_cases", "seed")}
        return SplitRecord(protocol=self.protocol(section, "protocol", p, None), **counts)

    def metrics(self, raw: dict) -> Mapping[str, Mapping[str, float]]:
        parts = {}
        metrics = self.section(raw, "metrics")
        for part in metrics:
            values = self.section(metrics, part, "metrics.")
            for name, value in values.items():
                if type(value) not in (int, float):  # NaN is a metric's honest "undefined"
                    raise self.fail(f"metrics.{part}.{name}", value, "is not a number")
            parts[part] = MappingProxyType({name: float(value) for name, value in values.items()})
        return MappingProxyType(parts)

    def versions(self, raw: dict) -> Mapping[str, str | None]:
        section = self.section(raw, "versions")
        for key in section:
            self.optional(section, key, str, "versions.")
        return MappingProxyType(dict(section))
