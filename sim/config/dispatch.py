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
    enabled: bool = True
    description: str = ""

    @model_validator(mode="after")
    def _does_something(self) -> DispatchRule:
        if (
            self.suspend_after_closed_days is None
            and self.throttle_above_trains is None
            and not self.suspend_periods
        ):
            raise ValueError(
                "does nothing: give suspend_after_closed_days, suspend_periods"
                " or throttle_above_trains"
            )
        if (self.throttle_above_trains is None) != (self.throttle_trains_per_day is None):
            raise ValueError("throttle_above_trains and throttle_trains_per_day go together")
        return self


def dispatch_problems(
    rules: dict[str, DispatchRule],
    node_ids: set[str],
    flow_ids: set[str],
    hours: Callable[[When], float],
) -> list[tuple[tuple[str | int, ...], str]]:
    """Unknown nodes and flows, and suspension periods that end before they start (``hours``
    turns a moment into simulation hours, as for events)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for rid, rule in rules.items():
        if rule.via not in node_ids:
            problems.append((("dispatch", rid, "via"), f"unknown node '{rule.via}'"))
        for i, fid in enumerate(rule.flows or []):
            if fid not in flow_ids:
                problems.append((("dispatch", rid, "flows", i), f"unknown flow '{fid}'"))
        for i, period in enumerate(rule.suspend_periods):
            if hours(period.end) <= hours(period.start):
                problems.append(
                    (("dispatch", rid, "suspend_periods", i, "end"), "must be after start")
                )
    return problems
