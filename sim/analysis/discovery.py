"""Scenario discovery on a sweep: the boxes of inputs where a KPI is above (or below) a
threshold, found by PRIM (``corridor discover``).

Why PRIM, and whose: scenario discovery (Bryant & Lempert 2010) asks which combinations of
uncertain inputs make an outcome bad, as a few rectangular boxes a reader can state in words
("queue_max > 100 when closure_days ≥ 9.1 and demand_factor ≥ 1.2"). PRIM peels a box from
the whole input space towards the cases of interest; each step trades *coverage* (the share
of all cases of interest inside the box) for *density* (the share of the box's cases that
are of interest). The algorithm is EMA Workbench's (``ema_workbench.analysis.prim``, the
``discover`` extra; pyproject.toml says why that library), not hand-written.

What a case is: one point of the sweep, its KPI the mean over the point's replications
(replication r of every point shares its random streams, so the mean is common-random-number
noise reduction, as in :mod:`sim.analysis.sensitivity`). Any sweep works: grid, LHS, Sobol,
or points that are posterior draws; integer and float inputs are peeled as numbers, booleans,
strings and inputs with missing values as categories.

Which box on the trajectory: PRIM leaves the choice to the analyst; a command must make it.
The rule here: the box with the highest coverage among those whose density reaches
``min_density`` and restrict at least one input (ties: fewer restricted inputs, then higher
density); then every restriction whose quasi-p-value exceeds 0.05 on each restricted side is
dropped, weakest first, while the box stays that dense (:mod:`sim.analysis.prim_choice`).
The next box is then searched among the points outside the boxes already found, up to
``max_boxes``, while those points are not already that dense (a condition that holds at
90 % of all points needs no box: the command says so and suggests the opposite question).

This module reads the sweep store only and never runs a simulation; it does not print.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sim.analysis.prim_choice import choose_step, pruned
from sim.errors import ConfigError
from sim.kpis import lookup
from sim.store.crossings import border_nodes, crossing_rows
from sim.store.runs import FloatArray, Metric, parse_metric
from sim.store.sweeps import is_sweep_dir, read_points, read_runs, read_sweep_manifest

Direction = Literal["above", "below"]
Ranges = dict[str, tuple[float, float] | tuple[str, ...]]  # input -> (low, high) or categories
INSTALL_HINT = "EMA Workbench is not installed: pip install 'corridor[discover]'"


def number(value: float) -> str:
    """An input's value as people read it: ``23,670`` rather than ``2.367e+04``."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


@dataclass(frozen=True)
class Limit:
    """One restricted input of a box: a numeric range (either end may be open) or a set of
    categories."""

    parameter: str
    low: float | None = None  # None: not restricted from below
    high: float | None = None  # None: not restricted from above
    categories: tuple[str, ...] = ()

    def bounds(self) -> str:
        """The limits without the input's name: ``≥ 9.1``, ``0.8 – 1.2``, ``in {a, b}``."""
        if self.categories:
            return f"in {{{', '.join(self.categories)}}}"
        if self.low is not None and self.high is not None:
            return f"{number(self.low)} – {number(self.high)}"
        if self.low is not None:
            return f"≥ {number(self.low)}"
        return f"≤ {number(self.high if self.high is not None else math.inf)}"

    def describe(self) -> str:
        if self.categories:
            return f"{self.parameter} in {{{', '.join(self.categories)}}}"
        if self.low is not None and self.high is not None:
            return f"{number(self.low)} ≤ {self.parameter} ≤ {number(self.high)}"
        return f"{self.parameter} {self.bounds()}"


@dataclass(frozen=True)
class Step:
    """One box on a peeling (and pasting) trajectory."""

    coverage: float
    density: float
    mass: float
    restricted: int


@dataclass(frozen=True)
class Box:
    """A box PRIM found, the one chosen on its trajectory, and that trajectory."""

    limits: tuple[Limit, ...]
    coverage: float
    density: float
    mass: float
    points: int  # points inside the box (of those still unexplained when it was searched)
    of_interest: int  # of which the condition holds
    trajectory: tuple[Step, ...]
    chosen: int  # index of this box in ``trajectory``


@dataclass(frozen=True)
class Discovery:
    """The result of :func:`discover`: the condition, the cases and the boxes."""

    sweep_dir: Path
    metric: Metric
    direction: Direction
    threshold: float
    min_density: float
    points: int  # points with a value of the KPI
    points_without_value: int  # points whose runs all failed or gave no value
    of_interest: int
    kpi_low: float  # lowest and highest point mean
    kpi_high: float
    inputs: Ranges  # each input's range in the sweep: (low, high) or its categories
    whole_numbers: frozenset[str]  # the inputs that take whole numbers (servers)
    boxes: tuple[Box, ...]

    @property
    def condition(self) -> str:
        return f"{self.metric.key} {'>' if self.direction == 'above' else '<'} {self.threshold:g}"

    def describe(self) -> list[str]:
        """Plain words, one line per box (or one line saying why there is none)."""
        lines: list[str] = []
        if self.of_interest == 0:
            extreme = self.kpi_high if self.direction == "above" else self.kpi_low
            which = "highest" if self.direction == "above" else "lowest"
            return [
                f"{self.condition} at none of the {self.points} points "
                f"({which} point mean {extreme:.4g}): no box to find"
            ]
        if self.of_interest >= self.min_density * self.points:
            opposite = "below" if self.direction == "above" else "above"
            return [
                f"{self.condition} at {self.of_interest} of {self.points} points, a density of "
                f"{self.of_interest / self.points:.2f} without restricting any input "
                f"(--min-density {self.min_density:.2f}); to see where it fails, use "
                f"--{opposite} {self.threshold:g}"
            ]
        for box in self.boxes:
            where = " and ".join(limit.describe() for limit in box.limits) or "anywhere"
            lines.append(
                f"{self.condition} when {where}: coverage {box.coverage:.2f}, "
                f"density {box.density:.2f} ({box.of_interest} of {box.points} points)"
            )
        if not self.boxes:
            lines.append(
                f"{self.condition} at {self.of_interest} of {self.points} points, but no box "
                f"of inputs reaches density {self.min_density:.2f}: the points are scattered"
            )
        return lines


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """EMA Workbench warns about optional packages on import, pandas about its own future,
    and seaborn (imported with it) changes matplotlib's default colours: none of that may
    leak into the command's output or into other figures drawn in this process."""
    import matplotlib

    with warnings.catch_warnings(), matplotlib.rc_context():
        warnings.simplefilter("ignore")
        yield


def _prim_module() -> Any:
    try:
        with _quiet():
            return importlib.import_module("ema_workbench.analysis.prim")
    except ImportError:
        raise ConfigError("discover", (), INSTALL_HINT) from None


def _metric(text: str) -> Metric:
    try:
        return parse_metric(text)
    except ConfigError as exc:
        raise ConfigError("KPI", (), exc.problem) from None


def _point_means(sweep_dir: Path, metric: Metric) -> tuple[pa.Table, FloatArray, int]:
    """The points that have a value of the KPI (with their inputs), each point's mean over
    its replications, and how many points have none."""
    runs = read_runs(sweep_dir)
    if runs.num_rows == 0:
        raise ConfigError(str(sweep_dir), ("runs",), "has no results yet")
    kpi = lookup(metric.scope, metric.kpi)
    if kpi is not None and kpi.source == "crossings":
        borders = border_nodes(read_sweep_manifest(sweep_dir).get("config", {}))
        rows = crossing_rows(runs, borders, ("point", "replication"))
    else:
        mask = pc.and_(
            pc.and_(pc.equal(runs["scope"], metric.scope), pc.equal(runs["name"], metric.name)),
            pc.equal(runs["kpi"], metric.kpi),
        )
        rows = runs.filter(mask)
    if rows.num_rows == 0:
        raise ConfigError("KPI", (), f"'{metric.key}' has no values in {sweep_dir}")
    points = read_points(sweep_dir)
    position = {int(p): i for i, p in enumerate(points["point"].to_pylist())}
    try:
        index = np.fromiter((position[int(p)] for p in rows["point"].to_pylist()), dtype=np.int64)
    except KeyError:
        raise ConfigError(
            str(sweep_dir / "runs"), (), "a run names a point that points.parquet lacks"
        ) from None
    value = rows["value"].to_numpy(zero_copy_only=False).astype(float)
    if kpi is not None and kpi.nan_means_zero:
        value = np.nan_to_num(value, nan=0.0)  # no backlog to clear: 0 days (sim/kpis.py)
    finite = np.isfinite(value)
    n = points.num_rows
    total = np.bincount(index[finite], weights=value[finite], minlength=n)
    count = np.bincount(index[finite], minlength=n)
    keep = np.flatnonzero(count > 0)
    if keep.size == 0:
        raise ConfigError("KPI", (), f"'{metric.key}' has no finite value at any point")
    means: FloatArray = total[keep] / count[keep]
    return points.take(pa.array(keep)), means, int(n - keep.size)


def point_means(sweep_dir: Path, kpi: str) -> tuple[pa.Table, FloatArray]:
    """The points with a value of the KPI (their inputs) and each one's mean over its
    replications: what PRIM peels, for a figure drawn beside the boxes."""
    points, means, _ = _point_means(sweep_dir, _metric(kpi))
    return points, means


def _inputs(points: pa.Table) -> tuple[Any, Ranges, set[str]]:
    """The varied inputs as a pandas DataFrame in the types PRIM peels, each one's range, and
    which inputs are whole numbers."""
    pd: Any = importlib.import_module("pandas")
    columns: dict[str, Any] = {}
    ranges: Ranges = {}
    integers: set[str] = set()
    for name in points.column_names:
        if name == "point":
            continue
        col = points[name]
        numeric = pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
        if numeric and col.null_count == 0:
            values = col.to_numpy(zero_copy_only=False).astype(float)
            numeric = bool(np.all(np.isfinite(values)))
        if numeric:
            # integers go in as floats: EMA Workbench 2.5.3 pastes an integer input back by a
            # fractional quantile (3.5) written into an int64 frame, which pandas 3 refuses;
            # the limits are rounded back inward to whole numbers in _limits
            columns[name] = values
            ranges[name] = (float(values.min()), float(values.max()))
            if pa.types.is_integer(col.type):
                integers.add(name)
        else:  # booleans, strings, anything with gaps: categories, null a category of its own
            cats = ["null" if v is None else _category(v) for v in col.to_pylist()]
            columns[name] = cats
            ranges[name] = tuple(sorted(set(cats)))
    if not columns:
        raise ConfigError("sweep", ("parameters",), "varies no input: there is nothing to peel")
    return pd.DataFrame(columns), ranges, integers


def _category(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return "null"
    return str(value)


def _limits(box_lim: Any, box_init: Any, x: Any, integers: set[str]) -> tuple[Limit, ...]:
    """The inputs a box restricts, read off EMA's box-limits frame (row 0 low, row 1 high);
    a whole-number input's limits rounded inward (servers ≤ 3.5 is servers ≤ 3)."""
    found: list[Limit] = []
    for name in x.columns:
        low, high = box_lim[name].iloc[0], box_lim[name].iloc[1]
        low0, high0 = box_init[name].iloc[0], box_init[name].iloc[1]
        if isinstance(low, set):
            if set(low) != set(low0):
                found.append(Limit(name, categories=tuple(sorted(str(c) for c in low))))
            continue
        lo = float(low) if float(low) > float(low0) else None
        hi = float(high) if float(high) < float(high0) else None
        if name in integers:
            lo = float(math.ceil(lo - 1e-9)) if lo is not None else None
            hi = float(math.floor(hi + 1e-9)) if hi is not None else None
        if lo is not None or hi is not None:
            found.append(Limit(name, lo, hi))
    return tuple(found)


def _find_boxes(
    x: Any, integers: set[str], of_interest: FloatArray, min_density: float, max_boxes: int
) -> list[Box]:
    prim = _prim_module()
    boxes: list[Box] = []
    with _quiet():
        finder = prim.Prim(x, of_interest.astype(int), threshold=min_density)
        while len(boxes) < max_boxes:
            remaining = np.asarray(finder.yi_remaining)
            left = of_interest[remaining]
            if left.size == 0 or not left.any() or left.mean() >= min_density:
                break  # nothing of interest left, or so much that no box would say more
            found = finder.find_box()
            if found is None:
                break
            traj = found.peeling_trajectory
            chosen = choose_step(traj, min_density)
            if chosen is None:
                break
            found.select(chosen)
            chosen = pruned(found, chosen, min_density)
            traj = found.peeling_trajectory
            row = traj.iloc[chosen]
            boxes.append(
                Box(
                    limits=_limits(found.box_lims[chosen], finder.box_init, x, integers),
                    coverage=float(row["coverage"]),
                    density=float(row["density"]),
                    mass=float(row["mass"]),
                    points=int(row["n"]),
                    of_interest=int(row["k"]),
                    trajectory=tuple(
                        Step(
                            float(traj.iloc[i]["coverage"]),
                            float(traj.iloc[i]["density"]),
                            float(traj.iloc[i]["mass"]),
                            int(traj.iloc[i]["res_dim"]),
                        )
                        for i in range(len(traj))
                    ),
                    chosen=chosen,
                )
            )
    return boxes


def discover(
    sweep_dir: Path,
    kpi: str,
    threshold: float,
    direction: Direction,
    min_density: float = 0.8,
    max_boxes: int = 3,
) -> Discovery:
    """PRIM boxes of the sweep's inputs where the KPI's point mean is above (or below) the
    threshold."""
    if not is_sweep_dir(sweep_dir):
        raise ConfigError(str(sweep_dir), (), "not a sweep directory (no corridor-sweep manifest)")
    if not math.isfinite(threshold):
        raise ConfigError("--above/--below", (), f"the threshold must be a number, not {threshold}")
    if not 0.0 < min_density <= 1.0:
        raise ConfigError("--min-density", (), f"must be in (0, 1] (got {min_density})")
    if max_boxes < 1:
        raise ConfigError("--boxes", (), f"must be at least 1 (got {max_boxes})")
    metric = _metric(kpi)
    points, means, without = _point_means(sweep_dir, metric)
    x, ranges, integers = _inputs(points)
    hit = means > threshold if direction == "above" else means < threshold
    interest = hit.astype(float)
    count = int(hit.sum())
    boxes: list[Box] = []
    if 0 < count < min_density * len(means):
        boxes = _find_boxes(x, integers, interest, min_density, max_boxes)
    return Discovery(
        sweep_dir=sweep_dir,
        metric=metric,
        direction=direction,
        threshold=threshold,
        min_density=min_density,
        points=len(means),
        points_without_value=without,
        of_interest=count,
        kpi_low=float(means.min()),
        kpi_high=float(means.max()),
        inputs=ranges,
        whole_numbers=frozenset(integers),
        boxes=tuple(boxes),
    )
