"""`corridor sweep-table`: each cell is the mean across replications of that point's runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from builders import one_node
from typer.testing import CliRunner

from sim.cli.app import app
from sim.executors import LocalPool
from sim.store.sweeps import read_runs
from sim.sweep.plan import SweepRequest, plan_sweep
from sim.sweep.runner import run_sweep


def test_table_cells_are_point_means(tmp_path: Path) -> None:
    doc = one_node(2, {"dist": "exponential", "mean": 1.0}, 1.2, horizon_days=20, warmup_days=2)
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(doc))
    out = tmp_path / "sweep"
    request = SweepRequest(
        target=scenario, vary=("nodes.border.servers=2,3",), replications=3, out=out
    )
    run_sweep(plan_sweep(request), out, LocalPool(1))
    result = CliRunner().invoke(
        app, ["sweep-table", str(out), "--metric", "node:border:wait_hours_mean"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "| nodes.border.servers | node:border:wait_hours_mean |"
    runs = read_runs(out).to_pydict()
    for line, servers in zip(lines[2:], (2, 3), strict=True):
        waits = [
            v
            for v, k, n, s in zip(
                runs["value"], runs["kpi"], runs["name"], runs["nodes.border.servers"], strict=True
            )
            if k == "wait_hours_mean" and n == "border" and s == servers
        ]
        assert len(waits) == 3
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[0] == str(servers)
        assert float(cells[1].split(" ")[0]) == pytest.approx(np.mean(waits), abs=0.006)
    # more servers, less waiting: the table reflects the model, not the row order
    first, second = (float(line.split("|")[2].split()[0]) for line in lines[2:])
    assert second < first
    unknown = CliRunner().invoke(app, ["sweep-table", str(out), "--metric", "node:border:nope"])
    assert unknown.exit_code == 2 and "unknown node KPI 'nope'" in unknown.stderr


def test_not_a_sweep_directory_is_an_input_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sweep-table", str(tmp_path)])
    assert result.exit_code == 2 and "not a sweep directory" in result.stderr
