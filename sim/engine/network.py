"""The static corridor built from a validated scenario: indexed nodes, links, paths, schedules.

Everything the simulation needs to look up per train is resolved here once (ids to indices,
routes to node/link index tuples in the direction of travel, events to piecewise-constant
capacity schedules), so the event loop does no dictionary work on names.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from sim.config.dispatch import reroute_route
from sim.config.distributions import Distribution
from sim.config.scenario import Direction, Event, Scenario, event_hours
from sim.stats import FloatArray, StepPath

UNLIMITED = 10**9
"""Stand-in capacity for a node or link without a limit that still needs a gate (closures)."""


@dataclass(frozen=True)
class Schedule:
    """Piecewise-constant capacity and handling factor; segment i starts at ``times_hours[i]``."""

    times_hours: tuple[float, ...]
    servers: tuple[int | None, ...]
    handling_factor: tuple[float, ...]

    @property
    def is_constant(self) -> bool:
        return len(self.times_hours) == 1

    def servers_at(self, t_hours: float) -> int | None:
        i = 0
        for k, start in enumerate(self.times_hours):
            if start <= t_hours:
                i = k
        return self.servers[i]


@dataclass(frozen=True)
class NodePlan:
    id: str
    index: int
    servers: int | None
    handling: Distribution
    handling_by_type: dict[str, Distribution]
    schedule: Schedule
    direction_schedules: dict[str, Schedule] = field(default_factory=dict)
    room_by_direction: dict[str, int | None] = field(default_factory=dict)

    @property
    def needs_pool(self) -> bool:
        """A queue exists if capacity is limited now or at any time in the run."""
        return self.servers is not None or any(s is not None for s in self.schedule.servers)

    @property
    def has_room_limit(self) -> bool:
        return any(r is not None for r in self.room_by_direction.values())


@dataclass(frozen=True)
class LinkPlan:
    id: str
    index: int
    km: float | None
    speed_km_per_day: Distribution | None
    hours: Distribution | None
    capacity_trains: int | None
    schedule: Schedule

    @property
    def needs_pool(self) -> bool:
        return self.capacity_trains is not None or any(s is not None for s in self.schedule.servers)

    def mean_hours(self) -> float:
        if self.hours is not None:
            return self.hours.mean()
        assert self.km is not None and self.speed_km_per_day is not None
        # E[km/speed] >= km/E[speed]; this is the planner's nominal figure, used for reports.
        return self.km / self.speed_km_per_day.mean() * 24.0


@dataclass(frozen=True)
class PathPlan:
    """A route in one direction of travel."""

    route_id: str
    reverse: bool
    nodes: tuple[int, ...]
    links: tuple[int, ...]
    direction: str = "west"

    @property
    def label(self) -> str:
        return f"{self.route_id}{' (reverse)' if self.reverse else ''}"


@dataclass(frozen=True)
class RulePlan:
    """A dispatch rule resolved to indices (see sim/config/dispatch.py, sim/engine/dispatch.py)."""

    id: str
    via: int
    paths: frozenset[int]  # paths that pass ``via``
    flows: frozenset[int]  # flows (by index) the rule applies to
    suspended: tuple[tuple[float, float], ...]  # hours when departures are suspended
    throttle_above_trains: int | None
    throttle_trains_per_day: float | None
    release_trains_per_day: float | None


@dataclass(frozen=True)
class ReroutePlan:
    """A dispatch rule's re-routing resolved to indices (see sim/engine/reroute.py)."""

    id: str
    via: int
    paths: frozenset[int]  # paths that pass ``via``: only their trains re-route
    to_path: dict[int, int]  # flow index -> the path its re-routed trains take
    share: float
    active: tuple[tuple[float, float], ...]  # hours when planned departures may re-route


@dataclass(frozen=True)
class Network:
    nodes: tuple[NodePlan, ...]
    links: tuple[LinkPlan, ...]
    paths: tuple[PathPlan, ...]
    path_index: dict[tuple[str, bool], int]
    warmup_hours: float
    end_hours: float
    rules: tuple[RulePlan, ...] = ()  # the rules that hold departures (the Dispatcher's)
    reroutes: tuple[ReroutePlan, ...] = ()  # the rules that re-route (before the run)

    def node_ids(self) -> list[str]:
        return [n.id for n in self.nodes]

    @property
    def has_room_limits(self) -> bool:
        """True when some node holds a finite number of trains (the blocking engine runs)."""
        return any(n.has_room_limit for n in self.nodes)


def build_network(s: Scenario) -> Network:
    """Resolve a validated scenario into indexed plans (assumes check_references passed)."""
    end_hours = (s.run.warmup_days + s.run.horizon_days) * 24.0
    node_index = {nid: i for i, nid in enumerate(s.nodes)}
    nodes = tuple(
        NodePlan(
            id=nid,
            index=node_index[nid],
            servers=node.servers,
            handling=node.handling_hours,
            handling_by_type=dict(node.handling_hours_by_type),
            schedule=schedule,
            direction_schedules=by_direction,
            room_by_direction=(
                {d: node.room_for(d) for d in DIRECTIONS}
                if node.room_trains is not None or node.room_trains_by_direction
                else {}
            ),
        )
        for nid, node in s.nodes.items()
        for schedule, by_direction in [_node_schedules(nid, s, end_hours)]
    )
    links = tuple(
        LinkPlan(
            id=lid,
            index=i,
            km=link.km,
            speed_km_per_day=link.speed_km_per_day,
            hours=link.hours,
            capacity_trains=link.capacity_trains,
            schedule=build_schedule(lid, link.capacity_trains, s, end_hours),
        )
        for i, (lid, link) in enumerate(s.links.items())
    )
    link_between: dict[tuple[str, str], int] = {}
    for i, link in enumerate(s.links.values()):
        link_between[(link.from_node, link.to_node)] = i
        if link.bidirectional:
            link_between.setdefault((link.to_node, link.from_node), i)
    paths: list[PathPlan] = []
    path_index: dict[tuple[str, bool], int] = {}
    for rid, route in s.routes.items():
        for reverse in (False, True):
            seq = list(reversed(route.nodes)) if reverse else list(route.nodes)
            if any((a, b) not in link_between for a, b in itertools.pairwise(seq)):
                continue  # a one-way route has no reverse path
            path_index[(rid, reverse)] = len(paths)
            forward = route.direction
            paths.append(
                PathPlan(
                    route_id=rid,
                    reverse=reverse,
                    nodes=tuple(node_index[n] for n in seq),
                    links=tuple(link_between[(a, b)] for a, b in itertools.pairwise(seq)),
                    direction=opposite(forward) if reverse else forward,
                )
            )
    return Network(
        nodes=nodes,
        links=links,
        paths=tuple(paths),
        path_index=path_index,
        warmup_hours=s.run.warmup_days * 24.0,
        end_hours=end_hours,
        rules=_rule_plans(s, nodes, paths),
        reroutes=_reroute_plans(s, nodes, paths, path_index),
    )


def _rule_plans(
    s: Scenario, nodes: tuple[NodePlan, ...], paths: list[PathPlan]
) -> tuple[RulePlan, ...]:
    """Dispatch rules with their node, paths, flows and suspension windows resolved."""
    out = []
    ids = [n.id for n in nodes]
    flow_ids = list(s.flows)
    for rid, rule in s.dispatch.items():
        if not rule.enabled or not rule.holds:
            continue  # a rule that only re-routes acts before the run (_reroute_plans)
        via = ids.index(rule.via)
        flows = frozenset(
            k for k, fid in enumerate(flow_ids) if rule.covers(fid, s.flows[fid].market)
        )
        suspended: list[tuple[float, float]] = []
        if rule.suspend_after_closed_days is not None:
            lag = rule.suspend_after_closed_days * 24.0
            suspended.extend(closed_windows(nodes[via].schedule, lag))
        for period in rule.suspend_periods:
            a = event_hours(period.start, s.run.start_date, s.run.warmup_days)
            b = event_hours(period.end, s.run.start_date, s.run.warmup_days)
            if b > a:
                suspended.append((a, b))
        out.append(
            RulePlan(
                id=rid,
                via=via,
                paths=_paths_through(via, paths),
                flows=flows,
                suspended=tuple(sorted(suspended)),
                throttle_above_trains=rule.throttle_above_trains,
                throttle_trains_per_day=rule.throttle_trains_per_day,
                release_trains_per_day=rule.release_trains_per_day,
            )
        )
    return tuple(out)


def _paths_through(via: int, paths: list[PathPlan]) -> frozenset[int]:
    """The paths that pass node ``via`` (the trains a dispatch rule can act on)."""
    return frozenset(i for i, p in enumerate(paths) if via in p.nodes)


def closed_windows(schedule: Schedule, lag_hours: float) -> list[tuple[float, float]]:
    """The times when a node has been closed (0 servers) for at least ``lag_hours``: from
    ``lag_hours`` into each closure to its end, for closures longer than the lag. What both
    ``suspend_after_closed_days`` and ``reroute_after_closed_days`` watch.

    A closure during which something else changes (a handling factor) is two segments of the
    schedule; they are joined first, so the lag counts from the start of the whole closure.
    (Before re-routing shared this function, segments were joined only with no lag: a
    suspension 5 days in restarted its count at the second segment.)"""
    closures: list[tuple[float, float]] = []  # back-to-back closed segments joined
    ends = [*schedule.times_hours[1:], math.inf]
    for start, end, servers in zip(schedule.times_hours, ends, schedule.servers, strict=True):
        if servers != 0:
            continue
        if closures and closures[-1][1] == start:
            closures[-1] = (closures[-1][0], end)
        else:
            closures.append((start, end))
    return [(start + lag_hours, end) for start, end in closures if end - start > lag_hours]


def _reroute_plans(
    s: Scenario,
    nodes: tuple[NodePlan, ...],
    paths: list[PathPlan],
    path_index: dict[tuple[str, bool], int],
) -> tuple[ReroutePlan, ...]:
    """Enabled rules with ``reroute_via``: each covered flow's alternative path in its own
    direction (:func:`sim.config.dispatch.reroute_route`), and the hours they are active."""
    out = []
    ids = [n.id for n in nodes]
    route_nodes = {rid: list(r.nodes) for rid, r in s.routes.items()}
    for rid, rule in s.dispatch.items():
        if not rule.enabled or rule.reroute_via is None or rule.reroute_share is None:
            continue
        via = ids.index(rule.via)
        to_path: dict[int, int] = {}
        for k, (fid, flow) in enumerate(s.flows.items()):
            if not rule.covers(fid, flow.market):
                continue
            alt = reroute_route(list(flow.routes), route_nodes, rule.via, rule.reroute_via)
            if alt is not None:  # the check made sure a listed flow has one
                to_path[k] = path_index[(alt, s.routes[alt].nodes[0] != flow.origin)]
        lag = (rule.reroute_after_closed_days or 0.0) * 24.0
        out.append(
            ReroutePlan(
                id=rid,
                via=via,
                paths=_paths_through(via, paths),
                to_path=to_path,
                share=rule.reroute_share,
                active=tuple(closed_windows(nodes[via].schedule, lag)),
            )
        )
    return tuple(out)


DIRECTIONS: tuple[Direction, Direction] = ("west", "east")


def opposite(direction: Direction) -> Direction:
    return "east" if direction == "west" else "west"


def _node_schedules(
    nid: str, s: Scenario, end_hours: float
) -> tuple[Schedule, dict[str, Schedule]]:
    """A node's capacity over time, and each direction's when it splits its servers.

    Events act on the node as a whole (a closure closes both directions; ``servers: n`` or a
    capacity factor is shared in proportion to the base split, each direction rounded to whole
    servers). For a split node the node's schedule is then the sum of its directions' pools,
    the servers the trains queue at: rounding each share can give more or fewer than the
    rounded whole (8 servers 4/4 at factor 0.375: the whole rounds to 3, the pools to 2 + 2),
    and utilisation, ``servers_mean``, capacity and the closures that rules watch must count
    the capacity that exists (issue 21 item 5). One schedule, so every reader agrees.
    """
    node = s.nodes[nid]
    whole = build_schedule(nid, node.servers, s, end_hours)
    split = node.servers_by_direction
    if split is None:
        return whole, {}
    total = sum(split.values())
    by_direction: dict[str, Schedule] = {}
    for d in DIRECTIONS:
        share = split.get(d, 0) / total if total else 0.0
        servers = tuple(None if v is None else round(v * share) for v in whole.servers)
        by_direction[d] = Schedule(whole.times_hours, servers, whole.handling_factor)
    pools = zip(*(sched.servers for sched in by_direction.values()), strict=True)
    summed = tuple(None if None in at else sum(at) for at in pools)
    return Schedule(whole.times_hours, summed, whole.handling_factor), by_direction


def active_events(s: Scenario, target: str) -> list[tuple[float, float, Event]]:
    """Enabled events on a target as (start_hours, end_hours, event)."""
    out = []
    for event in s.events.values():
        if event.enabled and target in event.targets:
            start = event_hours(event.start, s.run.start_date, s.run.warmup_days)
            end = event_hours(event.end, s.run.start_date, s.run.warmup_days)
            out.append((start, end, event))
    return out


def build_schedule(target: str, base: int | None, s: Scenario, end_hours: float) -> Schedule:
    """Capacity over time: the smallest ``servers`` of active events (else the base), times
    the product of their ``capacity_factor`` (rounded to whole servers), and the product of
    their ``handling_factor``."""
    events = active_events(s, target)
    cuts = {0.0}
    for start, end, _ in events:
        for t in (start, end):
            if 0.0 < t < end_hours:
                cuts.add(t)
    times: list[float] = []
    servers: list[int | None] = []
    factors: list[float] = []
    for t in sorted(cuts):
        live = [e for start, end, e in events if start <= t < end]
        fixed = [e.servers for e in live if e.servers is not None]
        cap: int | None = min(fixed) if fixed else base
        scale = math.prod(e.capacity_factor for e in live if e.capacity_factor is not None)
        cap = (0 if scale == 0 else None) if cap is None else round(cap * scale)
        factor = math.prod(e.handling_factor for e in live if e.handling_factor is not None)
        if times and servers[-1] == cap and factors[-1] == factor:
            continue
        times.append(t)
        servers.append(cap)
        factors.append(factor)
    return Schedule(tuple(times), tuple(servers), tuple(factors))


def schedule_mean_between(schedule: Schedule, edges: FloatArray) -> FloatArray:
    """Mean servers between consecutive edges; NaN where capacity is unlimited."""
    times = np.asarray(schedule.times_hours)
    servers = np.asarray([np.nan if s is None else float(s) for s in schedule.servers], dtype=float)
    step = StepPath(times, servers)
    result: FloatArray = step.mean_between(edges)
    return result
