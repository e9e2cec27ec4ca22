"""Measures for the ``observed:`` targets of a scenario (see :mod:`sim.config.observed`).

Each measure is a function of one replication's records; ``corridor calibrate`` averages it
over replications and checks the mean against the entry's band. The measures count China–EU
trains unless they say otherwise (a peak day at a crossing counts every train it handled,
since the record day B23 is a count of all trains).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from sim.config.observed import Observed
from sim.config.scenario import Scenario, event_hours
from sim.engine.metrics import ReplicationKpis, china_eu_trains
from sim.engine.network import Network
from sim.engine.records import Records, held_path
from sim.engine.reduction import waiting_path

FloatArray = NDArray[np.float64]


def _directions(net: Network, rec: Records) -> NDArray[np.str_]:
    """Direction of travel of every visit."""
    per_path = np.asarray([p.direction for p in net.paths])
    result: NDArray[np.str_] = per_path[rec.plan.path[rec.visit_train]]
    return result


def _leave(rec: Records) -> FloatArray:
    return rec.visit_end if rec.visit_leave is None else rec.visit_leave


def crossing_days(
    net: Network,
    rec: Records,
    nodes: list[str],
    direction: str | None,
    window: tuple[float, float] | None = None,
) -> float:
    """Mean days China–EU trains spent at a crossing or because of it.

    For each train whose first crossing node (``nodes[0]``) it reached inside the window:
    from arriving there to leaving the last crossing node it visits, plus the time it was
    held upstream (handled but not accepted onward: the queue that backed up the line). A
    train still at the crossing at the end counts up to the end (a lower bound, as the
    node waits in sim/engine/metrics.py). ``window`` (hours) narrows the arrivals counted.
    """
    ids = net.node_ids()
    first, rest = ids.index(nodes[0]), [ids.index(n) for n in nodes]
    w0, w1 = (rec.warmup_hours, rec.end_hours) if window is None else window
    china_eu = china_eu_trains(rec)
    dirs = _directions(net, rec)
    leave = _leave(rec)
    entry = (rec.visit_node == first) & (rec.visit_arrive >= w0) & (rec.visit_arrive < w1)
    if direction is not None:
        entry &= dirs == direction
    if china_eu is not None:
        entry &= china_eu[rec.visit_train]
    slots = np.flatnonzero(entry)
    if len(slots) == 0:
        return math.nan
    end_slot = slots.copy()
    in_crossing = np.isin(rec.visit_node, rest)
    last_slot = rec.visit_offset[1:] - 1
    for _ in range(len(nodes) - 1):  # walk on while the next visit is a crossing node too
        nxt = np.minimum(end_slot + 1, len(rec.visit_node) - 1)
        more = (end_slot < last_slot[rec.visit_train[end_slot]]) & in_crossing[nxt]
        end_slot = np.where(more, nxt, end_slot)
    left = np.where(np.isnan(leave[end_slot]), rec.end_hours, leave[end_slot])
    at = left - rec.visit_arrive[slots]
    if rec.visit_leave is not None:  # held upstream, on the visits before the crossing
        held = np.nan_to_num(rec.visit_leave - rec.visit_end, nan=0.0)
        start = rec.visit_offset[:-1][rec.visit_train[slots]]
        cum = np.concatenate([[0.0], np.cumsum(held)])
        at = at + (cum[slots] - cum[start])
    return float(at.mean()) / 24.0


def peak_day_trains(
    net: Network,
    rec: Records,
    nodes: list[str],
    direction: str | None,
    train_type: str | None = None,
) -> float:
    """Most trains (every market) that finished handling at ``nodes`` in one day of the
    window, in one direction and of one train type when given."""
    ids = [net.node_ids().index(n) for n in nodes]
    mine = np.isin(rec.visit_node, ids) & ~np.isnan(rec.visit_end)
    if direction is not None:
        mine &= _directions(net, rec) == direction
    if train_type is not None:
        names = rec.plan.type_names
        code = names.index(train_type) if train_type in names else -2
        mine &= rec.plan.train_type[rec.visit_train] == code
    edges = np.arange(rec.warmup_hours, rec.end_hours - 23.999, 24.0)
    if len(edges) < 2:
        return math.nan
    counts = np.histogram(rec.visit_end[mine], edges)[0]
    return float(counts.max())


def waiting_peak_trains(
    net: Network,
    rec: Records,
    node: str,
    direction: str | None,
    window: tuple[float, float] | None = None,
) -> float:
    """Most trains waiting for a node at once: queued there plus held anywhere upstream on
    their way to it (one direction when given), within ``window`` (hours; default the run's
    measurement window). E1 counts "trains queued for Małaszewicze" this way."""
    w0, w1 = (rec.warmup_hours, rec.end_hours) if window is None else window
    return waiting_path(net, rec, net.node_ids().index(node), direction).max_between(w0, w1)


def _window_hours(entry: Observed, scenario: Scenario) -> tuple[float, float] | None:
    if entry.window is None:
        return None
    start, warmup = scenario.run.start_date, scenario.run.warmup_days
    return (
        event_hours(entry.window[0], start, warmup),
        event_hours(entry.window[1], start, warmup),
    )


def service_transit_days(net: Network, rec: Records, origin: str, destination: str) -> float:
    """Mean days door to door of the trains (any market) whose path runs from ``origin`` to
    ``destination``, delivered inside the window: a service's scheduled time (K3)."""
    ids = net.node_ids()
    a, b = ids.index(origin), ids.index(destination)
    ends = [(p.nodes[0], p.nodes[-1]) for p in net.paths]
    mine = np.asarray([e == (a, b) for e in ends], dtype=bool)[rec.plan.path]
    arrived = rec.delivered_hours
    mine &= (arrived >= rec.warmup_hours) & (arrived <= rec.end_hours)
    if not mine.any():
        return math.nan
    return float((arrived[mine] - rec.plan.depart_hours[mine]).mean()) / 24.0


def measure(
    entry: Observed, scenario: Scenario, net: Network, rec: Records, kpis: ReplicationKpis
) -> float:
    """The simulated value of one observed entry in one replication."""
    if entry.measure == "crossing_days":
        window = _window_hours(entry, scenario)
        return crossing_days(net, rec, entry.nodes, entry.direction, window)
    if entry.measure == "waiting_peak_trains":
        window = _window_hours(entry, scenario)
        return waiting_peak_trains(net, rec, entry.nodes[0], entry.direction, window)
    if entry.measure == "peak_day_trains":
        return peak_day_trains(net, rec, entry.nodes, entry.direction, entry.train_type)
    if entry.measure == "transit_days":
        return service_transit_days(net, rec, entry.nodes[0], entry.nodes[1])
    if entry.measure == "teu_per_year":
        return kpis.corridor["teu_delivered"] * 365.0 / scenario.run.horizon_days
    # held_peak_trains: most trains held at once at the given nodes (all nodes when none)
    if rec.visit_leave is None:
        return 0.0
    if entry.nodes:
        ids = [net.node_ids().index(n) for n in entry.nodes]
        visits = np.flatnonzero(np.isin(rec.visit_node, ids))
        return held_path(rec, visits).max_between(rec.warmup_hours, rec.end_hours)
    return held_path(rec).max_between(rec.warmup_hours, rec.end_hours)
