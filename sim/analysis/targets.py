"""Calibration report: the shipped baselines against sourced figures of the real corridor.

Each target is a sourced figure (a row of ``corridor_facts.md``) with a tolerance band, and a
measure computed from one replication's records. The targets are data: a baseline's in
``params/targets/<name>.yaml``, a scenario's own in its ``observed:`` block. The baselines
are run with several replications; a target is met when the mean across replications lies
inside its band (the 95 % interval is printed next to it so a reader sees how sure that is).
The measures are small functions of the records (a segment's transit from the visit times, a
node's dwell), so they are tested on their own and can be reused by other reports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.analysis.measures import (
    Measure,
    dwell_mean,
    handling_mean,
    line_use,
    node_utilisation,
    pooled_utilisation,
    segment_mean,
    teu_per_year,
    transit_mean,
)
from sim.analysis.observed import measure as observed_measure
from sim.choice.fit import observed_rail_share
from sim.choice.fixed_point import Iteration, solve
from sim.config.loader import load_scenario
from sim.config.observed import Observed
from sim.config.registry import TargetSpec, load_targets
from sim.config.scenario import Scenario
from sim.engine.metrics import replication_kpis
from sim.engine.replications import simulate
from sim.progress import Step
from sim.stats import Estimate, estimate

DEFAULT_BASELINES = (Path("scenarios/baseline_2019.yaml"), Path("scenarios/baseline_2023.yaml"))
"""The shipped baselines ``corridor calibrate`` runs when no file is given (relative paths)."""
EPISODES = Path("scenarios/episodes")
"""Scenarios carrying ``observed:`` targets (congestion episodes); run by default too."""


SERVICES = (Path("scenarios/belarus_corridor_capacity.yaml"),)
"""Scenarios carrying service-time targets (K3's Minsk ↔ China services); run by default too."""


def default_files() -> list[Path]:
    """The baselines, every episode scenario (sorted) and the service scenarios, when they exist."""
    episodes = sorted(EPISODES.glob("*.yaml")) if EPISODES.is_dir() else []
    return [*DEFAULT_BASELINES, *episodes, *(p for p in SERVICES if p.exists())]


# --- targets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A sourced figure and the band the simulated mean must fall in (None: report only)."""

    name: str
    source: str
    measure: Measure | None  # None: measured outside the replication loop (the choice fixed point)
    low: float | None
    high: float | None
    unit: str

    @property
    def is_check(self) -> bool:
        return self.low is not None and self.high is not None


def _observed(entry: Observed) -> Measure:
    return lambda s, net, rec, k: observed_measure(entry, s, net, rec, k)


def observed_targets(scenario: Scenario) -> list[Target]:
    """The targets a scenario carries in its ``observed:`` block."""
    targets = []
    for oid, entry in scenario.observed.items():
        targets.append(
            Target(
                f"{oid}: {entry.description}" if entry.description else oid,
                f"{entry.facts} {entry.value:g}",
                _observed(entry),
                None if entry.band is None else entry.band[0],
                None if entry.band is None else entry.band[1],
                entry.unit,
            )
        )
    return targets


def measure_of(spec: TargetSpec) -> Measure:
    """The measure a target file names, with its nodes or countries (validated by the model:
    each measure has the fields it reads)."""
    nodes = spec.nodes or []
    match spec.measure:
        case "segment_days":
            return segment_mean(spec.from_nodes or [], spec.to_nodes or [])
        case "transit_days":
            return transit_mean(spec.origins or [], spec.destinations or [], spec.via_port)
        case "handling_hours":
            return handling_mean(nodes[0])
        case "dwell_hours":
            return dwell_mean(nodes[0])
        case "node_utilisation":
            return node_utilisation(nodes[0])
        case "pooled_utilisation":
            return pooled_utilisation(nodes)
        case "line_use":
            assert spec.capacity_trains_per_day is not None
            return line_use(nodes[0], spec.capacity_trains_per_day)
        case "teu_per_year":
            return teu_per_year


def baseline_targets(path: Path, scenario: Scenario) -> list[Target]:
    """The targets of a shipped baseline from ``params/targets/<name>.yaml`` (none for any
    other scenario; sim/config/registry.py)."""
    return [
        Target(
            spec.name,
            spec.source,
            measure_of(spec),
            None if spec.band is None else spec.band[0],
            None if spec.band is None else spec.band[1],
            spec.unit,
        )
        for spec in load_targets(path, scenario.name)
    ]


# --- running ---------------------------------------------------------------------------------


@dataclass
class Row:
    baseline: str
    target: Target
    value: Estimate

    @property
    def ok(self) -> bool | None:
        t = self.target
        if not t.is_check:
            return None
        assert t.low is not None and t.high is not None
        return t.low <= self.value.mean <= t.high


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    replications: int = 0
    seed: int = 0
    horizon_days: float = 0.0

    @property
    def all_met(self) -> bool:
        return all(r.ok is not False for r in self.rows)


def calibrate_scenario(
    path: Path,
    replications: int,
    seed: int | None = None,
    horizon_days: float | None = None,
    on_step: Step | None = None,
) -> list[Row]:
    """Run one baseline ``replications`` times and estimate each of its targets; ``on_step``
    hears of each replication and each mode-choice iteration."""
    extra: dict[str, object] = {}
    if horizon_days is not None:
        extra["run.horizon_days"] = horizon_days
    scenario, _ = load_scenario(path, values=extra)
    root = scenario.run.seed if seed is None else seed
    known = baseline_targets(path, scenario)
    targets = [t for t in [*known, *observed_targets(scenario)] if t.measure is not None]
    values: list[list[float]] = [[] for _ in targets]
    for r in range(replications):
        net, rec = simulate(scenario, r, root)
        kpis = replication_kpis(net, rec)
        for i, t in enumerate(targets):
            assert t.measure is not None
            values[i].append(t.measure(scenario, net, rec, kpis))
        if on_step is not None:
            on_step(f"{scenario.name}: replication {r}")
    conf = scenario.run.confidence
    rows = [Row(scenario.name, t, estimate(v, conf)) for t, v in zip(targets, values, strict=True)]
    share = rail_share_row(scenario, root, on_step)
    return rows if share is None else [*rows, share]


def rail_share_row(scenario: Scenario, seed: int, on_step: Step | None = None) -> Row | None:
    """The baseline's rail share of the China–EU container market at the congestion fixed
    point, with the shipped constants, against the observed share (V3/V7 over the market)."""
    if scenario.mode_choice is None or scenario.mode_choice.observed_rail_teu_per_year is None:
        return None
    mc, target = observed_rail_share(scenario)
    observed = scenario.mode_choice.observed_rail_teu_per_year

    def iteration(it: Iteration) -> None:
        if on_step is not None:
            on_step(f"{scenario.name}: mode choice iteration {it.iteration}, gap {it.gap:.3f}")

    solution = solve(
        scenario.model_copy(update={"mode_choice": mc.model_copy(update={"enabled": True})}),
        seed,
        on_iteration=iteration,
    )
    share = float(solution.model.rail_share(solution.shares))
    band = mc.calibration_tolerance * target
    check = Target(
        "rail share of the China–EU container market (mode choice fixed point, "
        f"{len(solution.iterations)} iterations{'' if solution.converged else ', NOT converged'})",
        f"V3/V7 {observed:,.0f} TEU over an assumed {observed / target:,.0f}",
        None,
        target - band,
        target + band,
        "fraction",
    )
    return Row(scenario.name, check, Estimate(share, math.nan, math.nan, 1))


def calibrate(
    files: Sequence[Path],
    replications: int,
    seed: int | None = None,
    horizon_days: float | None = None,
    on_step: Step | None = None,
) -> Report:
    report = Report(replications=replications, seed=seed or 0, horizon_days=horizon_days or 0)
    for path in files:
        report.rows.extend(calibrate_scenario(path, replications, seed, horizon_days, on_step))
    return report


def _fmt(value: float, unit: str) -> str:
    if unit == "fraction":
        return f"{value:.2%}" if abs(value) < 0.1 else f"{value:.1%}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def format_band(t: Target) -> str:
    if not t.is_check:
        return "report only"
    assert t.low is not None and t.high is not None
    return f"{_fmt(t.low, t.unit)} – {_fmt(t.high, t.unit)}"


def format_value(row: Row) -> str:
    v, unit = row.value, row.target.unit
    ci = "" if np.isnan(v.ci_low) else f" [{_fmt(v.ci_low, unit)}, {_fmt(v.ci_high, unit)}]"
    return f"{_fmt(v.mean, unit)}{ci}"


def markdown(report: Report) -> str:
    """The report as a Markdown table (what docs/model.md quotes)."""
    lines = [
        "| baseline | target | source | simulated mean [95% CI] | tolerance | ok |",
        "|---|---|---|---|---|---|",
    ]
    for row in report.rows:
        ok = {True: "yes", False: "NO", None: "–"}[row.ok]
        lines.append(
            f"| {row.baseline} | {row.target.name} | {row.target.source} | "
            f"{format_value(row)} | {format_band(row.target)} | {ok} |"
        )
    return "\n".join(lines)
