"""Time–distance diagram (the railway planner's "train graph") along one route.

Each train is one line: sloped while it travels, horizontal while it waits or is handled at a
node. A closed border shows at a glance as a pile of horizontal lines at its distance.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pyarrow.compute as pc
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from sim.errors import ConfigError
from sim.plots.common import date_axis, event_spans, new_figure, shade_events
from sim.store.runs import FloatArray, RunData, column, strings


def route_positions(run: RunData, route: str) -> tuple[dict[str, float], bool]:
    """Cumulative km of each node along the route; (positions, to_scale).

    When a leg has no ``km`` (a link given in hours, e.g. a sea leg) the stops are spaced
    evenly instead and the axis says it is not to scale.
    """
    s = run.scenario
    nodes = s.routes[route].nodes
    kms: list[float | None] = []
    for a, b in itertools.pairwise(nodes):
        link = next(
            (lk for lk in s.links.values() if {lk.from_node, lk.to_node} == {a, b}),
            None,
        )
        kms.append(None if link is None else link.km)
    if all(k is not None for k in kms):
        cum = np.concatenate([[0.0], np.cumsum([float(k or 0.0) for k in kms])])
        return dict(zip(nodes, cum.tolist(), strict=True)), True
    return {n: float(i) for i, n in enumerate(nodes)}, False


def default_route(run: RunData, replication: int) -> str:
    trains = run.table("trains")
    routes = strings(trains, "route")[column(trains, "replication") == replication]
    if len(routes) == 0:
        return next(iter(run.scenario.routes))
    names, counts = np.unique(routes, return_counts=True)
    return str(names[np.argmax(counts)])


def default_window(run: RunData, route: str) -> tuple[float, float]:
    """Around the first closure on the route, else the first 60 days."""
    on_route = set(run.scenario.routes[route].nodes)
    for span in event_spans(run):
        if span.kind == "closure" and on_route & set(span.targets):
            return max(0.0, span.start_day - 10), min(run.horizon_days, span.end_day + 30)
    return 0.0, min(run.horizon_days, 60.0)


@dataclass(frozen=True)
class TrainPaths:
    route: str
    replication: int
    window: tuple[float, float]
    positions: dict[str, float]
    to_scale: bool
    paths: dict[int, FloatArray]  # train -> (points, 2): day, position
    reverse: dict[int, bool]


def train_paths(
    run: RunData, route: str, replication: int, window: tuple[float, float]
) -> TrainPaths:
    """Every train of one replication on the route whose journey overlaps the window."""
    positions, to_scale = route_positions(run, route)
    trains = run.table("trains")
    mine = trains.filter(
        pc.and_(pc.equal(trains["replication"], replication), pc.equal(trains["route"], route))
    )
    depart = column(mine, "depart_day")
    arrive = np.nan_to_num(column(mine, "arrive_day"), nan=np.inf)
    ids = column(mine, "train").astype(int)
    reverse_col = np.asarray(mine["reverse"].to_pylist(), dtype=bool)
    keep = (depart <= window[1]) & (arrive >= window[0])
    wanted = set(ids[keep].tolist())
    visits = run.table("visits")
    visits = visits.filter(pc.equal(visits["replication"], replication))
    v_train = column(visits, "train").astype(int)
    sel = np.isin(v_train, list(wanted))
    v_train = v_train[sel]
    v_node = strings(visits, "node")[sel]
    v_seq = column(visits, "seq")[sel]
    v_arrive = column(visits, "arrive_day")[sel]
    v_end = column(visits, "end_day")[sel]
    order = np.lexsort((v_seq, v_train))
    end_of_run = run.horizon_days
    paths: dict[int, list[tuple[float, float]]] = {t: [] for t in wanted}
    stuck: set[int] = set()
    for i in order:
        t = int(v_train[i])
        if t in stuck or np.isnan(v_arrive[i]):
            continue
        y = positions[str(v_node[i])]
        paths[t].append((float(v_arrive[i]), y))
        if np.isnan(v_end[i]):  # still waiting or in handling when the run ended
            paths[t].append((end_of_run, y))
            stuck.add(t)
        else:
            paths[t].append((float(v_end[i]), y))
    return TrainPaths(
        route,
        replication,
        window,
        positions,
        to_scale,
        {t: np.asarray(p, dtype=float) for t, p in paths.items() if p},
        {int(t): bool(r) for t, r in zip(ids[keep], reverse_col[keep], strict=True)},
    )


def _node_ticks(positions: dict[str, float]) -> tuple[list[float], list[str]]:
    """One tick per place; nodes closer than 3.5% of the route share a tick (no overlap)."""
    span = max(positions.values()) - min(positions.values()) or 1.0
    ticks: list[float] = []
    labels: list[str] = []
    for node, y in sorted(positions.items(), key=lambda kv: kv[1]):
        if ticks and y - ticks[-1] < 0.035 * span:
            labels[-1] = f"{labels[-1]} / {node}"
            continue
        ticks.append(y)
        labels.append(node)
    return ticks, labels


def train_graph_figure(
    run: RunData,
    route: str | None = None,
    replication: int = 0,
    window: tuple[float, float] | None = None,
) -> Figure:
    if replication < 0 or replication >= run.replications:
        raise ConfigError("--replication", (), f"{replication} is not in 0..{run.replications - 1}")
    route = route or default_route(run, replication)
    if route not in run.scenario.routes:
        raise ConfigError(
            "--route", (), f"unknown route '{route}' (known: {', '.join(run.scenario.routes)})"
        )
    window = window or default_window(run, route)
    tp = train_paths(run, route, replication, window)
    fig = new_figure(11, 6.5)
    ax = fig.subplots()
    origin = np.datetime64(run.start_date.isoformat(), "m")
    thinned = False
    for reverse, colour, name in ((False, "#1f77b4", "forward"), (True, "#2ca02c", "reverse")):
        segs = [p for t, p in sorted(tp.paths.items()) if tp.reverse[t] == reverse]
        if not segs:
            continue
        # a busy route draws as a solid block: show every k-th train so the lines separate
        every = math.ceil(len(segs) / (MAX_TRAINS_PER_DAY * (window[1] - window[0])))
        shown = segs[::every]
        thinned |= every > 1
        lines = [np.column_stack([_datenum(origin, p[:, 0]), p[:, 1]]) for p in shown]
        first, last = route_ends(run, route, reverse)
        count = (
            f"every {_ordinal(every)} of {len(segs)} trains" if every > 1 else f"{len(segs)} trains"
        )
        ax.add_collection(
            LineCollection(
                lines,
                colors=colour,
                linewidths=0.7,
                alpha=0.8,
                label=f"{first} → {last} ({count})",
                gid=f"trains:{name}",
            )
        )
    shade_events(ax, run, [s for s in event_spans(run) if set(s.targets) & set(tp.positions)])
    ax.set_xlim(_datenum(origin, np.asarray(window)))  # type: ignore[arg-type]
    ys = list(tp.positions.values())
    pad = 0.02 * (max(ys) - min(ys) or 1.0)
    ax.set_ylim(min(ys) - pad, max(ys) + pad)
    ticks, labels = _node_ticks(tp.positions)
    if tp.to_scale:
        labels = [f"{name} ({km:,.0f} km)" for name, km in zip(labels, ticks, strict=True)]
    ax.set_yticks(ticks, labels, fontsize="small")
    ax.set_ylabel("km along route" if tp.to_scale else "stop along route (not to scale)")
    date_axis(ax)
    ax.xaxis_date()
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    ax.set_title(
        f"{run.label}: train graph of route {route}, replication {replication}"
        + (" (thinned: a busy route)" if thinned else "")
        + "\nsloped: running; horizontal: waiting or handling at a node",
        loc="left",
    )
    return fig


MAX_TRAINS_PER_DAY = 6.0  # per direction and day shown: denser, and every k-th train is drawn


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def route_ends(run: RunData, route: str, reverse: bool) -> tuple[str, str]:
    nodes = run.scenario.routes[route].nodes
    return (nodes[-1], nodes[0]) if reverse else (nodes[0], nodes[-1])


def _datenum(origin: np.datetime64, days: FloatArray) -> FloatArray:
    """Matplotlib date numbers (days since 1970-01-01) of days relative to start_date."""
    epoch = (origin - np.datetime64("1970-01-01T00:00", "m")).astype(float) / 1440.0
    result: FloatArray = epoch + np.asarray(days, dtype=float)
    return result
