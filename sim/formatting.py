"""How numbers are shown to people (terminal tables, comparisons, reports): one rule, one place."""

from __future__ import annotations

import math


def format_value(value: float | None, unit: str = "") -> str:
    """Three significant-looking digits: 1,234 / 12.3 / 1.23; fractions as percentages."""
    if value is None or math.isnan(value):
        return "–"
    if unit == "fraction":
        return f"{value:.1%}"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
