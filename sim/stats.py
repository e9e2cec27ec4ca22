"""The confidence interval every KPI is reported with (Student-t across replications).

It sits at the bottom of the package: the engine, the choice, the store and the plots all
report estimates the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FloatArray = NDArray[np.float64]

PREDICTION_LEVEL = 0.90
"""The level of every prediction interval (5th–95th percentile over a run's draws)."""


@dataclass(frozen=True)
class StepPath:
    """A piecewise-constant level (queue length, busy servers) built from +1/-1 events."""

    times: FloatArray
    levels: FloatArray  # level from times[i] until times[i + 1]

    @classmethod
    def from_events(cls, up: FloatArray, down: FloatArray) -> StepPath:
        up = up[~np.isnan(up)]
        down = down[~np.isnan(down)]
        # leaves first, then a stable sort: at equal times, leave before joining (no phantom
        # queue), and equal events keep their order
        t = np.concatenate([down, up])
        d = np.concatenate([-np.ones(len(down)), np.ones(len(up))])
        order = np.argsort(t, kind="stable")
        return cls(t[order], np.cumsum(d[order]))

    def integral_to(self, edges: FloatArray) -> FloatArray:
        """∫ level dt from -inf to each edge (exact: the integral is piecewise linear)."""
        if len(self.times) == 0:
            return np.zeros(len(edges))
        at_events = np.concatenate([[0.0], np.cumsum(self.levels[:-1] * np.diff(self.times))])
        idx = np.searchsorted(self.times, edges, side="right") - 1
        safe = np.clip(idx, 0, None)
        value = at_events[safe] + self.levels[safe] * (edges - self.times[safe])
        result: FloatArray = np.where(idx < 0, 0.0, value)
        return result

    def mean_between(self, edges: FloatArray) -> FloatArray:
        result: FloatArray = np.diff(self.integral_to(edges)) / np.diff(edges)
        return result

    def level_at(self, t: float) -> float:
        return float(self.levels_at(np.asarray([t]))[0])

    def levels_at(self, ts: FloatArray) -> FloatArray:
        if len(self.times) == 0:
            return np.zeros(len(ts))
        idx = np.searchsorted(self.times, ts, side="right") - 1
        result: FloatArray = np.where(idx < 0, 0.0, self.levels[np.clip(idx, 0, None)])
        return result

    def max_between(self, a: float, b: float) -> float:
        inside = (self.times >= a) & (self.times < b)
        peak = float(self.levels[inside].max()) if inside.any() else 0.0
        return max(peak, self.level_at(a))


@dataclass(frozen=True)
class Estimate:
    mean: float
    ci_low: float
    ci_high: float
    n: int

    def as_dict(self, unit: str) -> dict[str, float | str | None]:
        return {
            "mean": _json_float(self.mean),
            "ci_low": _json_float(self.ci_low),
            "ci_high": _json_float(self.ci_high),
            "unit": unit,
        }


def _json_float(x: float) -> float | None:
    return None if math.isnan(x) else x


def estimate(
    values: Sequence[float], confidence: float = 0.95, floor: float | None = 0.0
) -> Estimate:
    """Mean with a Student-t interval across replications (NaNs, i.e. no data, are skipped).

    Every corridor KPI is non-negative, so the interval is clipped at ``floor`` (0 by
    default; pass None for signed quantities such as paired differences).
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    low = mean - half if floor is None else max(floor, mean - half)
    return Estimate(mean, low, mean + half, n)
