"""The ``mode_choice`` section of a scenario: who chooses between sea and rail, and how.

Total China↔EU container demand (per direction and cargo class) chooses between options
(sea via Suez, sea via the Cape, rail options mapped to flows of the scenario, the Middle
Corridor) by a nested logit on generalised cost. Rail options name the scenario flows that
carry them; the choice sets those flows' ``teu_per_year`` and their transit time is measured
by the simulation (congestion feedback). Options without flows have a fixed transit time.

This module only says what a valid section looks like; the logit is :mod:`sim.choice.logit`
and the feedback loop :mod:`sim.choice.fixed_point`. It does not import
:mod:`sim.config.scenario` (which imports it), so cross-field checks take plain arguments.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.config.dates import (
    When as When,  # re-exported: the choice modules take moments as events do
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class CargoClass(_Strict):
    """Shippers with one value of time: demand per direction and what a day costs them.

    ``value_of_time_usd_per_feu_day`` has no source (facts C7): it is an assumption, to be
    stated where it is set and swept (``--set mode_choice.classes.X.value_of_time...``).
    """

    value_of_time_usd_per_feu_day: float = Field(ge=0)
    teu_per_year: dict[str, float] = Field(
        min_length=1, description="demand of this class per direction (e.g. westbound: 9e6)"
    )
    description: str = ""

    @model_validator(mode="after")
    def _non_negative(self) -> CargoClass:
        # bounded like a history year's market: the choice may send any share of it to rail,
        # and a run must be able to hold what it chooses (the fuzzer's 1e15 ran out of memory)
        if any(not 0 <= v <= 1e9 for v in self.teu_per_year.values()):
            raise ValueError("teu_per_year must be >= 0 and at most 1e9 in every direction")
        return self


class Closure(_Strict):
    """A period when an option cannot be chosen (e.g. Suez from the Red Sea diversions)."""

    start: When
    end: When | None = Field(default=None, description="null: until the end of the run")
    description: str = ""


class ChoiceOption(_Strict):
    """One way to move a container between China and the EU.

    Generalised cost per FEU = rate + constant + reliability penalty
    + value of time × (transit days + access days + reliability buffer days).
    ``transit_days`` is fixed for options without ``flows``; for options with flows it is
    measured from the simulation (it is then only the starting guess, optional).
    """

    mode: Literal["sea", "rail"]
    nest: str | None = Field(
        default=None, description="options in one nest are closer substitutes (nested logit)"
    )
    rate_usd_per_feu: float = Field(ge=0)
    constant_usd_per_feu: float = Field(
        default=0.0, description="alternative-specific constant, set by calibration"
    )
    transit_days: float | None = Field(default=None, ge=0)
    access_days: float = Field(
        default=0.0, ge=0, description="door-to-door days the simulation does not cover"
    )
    reliability_buffer_days: float = Field(
        default=0.0, ge=0, description="safety days a shipper plans for (valued at VOT)"
    )
    reliability_penalty_usd_per_feu: float = Field(default=0.0, ge=0)
    flows: dict[str, list[str]] = Field(
        default_factory=dict,
        description="per direction, the scenario flows carrying this option (rail); "
        "shell-style patterns allowed, e.g. '*-west'",
    )
    via: list[str] = Field(
        default_factory=list,
        description="only the routes of those flows through all of these nodes "
        "(e.g. [khorgos, minsk]); empty: every route of the flows",
    )
    available: bool = True
    closures: dict[str, Closure] = Field(default_factory=dict)
    description: str = ""


class ModeChoice(_Strict):
    """Mode and route choice with congestion feedback (see :mod:`sim.choice.fixed_point`)."""

    enabled: bool = True
    teu_per_feu: float = Field(default=2.0, gt=0)
    cost_scale_usd: float = Field(
        default=1000.0,
        gt=0,
        description="logit scale 1/mu: a cost difference of this many USD/FEU changes "
        "the odds by a factor e",
    )
    nests: dict[str, Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=dict,
        description="nest -> dissimilarity lambda in (0, 1]; 1 is plain multinomial logit",
    )
    classes: dict[str, CargoClass] = Field(min_length=1)
    options: dict[str, ChoiceOption] = Field(min_length=2)
    observed_rail_teu_per_year: float | None = Field(
        default=None, ge=0, description="calibration target: rail TEU observed in this year"
    )
    calibration_tolerance: float = Field(
        default=0.1, gt=0, description="relative tolerance of the rail share vs the target"
    )
    damping: float = Field(default=0.5, gt=0, le=1)
    step: Literal["adaptive", "msa", "fixed"] = Field(
        default="adaptive",
        description="adaptive: start at damping, halve when the response overshoots (the "
        "gap changes sign), grow by 1.5 up to damping otherwise; msa: damping/k at "
        "iteration k; fixed: damping",
    )
    tolerance: float = Field(
        default=0.002, gt=0, description="stop when no share would change by more than this"
    )
    max_iterations: int = Field(default=20, ge=1, le=1000)
    replications_per_iteration: int = Field(default=2, ge=1, le=1000)  # held in memory at once

    @model_validator(mode="after")
    def _some_demand(self) -> ModeChoice:
        if sum(sum(c.teu_per_year.values()) for c in self.classes.values()) <= 0:
            raise ValueError("classes: total teu_per_year must be > 0")
        return self

    def observed_rail_share(self) -> float | None:
        """The rail share the calibration must reproduce: the observed rail TEU over the
        market of the classes (None without an observed volume)."""
        if self.observed_rail_teu_per_year is None:
            return None
        total = sum(sum(c.teu_per_year.values()) for c in self.classes.values())
        return self.observed_rail_teu_per_year / total

    def directions(self) -> list[str]:
        """Directions in a stable order (first appearance across classes)."""
        seen: dict[str, None] = {}
        for cls in self.classes.values():
            for d in cls.teu_per_year:
                seen.setdefault(d, None)
        return list(seen)


def carriers(
    opt: ChoiceOption,
    direction: str,
    flow_routes: Mapping[str, Mapping[str, float]],
    route_nodes: Mapping[str, list[str]],
) -> list[tuple[str, str]]:
    """(flow, route) pairs an option uses in a direction: its flows (patterns expanded, in
    scenario order) and, of their routes with a positive share, those through every ``via``."""
    patterns = opt.flows.get(direction, [])
    out = []
    for fid, routes in flow_routes.items():
        if not any(fnmatch.fnmatchcase(fid, p) for p in patterns):
            continue
        for rid, share in routes.items():
            nodes = route_nodes.get(rid, [])
            if share > 0 and all(v in nodes for v in opt.via):
                out.append((fid, rid))
    return out


def mode_choice_problems(
    mc: ModeChoice,
    flow_routes: Mapping[str, Mapping[str, float]],
    route_nodes: Mapping[str, list[str]],
    to_hours: Callable[[When], float],
) -> list[tuple[tuple[str | int, ...], str]]:
    """Cross-field problems as (field path under the scenario, message).

    Every (flow, route) is carried by at most one option, and a flow that an option uses
    has each of its routes carried by some option (else the choice would drop its TEU).
    """
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for oid, opt in mc.options.items():
        for cid, closure in opt.closures.items():
            if closure.end is not None and to_hours(closure.end) <= to_hours(closure.start):
                where: tuple[str | int, ...] = ("mode_choice", "options", oid, "closures", cid)
                problems.append(((*where, "end"), "ends before it starts"))
    directions = set(mc.directions())
    owner: dict[tuple[str, str], str] = {}
    used: dict[str, tuple[str | int, ...]] = {}
    for oid, opt in mc.options.items():
        base: tuple[str | int, ...] = ("mode_choice", "options", oid)
        if opt.nest is not None and opt.nest not in mc.nests:
            problems.append(((*base, "nest"), f"unknown nest '{opt.nest}' (add it to nests)"))
        if not opt.flows and opt.transit_days is None:
            problems.append(((*base, "transit_days"), "needed when the option has no flows"))
        for i, nid in enumerate(opt.via):
            if not any(nid in nodes for nodes in route_nodes.values()):
                problems.append(((*base, "via", i), f"no route passes through '{nid}'"))
        for direction, patterns in opt.flows.items():
            if direction not in directions:
                problems.append(
                    (
                        (*base, "flows", direction),
                        f"unknown direction '{direction}' (classes give: "
                        f"{', '.join(sorted(directions))})",
                    )
                )
            for i, pattern in enumerate(patterns):
                if not any(fnmatch.fnmatchcase(f, pattern) for f in flow_routes):
                    problems.append(((*base, "flows", direction, i), f"unknown flow '{pattern}'"))
            for fid, rid in carriers(opt, direction, flow_routes, route_nodes):
                if (fid, rid) in owner and owner[(fid, rid)] != oid:
                    problems.append(
                        (
                            (*base, "flows", direction),
                            f"route '{rid}' of flow '{fid}' already belongs to "
                            f"'{owner[(fid, rid)]}'",
                        )
                    )
                owner[(fid, rid)] = oid
                used.setdefault(fid, (*base, "flows", direction))
    for fid, path in used.items():
        for rid, share in flow_routes[fid].items():
            if share > 0 and (fid, rid) not in owner:
                problems.append(
                    (
                        path,
                        f"route '{rid}' of flow '{fid}' is carried by no option (add an "
                        "option for it, or a 'via' that includes it)",
                    )
                )
    return problems
