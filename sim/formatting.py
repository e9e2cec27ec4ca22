"""How numbers are shown to people (terminal tables, comparisons, reports): one rule, one place.

The rules live with the KPI catalogue (:mod:`sim.kpis`), which knows each KPI's unit;
this module keeps the name the rest of the package imports.
"""

from __future__ import annotations

from sim.kpis import (
    MAX_RELATIVE,
    format_difference,
    format_relative,
    format_signed,
    format_value,
)

__all__ = [
    "MAX_RELATIVE",
    "format_difference",
    "format_relative",
    "format_signed",
    "format_value",
]
