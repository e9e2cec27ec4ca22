"""Door-to-door transit times: one ECDF per flow (per flow and route when a flow splits)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from sim.plots.common import new_figure
from sim.store.runs import FloatArray, RunData, column, strings

MAX_GROUPS = 10  # more (flow, route) pairs than this: one line per flow, routes pooled


def transit_groups(run: RunData) -> dict[str, FloatArray]:
    """Transit days of trains delivered inside the window, pooled over replications.

    One group per flow; a flow split over several routes gets one group per route, unless
    that makes more than ``MAX_GROUPS`` lines.
    """
    trains = run.table("trains")
    arrive = column(trains, "arrive_day")
    transit = column(trains, "transit_days")
    flows = strings(trains, "flow")
    routes = strings(trains, "route")
    delivered = (arrive >= 0) & (arrive <= run.horizon_days)
    pairs = sorted(set(zip(flows[delivered].tolist(), routes[delivered].tolist(), strict=True)))
    by_route = len(pairs) <= MAX_GROUPS
    split = {f for f, _ in pairs if sum(g == f for g, _ in pairs) > 1} if by_route else set()
    groups: dict[str, FloatArray] = {}
    for flow, route in pairs:
        if flow in split:
            mine = delivered & (flows == flow) & (routes == route)
            groups[f"{flow} via {route}"] = np.sort(transit[mine])
        else:
            groups[flow] = np.sort(transit[delivered & (flows == flow)])
    return groups


def transit_figure(run: RunData) -> Figure:
    fig = new_figure(11, 5.5)
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
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    ax.set_title(
        f"{run.label}: transit time ECDF per flow\ntrains delivered in {run.horizon_days:g} "
        f"days from {run.start_date}, {run.replications} replications pooled",
        loc="left",
    )
    return fig
