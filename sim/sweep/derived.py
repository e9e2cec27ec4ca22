"""Scenario fields a sweep file derives from its sampled values (``derived:``).

Why: a design samples independent uncertainties, while the scenario format spells some of
them as linked fields — a closure's end is its start plus its length, λ of A34 is written
once per direction. ``derived`` writes such a field as ``scale × sum(of)``, where ``of`` names
parameters or named inputs of the same sweep file (:mod:`sim.sweep.sweep_file`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Derived(BaseModel):
    """A scenario field written from sampled values: ``scale × sum(of)``."""

    model_config = ConfigDict(extra="forbid")

    of: list[str] = Field(min_length=1, description="parameter paths or named inputs")
    scale: float = 1.0


def derived_value(derived: Derived, values: Mapping[str, Any]) -> float:
    """The value a derived field takes at one point (``values``: column → value)."""
    return derived.scale * sum(float(values[name]) for name in derived.of)
