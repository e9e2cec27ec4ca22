"""Checks across a whole scenario that one field cannot make alone: routes through nodes
and links that exist, shares that sum, events on known targets, observed and dispatch
blocks on known nodes. Each problem is a (field path, message) pair, so the loader can
name the file that set the field.
"""

from __future__ import annotations

import datetime as dt

from sim.config.dates import When
from sim.config.dispatch import dispatch_problems
from sim.config.mode_choice import mode_choice_problems
from sim.config.observed import observed_problems
from sim.config.run_limits import factor_problems, size_problems
from sim.config.scenario import Event, Flow, Route, Scenario, event_hours


def _show(when: When) -> str:
    if isinstance(when, dt.datetime) and when.time() == dt.time():
        return when.date().isoformat()
    if isinstance(when, dt.date):
        return when.isoformat()
    return f"day {when:g}"


def check_references(s: Scenario) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems that span fields, as (field path, message); empty when the scenario is sound."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    links_between = _link_index(s)
    for lid, link in s.links.items():
        for end, nid in (("from", link.from_node), ("to", link.to_node)):
            if nid not in s.nodes:
                problems.append((("links", lid, end), f"unknown node '{nid}'"))
    for rid, route in s.routes.items():
        problems.extend(_route_problems(s, rid, route, links_between))
    for fid, flow in s.flows.items():
        problems.extend(_flow_problems(s, fid, flow))
    for eid, event in s.events.items():
        problems.extend(_event_problems(s, eid, event))
    problems.extend(observed_problems(s.observed, set(s.nodes)))
    start, warmup = s.run.start_date, s.run.warmup_days
    problems.extend(
        dispatch_problems(
            s.dispatch,
            set(s.nodes),
            {fid: (f.market, list(f.routes)) for fid, f in s.flows.items()},
            {rid: list(r.nodes) for rid, r in s.routes.items()},
            lambda w: event_hours(w, start, warmup),
        )
    )
    if not problems and s.flows:
        problems.extend(size_problems(s))
    if not problems:
        problems.extend(factor_problems(s))
    if s.mode_choice is not None:
        problems.extend(
            mode_choice_problems(
                s.mode_choice,
                {fid: f.routes for fid, f in s.flows.items()},
                {rid: r.nodes for rid, r in s.routes.items()},
                lambda w: event_hours(w, start, warmup),
            )
        )
    return problems


def _link_index(s: Scenario) -> dict[tuple[str, str], str]:
    index: dict[tuple[str, str], str] = {}
    for lid, link in s.links.items():
        index[(link.from_node, link.to_node)] = lid
        if link.bidirectional:
            index.setdefault((link.to_node, link.from_node), lid)
    return index


def _route_problems(
    s: Scenario, rid: str, route: Route, links_between: dict[tuple[str, str], str]
) -> list[tuple[tuple[str | int, ...], str]]:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for i, nid in enumerate(route.nodes):
        if nid not in s.nodes:
            problems.append((("routes", rid, "nodes", i), f"unknown node '{nid}'"))
    if problems:
        return problems
    gauge: int | None = None
    for i, (a, b) in enumerate(zip(route.nodes, route.nodes[1:], strict=False)):
        lid = links_between.get((a, b)) or links_between.get((b, a))
        if lid is None:
            problems.append((("routes", rid, "nodes", i + 1), f"no link from '{a}' to '{b}'"))
            continue
        if (a, b) not in links_between:
            problems.append(
                (("routes", rid, "nodes", i + 1), f"link '{lid}' runs {b} -> {a} only (one-way)")
            )
        link_gauge = s.links[lid].gauge_mm
        if (
            gauge is not None
            and link_gauge is not None
            and link_gauge != gauge
            and not s.nodes[a].gauge_change
        ):
            problems.append(
                (
                    ("routes", rid, "nodes", i),
                    f"gauge changes {gauge} -> {link_gauge} mm at '{a}', "
                    "which is not a gauge_change node",
                )
            )
        if link_gauge is not None:
            gauge = link_gauge
    return problems


def _flow_problems(s: Scenario, fid: str, flow: Flow) -> list[tuple[tuple[str | int, ...], str]]:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for field, nid in (("origin", flow.origin), ("destination", flow.destination)):
        if nid not in s.nodes:
            problems.append((("flows", fid, field), f"unknown node '{nid}'"))
    for rid in flow.routes:
        route = s.routes.get(rid)
        if route is None:
            problems.append((("flows", fid, "routes", rid), f"unknown route '{rid}'"))
            continue
        ends = (route.nodes[0], route.nodes[-1])
        if ends not in ((flow.origin, flow.destination), (flow.destination, flow.origin)):
            problems.append(
                (
                    ("flows", fid, "routes", rid),
                    f"route runs {ends[0]} -> {ends[1]}, "
                    f"not {flow.origin} -> {flow.destination} or back",
                )
            )
    way = flow.gives_way
    if way is not None and not any(
        way.node in s.routes[r].nodes for r in flow.routes if r in s.routes
    ):
        problems.append(
            (("flows", fid, "gives_way", "node"), f"'{way.node}' is not on the flow's routes")
        )
    for i, period in enumerate(flow.load or []):
        a = event_hours(period.start, s.run.start_date, s.run.warmup_days)
        b = event_hours(period.end, s.run.start_date, s.run.warmup_days)
        if b <= a:
            problems.append(
                (
                    ("flows", fid, "load", i, "end"),
                    f"ends ({_show(period.end)}) before it starts ({_show(period.start)})",
                )
            )
    known_types = {t for n in s.nodes.values() for t in n.handling_hours_by_type}
    for t in flow.train_types:
        if known_types and t not in known_types:
            problems.append(
                (
                    ("flows", fid, "train_types", t),
                    f"train type '{t}' is not used by any node "
                    f"(known: {', '.join(sorted(known_types))})",
                )
            )
    return problems


def _event_problems(s: Scenario, eid: str, event: Event) -> list[tuple[tuple[str | int, ...], str]]:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    start = event_hours(event.start, s.run.start_date, s.run.warmup_days)
    end = event_hours(event.end, s.run.start_date, s.run.warmup_days)
    if end <= start:
        problems.append(
            (
                ("events", eid, "end"),
                f"ends ({_show(event.end)}) before it starts ({_show(event.start)})",
            )
        )
    for i, target in enumerate(event.targets):
        path: tuple[str | int, ...] = ("events", eid, "targets", i)
        if target in s.flows:
            if event.demand_factor is None:
                problems.append((path, f"'{target}' is a flow: only demand_factor applies"))
        elif target in s.nodes or target in s.links:
            if event.demand_factor is not None:
                problems.append((path, f"'{target}' is not a flow: demand_factor does not apply"))
        else:
            problems.append((path, f"unknown node, link or flow '{target}'"))
    return problems
