"""Utilisation heatmap: capacity-limited nodes × weeks of the measurement window."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from sim.plots.common import date_axis, new_figure
from sim.plots.series import node_daily, window_days
from sim.store.runs import FloatArray, RunData


@dataclass(frozen=True)
class WeekGrid:
    nodes: list[str]
    week_starts: FloatArray  # days from start_date
    values: FloatArray  # (nodes, weeks): busy server-time / available server-time


def weekly_utilisation(run: RunData) -> WeekGrid:
    """Busy over available server-days per node and week, pooled across replications.

    A week in which a node had no servers at all (closed) is NaN, not 0: nothing could be
    handled, which is different from an idle node.
    """
    days = window_days(run)
    week = (days // 7).astype(int)
    n_weeks = int(week.max()) + 1 if len(week) else 0
    nodes, rows = [], []
    for nid in run.scenario.nodes:
        servers = node_daily(run, nid, "servers_mean")
        if not np.any(np.nan_to_num(servers) > 0):
            continue  # unlimited capacity: utilisation is undefined
        busy = node_daily(run, nid, "busy_mean")
        busy_week = np.bincount(week, weights=np.nansum(busy, axis=0), minlength=n_weeks)
        servers_week = np.bincount(week, weights=np.nansum(servers, axis=0), minlength=n_weeks)
        with np.errstate(invalid="ignore", divide="ignore"):
            rows.append(np.where(servers_week > 0, busy_week / servers_week, np.nan))
        nodes.append(nid)
    values = np.vstack(rows) if rows else np.empty((0, n_weeks))
    return WeekGrid(nodes, np.arange(n_weeks, dtype=np.float64) * 7.0, values)


def utilisation_figure(run: RunData) -> Figure:
    grid = weekly_utilisation(run)
    fig = new_figure(11, 1.9 + 0.42 * max(len(grid.nodes), 3))
    ax = fig.subplots()
    edges = np.append(grid.week_starts, min(grid.week_starts[-1] + 7, run.horizon_days))
    cmap = matplotlib.colormaps["YlOrRd"].with_extremes(bad="#bbbbbb")
    top = max(1.0, float(np.nanmax(grid.values, initial=0.0)))
    mesh = ax.pcolormesh(
        run.dates(edges),
        np.arange(len(grid.nodes) + 1),
        np.ma.masked_invalid(grid.values),
        cmap=cmap,
        vmin=0,
        vmax=top,
        edgecolors="white",
        linewidth=0.3,
    )
    ax.set_yticks(np.arange(len(grid.nodes)) + 0.5, grid.nodes)
    ax.invert_yaxis()
    ax.set_ylabel("node")
    date_axis(ax)
    ax.set_xlabel("week starting")
    bar = fig.colorbar(mesh, ax=ax, pad=0.01)
    bar.set_label("utilisation\n(busy / available server-time)")
    closed = " — grey: no servers all week (closed)" if np.isnan(grid.values).any() else ""
    ax.set_title(
        f"{run.label}: weekly utilisation, {run.replications} replications pooled{closed}",
        loc="left",
    )
    return fig
