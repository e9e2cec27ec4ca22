"""Scenarios side by side: one panel per KPI, one bar per scenario with its 95% CI.

Bar heights are the means in each run's summary.json; the label above a bar is its
difference from the first run (the baseline), marked * when the interval excludes zero.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from sim.analysis.compare import Difference, pairing_legend
from sim.formatting import MAX_RELATIVE, format_difference, format_relative
from sim.kpis import FRACTION
from sim.plots.common import new_figure
from sim.store.runs import Metric, RunData

COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3")


def run_colours(n: int) -> list[str]:
    """The colour of each run, by its position: the same in every figure of a report."""
    return [COLOURS[i % len(COLOURS)] for i in range(n)]


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def comparison_figure(
    runs: list[RunData], metrics: list[Metric], diffs: list[Difference]
) -> Figure:
    cols = min(len(metrics), 3)
    rows = math.ceil(len(metrics) / cols)
    width = max(4.2 * cols, 1.1 * len(runs) * cols + 2)
    fig = new_figure(width, 3.9 * rows + 0.8)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    by_key = {(d.metric, d.scenario): d for d in diffs}
    x = np.arange(len(runs))
    for ax, metric in zip(axes, metrics, strict=False):
        est = [r.estimate(metric) for r in runs]
        mean = np.asarray([_nan(e["mean"]) for e in est])
        low = np.asarray([_nan(e["ci_low"]) for e in est])
        high = np.asarray([_nan(e["ci_high"]) for e in est])
        err = np.vstack([np.nan_to_num(mean - low), np.nan_to_num(high - mean)])
        ax.bar(
            x,
            mean,
            color=run_colours(len(runs)),
            yerr=err,
            capsize=4,
            error_kw={"lw": 1.2},
            gid=f"bars:{metric.key}",
        )
        for i, run in enumerate(runs[1:], start=1):
            d = by_key.get((metric, run.label))
            if d is None or math.isnan(d.mean):
                continue
            mark = ("*" if d.significant else "") + ("" if d.paired else "†")
            # fractions in percentage points; others relative to the baseline, or absolute
            # when the baseline is 0 or so small that the ratio says nothing (a closure's
            # queue against a queue of nearly none: "+114.6 trains", not "+3,172.7%")
            if metric.unit == FRACTION or math.isnan(d.relative) or abs(d.relative) > MAX_RELATIVE:
                text = format_difference(d.mean, metric.unit)
            else:
                text = format_relative(d.relative)
            ax.annotate(
                text + mark,
                (x[i], np.nan_to_num(high[i], nan=mean[i])),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                fontsize="small",
            )
        ax.set_xticks(
            x,
            [r.label for r in runs],
            rotation=25 if len(runs) > 2 else 0,
            ha="right" if len(runs) > 2 else "center",
            fontsize="small",
        )
        ax.set_title(metric.label, fontsize="medium")
        ax.set_ylabel(metric.unit or "value")
        ax.set_ylim(bottom=0)
        ax.margins(y=0.12)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    conf = round(runs[0].confidence * 100)
    how = "; ".join(
        ("† " + line if line.startswith("Welch") else "paired by replication")
        for line in pairing_legend(diffs)
    )
    fig.suptitle(
        f"Scenarios compared: mean and {conf}% CI across replications\n"
        f"labels: difference from {runs[0].label}"
        + (f", {how}" if how else "")
        + "; * = CI excludes 0",
        fontsize="medium",
        fontweight="bold",
    )
    return fig
