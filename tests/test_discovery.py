"""Scenario discovery (``corridor discover``): PRIM finds a box that is known in advance.

The sweeps here are planned by the real planner (every point validated) and written by the
sweep directory's own writer, with KPI values made up from each point's inputs: the region
where the condition holds is then known exactly, and the boxes found can be checked against
it point by point, not against the library's own statistics.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.analysis.discovery import Box, discover
from sim.cli.app import app
from sim.plots.discovery import discovery_figure
from sim.store.sweeps import read_points
from sim.sweep.directory import open_sweep_dir, write_chunk
from sim.sweep.plan import ChunkResult, ChunkTask, SweepRequest, plan_sweep

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "examples" / "mmc_queue.yaml"
HANDLING = "nodes.border.handling_hours.mean"
DEMAND = "flows.trains.teu_per_year"
SERVERS = "nodes.border.servers"
ARRIVALS = "flows.trains.arrivals"
GAUGE = "nodes.border.gauge_change"
KPI = "node:border:queue_max"
REPS = 2
# the made-up truth: a long queue when handling is slow AND demand is high, whatever the servers
TRUE_HANDLING, TRUE_DEMAND = 1.2, 24_000.0


def in_true_box(values: dict[str, Any]) -> bool:
    return bool(values[HANDLING] > TRUE_HANDLING and values[DEMAND] > TRUE_DEMAND)


def queue_max(values: dict[str, Any], replication: int) -> float:
    """150 inside the box, 20 outside, with replication noise of ±60 inside and ±90 outside:
    single runs cross the threshold 100 on both sides, the mean of the two never does."""
    if in_true_box(values):
        return 150.0 + (-60.0 if replication == 0 else 60.0)
    return 20.0 + (-90.0 if replication == 0 else 90.0)


def write_sweep(
    out: Path,
    vary: tuple[str, ...],
    samples: int,
    kpi: Callable[[dict[str, Any], int], float],
) -> Path:
    """An LHS sweep planned from the M/M/3 example, its runs written by the sweep writer."""
    request = SweepRequest(
        target=SCENARIO, vary=vary, sampler="lhs", samples=samples, replications=REPS
    )
    plan = plan_sweep(request)
    names = [p.path for p in plan.parameters]
    open_sweep_dir(plan, out, resume=False)
    for first in range(0, len(plan.points), 25):  # chunks of 25 points, as a sweep writes
        chunk = range(first, min(first + 25, len(plan.points)))
        runs = tuple((p, r) for p in chunk for r in range(REPS))
        result = ChunkResult(columns={k: [] for k in ("replication", "scope", "name", "kpi")})
        result.columns["value"] = []
        for p, r in runs:
            values = dict(zip(names, plan.points[p], strict=True))
            for key, value in (("queue_max", kpi(values, r)), ("wait_hours_mean", 1.0)):
                result.points.append(p)
                for col, cell in zip(
                    ("replication", "scope", "name", "kpi", "value"),
                    (r, "node", "border", key, value),
                    strict=True,
                ):
                    result.columns[col].append(cell)
        write_chunk(out, plan, ChunkTask(runs=runs, scenarios={}, root_seed=1), result)
    return out


@pytest.fixture(scope="module")
def box_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("discover") / "box"
    vary = (f"{HANDLING}=0.5:1.5", f"{DEMAND}=10000:30000", f"{SERVERS}=2:6")
    return write_sweep(out, vary, 300, queue_max)


def inside(box: Box, values: dict[str, Any]) -> bool:
    for limit in box.limits:
        v = values[limit.parameter]
        if limit.categories and str(v).lower() not in limit.categories:
            return False
        if (limit.low is not None and v < limit.low) or (limit.high is not None and v > limit.high):
            return False
    return True


def test_prim_finds_the_true_box_with_coverage_and_density_over_0_8(box_sweep: Path) -> None:
    result = discover(box_sweep, KPI, 100.0, "above")
    points = read_points(box_sweep).to_pylist()
    truth = np.array([in_true_box(p) for p in points])
    assert result.points == 300 and result.of_interest == truth.sum() > 10
    box = result.boxes[0]
    # the box restricts the two inputs that matter, from below, near the true limits
    limits = {limit.parameter: limit for limit in box.limits}
    assert set(limits) == {HANDLING, DEMAND}
    assert limits[HANDLING].low == pytest.approx(TRUE_HANDLING, abs=0.05)
    assert limits[DEMAND].low == pytest.approx(TRUE_DEMAND, abs=1000)
    # coverage and density recounted from the points and the true region, not from PRIM
    found = np.array([inside(box, p) for p in points])
    coverage = (found & truth).sum() / truth.sum()
    density = (found & truth).sum() / found.sum()
    assert coverage >= 0.8 and density >= 0.8
    assert (box.coverage, box.density) == pytest.approx((coverage, density))
    assert box.trajectory[box.chosen].coverage == box.coverage
    line = result.describe()[0]
    assert line.startswith(f"{KPI} > 100 when ") and f"coverage {box.coverage:.2f}" in line


def test_a_threshold_no_point_reaches_says_so(box_sweep: Path, tmp_path: Path) -> None:
    figure = tmp_path / "none.png"
    result = CliRunner().invoke(
        app, ["discover", str(box_sweep), KPI, "--above", "1000", "--out", str(figure)]
    )
    assert result.exit_code == 0, result.output
    assert f"{KPI} > 1000 at none of the 300 points (highest point mean 150" in result.stdout
    assert "no box" in result.stdout and not figure.exists()


def test_a_condition_that_holds_almost_everywhere_suggests_the_opposite(box_sweep: Path) -> None:
    result = discover(box_sweep, KPI, 100.0, "below")
    assert result.boxes == () and result.of_interest / result.points >= 0.8
    assert "use --above 100" in result.describe()[0]
    # asking for denser boxes describes the complement of the true box, input by input
    dense = discover(box_sweep, KPI, 100.0, "below", min_density=0.95)
    restricted = {limit.parameter for box in dense.boxes for limit in box.limits}
    assert restricted <= {HANDLING, DEMAND} and all(b.density >= 0.95 for b in dense.boxes)


def test_the_command_prints_the_box_and_draws_the_figure(box_sweep: Path, tmp_path: Path) -> None:
    figure = tmp_path / "box.png"
    result = CliRunner().invoke(
        app, ["discover", str(box_sweep), KPI, "--above", "100", "--out", str(figure)]
    )
    assert result.exit_code == 0, result.output
    assert "300 points (KPI averaged over 2 replication(s) each)" in result.stdout
    handling = re.escape(HANDLING)
    assert re.search(rf"(1\.2\d* ≤ {handling} ≤ [\d.]+|{handling} ≥ 1\.2)", result.stdout)
    assert re.search(rf"{re.escape(DEMAND)} ≥ 2[34],\d\d\d: coverage", result.stdout)
    assert figure.stat().st_size > 10_000


def test_categories_booleans_and_whole_numbers(tmp_path: Path) -> None:
    """Strings and booleans are peeled as categories; a whole-number input's limits are whole
    (EMA Workbench would paste an int column back at 3.5: the inputs go in as floats)."""

    def kpi(values: dict[str, Any], replication: int) -> float:
        slow = values[ARRIVALS] == "batched" and values[HANDLING] > 1.0 and values[SERVERS] <= 3
        return 150.0 if slow else 20.0

    vary = (
        f"{ARRIVALS}=poisson,fixed,batched",
        f"{GAUGE}=true,false",
        f"{HANDLING}=0.5:1.5",
        f"{SERVERS}=2:6",
    )
    sweep = write_sweep(tmp_path / "cats", vary, 400, kpi)
    result = discover(sweep, KPI, 100.0, "above")
    box = result.boxes[0]
    limits = {limit.parameter: limit for limit in box.limits}
    assert limits[ARRIVALS].categories == ("batched",)
    assert limits[HANDLING].low == pytest.approx(1.0, abs=0.06)
    assert (limits[SERVERS].low, limits[SERVERS].high) == (None, 3.0)
    assert GAUGE not in limits and box.coverage >= 0.8 and box.density >= 0.8
    assert result.inputs[GAUGE] == ("false", "true") and result.whole_numbers == {SERVERS}
    fig = discovery_figure(result)
    assert len(fig.axes) == 3  # trajectory, its colour bar, the limits


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no/such/sweep", KPI, "--above", "1"], "not a sweep directory"),
        (["{sweep}", "node:border:queue_maxx", "--above", "1"], "did you mean 'queue_max'"),
        (["{sweep}", "node:brest:queue_max", "--above", "1"], "has no values"),
        (["{sweep}", KPI], "give exactly one of --above VALUE or --below VALUE"),
        (["{sweep}", KPI, "--above", "1", "--below", "2"], "give exactly one of"),
        (["{sweep}", KPI, "--above", "1", "--min-density", "1.5"], "--min-density"),
        (["{sweep}", KPI, "--above", "1", "--out", "x.txt"], "unknown image format"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(box_sweep: Path, args: list[str], message: str) -> None:
    argv = ["discover", *(a.replace("{sweep}", str(box_sweep)) for a in args)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_without_the_extra_the_command_says_how_to_install_it(
    box_sweep: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis.prim", None)  # import fails
    result = CliRunner().invoke(app, ["discover", str(box_sweep), KPI, "--above", "100"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "corridor: error: discover: EMA Workbench is not installed: "
        "pip install 'corridor[discover]'"
    )


def test_only_significant_restrictions_are_kept() -> None:
    """A restriction whose quasi-p-value exceeds 0.05 on every restricted side is dropped,
    the weakest first, unless the box would then fall below the density asked for."""
    import pandas as pd

    from sim.analysis.prim_choice import pruned, weakest_restriction

    assert weakest_restriction({"a": [0.001, -1], "b": [0.3, -1], "c": [0.2, 0.01]}) == "b"
    assert weakest_restriction({"a": [0.001, -1], "c": [-1, 0.04]}) is None

    class FakeBox:
        """EMA's PrimBox as _pruned uses it: qp per trajectory step, drop_restriction appends
        a step with the input unrestricted, select goes back to a step."""

        def __init__(self, densities: dict[frozenset[str], float]) -> None:
            self.densities = densities
            self.dims = [frozenset({"demand", "noise", "servers"})]
            self.peeling_trajectory = pd.DataFrame({"density": [densities[self.dims[0]]]})
            self.qp = [self._qp(self.dims[0])]
            self.selected = 0

        @staticmethod
        def _qp(dims: frozenset[str]) -> dict[str, list[float]]:
            p = {"demand": [1e-6, -1.0], "noise": [0.6, -1.0], "servers": [0.2, -1.0]}
            return {d: p[d] for d in dims}

        def drop_restriction(self, name: str, i: int) -> None:
            dims = self.dims[i] - {name}
            self.dims.append(dims)
            self.qp.append(self._qp(dims))
            row = pd.DataFrame({"density": [self.densities[dims]]})
            self.peeling_trajectory = pd.concat([self.peeling_trajectory, row], ignore_index=True)
            self.selected = len(self.dims) - 1

        def select(self, i: int) -> None:
            self.selected = i

    dense = {
        frozenset({"demand", "noise", "servers"}): 0.95,
        frozenset({"demand", "servers"}): 0.9,
        frozenset({"demand"}): 0.85,
    }
    box = FakeBox(dense)
    kept = pruned(box, 0, 0.8)
    assert box.dims[kept] == {"demand"}  # both insignificant restrictions gone, noise first
    thin = {**dense, frozenset({"demand"}): 0.7}  # without servers the box is too thin
    box = FakeBox(thin)
    kept = pruned(box, 0, 0.8)
    assert box.dims[kept] == {"demand", "servers"} and box.selected == kept
