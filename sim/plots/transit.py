"""Door-to-door transit times: one ECDF per flow (per flow and route when a flow splits)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from sim.errors import ConfigError
from sim.plots.common import new_figure
from sim.store.runs import FloatArray, RunData, column, strings

MAX_GROUPS = 10  # more (flow, route) pairs than this: one line per flow, routes pooled


def transit_groups(run: RunData, market: str | None = None) -> dict[str, FloatArray]:
    """Transit days of trains delivered inside the window, pooled over replications.

    One group per flow; a flow split over several routes gets one group per route, unless
    that makes more than ``MAX_GROUPS`` lines. ``market`` keeps that market's flows only
    (``belarus_china``, or ``belarus_china/bulk`` for one cargo class).
    """
    trains = run.table("trains")
    arrive = column(trains, "arrive_day")
    transit = column(trains, "transit_days")
    flows = strings(trains, "flow")
    routes = strings(trains, "route")
    delivered = (arrive >= 0) & (arrive <= run.horizon_days)
    if market is not None:
        delivered &= np.isin(flows, market_flows(run, market))
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


def market_flows(run: RunData, market: str) -> list[str]:
    """The run's flows of a market (or ``market/cargo``); a one-line error when none."""
    kept = [
        fid
        for fid, f in run.scenario.flows.items()
        if market in (f.market, f"{f.market}/{f.cargo}")
    ]
    if not kept:
        known = sorted({f.market for f in run.scenario.flows.values()})
        raise ConfigError(
            "--market", (), f"no flow of market '{market}' (known: {', '.join(known)})"
        )
    return kept


def transit_figure(run: RunData, market: str | None = None) -> Figure:
    fig = new_figure(11, 5.5)
    ax = fig.subplots()
    for key, days in transit_groups(run, market).items():
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
        f"{run.label}: transit time ECDF per flow{f' ({market})' if market else ''}\n"
        f"trains delivered in {run.horizon_days:g} "
        f"days from {run.start_date}, {run.replications} replications pooled",
        loc="left",
    )
    return fig
