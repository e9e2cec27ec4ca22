"""Plots of a sweep directory (``corridor-sweep/1``): response curves, heatmaps, Sobol bars.

Reads ``manifest.json``, ``points.parquet``, the ``runs/`` Parquet dataset and, for Sobol
bars, ``sensitivity.json``. Continuous samples (LHS, Sobol) are binned so that lines and
cells still average several points.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.analysis.sensitivity import doubtful_parameters
from sim.errors import ConfigError
from sim.plots.common import new_figure
from sim.plots.style import parameter_label
from sim.stats import estimate
from sim.store.run_dir import read_json, reading
from sim.store.runs import FloatArray, parse_metric
from sim.store.sweeps import SweepData

MAX_LEVELS = 6  # more distinct values of the line parameter than this are binned
MAX_CELLS = 12  # more distinct values on a heatmap axis than this are binned


def levels(values: FloatArray, limit: int) -> tuple[FloatArray, list[str]]:
    """Each value's level and the level labels: distinct values, or equal-count bins."""
    distinct = np.unique(values)
    if len(distinct) <= limit:
        return values.copy(), [f"{v:g}" for v in distinct]
    edges = np.unique(np.quantile(values, np.linspace(0, 1, limit + 1)))
    which = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    mids = (edges[:-1] + edges[1:]) / 2
    labels = [f"{a:.3g}–{b:.3g}" for a, b in itertools.pairwise(edges)]
    return mids[which], labels


def response_figure(
    sweep: SweepData,
    x_param: str | None = None,
    by: str | None = None,
) -> Figure:
    """KPI against one parameter with a CI band; one line per level of a second parameter."""
    x_name = sweep.parameter(x_param, 0)
    others = [p for p in sweep.parameters if p != x_name]
    by_name = by if by is not None else (others[0] if others else None)
    if by_name is not None:
        by_name = sweep.parameter(by_name, 1)
    x, _ = levels(sweep.values[x_name], 15)
    group, group_labels = (
        levels(sweep.values[by_name], MAX_LEVELS) if by_name else (np.zeros(len(x)), [""])
    )
    fig = new_figure(9.5, 5.5)
    ax = fig.subplots()
    conf = float(sweep.manifest.get("confidence", 0.95))
    for level, text in zip(np.unique(group), group_labels, strict=True):
        xs, mean, low, high = [], [], [], []
        for xv in np.unique(x[group == level]):
            est = estimate(sweep.kpi[(group == level) & (x == xv)], conf, floor=None)
            xs.append(xv)
            mean.append(est.mean)
            low.append(est.ci_low)
            high.append(est.ci_high)
        label = f"{parameter_label(by_name)} = {text}" if by_name else "mean"
        (line,) = ax.plot(xs, mean, marker="o", ms=4, lw=1.6, label=label)
        ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xlabel(parameter_label(x_name))
    if np.all(np.mod(x, 1) == 0):  # servers, trains: no ticks at 3.25
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(sweep.metric.label)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", title=f"band: {conf:.0%} CI", title_fontsize="small")
    ax.set_title(
        f"Sweep {sweep.path.name}: {sweep.metric.label} vs {parameter_label(x_name)}", loc="left"
    )
    return fig


def _cells(sweep: SweepData, name: str) -> int:
    """Cells along an axis: every value of a grid; for continuous samples, few enough bins
    that a cell averages about four points (60 LHS points: 4 × 4 cells)."""
    if len(np.unique(sweep.values[name])) <= MAX_CELLS:
        return MAX_CELLS
    points = len({tuple(v) for v in zip(*sweep.values.values(), strict=True)})
    return int(np.clip(np.sqrt(points / 4), 3, MAX_CELLS))


def heatmap_figure(
    sweep: SweepData,
    x_param: str | None = None,
    y_param: str | None = None,
) -> Figure:
    """Mean KPI over two parameters (other parameters averaged over)."""
    x_name = sweep.parameter(x_param, 0)
    y_name = sweep.parameter(y_param, 1)
    if x_name == y_name:
        raise ConfigError("--by", (), "the heatmap needs two different parameters")
    x, x_labels = levels(sweep.values[x_name], _cells(sweep, x_name))
    y, y_labels = levels(sweep.values[y_name], _cells(sweep, y_name))
    xs, ys = np.unique(x), np.unique(y)
    grid = np.full((len(ys), len(xs)), np.nan)
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            cell = sweep.kpi[(x == xv) & (y == yv)]
            cell = cell[~np.isnan(cell)]
            if len(cell):
                grid[i, j] = cell.mean()
    fig = new_figure(9, 6.5)
    ax = fig.subplots()
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#bbbbbb")
    mesh = ax.pcolormesh(np.ma.masked_invalid(grid), cmap=cmap, edgecolors="white", linewidth=0.5)
    if grid.size <= 144:
        finite = grid[np.isfinite(grid)]
        mid = (finite.min() + finite.max()) / 2 if len(finite) else 0.0
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                ax.text(
                    j + 0.5,
                    i + 0.5,
                    f"{v:.3g}",
                    ha="center",
                    va="center",
                    fontsize="small" if grid.size <= 36 else "x-small",
                    color="black" if v > mid else "white",
                )
    ax.set_xticks(
        np.arange(len(xs)) + 0.5, x_labels, rotation=30 if len(xs) > 6 else 0, fontsize="small"
    )
    ax.set_yticks(np.arange(len(ys)) + 0.5, y_labels, fontsize="small")
    ax.set_xlabel(parameter_label(x_name))
    ax.set_ylabel(parameter_label(y_name))
    bar = fig.colorbar(mesh, ax=ax, pad=0.01)
    bar.set_label(sweep.metric.label)
    ax.set_title(
        f"Sweep {sweep.path.name}: {sweep.metric.label}, mean over points and replications",
        loc="left",
    )
    return fig


def sensitivity_figure(path: Path) -> Figure:
    """First-order (S1) and total (ST) Sobol indices per parameter with their intervals."""
    sens = path / "sensitivity.json"
    if not sens.is_file():
        raise ConfigError(str(sens), (), "missing: run `corridor sensitivity` on this sweep first")
    doc = read_json(sens)
    with reading(sens):
        params = sorted(doc["parameters"], key=lambda p: -float(doc["parameters"][p]["ST"]))
        for p in params:
            for key in ("S1", "S1_conf", "ST", "ST_conf"):
                float(doc["parameters"][p][key])
    fig = new_figure(max(7.0, 1.3 * len(params) + 3), 5.2)
    ax = fig.subplots()
    x = np.arange(len(params))
    width = 0.38
    for shift, key, colour in ((-width / 2, "S1", "#4c72b0"), (width / 2, "ST", "#dd8452")):
        vals = np.asarray([float(doc["parameters"][p][key]) for p in params])
        errs = np.asarray([float(doc["parameters"][p][f"{key}_conf"]) for p in params])
        name = "first order S1" if key == "S1" else "total ST"
        ax.bar(
            x + shift,
            vals,
            width,
            yerr=errs,
            capsize=3,
            color=colour,
            label=name,
            gid=f"sobol:{key}",
        )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(
        x,
        [parameter_label(p) for p in params],
        rotation=20 if len(params) > 3 else 0,
        ha="right" if len(params) > 3 else "center",
        fontsize="small",
    )
    ax.set_ylabel("Sobol index (share of output variance)")
    ax.set_xlabel("parameter")
    ax.grid(axis="y", alpha=0.3)
    conf = float(doc.get("confidence", 0.95))
    ax.legend(fontsize="small", title=f"error bars: {conf:.0%} CI", title_fontsize="small")
    design = (
        f"\n{doc['samples']} base samples, {doc['points']} points, "
        f"{doc['replications']} replications each"
        if {"samples", "points", "replications"} <= doc.keys()
        else ""
    )
    method = str(doc.get("method", "sobol")).capitalize()
    doubt = sensitivity_doubts_text(doc)
    if doubt:
        ax.axhspan(0, 1, color="#2ca02c", alpha=0.06, lw=0, label="valid range [0, 1]")
        ax.legend(fontsize="small", title=f"error bars: {conf:.0%} CI", title_fontsize="small")
    ax.set_title(
        f"Sweep {path.name}: {method} sensitivity of {parse_metric(doc['kpi']).label}{design}"
        + (f"\nWARNING: {doubt}" if doubt else ""),
        loc="left",
        color="#b00000" if doubt else "black",
    )
    return fig


def sensitivity_doubts_text(doc: dict[str, Any]) -> str:
    """The warning for the title, or "" when the indices look sound."""
    doubtful = doubtful_parameters(doc)
    if not doubtful:
        return ""
    names = ", ".join(parameter_label(p) for p in doubtful)
    return (
        f"indices outside [0, 1] or intervals wider than ±0.5 ({names}): "
        "the sample is too small to trust them; use more --samples"
    )
