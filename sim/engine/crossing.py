"""The Belarus–EU crossing(s) of a scenario's China–EU routes, and the crossing simulated alone.

*The crossing* of a China–EU route is where it leaves Belarus for the EU: the two nodes at
the ends of the route's link from a node in Belarus (country ``BY``) to a node in an EU
member state (on the shipped networks Brest–Małaszewicze, Grodno–Kuźnica and
Svislač–Siemianówka, B4/G14). Both nodes count: the Belarusian one holds the broad-gauge
handling (B1, B4) and the Polish one the transshipment of trains that crossed in 1520 (A31);
a train passes them in series, westbound Belarus first, eastbound EU first. The rule reads
the network, so a scenario that adds a crossing (a new route through Lithuania, say) gets it
without a code change.

:func:`crossing_scenario` cuts a scenario down to its crossing(s): the crossing nodes (and a
plain node where other traffic's route needs one to have two nodes), the links between them,
the other traffic that passes them (its routes cut to the crossing, its ``gives_way``,
demand events and periods as written) and China–EU trains arriving at the crossing as a
Poisson stream per direction (the corridor's departures are Poisson and travel times to the
border independent, so their arrivals at the border are Poisson too), routed over the
crossings by the scenario's shares and with its train types and seasonality. Finite room is
left out (``room_trains``): where a waiting train stands (at Brest or held up the line) does
not change how long it waits to pass. Closures (``servers: 0`` or ``capacity_factor: 0`` on a
crossing node) and dispatch rules are left out: the time-series choice models closures itself.
:func:`crossing_waits` runs it with the engine and measures the China–EU trains' mean wait.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import numpy as np

from sim.config.scenario import Direction, Event, Flow, Link, Node, Route, RunSettings, Scenario
from sim.engine.demand import plan_trains
from sim.engine.model import CorridorModel
from sim.engine.network import DIRECTIONS, build_network, opposite
from sim.engine.streams import Streams
from sim.errors import ConfigError
from sim.markets import MARKET_CHINA_EU

BELARUS = "BY"
EU_COUNTRIES = frozenset(
    {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"}
    | {"IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}
)
"""ISO codes of the EU member states: a route's link from BY into one of these is a crossing."""

WARMUP_DAYS = 30.0
"""Warm-up of a crossing simulation: the queue starts as the span's load leaves it, not empty."""


@dataclass(frozen=True)
class Crossing:
    """One Belarus–EU crossing: its Belarusian and EU nodes and the link between them."""

    by_node: str
    eu_node: str
    link: str

    @property
    def nodes(self) -> tuple[str, str]:
        return (self.by_node, self.eu_node)

    @property
    def route_id(self) -> str:
        return f"crossing:{self.by_node}-{self.eu_node}"


@dataclass(frozen=True)
class ChinaEuMix:
    """What the scenario's China–EU trains of one direction bring to the crossing(s)."""

    shares: dict[str, float]  # BY node of a crossing -> share of the direction's trains
    teu_per_train: float
    train_types: dict[str, float]
    seasonality: tuple[float, ...] | None


def direction_on(s: Scenario, flow: Flow, route_id: str) -> Direction:
    """The direction the flow's trains travel on the route (as the engine's paths have it)."""
    route = s.routes[route_id]
    return route.direction if route.nodes[0] == flow.origin else opposite(route.direction)


def _link_of(s: Scenario, a: str, b: str) -> str | None:
    for lid, link in s.links.items():
        if (link.from_node, link.to_node) == (a, b) or (
            link.bidirectional and (link.to_node, link.from_node) == (a, b)
        ):
            return lid
    return None


def crossing_of_route(s: Scenario, route_id: str) -> Crossing | None:
    """The route's crossing from Belarus into the EU (either way round), or None."""
    nodes = s.routes[route_id].nodes
    for a, b in itertools.pairwise(nodes):
        ca, cb = s.nodes[a].country, s.nodes[b].country
        if {ca, cb} & {BELARUS} and (ca in EU_COUNTRIES or cb in EU_COUNTRIES):
            by_node, eu_node = (a, b) if ca == BELARUS else (b, a)
            link = _link_of(s, a, b)
            assert link is not None  # a validated route has a link between its nodes
            return Crossing(by_node, eu_node, link)
    return None


def find_crossings(s: Scenario, only: tuple[str, ...] | None = None) -> tuple[Crossing, ...]:
    """The crossings of the scenario's China–EU routes (``only``: those Belarusian nodes),
    each with at least one node of limited capacity; a ConfigError otherwise."""
    source = s.name or "scenario"
    found: dict[str, Crossing] = {}
    for flow in s.flows.values():
        if flow.market != MARKET_CHINA_EU:
            continue
        for rid in flow.routes:
            c = crossing_of_route(s, rid)
            if c is not None:
                found.setdefault(c.by_node, c)
    if not found:
        raise ConfigError(source, ("routes",), "no China–EU route crosses from Belarus to the EU")
    if only is not None:
        for name in only:
            if name not in found:
                known = ", ".join(sorted(found))
                raise ConfigError(
                    source,
                    ("nodes", name),
                    f"not a Belarus–EU crossing of a China–EU route (crossings: {known})",
                )
        found = {k: v for k, v in found.items() if k in only}
    for c in found.values():
        if all(s.nodes[n].servers is None for n in c.nodes):
            raise ConfigError(
                source, ("nodes", c.by_node, "servers"), "a crossing needs a capacity limit"
            )
    return tuple(found[k] for k in sorted(found))


def china_eu_mix(s: Scenario, crossings: tuple[Crossing, ...], direction: Direction) -> ChinaEuMix:
    """Shares over the crossings, TEU per train (per train, harmonic over TEU), train types
    and seasonality (trains-weighted) of the scenario's China–EU trains in one direction.
    Flows with no TEU written weigh as one train each (the routing still counts)."""
    weights: dict[str, float] = {}
    trains_total = teu_total = 0.0
    types: dict[str, float] = {}
    season = np.zeros(12)
    flows = [f for f in s.flows.values() if f.market == MARKET_CHINA_EU]
    any_teu = any((f.teu_per_year or 0.0) > 0 for f in flows)
    for flow in flows:
        total_share = sum(flow.routes.values())
        teu = (flow.teu_per_year or 0.0) if any_teu else flow.teu_per_train
        for rid, share in flow.routes.items():
            c = crossing_of_route(s, rid)
            if c is None or c not in crossings or direction_on(s, flow, rid) != direction:
                continue
            part_teu = teu * share / total_share
            trains = part_teu / flow.teu_per_train
            weights[c.by_node] = weights.get(c.by_node, 0.0) + trains
            trains_total += trains
            teu_total += part_teu
            for t, p in flow.train_types.items():
                types[t] = types.get(t, 0.0) + trains * p / sum(flow.train_types.values())
            months = np.asarray(flow.seasonality or [1.0] * 12, dtype=float)
            season += trains * months / months.mean()
    if trains_total <= 0:
        source = s.name or "scenario"
        raise ConfigError(
            source, ("flows",), f"no {direction}bound China–EU flow uses a Belarus–EU crossing"
        )
    untyped = trains_total - sum(types.values())
    mix = {t: v / trains_total for t, v in sorted(types.items())}
    if untyped > 1e-9 * trains_total and mix:
        mix[""] = untyped / trains_total  # trains without a type: the node's plain handling
    flat = bool(np.allclose(season, season.mean()))
    return ChinaEuMix(
        shares={k: v / trains_total for k, v in sorted(weights.items())},
        teu_per_train=teu_total / trains_total,
        train_types=mix,
        seasonality=None if flat else tuple(float(x) for x in season / season.mean()),
    )


def is_closure(event: Event) -> bool:
    """A full closure: the choice models these itself (not capacity for its supply curve)."""
    return event.servers == 0 or event.capacity_factor == 0


def without_closures(s: Scenario, nodes: set[str]) -> Scenario:
    """The scenario with the closure events on these nodes switched off."""
    events = {
        eid: e.model_copy(update={"enabled": False})
        if e.enabled and is_closure(e) and set(e.targets) & nodes
        else e
        for eid, e in s.events.items()
    }
    return s.model_copy(update={"events": events})


def other_traffic(s: Scenario, nodes: set[str]) -> dict[str, tuple[str, list[str]]]:
    """Flows of other markets through the crossing nodes: flow id -> (route id, route's
    nodes cut to the stretch through the crossing, at least two nodes)."""
    out: dict[str, tuple[str, list[str]]] = {}
    for fid, flow in s.flows.items():
        if flow.market == MARKET_CHINA_EU:
            continue
        for rid in flow.routes:
            seq = s.routes[rid].nodes
            at = [i for i, n in enumerate(seq) if n in nodes]
            if not at:
                continue
            lo, hi = min(at), max(at)
            if lo == hi:  # one crossing node only: keep a neighbour so the route has a link
                lo, hi = (lo, lo + 1) if lo + 1 < len(seq) else (lo - 1, lo)
            if len(flow.routes) > 1:
                raise ConfigError(
                    s.name or "scenario",
                    ("flows", fid, "routes"),
                    "other traffic through a Belarus–EU crossing must have one route",
                )
            out[fid] = (rid, list(seq[lo : hi + 1]))
    return out


def crossing_scenario(
    s: Scenario,
    crossings: tuple[Crossing, ...],
    mixes: tuple[ChinaEuMix, ChinaEuMix],
    trains_per_day: tuple[float, float],
    start: dt.date,
    end: dt.date,
) -> Scenario:
    """The crossing(s) alone over [start, end) after a warm-up, China–EU trains arriving at
    ``trains_per_day`` (westbound, eastbound) in all; see the module docstring."""
    crossing_nodes = {n for c in crossings for n in c.nodes}
    s = without_closures(s, crossing_nodes)
    others = other_traffic(s, crossing_nodes)
    node_ids = set(crossing_nodes) | {n for _, seq in others.values() for n in seq}
    nodes: dict[str, Node] = {}
    for nid in s.nodes:
        if nid in crossing_nodes:
            nodes[nid] = s.nodes[nid].model_copy(
                update={"room_trains": None, "room_trains_by_direction": {}}
            )
        elif nid in node_ids:  # a neighbour other traffic passes: a plain point
            nodes[nid] = Node(name=s.nodes[nid].name, country=s.nodes[nid].country)
    links: dict[str, Link] = {c.link: s.links[c.link] for c in crossings}
    for _, seq in others.values():
        for a, b in itertools.pairwise(seq):
            lid = _link_of(s, a, b)
            assert lid is not None
            links[lid] = s.links[lid]
    routes = {c.route_id: Route(nodes=[c.by_node, c.eu_node], direction="west") for c in crossings}
    flows: dict[str, Flow] = {}
    for fid, (rid, seq) in others.items():
        flow, route = s.flows[fid], s.routes[rid]
        forward = flow.origin == route.nodes[0]
        routes[rid] = Route(nodes=seq, direction=route.direction)
        ends = (seq[0], seq[-1]) if forward else (seq[-1], seq[0])
        flows[fid] = flow.model_copy(update={"origin": ends[0], "destination": ends[1]})
    for d, mix, rate in zip(DIRECTIONS, mixes, trains_per_day, strict=True):
        for c in crossings:
            share = mix.shares.get(c.by_node, 0.0)
            origin, destination = c.nodes if d == "west" else c.nodes[::-1]
            flows[f"china_eu:{c.by_node}:{d}"] = Flow(
                origin=origin,
                destination=destination,
                routes={c.route_id: 1.0},
                teu_per_year=rate * share * 365.0 * mix.teu_per_train,
                teu_per_train=mix.teu_per_train,
                seasonality=list(mix.seasonality) if mix.seasonality else None,
                train_types={k or "untyped": v for k, v in mix.train_types.items()},
            )
    targets = set(nodes) | set(links) | set(others)
    events = {
        eid: e.model_copy(update={"targets": [t for t in e.targets if t in targets]})
        for eid, e in s.events.items()
        if e.enabled and set(e.targets) & targets
    }
    return Scenario(
        name=f"{s.name or 'scenario'} (crossing alone)",
        run=RunSettings(
            start_date=start,
            warmup_days=WARMUP_DAYS,
            horizon_days=float((end - start).days),
            replications=1,
            seed=s.run.seed,
        ),
        nodes=nodes,
        links=links,
        routes=routes,
        flows=flows,
        events=events,
    )


def crossing_waits(
    mini: Scenario, crossings: tuple[Crossing, ...], root_seed: int, replication: int
) -> tuple[tuple[float, int], tuple[float, int]]:
    """One replication of a crossing scenario: per direction (westbound, eastbound), the
    China–EU trains' mean wait in days to pass the crossing (queueing at both its nodes; a
    train still queued at the end counts with the wait it had so far, as the node KPIs do)
    and how many trains arrived inside the measured window."""
    net = build_network(mini)
    streams = Streams(root_seed=root_seed, replication=replication)
    plan = plan_trains(mini, net, streams)
    rec = CorridorModel(net, plan, streams).run()
    crossing_index = {net.nodes[i].id: i for i in range(len(net.nodes))}
    wanted = np.zeros(len(net.nodes), dtype=bool)
    for c in crossings:
        for nid in c.nodes:
            wanted[crossing_index[nid]] = True
    start = np.where(np.isnan(rec.visit_start), rec.end_hours, rec.visit_start)
    wait = np.where(wanted[rec.visit_node], start - rec.visit_arrive, 0.0)
    wait = np.where(np.isnan(rec.visit_arrive), 0.0, wait)
    per_train = np.add.reduceat(wait, rec.visit_offset[:-1]) if len(wait) else np.zeros(0)
    first_arrive = rec.visit_arrive[rec.visit_offset[:-1]] if len(wait) else np.zeros(0)
    markets = np.asarray(plan.flow_markets)[plan.flow] if len(plan) else np.zeros(0)
    directions = np.asarray([net.paths[p].direction for p in plan.path.tolist()])
    inside = (first_arrive >= rec.warmup_hours) & (first_arrive < rec.end_hours)
    out = []
    for d in DIRECTIONS:
        mask = inside & (markets == MARKET_CHINA_EU) & (directions == d)
        n = int(mask.sum())
        out.append((float(per_train[mask].mean() / 24.0) if n else 0.0, n))
    return out[0], out[1]
