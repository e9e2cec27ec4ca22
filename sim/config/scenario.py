"""The scenario format: pydantic models of the corridor, its demand, its disruptions and a run.

A scenario is one merged document (params files it ``extends`` plus its own overrides); this
module says what a valid one looks like. Unknown keys are rejected everywhere so a typo
never silently does nothing. Cross-references (a route through a node that does not exist,
an event on an unknown target) are checked by :func:`check_references`, which returns field
paths so the loader can name the file and field in one line.
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.config.dates import Day, When
from sim.config.dispatch import DispatchRule
from sim.config.distributions import DistributionField, Fixed
from sim.config.history import HistoryYear
from sim.config.mode_choice import ModeChoice
from sim.config.observed import Observed
from sim.markets import MARKET_CHINA_EU


class _Strict(BaseModel):
    # infinities and NaN are refused everywhere: they validate, then crash or hang a run
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class NodeKind(StrEnum):
    terminal = "terminal"
    border = "border"
    yard = "yard"
    port = "port"
    junction = "junction"
    destination = "destination"


Direction = Literal["west", "east"]
"""Direction of travel. A route runs ``direction`` forward (west by default: China → EU) and
the opposite way reversed; a node's per-direction servers and room are keyed by it."""


class Node(_Strict):
    """A place where trains are handled: terminal, border crossing, yard, port.

    ``servers`` is the number of trains handled at once (gauge-change tracks, crane slots);
    ``null`` means no capacity limit (a pure dwell). Handling time is drawn per train, from
    ``handling_hours_by_type[train_type]`` when the train's type is listed there.

    ``servers_by_direction`` splits the servers by direction of travel (a crossing rated in
    *train pairs* handles each direction on its own tracks); ``servers`` is then their sum.
    ``room_trains`` is the holding area per direction: how many trains may be accepted for
    the node at once (on the line from the previous node, queued or handled). A train that
    cannot be accepted waits where it is, holding its place there (see sim/engine/blocking.py).
    """

    name: str = ""
    kind: NodeKind = NodeKind.junction
    country: str = ""
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    gauge_change: bool = Field(
        default=False, description="break of gauge: trains are transshipped or re-bogied here"
    )
    servers: int | None = Field(default=None, ge=0)
    servers_by_direction: dict[Direction, int] | None = Field(
        default=None, description="servers of each direction (trains at once); sum = servers"
    )
    room_trains: int | None = Field(
        default=None, ge=1, description="trains the node may hold per direction (null: no limit)"
    )
    room_trains_by_direction: dict[Direction, int] = Field(default_factory=dict)
    handling_hours: DistributionField = Field(default_factory=lambda: Fixed(value=0.0))
    handling_hours_by_type: dict[str, DistributionField] = Field(default_factory=dict)
    description: str = ""

    @field_validator("servers_by_direction")
    @classmethod
    def _non_negative_servers(cls, split: dict[str, int] | None) -> dict[str, int] | None:
        if split is not None and set(split) != {"west", "east"}:
            raise ValueError("needs the servers of both directions (west and east)")
        if split is not None and any(v < 0 for v in split.values()):
            raise ValueError("servers must be >= 0 in each direction")
        return split

    @field_validator("room_trains_by_direction")
    @classmethod
    def _positive_room(cls, room: dict[str, int]) -> dict[str, int]:
        if any(v < 1 for v in room.values()):
            raise ValueError("room must be at least 1 train")
        return room

    @model_validator(mode="after")
    def _split_adds_up(self) -> Node:
        if self.servers_by_direction is None:
            return self
        total = sum(self.servers_by_direction.values())
        if self.servers is not None and self.servers != total:
            raise ValueError(
                f"servers ({self.servers}) must equal the sum of servers_by_direction ({total})"
            )
        self.servers = total
        return self

    def room_for(self, direction: Direction) -> int | None:
        """Trains this node may hold in one direction (None: unlimited)."""
        return self.room_trains_by_direction.get(direction, self.room_trains)


class Link(_Strict):
    """Track (or sea/ferry leg) between two nodes.

    Travel time is either ``km / speed_km_per_day`` (both given) or ``hours`` directly.
    ``capacity_trains`` limits how many trains may be on the link at once (``null``: no limit).
    """

    from_node: str = Field(alias="from")
    to_node: str = Field(alias="to")
    mode: Literal["rail", "sea", "ferry", "road"] = "rail"
    gauge_mm: int | None = Field(default=None, description="1435, 1520 … ; null for sea/ferry")
    km: float | None = Field(default=None, ge=0)
    speed_km_per_day: DistributionField | None = None
    hours: DistributionField | None = None
    capacity_trains: int | None = Field(default=None, ge=0)
    bidirectional: bool = True
    description: str = ""

    @model_validator(mode="after")
    def _one_travel_time(self) -> Link:
        by_speed = self.km is not None or self.speed_km_per_day is not None
        if by_speed and self.hours is not None:
            raise ValueError("give either km with speed_km_per_day, or hours, not both")
        if not by_speed and self.hours is None:
            raise ValueError("needs km with speed_km_per_day, or hours")
        if by_speed and (self.km is None or self.speed_km_per_day is None):
            raise ValueError("km and speed_km_per_day go together")
        if self.speed_km_per_day is not None and self.speed_km_per_day.can_be_zero():
            raise ValueError("speed_km_per_day can draw 0 km/day; a train would never arrive")
        return self


class Route(_Strict):
    """A named sequence of nodes; usable in both directions (a flow may run it reversed).

    ``direction`` is the direction of travel when run forward (reversed: the other one).
    """

    nodes: list[str] = Field(min_length=2)
    direction: Direction = "west"
    description: str = ""


class LoadPeriod(_Strict):
    """Trains per day of a flow between two moments (other traffic is sourced this way)."""

    start: When
    end: When
    trains_per_day: float = Field(ge=0)
    china_eu_trains_per_day: float | None = Field(
        default=None,
        ge=0,
        description="with the flow's gives_way: the China–EU trains/day through its node, in its "
        "direction, that trains_per_day was derived against",
    )
    description: str = ""


class GivesWay(_Strict):
    """Other traffic that takes what the China–EU trains leave at a node (B19, B24: the
    totals stayed while China–EU traffic grew). A load period's trains per day were derived
    against ``china_eu_trains_per_day``; a run whose explicit flows put C trains a day through
    ``node`` in the flow's direction carries ``trains_per_day + per_china_eu_train ×
    (china_eu_trains_per_day − C)`` other trains (at least 0). C counts every flow of another
    market that does not give way itself — China–EU and Belarus–China alike, since the sourced
    counts (B24, B25) include both — so each train is counted once."""

    node: str = Field(min_length=1)
    per_china_eu_train: float = Field(
        ge=0, description="other trains displaced by one China–EU train (λ, A34)"
    )


MAX_SHARE = 1e6
"""Largest route or train-type share: shares are relative, and the mode choice weighs TEU by
them before normalising (a share of 1e308 times a flow's TEU was infinite)."""
MAX_BATCH_TRAINS = 1000
"""Most trains in one wave: each wave is planned as one array of that many departures, so a
wave of 10⁹ trains asked for 8 GB even at a rate that plans a handful of trains."""


class Flow(_Strict):
    """Origin–destination demand in one direction, turned into train departures.

    ``routes`` maps route ids to shares (normalised to 1). ``seasonality`` holds 12 monthly
    factors, normalised to mean 1 so ``teu_per_year`` stays the annual total.

    ``market`` tags who the trains serve: corridor KPIs count ``china_eu`` trains only; any
    other market (``other``, ``belarus_china`` …) loads the nodes and links its routes use
    and shows in node KPIs. Instead of ``teu_per_year`` such a flow may give ``load``:
    trains per day by period (no trains outside the periods). ``cargo`` names the cargo
    class (``bulk`` for potash, timber and whey in containers, K1) so reports can split a
    market by it; it changes nothing in the simulation.
    """

    origin: str
    destination: str
    routes: dict[str, float] = Field(min_length=1)
    market: str = Field(default=MARKET_CHINA_EU, min_length=1)
    cargo: str = Field(default="general", min_length=1, description="cargo class, for reporting")
    teu_per_year: float | None = Field(default=None, ge=0)
    load: list[LoadPeriod] | None = None
    gives_way: GivesWay | None = Field(
        default=None, description="a load that gives way to the China–EU trains at a node"
    )
    teu_per_train: float = Field(gt=0)
    arrivals: Literal["poisson", "fixed", "batched"] = "poisson"
    batch_trains: int = Field(
        default=1,
        ge=1,
        le=MAX_BATCH_TRAINS,
        description="batched arrivals: trains that leave together (a wave)",
    )
    batch_spacing_hours: float = Field(
        default=1.0, ge=0, description="batched arrivals: hours between trains of one wave"
    )
    seasonality: list[float] | None = None
    train_types: dict[str, float] = Field(
        default_factory=dict, description="share of trains of each type (e.g. reload, transfer)"
    )
    description: str = ""

    @field_validator("routes", "train_types")
    @classmethod
    def _shares(cls, shares: dict[str, float]) -> dict[str, float]:
        if any(s < 0 for s in shares.values()):
            raise ValueError("shares must be >= 0")
        if any(s > MAX_SHARE for s in shares.values()):  # share × TEU overflowed a float
            raise ValueError(f"shares are relative: each at most {MAX_SHARE:g} (e.g. 70 and 30)")
        if shares and not 0 < sum(shares.values()) < math.inf:
            raise ValueError("shares must have a positive, finite sum")
        return shares

    @model_validator(mode="after")
    def _batches(self) -> Flow:
        if self.batch_trains > 1 and self.arrivals != "batched":
            raise ValueError("batch_trains needs arrivals: batched")
        return self

    @model_validator(mode="after")
    def _one_volume(self) -> Flow:
        if (self.teu_per_year is None) == (self.load is None):
            raise ValueError("give either teu_per_year or load (trains per day by period)")
        if self.load is not None and not self.load:
            raise ValueError("load needs at least one period")
        if self.gives_way is not None and self.load is None:
            raise ValueError("gives_way needs a load (trains per day by period)")
        if self.gives_way is not None and self.market == MARKET_CHINA_EU:
            raise ValueError("gives_way is for other traffic (a market other than china_eu)")
        return self

    @field_validator("seasonality")
    @classmethod
    def _twelve_months(cls, factors: list[float] | None) -> list[float] | None:
        if factors is None:
            return None
        if len(factors) != 12:
            raise ValueError(f"needs 12 monthly factors, got {len(factors)}")
        if any(f < 0 for f in factors) or not 0 < sum(factors) < math.inf:
            raise ValueError("monthly factors must be >= 0 with a positive, finite sum")
        return factors


MAX_EVENT_FACTOR = 1000.0
"""Largest factor one event may set: a thousandfold capacity, handling time or demand is
already no corridor; beyond it a product of events runs out of float (run_limits.py)."""


class Event(_Strict):
    """A change between two moments: a closure, capacity works, extra checks, a demand shock.

    On nodes and links: ``servers`` sets the capacity (0 closes it), ``capacity_factor``
    scales it, ``handling_factor`` scales handling time (on links: travel time). On flows:
    ``demand_factor`` scales the departure rate. Overlapping events compose: the smallest
    ``servers``, the product of factors.
    """

    targets: list[str] = Field(min_length=1)
    start: When
    end: When
    servers: int | None = Field(default=None, ge=0)
    capacity_factor: float | None = Field(default=None, ge=0, le=MAX_EVENT_FACTOR)
    handling_factor: float | None = Field(default=None, gt=0, le=MAX_EVENT_FACTOR)
    demand_factor: float | None = Field(default=None, ge=0, le=MAX_EVENT_FACTOR)
    enabled: bool = True
    description: str = ""

    @model_validator(mode="after")
    def _sensible(self) -> Event:
        levers = (self.servers, self.capacity_factor, self.handling_factor, self.demand_factor)
        if all(v is None for v in levers):
            raise ValueError(
                "sets nothing: give servers, capacity_factor, handling_factor or demand_factor"
            )
        return self


class RunSettings(_Strict):
    """The run: calendar start of measurement, warm-up before it, horizon, replications, seed."""

    start_date: Day = dt.date(2019, 1, 1)
    warmup_days: float = Field(default=30.0, ge=0, le=3650)
    horizon_days: float = Field(default=365.0, gt=0, le=36525)
    replications: int = Field(default=5, ge=1, le=100_000)
    seed: int = Field(default=20240101, ge=0)
    confidence: float = Field(default=0.95, gt=0, lt=1)

    @field_validator("horizon_days")
    @classmethod
    def _an_hour_at_least(cls, days: float) -> float:
        # a horizon that vanishes next to the warm-up (1e-308 days) measured nothing: the
        # run ended in a division by zero
        if days < 1 / 24:
            raise ValueError(f"must be at least an hour (1/24 day), not {days:g} days")
        return days


class Scenario(_Strict):
    """A complete, merged scenario: what `corridor run` simulates."""

    name: str = ""
    description: str = ""
    extends: list[str] | str | None = Field(
        default=None, description="params or scenario files merged under this one (relative paths)"
    )
    run: RunSettings = Field(default_factory=RunSettings)
    nodes: dict[str, Node] = Field(min_length=1)
    links: dict[str, Link] = Field(default_factory=dict)
    routes: dict[str, Route] = Field(default_factory=dict)
    flows: dict[str, Flow] = Field(default_factory=dict)
    events: dict[str, Event] = Field(default_factory=dict)
    mode_choice: ModeChoice | None = Field(
        default=None, description="sea/rail choice setting rail demand (absent: flows as given)"
    )
    history: HistoryYear | None = Field(
        default=None, description="one year's inputs for the fitted time-series choice"
    )
    observed: dict[str, Observed] = Field(
        default_factory=dict, description="sourced targets `corridor calibrate` checks"
    )
    dispatch: dict[str, DispatchRule] = Field(
        default_factory=dict, description="operators' rules deferring departures (D7, D8)"
    )


def event_hours(when: When, start: dt.date, warmup_days: float) -> float:
    """Simulation hours of a moment; time 0 is the start of the warm-up."""
    origin = dt.datetime.combine(start, dt.time()) - dt.timedelta(days=warmup_days)
    if isinstance(when, dt.datetime):
        return (when.replace(tzinfo=None) - origin).total_seconds() / 3600.0
    if isinstance(when, dt.date):
        return (dt.datetime.combine(when, dt.time()) - origin).total_seconds() / 3600.0
    return (float(when) + warmup_days) * 24.0


def resolved_document(scenario: Scenario) -> dict[str, Any]:
    doc: dict[str, Any] = scenario.model_dump(mode="json", by_alias=True, exclude={"extends"})
    return doc
