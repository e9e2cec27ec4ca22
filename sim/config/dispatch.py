"""The ``dispatch:`` block of a scenario: operators' rules for sending trains (D7, D8).

A rule holds back departures of trains whose path passes one node (``via``): either while
that node has been closed for ``suspend_after_closed_days`` (a platform stops taking bookings
some days into a closure and resumes when it reopens), between the dates of
``suspend_periods`` (an order from above: China Railway halted loading to Alashankou from
25 Oct to 1 Nov 2021, D8), or while more than
``throttle_above_trains`` trains are at or waiting for that node (then at most
``throttle_trains_per_day`` leave). Held trains are *deferred*, not deleted: they leave later
in their planned order, at most ``release_trains_per_day`` once the rule lifts, and their
delay counts from the planned departure.

A rule may also *re-route* (issue 12: "moved some trains to the Caspian route", D7): while
``via`` has been closed for ``reroute_after_closed_days`` (0, the default: from the first hour
of the closure), a share ``reroute_share`` of the rule's trains whose planned departure falls
in that time take their flow's own route through ``reroute_via`` that avoids ``via`` (the first
such route in the flow's ``routes:``), e.g. ``reroute_via: aktau`` for the Middle Corridor. The
decision is made once, at the planned departure (when the train is booked, not when a held
train is released), so a re-routed train keeps its flow, departure time and TEU, runs its new
path from the start and counts wherever that path goes. Which trains go is drawn per train
from a stream named after the rule and the flow (:mod:`sim.engine.reroute`).

A rule may re-route and hold at once ("re-route some from day 0, hold the rest after 5
days": one operator's answer to one closure, and a train not re-routed meets the same rule's
suspension), or the two may be separate rules: a rule that only re-routes (no suspension, no
throttle) never enters the departure process, so it cannot shadow a holding rule listed after
it (a train is held by the first *holding* rule that covers it), and it costs nothing there.

``reroute_via`` must be a node; with ``flows:`` listed, each of them must have a route through
``reroute_via`` that avoids ``via`` (an error, not a warning: the user named the flow, and a
flow that silently never re-routes would make the share a lie). Without ``flows:``, flows of
the rule's markets that have no such route keep their route (a market-wide rule need not name
flows one by one), but at least one covered flow must have one, or the rule is an error.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.config.dates import When
from sim.markets import MARKET_CHINA_EU


class SuspendPeriod(BaseModel):
    """Dates between which a rule holds its trains back, whatever the node's state."""

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False
    )  # as scenario.py: inf and NaN refused

    start: When
    end: When
    description: str = ""


class DispatchRule(BaseModel):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False
    )  # as scenario.py: inf and NaN refused

    via: str = Field(min_length=1, description="node: the rule holds trains whose path passes it")
    markets: list[str] = Field(default_factory=lambda: [MARKET_CHINA_EU], min_length=1)
    flows: list[str] | None = Field(default=None, description="only these flows (default: all)")
    suspend_after_closed_days: float | None = Field(default=None, ge=0)
    suspend_periods: list[SuspendPeriod] = Field(
        default_factory=list, description="dated suspensions (an order, not a closure)"
    )
    throttle_above_trains: int | None = Field(default=None, ge=0)
    throttle_trains_per_day: float | None = Field(default=None, gt=0)
    release_trains_per_day: float | None = Field(default=None, gt=0)
    reroute_via: str | None = Field(
        default=None,
        min_length=1,
        description="node: re-routed trains take their flow's route through it that avoids via",
    )
    reroute_share: float | None = Field(
        default=None, ge=0, le=1, description="share of the covered trains that re-route"
    )
    reroute_after_closed_days: float | None = Field(
        default=None, ge=0, description="re-route once via has been closed this long (default 0)"
    )
    enabled: bool = True
    description: str = ""

    @model_validator(mode="after")
    def _does_something(self) -> DispatchRule:
        if self.reroute_via is None:
            # None, not a default of 0, marks "not given": a resolved scenario written to a
            # results directory lists every field, and must read back (store/runs.py)
            fields = (
                ("reroute_after_closed_days", self.reroute_after_closed_days),
                ("reroute_share", self.reroute_share),
            )
            stray = [name for name, value in fields if value is not None]
            if stray:
                verb = "needs" if len(stray) == 1 else "need"
                raise ValueError(f"{' and '.join(stray)} {verb} reroute_via")
        elif self.reroute_share is None:
            raise ValueError("reroute_via needs reroute_share (the share of trains re-routed)")
        elif self.reroute_via == self.via:
            raise ValueError("reroute_via must differ from via")
        if not self.holds and self.reroute_via is None:
            raise ValueError(
                "does nothing: give suspend_after_closed_days, suspend_periods,"
                " throttle_above_trains or reroute_via"
            )
        if (self.throttle_above_trains is None) != (self.throttle_trains_per_day is None):
            raise ValueError("throttle_above_trains and throttle_trains_per_day go together")
        return self

    def covers(self, flow_id: str, market: str) -> bool:
        """Does the rule apply to this flow (its market, and its id when ``flows`` is given)?"""
        return market in self.markets and (self.flows is None or flow_id in self.flows)

    @property
    def holds(self) -> bool:
        """Does the rule hold departures back (suspend or throttle), not only re-route?"""
        return (
            self.suspend_after_closed_days is not None
            or self.throttle_above_trains is not None
            or bool(self.suspend_periods)
        )


def reroute_route(
    routes: list[str], route_nodes: dict[str, list[str]], via: str, reroute_via: str
) -> str | None:
    """The route a re-routed train of a flow takes: the first of the flow's ``routes`` that
    passes ``reroute_via`` and avoids ``via`` (None when there is none). One function for the
    check and the engine, so what validates is what runs."""
    for rid in routes:
        nodes = route_nodes.get(rid, [])
        if reroute_via in nodes and via not in nodes:
            return rid
    return None


def dispatch_problems(
    rules: dict[str, DispatchRule],
    node_ids: set[str],
    flow_routes: dict[str, tuple[str, list[str]]],
    route_nodes: dict[str, list[str]],
    hours: Callable[[When], float],
) -> list[tuple[tuple[str | int, ...], str]]:
    """Unknown nodes and flows, suspension periods that end before they start (``hours``
    turns a moment into simulation hours, as for events), and re-routing with nowhere to go.
    ``flow_routes`` gives each flow's (market, route ids)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for rid, rule in rules.items():
        if rule.via not in node_ids:
            problems.append((("dispatch", rid, "via"), f"unknown node '{rule.via}'"))
        for i, fid in enumerate(rule.flows or []):
            if fid not in flow_routes:
                problems.append((("dispatch", rid, "flows", i), f"unknown flow '{fid}'"))
        problems.extend(_reroute_problems(rid, rule, node_ids, flow_routes, route_nodes))
        for i, period in enumerate(rule.suspend_periods):
            if hours(period.end) <= hours(period.start):
                problems.append(
                    (("dispatch", rid, "suspend_periods", i, "end"), "must be after start")
                )
    return problems


def _reroute_problems(
    rid: str,
    rule: DispatchRule,
    node_ids: set[str],
    flow_routes: dict[str, tuple[str, list[str]]],
    route_nodes: dict[str, list[str]],
) -> list[tuple[tuple[str | int, ...], str]]:
    """``reroute_via`` is a node, and the rule's flows have somewhere to go (module docstring)."""
    target = rule.reroute_via
    if target is None:
        return []
    if target not in node_ids:
        return [(("dispatch", rid, "reroute_via"), f"unknown node '{target}'")]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    through = f"route through '{target}' that avoids '{rule.via}'"
    if rule.flows is not None:
        for i, fid in enumerate(rule.flows):
            if (
                fid in flow_routes
                and reroute_route(flow_routes[fid][1], route_nodes, rule.via, target) is None
            ):
                problems.append((("dispatch", rid, "flows", i), f"flow '{fid}' has no {through}"))
        return problems
    covered = [routes for fid, (market, routes) in flow_routes.items() if rule.covers(fid, market)]
    if not any(reroute_route(r, route_nodes, rule.via, target) for r in covered):
        problems.append((("dispatch", rid, "reroute_via"), f"no flow of the rule has a {through}"))
    return problems
