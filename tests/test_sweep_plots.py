"""Sweep plots from a sweep directory written by hand in the contract layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from matplotlib.collections import PolyCollection, QuadMesh
from matplotlib.container import BarContainer
from plot_fixtures import overlapping_labels
from scipy import stats
from typer.testing import CliRunner

from sim.cli.app import app
from sim.plots import draw
from sim.plots.sweep import MAX_LEVELS, heatmap_figure, response_figure
from sim.store.sweeps import SweepData

SERVERS = "nodes.brest.servers"
FACTOR = "events.closure.capacity_factor"
SERVERS_LABEL, FACTOR_LABEL = "brest: servers", "closure: capacity factor"  # axes, legends
REPS = 4


def kpi(servers: float, factor: float, rep: int) -> float:
    """A made-up response with replication noise: more servers and capacity, more TEU."""
    return 100.0 * servers + 50.0 * factor + 3.0 * ((rep * 7919) % 5 - 2)


def write_sweep(folder: Path, servers: list[float], factors: list[float], sampler: str) -> Path:
    folder.mkdir()
    points = {"point": list(range(len(servers))), SERVERS: servers, FACTOR: factors}
    pq.write_table(pa.table(points), folder / "points.parquet")
    rows: dict[str, list] = {
        k: [] for k in ("point", "replication", "scope", "name", "kpi", "value")
    }
    rows |= {SERVERS: [], FACTOR: []}
    for p, (s, f) in enumerate(zip(servers, factors, strict=True)):
        for r in range(REPS):
            for scope, name, k, v in (
                ("corridor", "", "throughput_teu_per_day", kpi(s, f, r)),
                ("node", "brest", "wait_hours_mean", 10.0 / s + r),
            ):
                for key, val in zip(
                    ("point", "replication", "scope", "name", "kpi", "value", SERVERS, FACTOR),
                    (p, r, scope, name, k, v, s, f),
                    strict=True,
                ):
                    rows[key].append(val)
    table = pa.table(rows)
    (folder / "runs").mkdir()
    half = table.num_rows // 2  # two part files, as a parallel sweep writes them
    pq.write_table(table.slice(0, half), folder / "runs" / "part-0.parquet")
    pq.write_table(table.slice(half), folder / "runs" / "part-1.parquet")
    manifest = {
        "format": "corridor-sweep/1",
        "scenario_file": "scenarios/x.yaml",
        "parameters": [{"path": SERVERS, "spec": "1,2,3"}, {"path": FACTOR, "spec": "0,0.5,1"}],
        "sampler": sampler,
        "samples": len(servers),
        "replications": REPS,
        "root_seed": 1,
        "points": len(servers),
        "versions": {},
        "config": {},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture
def grid_sweep(tmp_path: Path) -> Path:
    pairs = [(s, f) for s in (1.0, 2.0, 3.0) for f in (0.0, 0.5, 1.0)]
    return write_sweep(tmp_path / "grid", [p[0] for p in pairs], [p[1] for p in pairs], "grid")


def test_response_has_one_line_per_level_with_mean_and_ci_band(grid_sweep: Path) -> None:
    fig = response_figure(SweepData.open(grid_sweep))
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == [f"{FACTOR_LABEL} = {f:g}" for f in (0, 0.5, 1)]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 3
    for line, band, factor in zip(lines, bands, (0.0, 0.5, 1.0), strict=True):
        assert list(line.get_xdata()) == [1.0, 2.0, 3.0]
        values = [[kpi(s, factor, r) for r in range(REPS)] for s in (1.0, 2.0, 3.0)]
        assert line.get_ydata() == pytest.approx([np.mean(v) for v in values])
        half = stats.t.ppf(0.975, REPS - 1) * np.std(values[0], ddof=1) / np.sqrt(REPS)
        ys = band.get_paths()[0].vertices[:, 1]
        assert ys.max() == pytest.approx(np.mean(values[2]) + half)
        assert ys.min() == pytest.approx(np.mean(values[0]) - half)
    assert ax.get_xlabel() == SERVERS_LABEL
    assert ax.get_ylabel() == "throughput (TEU/day)"
    assert overlapping_labels(fig) == []


def test_heatmap_cell_is_the_mean_over_replications(grid_sweep: Path) -> None:
    fig = heatmap_figure(SweepData.open(grid_sweep, "node:brest:wait_hours_mean"))
    ax = fig.axes[0]
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    grid = np.asarray(mesh.get_array()).reshape(3, 3)  # rows: factor, columns: servers
    for j, s in enumerate((1.0, 2.0, 3.0)):
        assert grid[:, j] == pytest.approx([10.0 / s + 1.5] * 3)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "0.5", "1"]
    assert len(ax.texts) == 9
    assert overlapping_labels(fig) == []
    assert (ax.get_xlabel(), ax.get_ylabel()) == (SERVERS_LABEL, FACTOR_LABEL)


def test_continuous_samples_are_binned_into_a_few_lines(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    sweep = write_sweep(
        tmp_path / "lhs", list(rng.uniform(1, 4, 60)), list(rng.uniform(0, 1, 60)), "lhs"
    )
    fig = draw(sweep, "response")
    lines = fig.axes[0].get_lines()
    assert 2 <= len(lines) <= MAX_LEVELS
    assert all("–" in ln.get_label() for ln in lines)  # ranges such as 0.21–0.43
    assert sum(len(ln.get_xdata()) for ln in lines) <= 60
    assert overlapping_labels(draw(sweep, "heatmap")) == []


def test_sobol_bars_are_the_indices_sorted_by_total_effect(grid_sweep: Path) -> None:
    indices = {
        SERVERS: {"S1": 0.2, "S1_conf": 0.05, "ST": 0.3, "ST_conf": 0.06},
        FACTOR: {"S1": 0.6, "S1_conf": 0.04, "ST": 0.7, "ST_conf": 0.05},
    }
    doc = {"kpi": "corridor::throughput_teu_per_day", "method": "sobol", "parameters": indices}
    (grid_sweep / "sensitivity.json").write_text(json.dumps(doc))
    fig = draw(grid_sweep, "sensitivity")
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [t.get_text() for t in ax.get_xticklabels()] == [FACTOR_LABEL, SERVERS_LABEL]
    assert [p.get_height() for p in bars[0].patches] == pytest.approx([0.6, 0.2])
    assert [p.get_height() for p in bars[1].patches] == pytest.approx([0.7, 0.3])
    assert "throughput (TEU/day)" in ax.get_title(loc="left")
    assert overlapping_labels(fig) == []


def test_sweep_plot_command_and_its_errors(grid_sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "resp.svg"
    ok = CliRunner().invoke(
        app,
        [
            "plot",
            str(grid_sweep),
            "--kind",
            "response",
            "--metric",
            "node:brest:wait_hours_mean",
            "--out",
            str(out),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "<svg" in out.read_text()
    for args, message in (
        (["--kind", "throughput"], "unknown kind 'throughput' for a sweep"),
        (["--kind", "sensitivity"], "missing: run `corridor sensitivity`"),
        (["--kind", "heatmap", "--x", "nodes.x.servers"], "'nodes.x.servers' was not varied"),
        (["--kind", "heatmap", "--metric", "flow:f:teu_delivered"], "no rows for KPI"),
    ):
        bad = CliRunner().invoke(
            app, ["plot", str(grid_sweep), *args, "--out", str(tmp_path / "x.png")]
        )
        assert bad.exit_code == 2 and message in bad.output, bad.output
