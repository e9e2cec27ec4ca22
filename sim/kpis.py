"""The catalogue of KPIs a run reports, with their units.

One place for names and units, below every stage: the engine computes these KPIs, the
store writes them into summary.json, and the tables, plots and report label them.
"""

from __future__ import annotations

CORRIDOR_UNITS: dict[str, str] = {
    "trains_departed": "trains",
    "trains_delivered": "trains",
    "teu_delivered": "TEU",
    "throughput_teu_per_day": "TEU/day",
    "transit_days_mean": "days",
    "transit_days_p95": "days",
    "trains_in_system_end": "trains",
    "teu_in_system_end": "TEU",
}


NODE_UNITS: dict[str, str] = {
    "trains_handled": "trains",
    "utilisation": "fraction",
    "wait_hours_mean": "hours",
    "wait_hours_p95": "hours",
    "handling_hours_mean": "hours",
    "queue_mean": "trains",
    "queue_max": "trains",
    "queue_end": "trains",
    "servers_mean": "servers",
    "capacity_trains_per_day": "trains/day",
    "recovery_days": "days",
    "backlog_cleared": "fraction",
}


FLOW_UNITS: dict[str, str] = {
    "trains_delivered": "trains",
    "teu_delivered": "TEU",
    "transit_days_mean": "days",
    "transit_days_p95": "days",
}
