"""The figure of ``corridor discover``: each box's peeling trajectory and the chosen boxes'
limits.

Left, the trade-off PRIM walks along: coverage (share of all the points of interest inside
the box) against density (share of the box's points that are of interest), one marker per
box on the trajectory, coloured by how many inputs it restricts; the box chosen is ringed and
labelled. Right, the chosen boxes' limits on every input, each input scaled to the range the
sweep covered (grey), so a reader sees at once which inputs a box restricts and how far.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.plots.common import new_figure
from sim.plots.style import PALETTE, parameter_label

if TYPE_CHECKING:
    from sim.analysis.discovery import Box, Discovery


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _span(
    box: Box, name: str, full: tuple[float, float] | tuple[str, ...], whole: bool
) -> tuple[float, float] | None:
    """The box's extent on one input as a fraction of the sweep's range (0–1); None where
    the box does not restrict the input. A whole number v stands for the cell [v-½, v+½], so
    that ``servers ≤ 3`` on 3–5 is a third of the bar, not nothing."""
    for limit in box.limits:
        if limit.parameter != name:
            continue
        if limit.categories:
            cats = [str(c) for c in full]
            inside = [cats.index(c) for c in limit.categories if c in cats]
            return (min(inside) / len(cats), (max(inside) + 1) / len(cats)) if inside else (0, 0)
        half = 0.5 if whole else 0.0
        low, high = float(full[0]) - half, float(full[1]) + half
        width = high - low or 1.0
        lo = (limit.low - half - low) / width if limit.low is not None else 0.0
        hi = (limit.high + half - low) / width if limit.high is not None else 1.0
        return (lo, hi)
    return None


def _range_text(full: tuple[float, float] | tuple[str, ...]) -> str:
    if full and isinstance(full[0], str):
        return ", ".join(str(c) for c in full)
    return f"{_number(float(full[0]))} – {_number(float(full[1]))}"


def discovery_figure(result: Discovery) -> Figure:
    """Two panels: the peeling trajectories (coverage vs density) and the boxes' limits."""
    names = list(result.inputs)
    fig = new_figure(12.0, max(4.8, 1.2 + 0.55 * len(names)))
    left, right = fig.subplots(1, 2, width_ratios=[1.0, 1.25])
    most = max([1, *(s.restricted for b in result.boxes for s in b.trajectory)])
    cmap = matplotlib.colormaps["viridis"].resampled(most + 1)
    norm = BoundaryNorm(np.arange(-0.5, most + 1), most + 1)
    for k, box in enumerate(result.boxes):
        cov = np.array([s.coverage for s in box.trajectory])
        den = np.array([s.density for s in box.trajectory])
        dims = np.array([s.restricted for s in box.trajectory])
        left.plot(cov, den, color="#bbbbbb", lw=0.8, zorder=1)
        points = left.scatter(
            cov,
            den,
            c=dims,
            cmap=cmap,
            norm=norm,
            s=18,
            zorder=2,
            marker="o" if k == 0 else "s",
        )
        chosen = box.trajectory[box.chosen]
        left.scatter(
            [chosen.coverage],
            [chosen.density],
            s=160,
            facecolors="none",
            edgecolors=PALETTE[3 + k],
            linewidths=2,
            zorder=3,
        )
        left.annotate(
            f"box {k + 1}: coverage {chosen.coverage:.2f}, density {chosen.density:.2f}",
            (chosen.coverage, chosen.density),
            xytext=(-10, -18 - 14 * k),
            textcoords="offset points",
            ha="right",
            fontsize="small",
            color=PALETTE[3 + k],
        )
        if k == 0:
            bar = fig.colorbar(points, ax=left, pad=0.01, ticks=np.arange(most + 1))
            bar.set_label("inputs restricted")
    left.axhline(result.min_density, color="#888888", ls=":", lw=1)
    left.text(
        0.01,
        result.min_density,
        f" density {result.min_density:.2f}",
        va="bottom",
        fontsize="x-small",
        color="#555555",
        transform=left.get_yaxis_transform(),
    )
    left.set_xlim(-0.02, 1.05)
    left.set_ylim(0, 1.05)
    left.set_xlabel("coverage (share of the points of interest inside the box)")
    left.set_ylabel("density (share of the box's points of interest)")
    left.set_title("Peeling trajectory", loc="left")
    left.grid(alpha=0.3)

    y = np.arange(len(names))
    right.barh(y, 1.0, color="#e6e6e6", height=0.7)
    height = 0.7 / max(1, len(result.boxes))
    for k, box in enumerate(result.boxes):
        offset = -0.35 + height * (k + 0.5)
        bounds = {limit.parameter: limit.bounds() for limit in box.limits}
        for i, name in enumerate(names):
            span = _span(box, name, result.inputs[name], name in result.whole_numbers)
            if span is not None:
                right.barh(
                    y[i] + offset,
                    span[1] - span[0],
                    left=span[0],
                    height=height,
                    color=PALETTE[3 + k],
                    alpha=0.75,
                )
            right.text(
                1.02,
                y[i] + offset,
                bounds.get(name, "any"),
                va="center",
                fontsize="x-small",
                color=PALETTE[3 + k],
            )
    right.set_yticks(
        y,
        [f"{parameter_label(n)}\n{_range_text(result.inputs[n])}" for n in names],
        fontsize="small",
    )
    right.invert_yaxis()
    right.set_xlim(0, 1.45)
    right.set_xticks([0, 0.5, 1], ["sweep low", "mid", "sweep high"])
    right.set_title("Box limits (grey: the range the sweep covered)", loc="left")
    if result.boxes:
        handles = [
            Patch(color=PALETTE[3 + k], alpha=0.75, label=f"box {k + 1}")
            for k in range(len(result.boxes))
        ]
        right.legend(handles=handles, fontsize="small", loc="lower right")
    fig.suptitle(
        f"Where {result.condition}: {result.of_interest} of {result.points} points "
        f"({result.sweep_dir.name})",
        x=0.01,
        ha="left",
    )
    return fig
