"""What a disruption did: the figures a planner asks for after a closure or capacity cut.

For the node a scenario acts on, the disruption is the time its capacity is below what it was
at the start of the measurement window (fewer servers or slower handling, from the capacity
schedule); it runs from the first such span's start to the last one's end. Per replication:

- ``held_peak``: most trains held at once anywhere (handled, waiting to be accepted onward;
  needs finite room) from the start of the disruption to the end of the run;
- ``node_peak``: most trains queued or held at the acted-on node over the same span;
- ``clear_days``: days from the end of the disruption until trains queued at the node plus
  trains held anywhere fall back to their level when it began (the end of the run, a lower
  bound, if they never do; NaN if the disruption outlasts the run);
- ``delay_days_mean`` / ``delay_days_p95``: delay of the China–EU trains it caught (planned
  to leave before it ended, not yet delivered when it began, on a path through the node),
  against the median transit of their path among trains delivered before it began; trains
  still out at the end count up to the end (lower bound); delay runs from the planned
  departure, so deferred departures count;
- ``trains_caught``.

These are computed for the headline from the records, not stored as replication KPIs, so runs
and their results files are unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config.scenario import Scenario
from sim.engine.metrics import china_eu_trains, replication_kpis
from sim.engine.network import Network, NodePlan
from sim.engine.records import Records, held_path
from sim.engine.replications import ReplicationOutput, simulate
from sim.executors import map_ordered
from sim.stats import StepPath

DISRUPTION_KEYS = (
    "held_peak",
    "node_peak",
    "clear_days",
    "delay_days_mean",
    "delay_days_p95",
    "trains_caught",
)


def disruption_kpis(net: Network, rec: Records, node_id: str) -> dict[str, float]:
    """The figures above for one replication (NaN where the node had no disruption)."""
    index = net.node_ids().index(node_id)
    episodes = _episodes(net.nodes[index], rec.warmup_hours, rec.end_hours)
    if not episodes:
        return dict.fromkeys(DISRUPTION_KEYS, math.nan)
    start, end = episodes[0][0], min(episodes[-1][1], rec.end_hours)
    w1 = rec.end_hours
    mine = rec.visits_at(index)
    queue = StepPath.from_events(rec.visit_arrive[mine], rec.visit_start[mine])
    if rec.visit_leave is not None:
        held_all = held_path(rec)
        at_node = _sum(queue, held_path(rec, mine))
        backlog = _sum(queue, held_all)
        held_peak = held_all.max_between(start, w1)
    else:
        at_node = backlog = queue
        held_peak = 0.0
    before = backlog.level_at(start - 1e-9)
    after = (backlog.times >= end) & (backlog.levels <= before)
    if end >= w1:  # the run ends before the disruption does: nothing to measure
        clear = math.nan
    elif backlog.level_at(end) <= before:
        clear = 0.0
    elif after.any() and backlog.times[np.flatnonzero(after)[0]] <= w1:
        clear = (float(backlog.times[np.flatnonzero(after)[0]]) - end) / 24.0
    else:
        clear = (w1 - end) / 24.0
    delays = _caught_delays(net, rec, index, start, end)
    return {
        "held_peak": held_peak,
        "node_peak": at_node.max_between(start, w1),
        "clear_days": clear,
        "delay_days_mean": float(delays.mean()) if len(delays) else math.nan,
        "delay_days_p95": float(np.percentile(delays, 95)) if len(delays) else math.nan,
        "trains_caught": float(len(delays)),
    }


def _episodes(node: NodePlan, w0: float, w1: float) -> list[tuple[float, float]]:
    """Spans inside the window when the node had less capacity than at the window's start
    (fewer servers or slower handling): a standing condition such as the crossing's 14 pairs
    before Dec 2021 is the reference, not a disruption. Adjacent spans merge."""
    sched = node.schedule
    ref_servers = sched.servers_at(w0)
    i0 = max(k for k, t in enumerate(sched.times_hours) if t <= w0)
    ref_factor = sched.handling_factor[i0]
    ends = [*sched.times_hours[1:], math.inf]
    out: list[tuple[float, float]] = []
    for start, end, servers, factor in zip(
        sched.times_hours, ends, sched.servers, sched.handling_factor, strict=True
    ):
        if end <= w0 or start >= w1:
            continue
        fewer = servers is not None and (ref_servers is None or servers < ref_servers)
        if not (fewer or factor > ref_factor):
            continue
        start = max(start, w0)
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _sum(a: StepPath, b: StepPath) -> StepPath:
    """The sum of two step paths (levels added at every change of either)."""
    times = np.union1d(a.times, b.times)
    return StepPath(times, a.levels_at(times) + b.levels_at(times))


def _caught_delays(
    net: Network, rec: Records, index: int, start: float, end: float
) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
    plan = rec.plan
    through = np.asarray([index in p.nodes for p in net.paths])[plan.path]
    china_eu = china_eu_trains(rec)
    if china_eu is not None:
        through &= china_eu
    arrived = np.where(np.isnan(rec.arrive_hours), rec.end_hours, rec.arrive_hours)
    transit = arrived - plan.depart_hours
    clean = through & ~np.isnan(rec.arrive_hours) & (rec.arrive_hours < start)
    clean &= plan.depart_hours >= rec.warmup_hours
    caught = through & (plan.depart_hours < end) & (arrived > start)
    reference = np.full(len(net.paths), np.nan)
    for p in np.unique(plan.path[clean]):
        reference[p] = float(np.median(transit[clean & (plan.path == p)]))
    delay = (transit - reference[plan.path])[caught] / 24.0
    result: np.ndarray[tuple[int], np.dtype[np.float64]] = delay[~np.isnan(delay)]
    return result


def _one(args: tuple[Scenario, int, int, str]) -> tuple[ReplicationOutput, dict[str, float]]:
    scenario, r, seed, node_id = args
    net, rec = simulate(scenario, r, seed)
    out = ReplicationOutput(r, replication_kpis(net, rec), trains=len(rec.plan))
    return out, disruption_kpis(net, rec, node_id)


def run_with_disruption(
    scenario: Scenario, replications: int, seed: int, node_id: str, workers: int = 1
) -> tuple[list[ReplicationOutput], list[dict[str, float]]]:
    """Replications with their KPIs and the disruption figures at ``node_id`` (same seeds and
    streams as :func:`sim.engine.replications.run_replications`, so pairs with a baseline stay
    paired)."""
    jobs = [(scenario, r, seed, node_id) for r in range(replications)]
    pairs = list(map_ordered(_one, jobs, workers))
    return [o for o, _ in pairs], [d for _, d in pairs]
