"""Calibration report: the shipped baselines against sourced figures of the real corridor.

Each target is a sourced figure (a row of ``corridor_facts.md``) with a tolerance band, and a
measure computed from one replication's records. The targets are data: a baseline's in
``params/targets/<name>.yaml``, a scenario's own in its ``observed:`` block. The baselines
are run with several replications; a target is met when the mean across replications lies
inside its band (the 95 % interval is printed next to it so a reader sees how sure that is).
The measures are small functions of the records (a segment's transit from the visit times, a
node's dwell), so they are tested on their own and can be reused by other reports. The runs
are the workflow's one lifecycle (history demand, mode choice, replications: the same as
``corridor run``); :class:`TargetProbe` reads the measures where each replication ran, and
:func:`sim.cli.studies.calibrate` strings the two together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

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
from sim.config.mode_choice import ModeChoice
from sim.config.observed import Observed
from sim.config.registry import TargetSpec, load_targets
from sim.config.scenario import Scenario
from sim.stats import Estimate, estimate

if TYPE_CHECKING:  # read, never run, here: the runs are the workflow's
    from sim.choice.fixed_point import Solution
    from sim.engine.metrics import ReplicationKpis
    from sim.engine.network import Network
    from sim.engine.records import Records

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


# --- reading the runs ------------------------------------------------------------------------


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


@dataclass(frozen=True)
class TargetProbe:
    """A scenario's targets as a probe of its run (:class:`sim.engine.replications.Job`):
    each measure read from a replication's records where it ran."""

    targets: tuple[Target, ...]

    def __call__(
        self, scenario: Scenario, net: Network, rec: Records, kpis: ReplicationKpis
    ) -> list[float]:
        values = []
        for t in self.targets:
            assert t.measure is not None
            values.append(t.measure(scenario, net, rec, kpis))
        return values


def target_probe(path: Path, scenario: Scenario) -> TargetProbe:
    """The targets a scenario is measured on: its baseline's file and its ``observed:``
    block, those measured on the records (the rail share is measured at the fixed point)."""
    known = baseline_targets(path, scenario)
    return TargetProbe(
        tuple(t for t in [*known, *observed_targets(scenario)] if t.measure is not None)
    )


def rows_of(scenario: Scenario, probe: TargetProbe, measured: Sequence[list[float]]) -> list[Row]:
    """Each target's estimate across replications, ``measured`` being the probe's values per
    replication (an outcome's ``probes``)."""
    conf = scenario.run.confidence
    return [
        Row(scenario.name, t, estimate([m[i] for m in measured], conf))
        for i, t in enumerate(probe.targets)
    ]


def share_choice(scenario: Scenario) -> ModeChoice | None:
    """The mode choice switched on, to measure a baseline's rail share at its fixed point
    (None when the baseline has no observed rail volume to meet)."""
    mc = scenario.mode_choice
    if mc is None or mc.observed_rail_teu_per_year is None:
        return None
    return mc.model_copy(update={"enabled": True})


def rail_share_row(scenario: Scenario, solution: Solution) -> Row:
    """The baseline's rail share of the China–EU container market at the congestion fixed
    point (``solution``, solved with :func:`share_choice`), against the observed share
    (V3/V7 over the market)."""
    mc = scenario.mode_choice
    assert mc is not None  # share_choice found it
    observed, target = mc.observed_rail_teu_per_year, mc.observed_rail_share()
    assert observed is not None and target is not None
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
