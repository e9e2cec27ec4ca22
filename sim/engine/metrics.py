"""KPIs from records: per replication, then across replications with confidence intervals.

Measurement covers the window after the warm-up. Conventions, stated once here and in
docs/scenario-format.md: throughput counts trains delivered inside the window; transit times
are those of the trains delivered inside the window; a node's waits are those of visits
arriving inside the window, and a train still queued at the end counts with the wait it has
had so far (so in an overloaded system the mean wait is a lower bound and ``queue_end`` shows
the backlog); utilisation is busy server-time over available server-time (capacity changes
included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sim.engine.network import Network, schedule_mean_between
from sim.engine.records import Records, held_path
from sim.engine.reduction import clearing, reductions, waiting_path
from sim.markets import MARKET_CHINA_EU
from sim.stats import StepPath

FloatArray = NDArray[np.float64]

# units (and labels, definitions) live in the KPI catalogue; these are the KPIs computed here


def _p95(values: FloatArray) -> float:
    return float(np.percentile(values, 95)) if len(values) else math.nan


def _mean(values: FloatArray) -> float:
    return float(values.mean()) if len(values) else math.nan


@dataclass(frozen=True)
class ReplicationKpis:
    corridor: dict[str, float]
    nodes: dict[str, dict[str, float]]
    flows: dict[str, dict[str, float]]
    markets: dict[str, dict[str, float]] = field(default_factory=dict)  # sim/engine/market_kpis.py


def replication_kpis(net: Network, rec: Records) -> ReplicationKpis:
    """Every KPI of one replication over the measurement window."""
    w0, w1 = rec.warmup_hours, rec.end_hours
    horizon_days = (w1 - w0) / 24.0
    plan = rec.plan
    arrived = rec.delivered_hours
    china_eu = china_eu_trains(rec)
    in_window = (arrived >= w0) & (arrived <= w1)
    transit_days = (arrived - plan.depart_hours) / 24.0
    still = np.isnan(arrived)
    departed = (plan.depart_hours >= w0) & (plan.depart_hours < w1)
    if china_eu is not None:  # corridor KPIs count the China–EU market only
        in_window_all = in_window
        in_window, still, departed = in_window & china_eu, still & china_eu, departed & china_eu
    corridor = {
        "trains_departed": float(departed.sum()),
        "trains_delivered": float(in_window.sum()),
        "teu_delivered": float(plan.teu[in_window].sum()),
        "throughput_teu_per_day": float(plan.teu[in_window].sum()) / horizon_days,
        "transit_days_mean": _mean(transit_days[in_window]),
        "transit_days_p95": _p95(transit_days[in_window]),
        "trains_in_system_end": float(still.sum()),
        "teu_in_system_end": float(plan.teu[still].sum()),
    }
    if rec.visit_leave is not None:
        corridor.update(_held_corridor(rec))
    if plan.rerouted is not None:  # only with a rule that re-routes (sim/engine/reroute.py)
        corridor["trains_rerouted"] = float((departed & plan.rerouted).sum())
    flows = {}
    for k, fid in enumerate(plan.flow_ids):
        mine = (in_window if china_eu is None else in_window_all) & (plan.flow == k)
        flows[fid] = {
            "trains_delivered": float(mine.sum()),
            "teu_delivered": float(plan.teu[mine].sum()),
            "transit_days_mean": _mean(transit_days[mine]),
            "transit_days_p95": _p95(transit_days[mine]),
        }
    nodes = {node.id: _node_kpis(net, rec, node.index) for node in net.nodes}
    if china_eu is not None:
        for node in net.nodes:
            nodes[node.id]["trains_handled_china_eu"] = _handled(rec, node.index, china_eu)
    return ReplicationKpis(corridor, nodes, flows)


def china_eu_trains(rec: Records) -> NDArray[np.bool_] | None:
    """Per train: is it China–EU? None when every flow is (the common case, no masking)."""
    markets = rec.plan.flow_markets
    if all(m == MARKET_CHINA_EU for m in markets):
        return None
    is_china_eu = np.asarray([m == MARKET_CHINA_EU for m in markets], dtype=bool)
    result: NDArray[np.bool_] = is_china_eu[rec.plan.flow]
    return result


def _handled(rec: Records, index: int, trains: NDArray[np.bool_]) -> float:
    mine = rec.visits_at(index)
    end = rec.visit_end[mine]
    left = (end >= rec.warmup_hours) & (end <= rec.end_hours) & trains[rec.visit_train[mine]]
    return float(left.sum())


def _held_corridor(rec: Records) -> dict[str, float]:
    held = held_path(rec)
    edges = np.asarray([rec.warmup_hours, rec.end_hours])
    return {
        "trains_held_peak": held.max_between(rec.warmup_hours, rec.end_hours),
        "trains_held_mean": float(held.mean_between(edges)[0]),
    }


def _node_kpis(net: Network, rec: Records, index: int) -> dict[str, float]:
    w0, w1 = rec.warmup_hours, rec.end_hours
    mine = rec.visits_at(index)
    arrive = rec.visit_arrive[mine]
    start = rec.visit_start[mine]
    end = rec.visit_end[mine]
    came = (arrive >= w0) & (arrive < w1)
    wait = np.where(np.isnan(start), w1, start) - arrive
    left = (end >= w0) & (end <= w1)
    queue = StepPath.from_events(arrive, start)
    busy = StepPath.from_events(start, end)
    edges = np.asarray([w0, w1])
    busy_time = float(np.diff(busy.integral_to(edges))[0])
    servers_mean = float(schedule_mean_between(net.nodes[index].schedule, edges)[0])
    handling = end[left] - start[left]
    handling_mean = _mean(handling)
    capacity = (
        servers_mean * 24.0 / handling_mean
        if handling_mean and not math.isnan(handling_mean)
        else math.nan
    )
    return {
        "trains_handled": float(left.sum()),
        "utilisation": busy_time / (servers_mean * (w1 - w0)) if servers_mean > 0 else math.nan,
        "wait_hours_mean": _mean(wait[came]),
        "wait_hours_p95": _p95(wait[came]),
        "handling_hours_mean": handling_mean,
        "queue_mean": float(queue.mean_between(edges)[0]),
        "queue_max": queue.max_between(w0, w1),
        "queue_end": queue.level_at(w1),
        "servers_mean": servers_mean,
        "capacity_trains_per_day": capacity,
        **_recovery(net, rec, index),
        **(_held_node(rec, mine) if rec.visit_leave is not None else {}),
    }


def _held_node(rec: Records, mine: NDArray[np.intp]) -> dict[str, float]:
    held = held_path(rec, mine)
    w0, w1 = rec.warmup_hours, rec.end_hours
    return {
        "held_mean": float(held.mean_between(np.asarray([w0, w1]))[0]),
        "held_max": held.max_between(w0, w1),
        "held_end": held.level_at(w1),
    }


def _recovery(net: Network, rec: Records, index: int) -> dict[str, float]:
    """How long the backlog of the node's last capacity reduction took to clear
    (:func:`sim.engine.reduction.clearing` of :func:`~sim.engine.reduction.waiting_path`: the
    node's queue plus the trains held upstream on their way to it, after its last reduction
    against the capacity the run began with). If it has not by the end of the run,
    ``recovery_days`` is the lower bound (end minus reopening) and ``backlog_cleared`` is 0;
    both are NaN when the node had no reduction that ended inside the window."""
    w0, w1 = rec.warmup_hours, rec.end_hours
    windows = [(a, b) for a, b in reductions(net.nodes[index].schedule) if w0 < b < w1]
    if not windows:  # the common case: no backlog to build
        return {"recovery_days": math.nan, "backlog_cleared": math.nan}
    days, cleared = clearing(waiting_path(net, rec, index), windows, w0, w1)
    return {"recovery_days": days, "backlog_cleared": cleared}
