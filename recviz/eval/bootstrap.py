"""Bootstrap confidence intervals over evaluation cases (users): the percentile bootstrap of a mean.

Resample the per-case values (:attr:`recviz.eval.EvalResult.per_case`) with replacement, take each
resample's mean, and report the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of those means. With
``groups`` (e.g. the test users of several split seeds) each group is resampled on its own and the figure is
the mean of the group means, so every resample keeps the same cases per group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recviz.errors import ConfigError

RESAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    """A mean and its bootstrap interval."""

    mean: float
    low: float
    high: float
    level: float = 0.95

    def __str__(self) -> str:
        return f"{self.mean:.4f} [{self.low:.4f}, {self.high:.4f}]"


def bootstrap_ci(values: np.ndarray | Sequence[np.ndarray], level: float = 0.95, resamples: int = RESAMPLES,
                 seed: int = 0) -> Interval:
    """Percentile-bootstrap ``level`` interval of the mean of ``values`` [n] (NaN values are left out).

    ``values`` may also be a list of groups (arrays): then the statistic is the mean of the group means and
    each group is resampled separately. Raises :class:`ConfigError` for an empty group or a level outside
    (0, 1).
    """
    if not 0 < level < 1:
        raise ConfigError(f"the interval level must lie strictly between 0 and 1, got {level}")
    if resamples < 1:
        raise ConfigError(f"resamples must be at least 1, got {resamples}")
    groups = [np.asarray(values, dtype=np.float64)] if _is_flat(values) else [
        np.asarray(g, dtype=np.float64) for g in values]
    groups = [g[~np.isnan(g)] for g in groups]
    if not groups or any(g.size == 0 for g in groups):
        raise ConfigError("cannot bootstrap an empty set of cases (no finite value to resample)")
    rng = np.random.default_rng(seed)
    means = np.zeros(resamples)  # [R] mean of group means per resample
    for g in groups:
        draws = rng.integers(0, g.size, size=(resamples, g.size))  # [R, n]
        means += g[draws].mean(axis=1) / len(groups)  # [R]
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    mean = float(np.mean([g.mean() for g in groups]))
    return Interval(mean=mean, low=float(low), high=float(high), level=level)


def _is_flat(values: np.ndarray | Sequence[np.ndarray]) -> bool:
    """True for one array of numbers, False for a list of arrays (groups)."""
    if isinstance(values, np.ndarray):
        return values.dtype != object
    return not values or np.isscalar(values[0])
