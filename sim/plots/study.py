"""The study's figure: where the corridor breaks, one panel per question.

Each panel shows the study's points on the two inputs the question's first box restricts
(or, when it restricts one, that input against the KPI), the points where the condition
holds in red, and the box as a rectangle: a reader sees the region PRIM named and how
cleanly it separates the cases. Categorical limits (Suez open, sanctions lifted) cannot be
drawn on an axis; the panel's note says them. Without a box the panel shows the KPI's spread
over the points with the threshold.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.analysis.discovery import point_means
from sim.analysis.study import limit_words
from sim.kpis import lookup
from sim.plots.common import new_figure

if TYPE_CHECKING:
    from sim.analysis.discovery import Limit
    from sim.analysis.study import Finding, StudyFindings

HIT = "#d62728"
MISS = "#9e9e9e"


def _numeric_limits(finding: Finding) -> list[tuple[str, float | None, float | None]]:
    """The first box's numeric limits, the most restrictive first (the largest share of the
    input's range cut away), so the panel's axes are the inputs that matter most."""
    if not finding.discovery.boxes:
        return []
    box = finding.discovery.boxes[0]
    ranges = finding.discovery.inputs

    def cut(lim: Limit) -> float:
        low, high = ranges[lim.parameter]
        assert isinstance(low, float) and isinstance(high, float)
        lo = lim.low if lim.low is not None else low
        hi = lim.high if lim.high is not None else high
        return 1.0 - (hi - lo) / (high - low) if high > low else 0.0

    numeric = sorted((lim for lim in box.limits if not lim.categories), key=cut, reverse=True)
    return [(lim.parameter, lim.low, lim.high) for lim in numeric]


def _panel(ax: Axes, finding: Finding, study: StudyFindings) -> None:
    q = finding.question
    points, means = point_means(study.sweep_dir, q.kpi)
    hit = means > q.threshold if q.direction == "above" else means < q.threshold
    labels = study.study.labels
    limits = _numeric_limits(finding)
    kpi = lookup(finding.discovery.metric.scope, finding.discovery.metric.kpi)
    where = f"{finding.discovery.metric.name}: " if finding.discovery.metric.name else ""
    kpi_label = f"{where}{kpi.label} ({kpi.unit})" if kpi else q.kpi
    ax.set_title(q.words, fontsize=8, loc="left")

    def column(name: str) -> np.ndarray:
        return np.asarray(points[name].to_numpy(zero_copy_only=False), dtype=float)

    def axis_name(name: str) -> str:
        label = labels.get(name)
        return (
            f"{label.name} ({label.unit})"
            if label and label.unit
            else (label.name if label else name)
        )

    if not limits:
        ax.hist(means, bins=30, color=MISS)
        ax.axvline(q.threshold, color=HIT, lw=1.5)
        ax.set_xlabel(kpi_label, fontsize=8)
        ax.set_ylabel("points", fontsize=8)
        return
    x_name, x_low, x_high = limits[0]
    x = column(x_name)
    if len(limits) > 1:
        y_name, y_low, y_high = limits[1]
        y, y_label = column(y_name), axis_name(y_name)
    else:
        y, y_label, y_low, y_high = means, kpi_label, None, None
        ax.axhline(q.threshold, color=HIT, lw=0.8, ls="--")
    ax.scatter(x[~hit], y[~hit], s=6, color=MISS, label="holds not", linewidths=0)
    ax.scatter(x[hit], y[hit], s=8, color=HIT, label="holds", linewidths=0)
    x0 = x_low if x_low is not None else float(x.min())
    x1 = x_high if x_high is not None else float(x.max())
    y0 = y_low if y_low is not None else float(np.nanmin(y))
    y1 = y_high if y_high is not None else float(np.nanmax(y))
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="black", lw=1.2))
    ax.set_xlabel(axis_name(x_name), fontsize=8)
    ax.set_ylabel(y_label, fontsize=8)
    box = finding.discovery.boxes[0]
    drawn = {name for name, _, _ in limits[:2]}
    other = [limit_words(lim, labels) for lim in box.limits if lim.parameter not in drawn]
    note = f"box: coverage {box.coverage:.2f}, density {box.density:.2f}"
    if other:
        note += "; also " + " and ".join(other)
    title = "\n".join([q.words, *textwrap.wrap(note, 70)])
    ax.set_title(title, fontsize=8, loc="left")
    ax.tick_params(labelsize=7)


def study_figure(study: StudyFindings) -> Figure:
    """One panel per question, side by side."""
    n = len(study.findings)
    fig = new_figure(width=4.6 * n, height=4.4)
    for i, finding in enumerate(study.findings):
        _panel(fig.add_subplot(1, n, i + 1), finding, study)
    fig.suptitle(
        f"Where the corridor breaks: {study.points} points of {study.description}", fontsize=9
    )
    return fig
