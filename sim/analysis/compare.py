"""Differences between scenarios and the first (the baseline): numbers only, no drawing.

Two runs with the same root seed share common random numbers wherever they share elements
(streams are keyed by name), so replication r of one is paired with replication r of the
other and the difference gets a Student-t interval over the pairs (the replications both
have, when the counts differ): much tighter than comparing two independent means. Runs with
different seeds are independent samples; then a Welch interval is used, and the result says
why. Differences of a fraction are in percentage points (``pp``), see the KPI catalogue.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from sim.config.scenario import Scenario
from sim.engine.reduction import Window, as_days, in_measurement, reduction_windows
from sim.formatting import format_difference, format_relative
from sim.kpis import lookup
from sim.stats import PREDICTION_LEVEL, estimate
from sim.store.disruption import DISRUPTION_KPIS, WINDOWED_KPI
from sim.store.runs import FloatArray, Metric, RunData


@dataclass(frozen=True)
class Prediction:
    """The change's 90 % prediction interval: draw i of one run against draw i of the other
    (the same inputs, demand draw and streams), the 5th–95th percentile over the pairs."""

    median: float
    low: float
    high: float
    n: int
    level: float = PREDICTION_LEVEL


@dataclass(frozen=True)
class Difference:
    """``scenario − base`` for one metric, with its confidence interval."""

    metric: Metric
    scenario: str
    base: str
    base_mean: float
    mean: float
    ci_low: float
    ci_high: float
    n: int
    paired: bool
    why_unpaired: str = ""  # when not paired: the reason, for the legend
    prediction: Prediction | None = None  # the change draw by draw (both runs with --draws)

    @property
    def method(self) -> str:
        return "paired" if self.paired else "Welch"

    @property
    def unit(self) -> str:
        """The unit of the difference: ``pp`` (percentage points) for a fraction."""
        kpi = lookup(self.metric.scope, self.metric.kpi)
        return kpi.difference_unit if kpi else self.metric.unit

    @property
    def relative(self) -> float:
        """Difference as a fraction of the baseline mean (NaN when the baseline is 0)."""
        if not self.base_mean or math.isnan(self.base_mean):
            return math.nan
        return self.mean / self.base_mean

    @property
    def significant(self) -> bool:
        """The interval excludes zero."""
        return not math.isnan(self.ci_low) and (self.ci_low > 0 or self.ci_high < 0)


def pairable(a: RunData, b: RunData) -> bool:
    """Same root seed: replication r of each used the same streams, whatever the counts."""
    return a.root_seed == b.root_seed


def paired_interval(
    base: FloatArray, other: FloatArray, confidence: float
) -> tuple[float, float, float, int]:
    """Mean of ``other − base`` over pairs with a Student-t interval (NaN pairs dropped)."""
    est = estimate((other - base).tolist(), confidence, floor=None)
    return est.mean, est.ci_low, est.ci_high, est.n


def welch_interval(
    base: FloatArray, other: FloatArray, confidence: float
) -> tuple[float, float, float, int]:
    """``mean(other) − mean(base)`` with a Welch–Satterthwaite t interval (unequal variances)."""
    x = other[~np.isnan(other)]
    y = base[~np.isnan(base)]
    n = min(len(x), len(y))
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    diff = float(x.mean() - y.mean())
    if len(x) < 2 or len(y) < 2:
        return diff, math.nan, math.nan, n
    vx, vy = float(x.var(ddof=1)) / len(x), float(y.var(ddof=1)) / len(y)
    se = math.sqrt(vx + vy)
    if se == 0:
        return diff, diff, diff, n
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
    return diff, diff - half, diff + half, n


def caught_days(base: RunData, other: RunData, node: str) -> tuple[Window, ...]:
    """The days (from ``other``'s start_date) whose arrivals at ``node`` count as caught: the
    node's reductions in ``other`` against ``base`` (:mod:`sim.engine.reduction`)."""
    if node not in other.scenario.nodes:
        return ()
    spans = reduction_windows(other.scenario, node, base.scenario)
    return tuple(as_days(in_measurement(spans, other.scenario), other.scenario))


def difference(base: RunData, other: RunData, metric: Metric, confidence: float) -> Difference:
    """``other − base``: paired over the replications both have when the root seeds match
    (replication r of each drew the same streams, even if one run has more replications),
    otherwise a Welch interval over independent samples. A KPI of the trains caught by a
    reduction, asked for without its days, is measured over ``other``'s reductions against
    ``base`` in both runs."""
    if metric.kpi == WINDOWED_KPI and not metric.window:
        days = caught_days(base, other, metric.name)
        metric = Metric(metric.scope, metric.name, metric.kpi, days)
    reps_b, vals_b = base.values(metric)
    reps_o, vals_o = other.values(metric)
    base_mean = float(np.nanmean(vals_b)) if np.any(~np.isnan(vals_b)) else math.nan
    common, at_b, at_o = np.intersect1d(reps_b, reps_o, return_indices=True)
    pred = paired_draws(base, other, metric)
    if pairable(base, other) and len(common):
        mean, low, high, n = paired_interval(vals_b[at_b], vals_o[at_o], confidence)
        return Difference(
            metric, other.label, base.label, base_mean, mean, low, high, n, True, "", pred
        )
    why = "different root seeds" if not pairable(base, other) else "no replication in common"
    mean, low, high, n = welch_interval(vals_b, vals_o, confidence)
    return Difference(
        metric, other.label, base.label, base_mean, mean, low, high, n, False, why, pred
    )


def paired_draws(base: RunData, other: RunData, metric: Metric) -> Prediction | None:
    """The change's prediction interval over the draws both runs have, when both ran draws
    with the same seed (then draw i of each took the same inputs and streams); None
    otherwise: unpaired draws would mix the inputs' spread into a change they share."""
    if base.draws_seed is None or base.draws_seed != other.draws_seed:
        return None
    a, b = base.draw_values(metric), other.draw_values(metric)
    if a is None or b is None:
        return None
    common, at_b, at_o = np.intersect1d(a[0], b[0], return_indices=True)
    diff = b[1][at_o] - a[1][at_b]
    diff = diff[np.isfinite(diff)]
    if len(common) == 0 or len(diff) == 0:
        return None
    tail = (1.0 - PREDICTION_LEVEL) / 2.0
    low, median, high = np.quantile(diff, [tail, 0.5, 1.0 - tail])
    return Prediction(float(median), float(low), float(high), len(diff))


def pairing_legend(diffs: list[Difference]) -> list[str]:
    """One line per interval method actually used (none when nothing was compared)."""
    lines = []
    if any(d.paired for d in diffs):
        lines.append(
            "paired: replication r against replication r of the baseline "
            "(same root seed, common random numbers)"
        )
    reasons = sorted({d.why_unpaired for d in diffs if not d.paired})
    if reasons:
        lines.append(f"Welch, unpaired: {'; '.join(reasons)}")
    drawn = [d.prediction for d in diffs if d.prediction is not None]
    if drawn:
        lines.append(
            f"change, {round(drawn[0].level * 100)} % prediction interval: draw i against draw "
            f"i of the baseline ({drawn[0].n} draws: the same uncertain inputs, demand draw and "
            "streams), 5th–95th percentile of the change; the CI column is the simulation's "
            "noise alone, inputs at their point values"
        )
    return lines


def disrupted_node(
    base: Scenario, base_nodes: dict[str, Any], others: Sequence[Scenario]
) -> tuple[str, tuple[Window, ...]] | None:
    """The node whose disruption leads a comparison, with its reduction windows in days from
    start_date: among the nodes whose capacity a later scenario reduces against the baseline
    inside its measurement window (:mod:`sim.engine.reduction`: an event both have is not a
    disruption), the one the baseline used most (``base_nodes`` is the baseline's summary.json
    ``nodes`` block). None when no later scenario has a reduction."""
    candidates: dict[str, list[Window]] = {}
    for scenario in others:
        for nid in scenario.nodes:
            if nid not in base_nodes:
                continue
            spans = in_measurement(reduction_windows(scenario, nid, base), scenario)
            if spans:
                candidates.setdefault(nid, []).extend(as_days(spans, scenario))
    if not candidates:
        return None

    def handled(nid: str) -> float:
        value = base_nodes[nid]["trains_handled"]["mean"]
        return -1.0 if value is None else float(value)

    node = max(sorted(candidates), key=handled)
    return node, tuple(sorted(candidates[node]))


def leading_metrics(runs: list[RunData], metrics: list[Metric]) -> list[Metric]:
    """The metrics of a comparison with the disruption KPIs first when a later run has a
    disruption the baseline lacks: annual means hide a two-week closure."""
    if len(runs) < 2:
        return metrics
    found = disrupted_node(
        runs[0].scenario, runs[0].summary["nodes"], [r.scenario for r in runs[1:]]
    )
    if found is None:
        return metrics
    node, windows = found
    lead = [
        Metric("node", node, kpi, windows if kpi == WINDOWED_KPI else ()) for kpi in DISRUPTION_KPIS
    ]
    keys = {m.key for m in lead}
    return lead + [m for m in metrics if m.key not in keys]


def differences(runs: list[RunData], metrics: list[Metric]) -> list[Difference]:
    """Every run after the first against the first, for each metric (at the first's confidence)."""
    if len(runs) < 2:
        return []
    conf = runs[0].confidence
    return [difference(runs[0], other, m, conf) for m in metrics for other in runs[1:]]


DEFAULT_METRICS = ("throughput_teu_per_day", "transit_days_mean", "transit_days_p95")


def difference_rows(diffs: list[Difference]) -> list[dict[str, str]]:
    """The differences as display strings (for the terminal table, CSV-free reports, HTML)."""
    rows = []
    for d in diffs:
        unit = d.metric.unit
        rows.append(
            {
                "metric": d.metric.key,
                "scenario": d.scenario,
                "baseline": d.base,
                "difference": format_difference(d.mean, unit),
                "ci": f"{format_difference(d.ci_low, unit)} … {format_difference(d.ci_high, unit)}",
                "relative": format_relative(d.relative),
                "unit": d.unit,
                "n": str(d.n),
                "method": d.method,
                "significant": "yes" if d.significant else "no",
                "prediction": (
                    "–"
                    if d.prediction is None
                    else f"{format_difference(d.prediction.median, unit)} "
                    f"[{format_difference(d.prediction.low, unit)} … "
                    f"{format_difference(d.prediction.high, unit)}]"
                ),
            }
        )
    return rows


def write_csv(diffs: list[Difference], path: Path) -> Path:
    """The differences with full-precision numbers, one row per (metric, scenario)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "metric",
                "unit",
                "scenario",
                "baseline",
                "baseline_mean",
                "difference",
                "ci_low",
                "ci_high",
                "relative",
                "n",
                "paired",
                "prediction_median",
                "prediction_low",
                "prediction_high",
                "prediction_draws",
            ]
        )
        for d in diffs:
            w.writerow(
                [
                    d.metric.key,
                    d.metric.unit,
                    d.scenario,
                    d.base,
                    d.base_mean,
                    d.mean,
                    d.ci_low,
                    d.ci_high,
                    d.relative,
                    d.n,
                    d.paired,
                    *(
                        ("", "", "", 0)
                        if d.prediction is None
                        else (
                            d.prediction.median,
                            d.prediction.low,
                            d.prediction.high,
                            d.prediction.n,
                        )
                    ),
                ]
            )
    return path
