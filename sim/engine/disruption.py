"""What a disruption did: the figures a planner asks for after a closure or capacity cut.

For the node a scenario acts on, the disruption is its reduction windows against the
baseline (:mod:`sim.engine.reduction`: where the scenario's capacity schedule is below the
baseline's; an event both have, such as B1's handling at Brest before Dec 2021, is not the
disruption), from the first window that reaches the measurement window to the last one.
Per replication:

- ``held_peak``: most trains held at once anywhere (handled, waiting to be accepted onward;
  needs finite room) from the start of the disruption to the end of the run;
- ``node_peak``: most trains queued or held at the acted-on node over the same span;
- ``clear_days``: days the backlog took to clear after the disruption ended, the one
  definition of :func:`sim.engine.reduction.clearing`, as ``recovery_days`` of a run: trains
  queued at the node plus trains held upstream on their way to it, back to their level when
  the last reduction began; the end of the run, a lower bound, if they never are; NaN if the
  disruption outlasts the run;
- ``delay_days_mean`` / ``delay_days_p95``: delay of the China–EU trains it caught (planned
  to leave before it ended, not yet delivered when it began, on a path through the node),
  against the median transit of their path among trains delivered before it began; trains
  still out at the end count up to the end (lower bound); delay runs from the planned
  departure, so deferred departures count;
- ``trains_caught``.

These are read for the headline from the records where each replication runs (a probe of the
run, :class:`DisruptionProbe`), not stored as replication KPIs, so runs and their results
files are unchanged. They live in the engine beside the other readings of the records
(``metrics``, ``market_kpis``) so that the workflow can read them where the replications run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.config.scenario import Scenario
from sim.engine.metrics import ReplicationKpis, china_eu_trains
from sim.engine.network import Network
from sim.engine.records import Records, held_path
from sim.engine.reduction import Window, add_paths, clearing, waiting_path
from sim.stats import StepPath

DISRUPTION_KEYS = (
    "held_peak",
    "node_peak",
    "clear_days",
    "delay_days_mean",
    "delay_days_p95",
    "trains_caught",
)


def disruption_kpis(
    net: Network, rec: Records, node_id: str, windows: Sequence[Window]
) -> dict[str, float]:
    """The figures above for one replication, ``windows`` being the node's reductions
    (:func:`sim.engine.reduction.reduction_windows`); NaN where none reaches the measurement
    window."""
    index = net.node_ids().index(node_id)
    w0, w1 = rec.warmup_hours, rec.end_hours
    spans = [(a, b) for a, b in windows if b > w0 and a < w1]
    if not spans:
        return dict.fromkeys(DISRUPTION_KEYS, math.nan)
    start, end = max(spans[0][0], w0), min(spans[-1][1], w1)
    mine = rec.visits_at(index)
    queue = StepPath.from_events(rec.visit_arrive[mine], rec.visit_start[mine])
    if rec.visit_leave is not None:
        held_all = held_path(rec)
        at_node = add_paths(queue, held_path(rec, mine))
        held_peak = held_all.max_between(start, w1)
    else:
        at_node = queue
        held_peak = 0.0
    clear, _ = clearing(waiting_path(net, rec, index), spans, w0, w1)
    delays = _caught_delays(net, rec, index, start, end)
    return {
        "held_peak": held_peak,
        "node_peak": at_node.max_between(start, w1),
        "clear_days": clear,
        "delay_days_mean": float(delays.mean()) if len(delays) else math.nan,
        "delay_days_p95": float(np.percentile(delays, 95)) if len(delays) else math.nan,
        "trains_caught": float(len(delays)),
    }


def _caught_delays(
    net: Network, rec: Records, index: int, start: float, end: float
) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
    plan = rec.plan
    through = np.asarray([index in p.nodes for p in net.paths])[plan.path]
    china_eu = china_eu_trains(rec)
    if china_eu is not None:
        through &= china_eu
    arrived = np.where(np.isnan(rec.delivered_hours), rec.end_hours, rec.delivered_hours)
    transit = arrived - plan.depart_hours
    clean = through & ~np.isnan(rec.delivered_hours) & (rec.delivered_hours < start)
    clean &= plan.depart_hours >= rec.warmup_hours
    caught = through & (plan.depart_hours < end) & (arrived > start)
    reference = np.full(len(net.paths), np.nan)
    for p in np.unique(plan.path[clean]):
        reference[p] = float(np.median(transit[clean & (plan.path == p)]))
    delay = (transit - reference[plan.path])[caught] / 24.0
    result: np.ndarray[tuple[int], np.dtype[np.float64]] = delay[~np.isnan(delay)]
    return result


@dataclass(frozen=True)
class DisruptionProbe:
    """The figures above as a probe of a run (:class:`sim.engine.replications.Job`), read
    from each replication's records where it ran; picklable, so replications may run in
    processes."""

    node_id: str
    windows: tuple[Window, ...]

    def __call__(
        self, scenario: Scenario, net: Network, rec: Records, kpis: ReplicationKpis
    ) -> dict[str, float]:
        return disruption_kpis(net, rec, self.node_id, self.windows)
