"""Time series of one run: TEU/day through borders and per route, and queues at borders."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
from matplotlib.figure import Figure

from sim.config.scenario import NodeKind
from sim.plots.common import date_axis, event_spans, new_figure, shade_events
from sim.plots.style import OTHER_COLOUR, stable_colours
from sim.store.runs import FloatArray, RunData, column, strings

MAX_SERIES = 5  # lines per panel before the smallest are summed into "other": more tangle


def moving_mean(values: FloatArray, days: int) -> FloatArray:
    """Centred moving mean over ``days`` (shorter at the ends, so totals are not distorted)."""
    days = min(days, len(values))  # a run shorter than the window: np.convolve would grow it
    if days <= 1:
        return values
    kernel = np.ones(days)
    sums = np.convolve(values, kernel, mode="same")
    counts = np.convolve(np.ones(len(values)), kernel, mode="same")
    result: FloatArray = sums / counts
    return result


def window_days(run: RunData) -> FloatArray:
    """Whole days of the measurement window, as offsets from start_date."""
    result: FloatArray = np.arange(0.0, np.ceil(run.horizon_days - 1e-9))
    return result


def node_daily(run: RunData, node: str, field: str) -> FloatArray:
    """A timeseries field per (replication, day in the window) for one node: shape (reps, days)."""
    ts = run.table("timeseries")
    rows = ts.filter(pc.equal(ts["node"], node))
    reps = column(rows, "replication").astype(int)
    day = column(rows, "day")
    values = column(rows, field)
    days = window_days(run)
    out = np.full((run.replications, len(days)), np.nan)
    inside = (day >= 0) & (day < len(days))
    out[reps[inside], day[inside].astype(int)] = values[inside]
    return out


def border_nodes(run: RunData) -> list[str]:
    return [nid for nid, n in run.scenario.nodes.items() if n.kind == NodeKind.border]


def delivered_daily_teu(run: RunData, by: str) -> dict[str, FloatArray]:
    """TEU delivered per route or flow (``by``) and day in the window, mean over replications."""
    trains = run.table("trains")
    arrive = column(trains, "arrive_day")
    teu = column(trains, "teu")
    keys = strings(trains, by)
    days = window_days(run)
    edges = np.append(days, run.horizon_days + 1e-9)  # the window end is inclusive
    out = {}
    for key in sorted(set(keys.tolist())):
        mine = (keys == key) & ~np.isnan(arrive)
        counts, _ = np.histogram(arrive[mine], edges, weights=teu[mine])
        out[key] = counts / run.replications
    return out


def largest(series: dict[str, FloatArray], limit: int, other: str) -> dict[str, FloatArray]:
    """The ``limit`` largest series by total, the rest summed into one (legends stay short)."""
    ranked = sorted(series, key=lambda k: -float(np.nansum(series[k])))
    kept = {k: series[k] for k in ranked[:limit]}
    rest = ranked[limit:]
    if rest:
        kept[f"{other} ({len(rest)})"] = np.nansum([series[k] for k in rest], axis=0)
    return kept


def throughput_figure(run: RunData, smooth_days: int = 7) -> Figure:
    """TEU/day through each border crossing (top) and delivered per route (bottom)."""
    fig = new_figure(11, 7.5)
    top, bottom = fig.subplots(2, 1, sharex=True)
    x = run.dates(window_days(run))
    crossings = {
        node: np.nanmean(node_daily(run, node, "teu_out"), axis=0) for node in border_nodes(run)
    }
    crossings = {k: v for k, v in crossings.items() if np.nansum(v) > 0}
    node_colour = stable_colours(run.scenario.nodes)
    for node, series in largest(crossings, MAX_SERIES, "other borders").items():
        colour = node_colour.get(node, OTHER_COLOUR)
        top.plot(x, moving_mean(series, smooth_days), lw=1.4, label=node, color=colour)
    by = "route" if len(run.scenario.routes) <= MAX_SERIES else "flow"
    ids = run.scenario.routes if by == "route" else run.scenario.flows
    key_colour = stable_colours(ids)
    delivered = largest(delivered_daily_teu(run, by), MAX_SERIES, f"other {by}s")
    for key, series in delivered.items():
        colour = key_colour.get(key, OTHER_COLOUR)
        bottom.plot(x, moving_mean(series, smooth_days), lw=1.4, label=key, color=colour)
    avg = f"{smooth_days}-day moving mean, " if smooth_days > 1 else ""
    reps = f"mean of {run.replications} replications"
    top.set_title(f"TEU/day through each border crossing ({avg}{reps})", loc="left")
    bottom.set_title(f"TEU/day delivered per {by} ({avg}{reps})", loc="left")
    for ax in (top, bottom):
        shade_events(ax, run)
        ax.set_ylabel("TEU/day")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    date_axis(bottom)
    fig.suptitle(f"{run.label}: throughput", fontweight="bold")
    return fig


MIN_QUEUE = 0.5  # trains: borders whose 95th-percentile daily queue stays below are left out


def has_held(run: RunData) -> bool:
    """Finite room somewhere: the timeseries counts trains held at each node."""
    return "held_mean" in run.table("timeseries").column_names


def queue_nodes(run: RunData, limit: int) -> tuple[list[str], int]:
    """Capacity-limited borders where a queue formed (with finite room, any node where trains
    queued or were held), busiest (95th-percentile daily level) first."""
    nodes = [n for n in border_nodes(run) if run.scenario.nodes[n].servers is not None]
    fields = ["queue_mean"]
    if has_held(run):
        nodes = list(run.scenario.nodes)
        fields.append("held_mean")
    peak = {
        n: max(
            float(np.nanmax(np.nanpercentile(node_daily(run, n, f), 95, axis=0))) for f in fields
        )
        for n in nodes
    }
    ranked = sorted(nodes, key=lambda n: -peak[n])
    queued = [n for n in ranked if peak[n] >= MIN_QUEUE] or ranked[:1]
    return queued[:limit], len(nodes)


def queues_figure(run: RunData, limit: int = 6) -> Figure:
    """Trains waiting at each capacity-limited border: median and 5–95% band over replications."""
    nodes, total = queue_nodes(run, limit)
    if not nodes:
        nodes = border_nodes(run)[:limit] or list(run.scenario.nodes)[:1]
        total = len(nodes)
    fig = new_figure(11, 1.9 * len(nodes) + 1.6)
    axes = fig.subplots(len(nodes), 1, sharex=True, squeeze=False)[:, 0]
    x = run.dates(window_days(run))
    spans = event_spans(run)
    node_colour = stable_colours(run.scenario.nodes)  # the node's colour in every figure
    held = has_held(run)
    for ax, node in zip(axes, nodes, strict=True):
        daily = node_daily(run, node, "queue_mean")
        low, mid, high = np.nanpercentile(daily, [5, 50, 95], axis=0)
        colour = node_colour[node]
        ax.fill_between(x, low, high, color=colour, alpha=0.25, lw=0, label="5–95% of runs")
        ax.plot(x, mid, color=colour, lw=1.5, label="queued (median)")
        if held:  # dashed, in the node's colour: held here, handled but not accepted onward
            h_low, h_mid, h_high = np.nanpercentile(
                node_daily(run, node, "held_mean"), [5, 50, 95], axis=0
            )
            ax.fill_between(x, h_low, h_high, color=colour, alpha=0.12, lw=0, hatch="//")
            ax.plot(x, h_mid, color=colour, lw=1.5, ls="--", label="held here, not accepted onward")
        shade_events(ax, run, [s for s in spans if node in s.targets])
        servers = run.scenario.nodes[node].servers
        plural = "" if servers == 1 else "s"
        what = "no server limit" if servers is None else f"{servers} server{plural}"
        ax.set_title(f"{node} ({what})", loc="left", fontsize="medium")
        ax.set_ylabel("trains\nwaiting")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    date_axis(axes[-1])
    shown = (
        f" ({len(nodes)} of {total} with a queue of {MIN_QUEUE:g}+ trains)"
        if total > len(nodes)
        else ""
    )
    fig.suptitle(
        f"{run.label}: {'trains queued and held' if held else 'queue at border crossings'}"
        f"{shown}, daily mean, "
        f"{run.replications} replications",
        fontweight="bold",
    )
    return fig
