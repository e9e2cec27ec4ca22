"""The ``observed:`` block of a scenario: sourced targets a run must reproduce, as data.

Each entry names a measure (a small function of one replication's records, in
:mod:`sim.analysis.observed`), where it applies (nodes, direction), the observed value, the band the
simulated mean must fall in and the facts row it comes from. ``corridor calibrate`` runs every
scenario that carries such a block and checks each entry; nothing about an episode is hard
coded.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.config.dates import Day

MeasureName = Literal[
    "crossing_days",
    "peak_day_trains",
    "teu_per_year",
    "held_peak_trains",
    "waiting_peak_trains",
    "transit_days",
]


class Observed(BaseModel):
    """One observed figure: ``value`` (for the record), ``band`` [low, high] (the check; null:
    reported next to the simulated value, not checked)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    measure: MeasureName
    nodes: list[str] = Field(default_factory=list)
    direction: Literal["west", "east"] | None = None
    train_type: str | None = Field(
        default=None, description="count only trains of this type (e.g. transfer: broad gauge)"
    )
    value: float
    band: tuple[float, float] | None
    window: tuple[Day, Day] | None = Field(
        default=None, description="only trains reaching the first node between these dates"
    )
    facts: str = Field(min_length=1)
    unit: str = ""
    description: str = ""

    @model_validator(mode="after")
    def _sound(self) -> Observed:
        if self.band is not None and self.band[0] > self.band[1]:
            raise ValueError(f"band [{self.band[0]:g}, {self.band[1]:g}] has low above high")
        if self.window is not None and self.window[1] <= self.window[0]:
            raise ValueError("window ends before it starts")
        needs_nodes = ("crossing_days", "peak_day_trains", "waiting_peak_trains")
        if self.measure in needs_nodes and not self.nodes:
            raise ValueError(f"measure '{self.measure}' needs nodes")
        if self.measure == "transit_days" and len(self.nodes) != 2:
            raise ValueError("measure 'transit_days' needs nodes [origin, destination]")
        return self


def observed_problems(
    observed: dict[str, Observed], node_ids: set[str]
) -> list[tuple[tuple[str | int, ...], str]]:
    """Nodes an observed entry names that the scenario does not have."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for oid, entry in observed.items():
        for i, nid in enumerate(entry.nodes):
            if nid not in node_ids:
                problems.append((("observed", oid, "nodes", i), f"unknown node '{nid}'"))
    return problems
