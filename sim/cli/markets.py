"""``--market`` and the terminal's table of KPIs by market: presentation of the market KPIs
that the engine computes (sim/engine/market_kpis.py) and the store keeps.

The engine computes numbers and never maps command-line flags or builds Rich tables; what a
flag means and how a table looks belong to the command line (issue 21, item 7).
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from sim.formatting import format_value

MARKET_SHORTHAND = {
    "throughput_teu_per_day",
    "teu_delivered",
    "trains_delivered",
    "trains_departed",
    "transit_days_mean",
    "transit_days_p95",
    "trains_in_system_end",
}
"""Corridor KPIs that ``--market`` maps onto the market's KPI of the same name."""


def for_market(metrics: list[str], market: str) -> list[str]:
    """``--market M``: corridor KPIs become M's (``transit_days_mean`` →
    ``market:M:transit_days_mean``); node, flow and market addresses pass unchanged."""
    return [
        f"market:{market}:{m}" if ":" not in m and m in MARKET_SHORTHAND else m for m in metrics
    ]


def markets_table(summary: dict[str, Any]) -> Table | None:
    """The run's KPIs by market, for the terminal (None when the run has one market)."""
    markets = summary.get("markets")
    if not markets:
        return None
    table = Table(title="by market (means across replications)", title_justify="left")
    columns = ["market", "trains", "TEU/day", "transit d", "p95 d", "wait h", "under way"]
    for col in columns:
        table.add_column(col, justify="left" if col == "market" else "right", no_wrap=True)
    keys = (
        "trains_delivered",
        "throughput_teu_per_day",
        "transit_days_mean",
        "transit_days_p95",
        "wait_hours_mean",
        "trains_in_system_end",
    )
    for name, kpis in markets.items():
        table.add_row(name, *(format_value(kpis[k]["mean"]) for k in keys))
    return table
