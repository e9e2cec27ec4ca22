"""Rail transit time as a shipper experiences it, saturation included, per flow and route.

The flow KPI ``transit_days_mean`` averages the trains *delivered* in the window. Under
saturation that hides the problem: the trains stuck in a growing queue are not delivered,
so they never enter the mean. The choice needs the time a container booked on the option
would take, so here every train that *departed* in the window counts: a delivered train
with its transit time, a train still on its way at the end with the time it has spent so
far plus what it still needs: the rest of the link it is on or of the handling it is in,
the queue ahead of it at the node it waits at or travels to (drained at that node's rate:
mean handling / servers at the end), then nominal handling and travel beyond. For a train
near the end of an uncongested run that is its nominal transit (exactly, with fixed
times); for a train in an unbounded queue it grows with the queue, as it should.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sim.config.scenario import Scenario
from sim.engine.network import Network
from sim.engine.records import Records

if TYPE_CHECKING:  # the probe's signature
    from sim.engine.metrics import ReplicationKpis

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class FlowTimes:
    """One flow on one route in one replication, over the trains departed in the window."""

    teu_departed: float
    teu_transit_days: float  # sum over those trains of TEU × transit days (for TEU weights)
    trains_departed: int
    trains_unfinished: int  # of those, still on their way at the end
    teu_delivered: float  # TEU delivered in the window (any departure time)

    @property
    def transit_days_mean(self) -> float:
        return self.teu_transit_days / self.teu_departed if self.teu_departed > 0 else np.nan


def _path_tables(net: Network, type_names: tuple[str, ...]) -> list[tuple[FloatArray, FloatArray]]:
    """Per path, [type slot, position] arrays of (nominal hours from that node to the end,
    mean handling hours at that node).

    Type slot 0 is "no type", slot k+1 is ``type_names[k]`` (as in the model's samplers).
    """
    out = []
    for path in net.paths:
        ahead = np.zeros((len(type_names) + 1, len(path.nodes)))
        handling = np.zeros_like(ahead)
        for slot, name in enumerate(("", *type_names)):
            hours = 0.0
            for j in range(len(path.nodes) - 1, -1, -1):
                node = net.nodes[path.nodes[j]]
                dist = node.handling_by_type.get(name, node.handling) if name else node.handling
                handling[slot, j] = dist.mean()
                hours += handling[slot, j]
                ahead[slot, j] = hours
                if j > 0:
                    hours += net.links[path.links[j - 1]].mean_hours()
        out.append((ahead, handling))
    return out


@dataclass(frozen=True)
class _Backlog:
    """A node's queue at the end: who waits in which order, and how fast it drains."""

    rank: dict[int, int]  # train -> trains ahead of it in the queue
    length: int
    hours_per_train: float  # mean handling / servers at the end; inf when it cannot drain


def _backlogs(net: Network, rec: Records) -> list[_Backlog]:
    """Per node, the FIFO queue at the end of the run and its drain rate."""
    w1 = rec.end_hours
    queued = ~np.isnan(rec.visit_arrive) & np.isnan(rec.visit_start)
    done = ~np.isnan(rec.visit_end)
    out = []
    for node in net.nodes:
        here = rec.visit_node == node.index
        waiting = np.flatnonzero(here & queued)
        waiting = waiting[np.argsort(rec.visit_arrive[waiting], kind="stable")]
        served = here & done
        handling = (
            float((rec.visit_end[served] - rec.visit_start[served]).mean())
            if served.any()
            else node.handling.mean()
        )
        servers = node.schedule.servers_at(w1)
        if servers is None:
            drain = 0.0
        elif servers > 0:
            drain = handling / servers
        else:  # closed at the end: drains at the capacity it had before, if any
            before = [x for x in node.schedule.servers if x]
            drain = handling / max(before) if before else math.inf
        rank = {int(rec.visit_train[v]): r for r, v in enumerate(waiting)}
        out.append(_Backlog(rank, len(waiting), drain))
    return out


def _remaining_hours(
    rec: Records,
    i: int,
    tables: tuple[FloatArray, FloatArray],
    slot: int,
    path_nodes: tuple[int, ...],
    backlogs: list[_Backlog],
) -> float:
    """Hours train i still needs at the end of the run, from where it is on its path:
    the rest of its link or handling, the queue ahead of it at the node it is at or heading
    to (drained at the node's rate), then nominal handling and travel beyond."""
    ahead, handling = tables
    now = rec.end_hours
    first = int(rec.visit_offset[i])
    n = int(rec.visit_offset[i + 1]) - first
    ends = rec.visit_end[first : first + n]
    c = int((~np.isnan(ends)).sum())  # visits complete, in path order
    if c >= n:
        return 0.0
    k = first + c
    rest = float(ahead[slot, c])
    queue = backlogs[path_nodes[c]]
    if np.isnan(rec.visit_arrive[k]):  # on the link into node c: joins the back of its queue
        link = float(ahead[slot, c - 1] - handling[slot, c - 1] - ahead[slot, c])
        link_left = max(0.0, link - (now - float(rec.visit_end[k - 1])))
        return link_left + max(0.0, queue.length * queue.hours_per_train - link_left) + rest
    if np.isnan(rec.visit_start[k]):  # queued at node c behind rank trains
        return (queue.rank.get(i, 0) + 1) * queue.hours_per_train + rest
    served = now - float(rec.visit_start[k])  # in handling at node c
    return rest - float(handling[slot, c]) + max(0.0, float(handling[slot, c]) - served)


def _carriers(
    flow_ids: tuple[str, ...], flow: NDArray[np.int32], route_of: NDArray[np.object_]
) -> list[tuple[tuple[str, str], NDArray[np.bool_]]]:
    """Masks of the trains of each (flow, route) present in the plan."""
    out = []
    for k, fid in enumerate(flow_ids):
        mine = flow == k
        for rid in sorted(set(route_of[mine].tolist())):
            out.append(((fid, str(rid)), mine & (route_of == rid)))
    return out


def flow_times(net: Network, rec: Records) -> dict[tuple[str, str], FlowTimes]:
    """Censoring-aware transit per (flow, route) for one replication (see the module
    docstring); pairs without any train are absent."""
    plan = rec.plan
    w0, w1 = rec.warmup_hours, rec.end_hours
    departed = (plan.depart_hours >= w0) & (plan.depart_hours < w1)
    transit_hours = rec.delivered_hours - plan.depart_hours
    unfinished = np.isnan(rec.delivered_hours)
    if unfinished.any():
        tables = _path_tables(net, plan.type_names)
        backlogs = _backlogs(net, rec)
        for i in np.flatnonzero(unfinished):
            path = int(plan.path[i])
            slot = int(plan.train_type[i]) + 1
            left = _remaining_hours(
                rec, int(i), tables[path], slot, net.paths[path].nodes, backlogs
            )
            transit_hours[i] = (w1 - plan.depart_hours[i]) + left
    delivered_in_window = (rec.delivered_hours >= w0) & (rec.delivered_hours <= w1)
    route_of = np.asarray([p.route_id for p in net.paths], dtype=object)[plan.path]
    out = {}
    for (fid, rid), mine in _carriers(plan.flow_ids, plan.flow, route_of):
        went = mine & departed
        out[(fid, rid)] = FlowTimes(
            teu_departed=float(plan.teu[went].sum()),
            teu_transit_days=float((plan.teu[went] * transit_hours[went]).sum() / 24.0),
            trains_departed=int(went.sum()),
            trains_unfinished=int((went & unfinished).sum()),
            teu_delivered=float(plan.teu[mine & delivered_in_window].sum()),
        )
    return out


def flow_times_probe(
    scenario: Scenario, net: Network, rec: Records, kpis: ReplicationKpis
) -> dict[tuple[str, str], FlowTimes]:
    """:func:`flow_times` as a probe of a run (:class:`sim.engine.replications.Job`): the mode
    choice's reading of each replication of its final run, taken where it ran."""
    return flow_times(net, rec)


def nominal_transit_days(s: Scenario, net: Network, fid: str, rid: str) -> float:
    """Uncongested door-to-door days of a flow on a route: mean handling and travel."""
    flow = s.flows[fid]
    type_names = tuple(sorted({t for f in s.flows.values() for t in f.train_types}))
    reverse = s.routes[rid].nodes[0] != flow.origin
    table = _path_tables(net, type_names)[net.path_index[(rid, reverse)]][0]
    if not flow.train_types:
        return float(table[0, 0]) / 24.0
    total = sum(flow.train_types.values())
    hours = sum(w * table[type_names.index(t) + 1, 0] for t, w in flow.train_types.items())
    return float(hours) / total / 24.0
