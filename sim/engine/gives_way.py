"""Other traffic that gives way to the China–EU trains at a node.

The sourced counts of all trains (B19 at Małaszewicze, B24 at Alashankou, B25 at Horgos)
stayed near constant while China–EU traffic grew several-fold: the other freight took the
paths the China–EU trains left. Its loads in ``params/`` are therefore derived against a
China–EU volume (each load period's ``china_eu_trains_per_day``). A run whose China–EU demand
differs (a history year's fitted demand, a sweep over it, a demand shock written as flows)
must move the other traffic the other way, or the crossing's total load would follow the
China–EU demand one for one. This module computes, per load period, the other trains a day
the scenario's own flows leave room for.

**Each train counted once.** A sourced count is of every train through the node: B24 and B25
count every CR Express train, the Belarus–China ones (issue 13, ``params/belarus*.yaml``)
included. So the residual load gives way to every train the scenario models explicitly through
its node — each flow of another market that does not give way itself (China–EU, Belarus–China)
— not to China–EU alone; otherwise a scenario with the Belarus overlay would carry its
Belarus–China trains twice at the exits (once in the residual, once as themselves). A period's
``china_eu_trains_per_day`` is what the load was derived against (the params tables carry no
explicit Belarus–China trains, so it is the whole explicit count there).

The China–EU volume is the flows' mean rate over each load period (inside the run), with
their seasonality and ``demand_factor`` events, as the trains are planned (``rates`` is
:func:`sim.engine.demand.rate_segments`, passed in to keep the import one-way).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from sim.config.scenario import Flow, Scenario
from sim.engine.network import opposite
from sim.markets import MARKET_CHINA_EU

Rates = Callable[[str, Flow], tuple[NDArray[np.float64], NDArray[np.float64]]]
"""(flow id, flow) → segment bounds in hours and trains per hour in each (as planned)."""


def _direction_at(s: Scenario, flow: Flow, route_id: str) -> str:
    """The direction a flow's trains travel on a route (the route's own, or the opposite
    when the flow runs it backwards), as the network's paths have it."""
    route = s.routes[route_id]
    return route.direction if route.nodes[0] == flow.origin else opposite(route.direction)


def china_eu_trains_per_day(
    s: Scenario, node: str, direction: str, rates: Rates, span_hours: tuple[float, float]
) -> float:
    """Mean China–EU trains a day through ``node`` in ``direction`` over ``span_hours``."""
    return explicit_trains_per_day(s, node, direction, rates, span_hours, {MARKET_CHINA_EU})


def explicit_trains_per_day(
    s: Scenario,
    node: str,
    direction: str,
    rates: Rates,
    span_hours: tuple[float, float],
    markets: set[str] | None = None,
) -> float:
    """Mean trains a day through ``node`` in ``direction`` over ``span_hours`` of the flows that
    do not give way (the explicitly modelled traffic), of ``markets`` when given."""
    a, b = span_hours
    if b <= a:
        return 0.0
    total = 0.0
    for fid, flow in s.flows.items():
        if flow.gives_way is not None or (markets is not None and flow.market not in markets):
            continue
        shares = sum(flow.routes.values())
        through = sum(
            share
            for rid, share in flow.routes.items()
            if node in s.routes[rid].nodes and _direction_at(s, flow, rid) == direction
        )
        if shares <= 0 or through <= 0:
            continue
        bounds, per_hour = rates(fid, flow)
        lo, hi = np.clip(bounds[:-1], a, b), np.clip(bounds[1:], a, b)
        trains = float(np.sum(per_hour * (hi - lo)))
        total += trains * through / shares
    return total / (b - a) * 24.0


def load_components(
    s: Scenario, flow: Flow, spans_hours: list[tuple[float, float]], rates: Rates
) -> list[tuple[float, float]]:
    """Per load period, (paths shared, paths taken) in trains a day: the period plans
    max(0, f × shared − taken) other trains a day, f the flow's ``demand_factor`` events.

    Without ``gives_way`` (or where a period states no China–EU volume) shared is the written
    trains per day and nothing is taken. With it, shared is the written load plus λ × the
    China–EU trains it was derived against, and taken is λ × this run's China–EU trains through
    the node (``spans_hours``: the periods clipped to the run), so a demand factor scales the
    paths the two share (capacity works that cut them) and the China–EU trains take theirs."""
    assert flow.load is not None
    way = flow.gives_way
    if way is None:
        return [(p.trains_per_day, 0.0) for p in flow.load]
    rid = next(r for r in flow.routes if way.node in s.routes[r].nodes)
    direction = _direction_at(s, flow, rid)
    lam = way.per_china_eu_train
    takers = {f.market for f in s.flows.values() if f.market != flow.market}
    out = []
    for p, span in zip(flow.load, spans_hours, strict=True):
        if p.china_eu_trains_per_day is None or span[1] <= span[0]:
            out.append((p.trains_per_day, 0.0))
            continue
        here = explicit_trains_per_day(s, way.node, direction, rates, span, takers)
        out.append((p.trains_per_day + lam * p.china_eu_trains_per_day, lam * here))
    return out
