"""What the Belarus–EU crossing(s) can pass of China–EU trains, from the simulated network.

The crossing is the node(s) the engine simulates (:mod:`sim.engine.crossing` says which). At
a moment t, a crossing node n in direction d has ``servers_d(t) × 24`` server-hours a day
(``servers_by_direction``; a node that does not split them gives each direction the share of
its servers that the scenario's China–EU trains of that direction make of both). China–EU
trains through it need their mean handling (their train types, the node's
``handling_hours_by_type``) × the schedule's handling factor; so does the other traffic
through n, at its own mean handling and at its planned rate — which, for a load that gives way
(:mod:`sim.engine.gives_way`), is ``max(0, f × (trains_per_day + λ × stated China–EU) − λ × C)``
per load period, C the China–EU trains a day through its node, f its demand factors.

The China–EU capacity in direction d at t is the most China–EU trains a day D, spread over
the crossings by the scenario's route shares, for which every crossing node's work fits its
server-hours: with other traffic that gives way at λ < 1, each China–EU train adds
``(1 − λ)`` trains of net load until the other traffic is gone, and one train after that, so
the capacity is well below the node's own rate when the other traffic already fills it (the
2016–2021 networks, fitted to E2/E3). The span's capacity is the time-weighted mean over
the pieces where the schedule, the load periods and the events are constant; closures
(servers 0) are left out of the schedule (the choice models them), works (handling factors,
``capacity_factor`` > 0) count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from sim.config.scenario import Direction, Node, Scenario, event_hours
from sim.engine.crossing import ChinaEuMix, Crossing, direction_on, other_traffic, without_closures
from sim.engine.demand import rate_segments
from sim.engine.gives_way import china_eu_trains_per_day
from sim.engine.network import DIRECTIONS, NodePlan, active_events, build_network
from sim.markets import MARKET_CHINA_EU

T = TypeVar("T")
Work = Callable[[float], float]
"""China–EU trains a day (all crossings, one direction) -> server-hours a day at one node."""


def mean_handling_hours(node: Node, train_types: dict[str, float]) -> float:
    """Mean handling of a train at a node, over a mix of train types ('' or a type the node
    does not list: its plain ``handling_hours``)."""
    total = sum(train_types.values())
    if total <= 0:
        return node.handling_hours.mean()
    return (
        sum(
            p * node.handling_hours_by_type.get(t, node.handling_hours).mean()
            for t, p in train_types.items()
        )
        / total
    )


def _value_at(times: Sequence[float], values: Sequence[T], t: float) -> T:
    """The value of a piecewise-constant series (piece i starts at ``times[i]``) at t."""
    i = 0
    for k, start in enumerate(times):
        if start <= t:
            i = k
    return values[i]


def _shifted(s: Scenario, start: dt.date, end: dt.date) -> Scenario:
    """The scenario with its clock at ``start`` (t = 0) and no warm-up, as far as ``end``."""
    run = s.run.model_copy(
        update={"start_date": start, "warmup_days": 0.0, "horizon_days": float((end - start).days)}
    )
    return s.model_copy(update={"run": run})


class _Crossings:
    """The pieces of one span with what each crossing node carries in each."""

    def __init__(
        self,
        s: Scenario,
        crossings: tuple[Crossing, ...],
        mixes: tuple[ChinaEuMix, ChinaEuMix],
        start: dt.date,
        end: dt.date,
    ) -> None:
        self.crossings = crossings
        self.mixes = mixes
        self.node_ids = {n for c in crossings for n in c.nodes}
        s = _shifted(without_closures(s, self.node_ids), start, end)
        self.s = s
        self.end_hours = (end - start).days * 24.0
        net = build_network(s)
        self.plans: dict[str, NodePlan] = {n.id: n for n in net.nodes if n.id in self.node_ids}
        self.others = other_traffic(s, self.node_ids)
        self.cuts = self._cuts()
        self.written = (written_trains_per_day(s, "west"), written_trains_per_day(s, "east"))

    def _cuts(self) -> list[float]:
        cuts = {0.0, self.end_hours}
        for plan in self.plans.values():
            cuts.update(plan.schedule.times_hours)
            for sched in plan.direction_schedules.values():
                cuts.update(sched.times_hours)
        for fid in self.others:
            flow = self.s.flows[fid]
            for p in flow.load or []:
                cuts.update(event_hours(w, self.s.run.start_date, 0.0) for w in (p.start, p.end))
            for a, b, _ in active_events(self.s, fid):
                cuts.update((a, b))
        return sorted(t for t in cuts if 0.0 <= t <= self.end_hours)

    def _through(self, c_node: str, d: Direction) -> float:
        """Share of direction d's China–EU trains that pass crossing node ``c_node``."""
        mix = self.mixes[DIRECTIONS.index(d)]
        return sum(mix.shares.get(c.by_node, 0.0) for c in self.crossings if c_node in c.nodes)

    def _other_rate(self, fid: str, d: Direction, t: float, trains: float) -> float:
        """Other trains a day of flow ``fid`` at t, with ``trains`` China–EU trains a day in d."""
        s, flow = self.s, self.s.flows[fid]
        if flow.load is None:
            bounds, per_hour = rate_segments(s, fid, flow, self.end_hours)
            return float(_value_at(tuple(bounds[:-1]), tuple(per_hour), t)) * 24.0
        factor = 1.0
        for a, b, e in active_events(s, fid):
            if a <= t < b and e.demand_factor is not None:
                factor *= e.demand_factor
        rate = 0.0
        way = flow.gives_way
        for p in flow.load:
            a = event_hours(p.start, s.run.start_date, 0.0)
            b = event_hours(p.end, s.run.start_date, 0.0)
            if not a <= t < b:
                continue
            if way is None or p.china_eu_trains_per_day is None:
                rate += factor * p.trains_per_day
                continue
            lam = way.per_china_eu_train
            if way.node in self.node_ids:
                here = trains * self._through(way.node, d)
            else:  # gives way somewhere else: to the scenario's own China–EU trains there
                rates = lambda f_id, f: rate_segments(s, f_id, f, self.end_hours)  # noqa: E731
                here = china_eu_trains_per_day(s, way.node, d, rates, (a, b))
            shared = p.trains_per_day + lam * p.china_eu_trains_per_day
            rate += max(0.0, factor * shared - lam * here)
        return rate

    def _servers(self, plan: NodePlan, d: Direction, t: float) -> float | None:
        if plan.direction_schedules:
            sched = plan.direction_schedules[d]
            servers = _value_at(sched.times_hours, sched.servers, t)
            return None if servers is None else float(servers)
        whole = _value_at(plan.schedule.times_hours, plan.schedule.servers, t)
        if whole is None:
            return None
        own = [self._through(plan.id, x) * w for x, w in zip(DIRECTIONS, self.written, strict=True)]
        mine = own[DIRECTIONS.index(d)]
        return float(whole) * (mine / sum(own) if sum(own) > 0 else 0.5)

    def works(self, d: Direction, t: float) -> list[tuple[float, Work]]:
        """Per crossing node with a limit: (server-hours a day, work as a function of D)."""
        out: list[tuple[float, Work]] = []
        mix = self.mixes[DIRECTIONS.index(d)]
        for nid, plan in sorted(self.plans.items()):
            servers = self._servers(plan, d, t)
            if servers is None:
                continue
            factor = float(_value_at(plan.schedule.times_hours, plan.schedule.handling_factor, t))
            node = self.s.nodes[nid]
            china_eu = self._through(nid, d) * mean_handling_hours(node, mix.train_types)
            others = [
                (fid, mean_handling_hours(node, self.s.flows[fid].train_types))
                for fid, (rid, seq) in self.others.items()
                if nid in seq and direction_on(self.s, self.s.flows[fid], rid) == d
            ]

            def work(
                trains: float,
                ce: float = china_eu,
                ot: list[tuple[str, float]] = others,
                f: float = factor,
            ) -> float:
                load = trains * ce + sum(self._other_rate(o, d, t, trains) * h for o, h in ot)
                return load * f

            out.append((servers * 24.0, work))
        return out

    def trains_per_day(self, d: Direction, t: float) -> float:
        """The most China–EU trains a day (all crossings, direction d) the nodes pass at t."""
        works = self.works(d, t)

        def fits(trains: float) -> bool:
            return all(w(trains) <= room * (1 + 1e-12) for room, w in works)

        if not works or not fits(0.0):
            return 0.0
        hi = 1.0
        while fits(hi):
            hi *= 2.0
            if hi > 1e6:
                return hi
        lo = 0.0
        for _ in range(50):
            mid = (lo + hi) / 2.0
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        return lo

    def mean_trains_per_day(self, d: Direction) -> float:
        """Time-weighted mean over the span's pieces."""
        total = 0.0
        for a, b in zip(self.cuts, self.cuts[1:], strict=False):
            if b > a:
                total += (b - a) * self.trains_per_day(d, (a + b) / 2.0)
        return total / self.end_hours if self.end_hours > 0 else 0.0


def written_trains_per_day(s: Scenario, d: Direction) -> float:
    """The scenario's written China–EU trains a day in direction d (any route)."""
    total = 0.0
    for flow in s.flows.values():
        if flow.market != MARKET_CHINA_EU or flow.teu_per_year is None:
            continue
        share = sum(sh for rid, sh in flow.routes.items() if direction_on(s, flow, rid) == d) / sum(
            flow.routes.values()
        )
        total += flow.teu_per_year / flow.teu_per_train / 365.0 * share
    return total


def capacity_trains_per_day(
    s: Scenario,
    crossings: tuple[Crossing, ...],
    mixes: tuple[ChinaEuMix, ChinaEuMix],
    start: dt.date,
    end: dt.date,
) -> tuple[float, float]:
    """China–EU trains a day the crossing(s) pass, westbound and eastbound, averaged over
    [start, end) (the module docstring says how)."""
    model = _Crossings(s, crossings, mixes, start, end)
    return model.mean_trains_per_day("west"), model.mean_trains_per_day("east")
