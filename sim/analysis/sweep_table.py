"""A sweep as a table: one row per point, the mean and CI of chosen KPIs across replications.

What a planner pastes into a note ("Dostyk is full at ×1.5 of the 2019 volume"), produced
from the sweep directory alone so any quoted figure can be re-made with one command.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sim.formatting import format_value
from sim.stats import estimate
from sim.store.sweeps import SweepData

DEFAULT_METRICS = ("throughput_teu_per_day", "transit_days_mean")


def sweep_table(sweep_dir: Path, metrics: Sequence[str] = DEFAULT_METRICS) -> str:
    """Markdown: parameter values, then ``mean [ci_low, ci_high]`` of each metric per point."""
    data = [SweepData.open(sweep_dir, m) for m in metrics]
    params = data[0].parameters
    confidence = 0.95
    keys = sorted(
        {tuple(float(d.values[p][i]) for p in params) for d in data for i in range(len(d.kpi))}
    )
    header = [*params, *(f"{d.metric.key}" for d in data)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in keys:
        cells = [f"{v:g}" for v in key]
        for d in data:
            mask = np.ones(len(d.kpi), dtype=bool)
            for p, v in zip(params, key, strict=True):
                mask &= d.values[p] == v
            unit = d.metric.unit  # from the KPI catalogue: fractions shown as percentages
            est = estimate(d.kpi[mask].tolist(), confidence)
            ci = (
                ""
                if np.isnan(est.ci_low)
                else f" [{format_value(est.ci_low, unit)}, {format_value(est.ci_high, unit)}]"
            )
            cells.append(format_value(est.mean, unit) + ci)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
