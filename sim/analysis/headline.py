"""The headline table: every shipped scenario against its baseline, as paired differences.

The runs are the workflow's (:mod:`sim.workflow.headline`: each registry scenario next to
its aligned baseline, common random numbers, the disruption figures read where the
replications ran); this module reads the two outcomes into the paired effects and the
Markdown table, to paste into docs/findings.md; the command that produced it is printed
under it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.disruption import DISRUPTION_KEYS
from sim.formatting import format_signed
from sim.stats import PREDICTION_LEVEL, Estimate, estimate

if TYPE_CHECKING:  # read, never run, here: the runs are the workflow's
    from sim.choice.history_demand import DemandChange
    from sim.engine.replications import ReplicationOutput
    from sim.workflow.headline import PairRun


@dataclass(frozen=True)
class Effect:
    """One KPI of a scenario next to its baseline: both means and the paired difference."""

    baseline: float
    scenario: float
    difference: Estimate


@dataclass(frozen=True)
class Headline:
    scenario: str
    baseline: str
    transit_days: Effect
    throughput_teu_per_day: Effect
    node: str
    queue_max_trains: Effect
    wait_hours: Effect
    busiest_node: str  # the most utilised capacity-limited node in the scenario
    busiest_utilisation: float
    disruption: dict[str, float] = field(default_factory=dict)  # sim/engine/disruption.py, means
    rail_demand: DemandChange | None = None  # the demand ensemble's change, both history years
    prediction: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    """Paired draws (``--draws``): per KPI the change's median and 90 % prediction interval."""


def _effect(base: Sequence[float], scen: Sequence[float], confidence: float) -> Effect:
    b = np.asarray(base, dtype=float)
    s = np.asarray(scen, dtype=float)
    return Effect(
        float(np.nanmean(b)), float(np.nanmean(s)), estimate(s - b, confidence, floor=None)
    )


def headline_of(pair: PairRun) -> Headline:
    """The paired effects on the headline KPIs of a scenario run next to its baseline
    (:func:`sim.workflow.headline.run_pair`)."""
    node_id = pair.node
    scenario = pair.scenario.scenario
    scen, base = pair.scenario.outputs, pair.baseline.outputs
    hit = [probed[0] for probed in pair.scenario.probes]
    conf = scenario.run.confidence

    def corridor(outs: list[ReplicationOutput], kpi: str) -> list[float]:
        return [o.kpis.corridor[kpi] for o in outs]

    def node(outs: list[ReplicationOutput], kpi: str) -> list[float]:
        return [o.kpis.nodes[node_id][kpi] for o in outs]

    utilisation = {
        nid: _nanmean([o.kpis.nodes[nid]["utilisation"] for o in scen]) for nid in scenario.nodes
    }
    limited = {k: v for k, v in utilisation.items() if not math.isnan(v)}
    busiest = max(limited, key=lambda k: limited[k]) if limited else node_id

    return Headline(
        scenario=scenario.name,
        baseline=pair.baseline.scenario.name,
        transit_days=_effect(
            corridor(base, "transit_days_mean"), corridor(scen, "transit_days_mean"), conf
        ),
        throughput_teu_per_day=_effect(
            corridor(base, "throughput_teu_per_day"),
            corridor(scen, "throughput_teu_per_day"),
            conf,
        ),
        node=node_id,
        queue_max_trains=_effect(node(base, "queue_max"), node(scen, "queue_max"), conf),
        wait_hours=_effect(node(base, "wait_hours_mean"), node(scen, "wait_hours_mean"), conf),
        busiest_node=busiest,
        busiest_utilisation=utilisation[busiest],
        disruption={k: _nanmean([d[k] for d in hit]) for k in DISRUPTION_KEYS},
        rail_demand=pair.rail_demand,
        prediction=_prediction(pair.draws, node_id),
    )


def _prediction(
    draws: tuple[list[ReplicationOutput], list[ReplicationOutput]] | None, node_id: str
) -> dict[str, tuple[float, float, float]]:
    """The change draw by draw (scenario − baseline, the same inputs and streams): median and
    the 5th–95th percentile, for transit, throughput and the node's queue and wait."""
    if draws is None:
        return {}
    scen, base = draws
    tail = (1.0 - PREDICTION_LEVEL) / 2.0
    out: dict[str, tuple[float, float, float]] = {}
    picks: dict[str, tuple[str, str]] = {  # name: (node or "" for the corridor, KPI)
        "transit_days": ("", "transit_days_mean"),
        "throughput_teu_per_day": ("", "throughput_teu_per_day"),
        "queue_max_trains": (node_id, "queue_max"),
        "wait_hours": (node_id, "wait_hours_mean"),
    }

    def value(o: ReplicationOutput, where: str, kpi: str) -> float:
        return o.kpis.nodes[where][kpi] if where else o.kpis.corridor[kpi]

    for name, (where, kpi) in picks.items():
        d = np.asarray(
            [value(s, where, kpi) - value(b, where, kpi) for s, b in zip(scen, base, strict=True)],
            dtype=float,
        )
        d = d[np.isfinite(d)]
        if len(d):
            q = np.quantile(d, [tail, 0.5, 1.0 - tail])
            out[name] = (float(q[1]), float(q[0]), float(q[2]))
    return out


def _nanmean(values: Sequence[float]) -> float:
    x = np.asarray(values, dtype=float)
    return math.nan if np.isnan(x).all() else float(np.nanmean(x))


def _num(x: float, digits: int = 1) -> str:
    if math.isnan(x):
        return "–"
    return f"{x:,.{digits}f}"


def _diff(e: Effect, digits: int = 1) -> str:
    d = e.difference
    low, high = format_signed(d.ci_low, digits), format_signed(d.ci_high, digits)
    ci = "" if math.isnan(d.ci_low) else f" [{low}, {high}]"
    return f"{format_signed(d.mean, digits)}{ci}"


def _pct(e: Effect) -> str:
    if not e.baseline or math.isnan(e.baseline):
        return "–"
    return f"{format_signed(100 * e.difference.mean / e.baseline, 1)} %"


def markdown(rows: Sequence[Headline]) -> str:
    """One line per scenario: base → scenario, and the paired difference with its 95 % CI."""
    lines = [
        "| scenario | baseline | transit days: base → scen (Δ [95% CI]) "
        "| throughput TEU/day: base → scen (Δ %) "
        "| node acted on | max queue, trains: base → scen (Δ [95% CI]) "
        "| mean wait there, h: base → scen (Δ [95% CI]) "
        "| most utilised node "
        "| peak held anywhere, trains | peak at the node, trains | backlog clears after, days "
        "| delay of trains caught, days: mean / p95 (trains) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for h in rows:
        d = h.disruption
        lines.append(
            f"| {h.scenario} | {h.baseline} "
            f"| {_num(h.transit_days.baseline, 2)} → {_num(h.transit_days.scenario, 2)} "
            f"({_diff(h.transit_days, 2)}) "
            f"| {_num(h.throughput_teu_per_day.baseline, 0)} → "
            f"{_num(h.throughput_teu_per_day.scenario, 0)} ({_pct(h.throughput_teu_per_day)}) "
            f"| {h.node} "
            f"| {_num(h.queue_max_trains.baseline)} → {_num(h.queue_max_trains.scenario)} "
            f"({_diff(h.queue_max_trains)}) "
            f"| {_num(h.wait_hours.baseline, 2)} → {_num(h.wait_hours.scenario, 2)} "
            f"({_diff(h.wait_hours, 2)}) "
            f"| {h.busiest_node} {100 * h.busiest_utilisation:.0f} % "
            f"| {_num(d.get('held_peak', math.nan), 0)} | {_num(d.get('node_peak', math.nan), 0)} "
            f"| {_num(d.get('clear_days', math.nan), 1)} "
            f"| {_num(d.get('delay_days_mean', math.nan), 1)} / "
            f"{_num(d.get('delay_days_p95', math.nan), 1)} "
            f"({_num(d.get('trains_caught', math.nan), 0)}) |"
        )
    notes = [demand_note(h) for h in rows if h.rail_demand is not None]
    if notes:
        lines += ["", *notes]
    drawn = [h for h in rows if h.prediction]
    if drawn:
        lines += ["", *prediction_table(drawn)]
    return "\n".join(lines)


def prediction_table(rows: Sequence[Headline]) -> list[str]:
    """The changes' 90 % prediction intervals from paired draws, apart from the CIs above
    (those are the simulation's noise with every input at its point value)."""

    def cell(h: Headline, key: str, digits: int) -> str:
        if key not in h.prediction:
            return "–"
        m, low, high = h.prediction[key]
        return (
            f"{format_signed(m, digits)} [{format_signed(low, digits)}, "
            f"{format_signed(high, digits)}]"
        )

    return [
        "Paired draws (`--draws`): each change's median and 90 % *prediction interval* over "
        "draws of the uncertain inputs, the border posterior and the demand ensemble, draw i "
        "of the scenario against draw i of its baseline (not a confidence interval):",
        "",
        "| scenario | Δ transit days | Δ throughput TEU/day | node | Δ max queue, trains "
        "| Δ mean wait there, h |",
        "|---|---|---|---|---|---|",
        *(
            f"| {h.scenario} | {cell(h, 'transit_days', 2)} "
            f"| {cell(h, 'throughput_teu_per_day', 1)} | {h.node} "
            f"| {cell(h, 'queue_max_trains', 1)} | {cell(h, 'wait_hours', 2)} |"
            for h in rows
        ),
    ]


def demand_note(h: Headline) -> str:
    """One line: the change in rail demand the scenario makes, by the demand ensemble, with
    its interval (paired draws: parameters and structures; the discrepancy and the series'
    band are common to both years and left out) and the structures behind its ends."""
    c = h.rail_demand
    assert c is not None
    t, r = c.teu, c.relative
    return (
        f"{h.scenario} against {h.baseline}: rail demand (demand ensemble, paired draws, "
        f"parameters and structures) {format_signed(t.median / 1000, 1)}k TEU/yr "
        f"({format_signed(100 * r.median, 1)} %); 50 %: {format_signed(t.low50 / 1000, 1)}k to "
        f"{format_signed(t.high50 / 1000, 1)}k, 90 %: {format_signed(t.low90 / 1000, 1)}k to "
        f"{format_signed(t.high90 / 1000, 1)}k ({format_signed(100 * r.low90, 1)} % to "
        f"{format_signed(100 * r.high90, 1)} %); low end from {t.low_driver}, high end from "
        f"{t.high_driver}"
    )
