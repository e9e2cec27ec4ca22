"""How big a run a scenario asks for, refused when no machine could hold it.

Every value can be valid on its own and the product still absurd: ``teu_per_year: 1e300``,
or ``teu_per_train: 1e-300``, validated and then crashed the run after the warm-up
(numpy's Poisson sampler refuses such rates) or would have exhausted memory. The bound is
the expected number of trains one replication plans, demand events and the mode choice
included at their largest, against :data:`MAX_TRAINS_PER_REPLICATION`: about a thousand
times the 2023 baseline (2,110 trains a year), and ~7 GB of records at ~3.4 KB a train.
A load that gives way counts at its largest: every China–EU train it was derived against
returned to it (``per_china_eu_train: 9223372036854775807`` validated, then ended the run in
numpy's "lam value too large").

Events compose by product (sim/engine/network.py), so factors that are each in range can
still multiply past what a float holds (``capacity_factor: 1e308`` ended a run in "cannot
convert float infinity to integer"): :func:`factor_problems` bounds, per target, the product
of every event's factor as if all overlapped.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.config.scenario import Flow, Scenario

MAX_TRAINS_PER_REPLICATION = 2_000_000
MAX_COMPOSED_FACTOR = 1e9
"""Largest capacity or handling scale the events on one target may compose to (a thousand
times the largest one event may set, sim/config/scenario.py's MAX_EVENT_FACTOR)."""


def _trains_per_year(flow: Flow) -> float:
    """A flow's trains a year: from its TEU, or from the busiest period of its ``load``."""
    if flow.teu_per_year is not None:
        return flow.teu_per_year / flow.teu_per_train
    way = flow.gives_way.per_china_eu_train if flow.gives_way is not None else 0.0
    return 365.0 * max(
        (p.trains_per_day + way * (p.china_eu_trains_per_day or 0.0) for p in flow.load or ()),
        default=0.0,
    )


def expected_trains(s: Scenario) -> float:
    """An upper estimate of the trains one replication plans (warm-up included)."""
    years = (s.run.warmup_days + s.run.horizon_days) / 365.0
    total = 0.0
    for fid, flow in s.flows.items():
        boost = math.prod(
            max(1.0, e.demand_factor)
            for e in s.events.values()
            if e.enabled and e.demand_factor is not None and fid in e.targets
        )
        total += _trains_per_year(flow) * boost
    mc = s.mode_choice
    if mc is not None and mc.enabled and s.flows:
        chosen = sum(sum(c.teu_per_year.values()) for c in mc.classes.values())
        # the choice sets the China–EU flows only (other traffic runs as its `load` says)
        sized = [f.teu_per_train for f in s.flows.values() if f.teu_per_year is not None]
        total += chosen / min(sized, default=1.0)
    return total * years


def size_problems(s: Scenario) -> list[tuple[tuple[str | int, ...], str]]:
    """(field path, message) when a replication would plan more trains than the limit."""
    trains = expected_trains(s)
    if math.isfinite(trains) and trains <= MAX_TRAINS_PER_REPLICATION:
        return []
    biggest = max(s.flows, key=lambda fid: _trains_per_year(s.flows[fid]))
    flow = s.flows[biggest]
    field = "teu_per_year" if flow.teu_per_year is not None else "load"
    checks = "teu_per_year, teu_per_train" if flow.teu_per_year is not None else "load"
    if flow.gives_way is not None:
        field, checks = "gives_way", "gives_way, load"
    shown = f"{trains:.3g}" if math.isfinite(trains) else "unbounded"
    return [
        (
            ("flows", biggest, field),
            f"one replication would plan {shown} trains (limit "
            f"{MAX_TRAINS_PER_REPLICATION:,}); check {checks}, demand_factor and the horizon",
        )
    ]


def factor_problems(s: Scenario) -> list[tuple[tuple[str | int, ...], str]]:
    """(field path, message) when the events on one node or link could scale its capacity or
    its handling time by more than :data:`MAX_COMPOSED_FACTOR`, were they all to overlap."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for kind in ("capacity_factor", "handling_factor"):
        scale: dict[str, float] = {}
        last: dict[str, str] = {}
        for eid, event in s.events.items():
            factor = getattr(event, kind)
            if not event.enabled or factor is None or factor <= 1.0:
                continue
            for target in event.targets:
                scale[target] = scale.get(target, 1.0) * factor
                last[target] = eid
        for target, product in scale.items():
            if product > MAX_COMPOSED_FACTOR:
                what = "servers" if kind == "capacity_factor" else "handling time"
                problems.append(
                    (
                        ("events", last[target], kind),
                        f"the events on '{target}' could scale its {what} by "
                        f"{product:.3g} together (limit {MAX_COMPOSED_FACTOR:.0e})",
                    )
                )
    return problems
