"""Door-to-door transit times: one ECDF per flow (per flow and route when a flow splits)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from sim.plots.common import new_figure
from sim.rundata import FloatArray, RunData, column, strings


def transit_groups(run: RunData) -> dict[str, FloatArray]:
    """Transit days of trains delivered inside the window, pooled over replications."""
    trains = run.table("trains")
    arrive = column(trains, "arrive_day")
    transit = column(trains, "transit_days")
    flows = strings(trains, "flow")
    routes = strings(trains, "route")
    delivered = (arrive >= 0) & (arrive <= run.horizon_days)
    split = {f for f in set(flows.tolist()) if len(set(routes[flows == f].tolist())) > 1}
    groups: dict[str, FloatArray] = {}
    for flow, route in sorted(set(zip(flows.tolist(), routes.tolist(), strict=True))):
        key = f"{flow} via {route}" if flow in split else flow
        mine = delivered & (flows == flow) & (routes == route)
        if mine.any():
            groups[key] = np.sort(transit[mine])
    return groups


def transit_figure(run: RunData) -> Figure:
    fig = new_figure(10, 5.5)
    ax = fig.subplots()
    for key, days in transit_groups(run).items():
        share = np.arange(1, len(days) + 1) / len(days)
        ax.step(
            days,
            share,
            where="post",
            lw=1.5,
            label=f"{key} ({len(days):,} trains, median {np.median(days):.1f} d)",
        )
    ax.set_xlabel("door-to-door transit time (days)")
    ax.set_ylabel("share of trains delivered within")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(
        f"{run.label}: transit time ECDF, trains delivered in {run.horizon_days:g} days "
        f"from {run.start_date}, {run.replications} replications pooled",
        loc="left",
    )
    return fig
