"""The two intervals of a run with draws, side by side and labelled so nobody confuses them.

A replication interval (the mean's confidence interval over the replications, every input at
its point value) answers "how sure is the simulation of its mean"; a prediction interval (the
5th–95th percentile over the draws, every uncertain input, the demand ensemble and the
simulation's noise drawn) answers "where may this year's outcome fall". The table prints both
for the KPIs a planner reads first: the corridor's transit and throughput, and each
capacity-limited crossing's utilisation, peak queue and days to clear.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from sim.formatting import format_value
from sim.kpis import lookup

CORRIDOR_KPIS = (
    "throughput_teu_per_day",
    "transit_days_mean",
    "transit_days_p95",
    "trains_held_peak",
)
NODE_KPIS = ("utilisation", "queue_max", "recovery_days")


def _ci(est: dict[str, Any]) -> str:
    if est.get("mean") is None:
        return "–"
    unit = str(est.get("unit", ""))
    low, high = est.get("ci_low"), est.get("ci_high")
    if low is None or high is None:
        return format_value(est["mean"], unit)
    mean = format_value(est["mean"], unit)
    return f"{mean} [{format_value(low, unit)}, {format_value(high, unit)}]"


def _pi(q: dict[str, Any] | None) -> str:
    if q is None:
        return "–"
    unit = str(q.get("unit", ""))
    return (
        f"{format_value(q['median'], unit)} "
        f"[{format_value(q['low'], unit)}, {format_value(q['high'], unit)}]"
    )


def _label(scope: str, kpi: str) -> str:
    spec = lookup(scope, kpi)
    return spec.label if spec is not None else kpi


def prediction_rows(summary: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(where, KPI, replication interval, prediction interval) for the KPIs shown."""
    pred = summary.get("prediction")
    if not pred:
        return []
    rows: list[tuple[str, str, str, str]] = []
    for k in CORRIDOR_KPIS:
        if k in summary["kpis"]:
            rows.append(
                (
                    "corridor",
                    _label("corridor", k),
                    _ci(summary["kpis"][k]),
                    _pi(pred["kpis"].get(k)),
                )
            )
    for nid, kpis in summary["nodes"].items():
        if kpis.get("servers_mean", {}).get("mean") is None:
            continue
        for k in NODE_KPIS:
            if k in kpis and (k != "recovery_days" or kpis[k].get("mean") is not None):
                rows.append(
                    (nid, _label("node", k), _ci(kpis[k]), _pi(pred["nodes"].get(nid, {}).get(k)))
                )
    return rows


def prediction_table(summary: dict[str, Any]) -> Table | None:
    """The side-by-side table, or None for a run without draws."""
    pred = summary.get("prediction")
    if not pred:
        return None
    conf = round(float(summary["confidence"]) * 100)
    level = round(float(pred["level"]) * 100)
    table = Table(
        title=(
            f"two intervals: replication (simulation noise, inputs fixed) and prediction "
            f"({pred['draws']} draws of {len(pred['inputs'])} "
            f"input{'' if len(pred['inputs']) == 1 else 's'}"
            f"{' and the demand ensemble' if pred.get('demand_from_ensemble') else ''})"
        ),
        title_justify="left",
    )
    table.add_column("where", no_wrap=True)
    table.add_column("KPI")
    table.add_column(f"mean [{conf} % CI], {summary['replications']} replications", justify="right")
    table.add_column(f"median [{level} % prediction interval]", justify="right")
    for row in prediction_rows(summary):
        table.add_row(*row)
    return table
