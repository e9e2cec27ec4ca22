"""Read-only view of one results directory for comparisons, plots and reports.

Everything downstream of the results store goes through here, so no plot re-runs a
simulation and every figure is drawn from exactly what ``corridor run`` wrote. Days in the
tables are relative to ``run.start_date``; :meth:`RunData.dates` turns them into calendar
dates for time axes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from sim.config.scenario import Event, Scenario, event_hours
from sim.errors import ConfigError
from sim.kpis import FRACTION, kpis, lookup
from sim.stats import estimate
from sim.store.crossings import border_nodes, crossing_rows
from sim.store.disruption import derived_values
from sim.store.run_dir import is_run_dir, read_manifest, read_summary, read_table, reading
from sim.suggest import did_you_mean

FloatArray = NDArray[np.float64]
SUMMARY_KEYS = ("scenario", "replications", "confidence", "start_date", "horizon_days", "kpis")
"""What every reader of summary.json relies on; a file without them is damaged."""

SCOPES = ("corridor", "node", "flow", "market")
_BLOCKS = {"node": "nodes", "flow": "flows", "market": "markets"}  # summary.json blocks


@dataclass(frozen=True)
class Metric:
    """A KPI address: ``throughput_teu_per_day`` (corridor) or ``node:brest:wait_hours_mean``."""

    scope: str
    name: str
    kpi: str
    # days (from start_date) a derived disruption KPI looks at (sim/analysis/compare.py fills
    # them from the reductions against the baseline); () means none
    window: tuple[tuple[float, float], ...] = ()

    @property
    def key(self) -> str:
        return self.kpi if self.scope == "corridor" else f"{self.scope}:{self.name}:{self.kpi}"

    @property
    def unit(self) -> str:
        kpi = lookup(self.scope, self.kpi)
        return kpi.unit if kpi else ""

    @property
    def label(self) -> str:
        """For titles and axes: ``brest: 95th-percentile wait (hours)``."""
        kpi = lookup(self.scope, self.kpi)
        name = kpi.label if kpi else self.kpi.replace("_", " ")
        where = "" if self.scope == "corridor" else f"{self.name}: "
        unit = f" ({self.unit})" if self.unit and self.unit != FRACTION else ""
        return f"{where}{name}{unit}"


def parse_metric(text: str) -> Metric:
    """``KPI``, ``corridor::KPI``, ``node:NODE:KPI``, ``flow:FLOW:KPI`` or
    ``market:MARKET:KPI`` (checked by name against the KPI catalogue)."""
    parts = text.split(":")
    if len(parts) == 1:
        metric = Metric("corridor", "", parts[0])
    elif len(parts) == 3 and parts[0] in SCOPES:
        metric = Metric(parts[0], parts[1] if parts[0] != "corridor" else "", parts[2])
    else:
        raise ConfigError(
            "--metric",
            (),
            f"'{text}': use KPI, node:NODE:KPI, flow:FLOW:KPI or market:MARKET:KPI",
        )
    known = kpis(metric.scope)
    if metric.kpi not in known:
        hint = did_you_mean(metric.kpi, known) or f" (known: {', '.join(known)})"
        raise ConfigError("--metric", (), f"unknown {metric.scope} KPI '{metric.kpi}'{hint}")
    return metric


@dataclass
class RunData:
    """One results directory: summary, manifest, resolved scenario and lazily read tables."""

    path: Path
    summary: dict[str, Any]
    manifest: dict[str, Any]
    scenario: Scenario
    label: str = ""
    _tables: dict[str, pa.Table] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: Path) -> RunData:
        if not path.is_dir():
            raise ConfigError(str(path), (), "no such results directory")
        if not is_run_dir(path):
            raise ConfigError(str(path), (), "not a results directory (no manifest/summary.json)")
        summary = read_summary(path)
        manifest = read_manifest(path)
        with reading(path / "summary.json"):
            for key in SUMMARY_KEYS:
                if key not in summary:
                    raise KeyError(f"no '{key}'")
            dt.date.fromisoformat(str(summary["start_date"]))
        with reading(path / "manifest.json"):
            scenario = Scenario.model_validate(manifest["config"])
            int(manifest["root_seed"])
        return cls(path, summary, manifest, scenario, label=str(summary["scenario"]))

    @cached_property
    def start_date(self) -> dt.date:
        return dt.date.fromisoformat(str(self.summary["start_date"]))

    @property
    def horizon_days(self) -> float:
        return float(self.summary["horizon_days"])

    @property
    def replications(self) -> int:
        return int(self.summary["replications"])

    @property
    def root_seed(self) -> int:
        return int(self.manifest["root_seed"])

    @property
    def confidence(self) -> float:
        return float(self.summary["confidence"])

    def table(self, name: str) -> pa.Table:
        if name not in self._tables:
            self._tables[name] = read_table(self.path, name)
        return self._tables[name]

    def dates(self, days: FloatArray | float) -> NDArray[np.datetime64]:
        """Calendar instants of days relative to start_date (minute resolution)."""
        minutes = np.round(np.asarray(days, dtype=float) * 1440.0).astype("int64")
        origin = np.datetime64(self.start_date.isoformat(), "m")
        result: NDArray[np.datetime64] = origin + minutes.astype("timedelta64[m]")
        return result

    def event_days(self, event: Event) -> tuple[float, float]:
        """An event's start and end in days relative to start_date."""
        run = self.scenario.run
        start = event_hours(event.start, run.start_date, run.warmup_days) / 24.0
        end = event_hours(event.end, run.start_date, run.warmup_days) / 24.0
        return start - run.warmup_days, end - run.warmup_days

    def estimate(self, metric: Metric) -> dict[str, Any]:
        """The KPI's entry in summary.json: mean, ci_low, ci_high, unit (derived KPIs are
        estimated here from their per-replication values, the same way)."""
        kpi = lookup(metric.scope, metric.kpi)
        if kpi is not None and kpi.source != "summary":
            return self._estimate_from_values(metric, kpi.unit)
        block = self._check_name(metric)
        if metric.kpi not in block:
            return self._absent(metric)
        result: dict[str, Any] = block[metric.kpi]
        if kpi is not None and kpi.nan_means_zero and result["mean"] is None:
            return self._estimate_from_values(metric, kpi.unit)  # nothing to clear: 0 days
        return result

    def _check_name(self, metric: Metric) -> dict[str, Any]:
        """The summary.json block of the metric's scope and name; a missing node or flow is
        named clearly, with the closest ones."""
        if metric.scope == "corridor":
            corridor: dict[str, Any] = self.summary["kpis"]
            return corridor
        group = self.summary.get(_BLOCKS[metric.scope], {})
        if metric.name not in group:
            hint = did_you_mean(metric.name, group)
            raise ConfigError(
                str(self.path), (), f"no {metric.scope} '{metric.name}' in this run{hint}"
            )
        block: dict[str, Any] = group[metric.name]
        return block

    def _absent(self, metric: Metric) -> dict[str, Any]:
        """A KPI this run does not have: zero where absence means none (trains re-routed in a
        run without such a rule), else a one-line error rather than a KeyError."""
        kpi = lookup(metric.scope, metric.kpi)
        if kpi is not None and kpi.missing_means_zero:
            return estimate([0.0] * self.replications, self.confidence).as_dict(kpi.unit)
        raise ConfigError(str(self.path), (), f"no KPI '{metric.kpi}' in this run")

    def _estimate_from_values(self, metric: Metric, unit: str) -> dict[str, Any]:
        _, vals = self.values(metric)
        return estimate(vals.tolist(), self.confidence).as_dict(unit)

    def values(self, metric: Metric) -> tuple[NDArray[np.int64], FloatArray]:
        """Per-replication values of a KPI from replications.parquet, ordered by replication."""
        kpi = lookup(metric.scope, metric.kpi)
        if kpi is not None and kpi.source == "crossings":
            borders = border_nodes(self.manifest["config"])
            rows = crossing_rows(self.table("replications"), borders, ("replication",))
            reps = np.asarray(rows["replication"].to_numpy(), dtype=np.int64)
            return reps, np.asarray(rows["value"].to_numpy(zero_copy_only=False), dtype=float)
        if kpi is not None and kpi.source != "summary":
            self._check_name(metric)
            return derived_values(
                metric.kpi, metric.name, self.table, self.horizon_days, metric.window
            )
        self._check_name(metric)
        return self._long_values("replications", "replication", metric, self.replications)

    def _long_values(
        self, table: str, index: str, metric: Metric, count: int
    ) -> tuple[NDArray[np.int64], FloatArray]:
        """A KPI's values from a long KPI table (replications.parquet, draws.parquet: one row
        per ``index``, scope, name and KPI), ordered by ``index``; ``count`` zeros where the
        KPI is absent and absence means none."""
        kpi = lookup(metric.scope, metric.kpi)
        t = self.table(table)
        mask = pc.and_(
            pc.and_(pc.equal(t["scope"], metric.scope), pc.equal(t["name"], metric.name)),
            pc.equal(t["kpi"], metric.kpi),
        )
        rows = t.filter(mask)
        if rows.num_rows == 0 and kpi is not None and kpi.missing_means_zero:
            return np.arange(count, dtype=np.int64), np.zeros(count)
        at = np.asarray(rows[index].to_numpy(), dtype=np.int64)
        vals = np.asarray(rows["value"].to_numpy(zero_copy_only=False), dtype=float)
        order = np.argsort(at, kind="stable")
        if kpi is not None and kpi.nan_means_zero:
            vals = np.nan_to_num(vals, nan=0.0)
        return at[order], vals[order]

    @property
    def draws_seed(self) -> int | None:
        """The seed of the run's draws (``--draws``), or None for a run without draws."""
        pred = self.summary.get("prediction")
        return None if not pred else int(pred["seed"])

    def draw_values(self, metric: Metric) -> tuple[NDArray[np.int64], FloatArray] | None:
        """Per-draw values of a KPI from draws.parquet, ordered by draw; None for a run
        without draws or a KPI derived from the visits (draws keep no per-train tables)."""
        kpi = lookup(metric.scope, metric.kpi)
        if self.draws_seed is None or (kpi is not None and kpi.source != "summary"):
            return None
        self._check_name(metric)
        count = int(self.summary["prediction"]["draws"])
        return self._long_values("draws", "draw", metric, count)


def open_runs(paths: list[Path]) -> list[RunData]:
    """Open several runs; labels are made unique (scenario name, then the run folder)."""
    runs = [RunData.open(p) for p in paths]
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.label] = counts.get(r.label, 0) + 1
    for r in runs:
        if counts[r.label] > 1:
            r.label = f"{r.label} ({r.path.name})"
    return runs


def column(table: pa.Table, name: str) -> FloatArray:
    """A numeric column as float64 (nulls become NaN)."""
    arr = table[name].to_numpy(zero_copy_only=False)
    result: FloatArray = np.asarray(arr, dtype=float)
    return result


def strings(table: pa.Table, name: str) -> NDArray[np.str_]:
    result: NDArray[np.str_] = np.asarray(table[name].to_pylist(), dtype=str)
    return result
