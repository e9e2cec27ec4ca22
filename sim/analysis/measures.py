"""Measures on one replication's records, for calibration targets and observed blocks:
a segment's transit from the visit times, a node's dwell, pooled utilisation, TEU a year.
Small functions of the records, so they are tested on their own and reused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from sim.config.scenario import NodeKind, Scenario
from sim.engine.metrics import FloatArray, ReplicationKpis
from sim.engine.network import Network
from sim.engine.records import Records

Measure = Callable[[Scenario, Network, Records, ReplicationKpis], float]


def _window(rec: Records, t: FloatArray) -> NDArray[np.bool_]:
    ok: NDArray[np.bool_] = (t >= rec.warmup_hours) & (t <= rec.end_hours)
    return ok


def segment_days(
    net: Network, rec: Records, from_nodes: Sequence[str], to_nodes: Sequence[str]
) -> FloatArray:
    """Days from arrival at one of ``from_nodes`` to arrival at a later one of ``to_nodes``.

    One value per train that visits both in that order and reaches the second inside the
    measurement window (so the segment runs in the direction ``from`` → ``to`` only). The
    time includes waiting and handling at the first node and everything in between, not the
    handling at the second.
    """
    ids = net.node_ids()
    src = np.isin(rec.visit_node, [ids.index(n) for n in from_nodes])
    dst = np.isin(rec.visit_node, [ids.index(n) for n in to_nodes])
    n_trains = len(rec.plan)
    first = np.full(n_trains, np.nan)
    seq_first = np.full(n_trains, -1, dtype=np.int64)
    first[rec.visit_train[src]] = rec.visit_arrive[src]
    seq_first[rec.visit_train[src]] = rec.visit_seq[src]
    trains = rec.visit_train[dst]
    later = rec.visit_seq[dst] > seq_first[trains]
    arrive = rec.visit_arrive[dst]
    keep = later & (seq_first[trains] >= 0) & ~np.isnan(arrive) & _window(rec, arrive)
    result: FloatArray = (arrive[keep] - first[trains[keep]]) / 24.0
    return result


def dwell_hours(net: Network, rec: Records, node: str) -> FloatArray:
    """Wait plus handling at a node, per visit arriving in the window and finished by its end."""
    mine = rec.visit_node == net.node_ids().index(node)
    arrive, end = rec.visit_arrive[mine], rec.visit_end[mine]
    keep = _window(rec, arrive) & ~np.isnan(end)
    result: FloatArray = end[keep] - arrive[keep]
    return result


def transit_days_between(
    scenario: Scenario,
    net: Network,
    rec: Records,
    origin_countries: Sequence[str],
    destination_countries: Sequence[str],
    via_port: bool,
) -> FloatArray:
    """Door-to-door days of trains delivered in the window between two groups of countries.

    ``via_port`` picks trains whose path passes a port (the Middle Corridor) or, when False,
    trains whose path passes none (the Belarus routes).
    """
    ids = net.node_ids()
    country = [scenario.nodes[n].country for n in ids]
    port_path = np.asarray(
        [any(scenario.nodes[ids[k]].kind == NodeKind.port for k in p.nodes) for p in net.paths]
    )
    origin_ok = np.asarray([country[p.nodes[0]] in origin_countries for p in net.paths])
    dest_ok = np.asarray([country[p.nodes[-1]] in destination_countries for p in net.paths])
    path = rec.plan.path
    arrived = rec.delivered_hours
    keep = (
        origin_ok[path]
        & dest_ok[path]
        & (port_path[path] == via_port)
        & ~np.isnan(arrived)
        & _window(rec, arrived)
    )
    result: FloatArray = (arrived[keep] - rec.plan.depart_hours[keep]) / 24.0
    return result


def _mean(values: FloatArray) -> float:
    return float(values.mean()) if len(values) else float("nan")


def node_utilisation(node: str) -> Measure:
    return lambda s, net, rec, k: k.nodes[node]["utilisation"]


def pooled_utilisation(nodes: Sequence[str]) -> Measure:
    """Busy server-time over available server-time of several nodes taken together."""

    def measure(s: Scenario, net: Network, rec: Records, k: ReplicationKpis) -> float:
        busy = sum(k.nodes[n]["utilisation"] * k.nodes[n]["servers_mean"] for n in nodes)
        return float(busy / sum(k.nodes[n]["servers_mean"] for n in nodes))

    return measure


def teu_per_year(s: Scenario, net: Network, rec: Records, k: ReplicationKpis) -> float:
    return k.corridor["teu_delivered"] * 365.0 / s.run.horizon_days


def segment_mean(from_nodes: Sequence[str], to_nodes: Sequence[str]) -> Measure:
    return lambda s, net, rec, k: _mean(segment_days(net, rec, from_nodes, to_nodes))


def dwell_mean(node: str) -> Measure:
    return lambda s, net, rec, k: _mean(dwell_hours(net, rec, node))


def transit_mean(origins: Sequence[str], destinations: Sequence[str], via_port: bool) -> Measure:
    return lambda s, net, rec, k: _mean(
        transit_days_between(s, net, rec, origins, destinations, via_port)
    )


def handling_mean(node: str) -> Measure:
    """Mean handling (processing) hours at a node: B4 is a processing time, not a wait."""
    return lambda s, net, rec, k: k.nodes[node]["handling_hours_mean"]


def line_use(node: str, capacity_trains_per_day: float) -> Measure:
    """Trains (every market, both directions) through a node per day over a line capacity."""
    return lambda s, net, rec, k: (
        k.nodes[node]["trains_handled"] / s.run.horizon_days / capacity_trains_per_day
    )
