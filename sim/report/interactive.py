"""Zoomable time series for the HTML report: held trains and throughput by day, one line per
scenario, drawn in the page by uPlot (MIT, ~50 kB, shipped in ``sim/vendor/uplot``) from
``templates/charts.html.j2`` and ``templates/charts.js``.

A reader of a closure wants to look at the weeks around it, not at a year squeezed into
1,000 pixels: drag to zoom, double-click to reset, hover for the values of every scenario on
that day. The library and the data are written into the page, so the report stays one file
that opens with no network. The page records any script error in ``data-errors`` on
``<body>`` and the number of charts drawn in ``data-charts``, which the browser test reads.

Series are means over replications of daily values from ``timeseries.parquet`` (queue) and
``trains.parquet`` (TEU delivered), days from each run's ``start_date`` so runs of different
years line up; the axis shows them as dates on the first run's calendar (issue 21, item 10:
it showed "day from start_date").
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from typing import Any

import numpy as np
import pyarrow.compute as pc
from markupsafe import Markup

from sim.analysis.compare import disrupted_node
from sim.store.runs import RunData, column

SMOOTH_DAYS = 7  # throughput is shown as a 7-day moving mean: daily counts are lumpy


def _vendor(name: str) -> str:
    return (resources.files("sim") / "vendor" / "uplot" / name).read_text(encoding="utf-8")


def queue_series(run: RunData, node: str) -> tuple[list[float], list[float | None]]:
    """Days and the daily mean queue at ``node``, averaged over replications."""
    ts = run.table("timeseries")
    rows = ts.filter(pc.equal(ts["node"], node))
    day = column(rows, "day")
    queue = column(rows, "queue_mean")
    days = np.unique(day)
    out: list[float | None] = []
    for d in days:
        values = queue[(day == d) & ~np.isnan(queue)]
        out.append(round(float(values.mean()), 3) if len(values) else None)
    return days.tolist(), out


def throughput_series(run: RunData) -> tuple[list[float], list[float | None]]:
    """Days and TEU delivered per day (7-day moving mean), averaged over replications."""
    trains = run.table("trains")
    arrive = column(trains, "arrive_day")
    teu = column(trains, "teu")
    ok = ~np.isnan(arrive) & (arrive >= 0) & (arrive < run.horizon_days)
    n_days = int(np.ceil(run.horizon_days))
    total = np.bincount(arrive[ok].astype(int), weights=teu[ok], minlength=n_days)[:n_days]
    daily = np.asarray(total, dtype=float) / max(run.replications, 1)
    window = max(1, min(SMOOTH_DAYS, n_days))  # a run shorter than a week: a shorter mean
    smooth = np.convolve(daily, np.ones(window) / window, mode="same")
    return [float(d) for d in range(n_days)], [round(float(v), 2) for v in smooth]


EPOCH = dt.date(1970, 1, 1)
SECONDS_PER_DAY = 86_400


def _align(series: list[tuple[list[float], list[float | None]]], start: dt.date) -> list[list[Any]]:
    """uPlot wants one x array and y arrays on it: the union of days, gaps as null. The x
    values are the days on ``start``'s calendar in seconds since 1970 (UTC), which uPlot's
    time axis shows as dates."""
    days = sorted({d for xs, _ in series for d in xs})
    origin = (start - EPOCH).days
    out: list[list[Any]] = [[round((origin + d) * SECONDS_PER_DAY) for d in days]]
    for xs, ys in series:
        at = dict(zip(xs, ys, strict=True))
        out.append([at.get(d) for d in days])
    return out


def chart_specs(runs: list[RunData], colours: list[str]) -> list[dict[str, Any]]:
    """The charts of a report: held trains at the disrupted node (when there is one) and
    corridor throughput, each with one line per run in the run's report colour."""
    names = [r.label for r in runs]
    start = runs[0].start_date
    x_label = "date"
    if any(r.start_date != start for r in runs[1:]):  # runs of other years line up by day
        x_label = f"date on {runs[0].label}'s calendar (other runs: the same day of their run)"
    specs: list[dict[str, Any]] = []
    found = (
        disrupted_node(runs[0].scenario, runs[0].summary["nodes"], [r.scenario for r in runs[1:]])
        if len(runs) > 1
        else None
    )
    if found is not None:
        node = found[0]
        specs.append(
            {
                "id": f"queue-{node}",
                "title": f"Trains waiting at {node}, daily mean over replications",
                "x_label": x_label,
                "y": "trains",
                "names": names,
                "colours": colours,
                "data": _align([queue_series(r, node) for r in runs], start),
            }
        )
    specs.append(
        {
            "id": "throughput",
            "title": f"TEU delivered per day, {SMOOTH_DAYS}-day moving mean over replications",
            "x_label": x_label,
            "y": "TEU/day",
            "names": names,
            "colours": colours,
            "data": _align([throughput_series(r) for r in runs], start),
        }
    )
    return specs


def charts_context(runs: list[RunData], colours: list[str]) -> dict[str, Any]:
    """What templates/charts.html.j2 writes into the page: the charts, their data as JSON
    (safe inside ``<script>``), and uPlot itself."""
    specs = chart_specs(runs, colours)
    data = json.dumps(specs, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return {
        "specs": specs,
        "data": Markup(data),
        "css": Markup(_vendor("uPlot.min.css")),
        "library": Markup(_vendor("uPlot.iife.min.js")),
    }
