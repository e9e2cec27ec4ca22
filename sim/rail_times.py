"""Rail transit time as a shipper experiences it, saturation included, per flow.

The flow KPI ``transit_days_mean`` averages the trains *delivered* in the window. Under
saturation that hides the problem: the trains stuck in a growing queue are not delivered,
so they never enter the mean. The choice needs the time a container booked on the option
would take, so here every train that *departed* in the window counts: a delivered train
with its transit time, a train still on its way at the end with the time it has spent so
far plus the nominal (uncongested) time of the rest of its path from the node it is at or
heading to. For a train near the end of an uncongested run that is about its nominal
transit; for a train in an unbounded queue it grows with the queue, as it should.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.config import Scenario
from sim.network import Network
from sim.records import Records

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class FlowTimes:
    """One flow in one replication, over the trains that departed in the window."""

    teu_departed: float
    teu_transit_days: float  # sum over those trains of TEU × transit days (for TEU weights)
    trains_departed: int
    trains_unfinished: int  # of those, still on their way at the end
    teu_delivered: float  # TEU delivered in the window (any departure time)

    @property
    def transit_days_mean(self) -> float:
        return self.teu_transit_days / self.teu_departed if self.teu_departed > 0 else np.nan


def _remaining_hours(net: Network, type_names: tuple[str, ...]) -> list[FloatArray]:
    """Per path, an array [type slot, position] of nominal hours from that node to the end.

    Type slot 0 is "no type", slot k+1 is ``type_names[k]`` (as in the model's samplers).
    """
    out = []
    for path in net.paths:
        table = np.zeros((len(type_names) + 1, len(path.nodes)))
        for slot, name in enumerate(("", *type_names)):
            hours = 0.0
            for j in range(len(path.nodes) - 1, -1, -1):
                node = net.nodes[path.nodes[j]]
                dist = node.handling_by_type.get(name, node.handling) if name else node.handling
                hours += dist.mean()
                table[slot, j] = hours
                if j > 0:
                    hours += net.links[path.links[j - 1]].mean_hours()
        out.append(table)
    return out


def flow_times(net: Network, rec: Records) -> dict[str, FlowTimes]:
    """Censoring-aware transit per flow for one replication (see the module docstring)."""
    plan = rec.plan
    w0, w1 = rec.warmup_hours, rec.end_hours
    departed = (plan.depart_hours >= w0) & (plan.depart_hours < w1)
    transit_hours = rec.arrive_hours - plan.depart_hours
    unfinished = np.isnan(rec.arrive_hours)
    if unfinished.any():
        remaining = _remaining_hours(net, plan.type_names)
        finished_visits = (~np.isnan(rec.visit_end)).astype(np.int64)
        done_visits = np.add.reduceat(finished_visits, rec.visit_offset[:-1].astype(np.intp))
        for i in np.flatnonzero(unfinished):
            position = int(done_visits[i])
            table = remaining[int(plan.path[i])]
            ahead = table[int(plan.train_type[i]) + 1, position] if position < table.shape[1] else 0
            transit_hours[i] = (w1 - plan.depart_hours[i]) + ahead
    delivered_in_window = (rec.arrive_hours >= w0) & (rec.arrive_hours <= w1)
    out = {}
    for k, fid in enumerate(plan.flow_ids):
        mine = plan.flow == k
        went = mine & departed
        out[fid] = FlowTimes(
            teu_departed=float(plan.teu[went].sum()),
            teu_transit_days=float((plan.teu[went] * transit_hours[went]).sum() / 24.0),
            trains_departed=int(went.sum()),
            trains_unfinished=int((went & unfinished).sum()),
            teu_delivered=float(plan.teu[mine & delivered_in_window].sum()),
        )
    return out


def nominal_transit_days(s: Scenario, net: Network, fid: str) -> float:
    """Uncongested door-to-door days of a flow: mean handling and travel, no waiting."""
    flow = s.flows[fid]
    type_names = tuple(sorted({t for f in s.flows.values() for t in f.train_types}))
    remaining = _remaining_hours(net, type_names)
    route_total = sum(flow.routes.values())
    type_total = sum(flow.train_types.values())
    hours = 0.0
    for rid, share in flow.routes.items():
        reverse = s.routes[rid].nodes[0] != flow.origin
        table = remaining[net.path_index[(rid, reverse)]]
        if flow.train_types:
            by_type = sum(
                w * table[type_names.index(t) + 1, 0] for t, w in flow.train_types.items()
            )
            hours += share * by_type / type_total
        else:
            hours += share * table[0, 0]
    return hours / route_total / 24.0
