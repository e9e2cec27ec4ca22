"""The corridor on longitude/latitude: links as lines whose width is the TEU they carried,
nodes coloured by utilisation, busy nodes ringed. Plain axes, no basemap (no network access).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.errors import ConfigError
from sim.plots.common import drop_overlapping, new_figure
from sim.plots.style import co_located, spread
from sim.store.runs import RunData, column, strings

BUSY = 0.8  # utilisation above which a node is ringed (queues grow fast beyond it)
MAX_WIDTH = 9.0
MIN_WIDTH = 0.6


@dataclass(frozen=True)
class LinkLoad:
    link: str
    a: str
    b: str
    teu_per_year: float


def link_loads(run: RunData) -> list[LinkLoad]:
    """TEU per year on each link (both directions), from consecutive visits of each train.

    A leg counts when the train left its first node inside the measurement window; the sum
    is averaged over replications and scaled from the horizon to 365 days.
    """
    visits = run.table("visits")
    trains = run.table("trains")
    reps_t = column(trains, "replication").astype(int)
    ids_t = column(trains, "train").astype(int)
    teu_t = column(trains, "teu")
    size = int(ids_t.max()) + 1 if len(ids_t) else 1
    teu_of = np.zeros((run.replications, size))
    teu_of[reps_t, ids_t] = teu_t
    rep = column(visits, "replication").astype(int)
    train = column(visits, "train").astype(int)
    seq = column(visits, "seq")
    node = strings(visits, "node")
    end = column(visits, "end_day")
    order = np.lexsort((seq, train, rep))
    rep, train, node, end = rep[order], train[order], node[order], end[order]
    same = (rep[1:] == rep[:-1]) & (train[1:] == train[:-1])
    left = end[:-1]
    counted = same & (left >= 0) & (left <= run.horizon_days)
    totals: dict[frozenset[str], float] = {}
    for i in np.flatnonzero(counted):
        key = frozenset((str(node[i]), str(node[i + 1])))
        totals[key] = totals.get(key, 0.0) + float(teu_of[rep[i], train[i]])
    scale = 365.0 / run.horizon_days / run.replications
    return [
        LinkLoad(
            lid,
            lk.from_node,
            lk.to_node,
            totals.get(frozenset((lk.from_node, lk.to_node)), 0.0) * scale,
        )
        for lid, lk in run.scenario.links.items()
    ]


def utilisation_of(run: RunData, node: str) -> float | None:
    value = run.summary["nodes"].get(node, {}).get("utilisation", {}).get("mean")
    return None if value is None else float(value)


NEAR = 0.004  # nodes closer than this share of the map's span are drawn side by side
SPREAD = 0.006  # ... on a circle of this share of the span around their centre


def map_figure(run: RunData, busy: float = BUSY) -> Figure:
    threshold = busy
    nodes = run.scenario.nodes
    where = {n: (v.lon, v.lat) for n, v in nodes.items() if v.lon is not None and v.lat is not None}
    if not where:
        raise ConfigError(str(run.path), ("nodes",), "no node has lat/lon: cannot draw a map")
    lons = [p[0] for p in where.values()]
    lats = [p[1] for p in where.values()]
    stretch = 1.0 / max(0.2, math.cos(math.radians(float(np.mean(lats)))))
    shape = (max(lats) - min(lats) + 4) * stretch / (max(lons) - min(lons) + 4)
    fig = new_figure(12, min(9.0, max(4.8, 10.5 * shape + 2.2)))
    ax = fig.subplots()
    # co-located nodes (Brest and Małaszewicze, Dostyk and Alashankou) side by side, with one
    # label for the group, so neither the marker nor the utilisation of one hides the other
    span = max(max(lons) - min(lons), (max(lats) - min(lats)) * stretch, 1.0)
    groups = co_located(where, NEAR * span)
    where = {n: p for g in groups for n, p in spread(g, where, SPREAD * span).items()}
    loads = [ld for ld in link_loads(run) if ld.a in where and ld.b in where]
    top = max((ld.teu_per_year for ld in loads), default=0.0) or 1.0
    for ld in loads:
        (x0, y0), (x1, y1) = where[ld.a], where[ld.b]
        sea = run.scenario.links[ld.link].mode in ("sea", "ferry")
        if ld.teu_per_year > 0:
            width = MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * ld.teu_per_year / top
            colour, lw, alpha, ls = "#3a6ea5", width, 0.75, (":" if sea else "-")
        else:
            colour, lw, alpha, ls = "#999999", 0.6, 0.8, "--"
        ax.plot(
            [x0, x1],
            [y0, y1],
            solid_capstyle="round",
            zorder=1,
            gid=f"link:{ld.link}",
            color=colour,
            lw=lw,
            alpha=alpha,
            ls=ls,
        )
    cmap = matplotlib.colormaps["YlOrRd"]
    for nid in where:
        x, y = where[nid]
        util = utilisation_of(run, nid)
        busy = util is not None and util >= threshold
        face = "#dddddd" if util is None else cmap(min(util, 1.0))
        ax.scatter(
            [x],
            [y],
            s=140 if busy else 50,
            c=[face],
            zorder=3,
            edgecolors="#b00000" if busy else "#333333",
            linewidths=2.2 if busy else 0.6,
            gid=f"node:{nid}" + (":busy" if busy else ""),
        )

    def importance(group: list[str]) -> float:
        return -max((utilisation_of(run, n) or -1.0) for n in group)

    texts = []
    for group in sorted(groups, key=importance):  # busiest first: they keep their label
        labels = []
        for nid in group:
            util = utilisation_of(run, nid)
            labels.append(nid if util is None else f"{nid} {util:.0%}")
        x = max(where[n][0] for n in group)
        y = max(where[n][1] for n in group)
        busy = -importance(group) >= threshold
        texts.append(
            ax.annotate(
                "\n".join(labels),
                (x, y),
                xytext=(5, 4),
                textcoords="offset points",
                fontsize="small",
                fontweight="bold" if busy else "normal",
                zorder=4,
                gid="label:" + "+".join(group),
            )
        )
    ax.set_aspect(stretch, adjustable="datalim")
    ax.margins(0.08)
    drop_overlapping(fig, texts)
    sm = matplotlib.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(0, 1))
    bar = fig.colorbar(sm, ax=ax, shrink=0.6, pad=0.01)
    bar.set_label("node utilisation (capacity-limited nodes; grey: unlimited)")
    refs = [_round2(top), _round2(top / 2), _round2(top / 10)]
    handles = [
        Line2D(
            [],
            [],
            color="#3a6ea5",
            lw=MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * r / top,
            label=f"{r:,.0f} TEU/year",
        )
        for r in refs
    ]
    handles.append(
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            markerfacecolor="white",
            markeredgecolor="#b00000",
            markeredgewidth=2.2,
            markersize=10,
            label=f"busy: utilisation ≥ {threshold:.0%}",
        )
    )
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize="small", frameon=False)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.grid(alpha=0.3)
    ax.set_title(
        f"{run.label}: TEU carried per link (line width, per year) and node utilisation, "
        f"mean of {run.replications} replications",
        loc="left",
    )
    return fig


def _round2(value: float) -> float:
    """Two significant digits, for legend reference widths."""
    if value <= 0:
        return 0.0
    digits = 1 - math.floor(math.log10(value))
    return float(round(value, digits))
