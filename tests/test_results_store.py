"""The results directory contract, and that a failed write leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from builders import one_node
from typer.testing import CliRunner

from sim.cli.app import app
from sim.store import run_dir as results
from sim.workflow.run import RunRequest, execute

CORRIDOR_KPIS = {
    "trains_delivered",
    "teu_delivered",
    "throughput_teu_per_day",
    "transit_days_mean",
    "transit_days_p95",
}
NODE_KPIS = {"utilisation", "wait_hours_mean", "wait_hours_p95", "queue_max", "trains_handled"}


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    doc = one_node(
        2, {"dist": "exponential", "mean": 1.0}, 1.2, horizon_days=30, warmup_days=5, replications=3
    )
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_run_directory_contract(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["run", str(scenario_file), "--out", str(out), "-r", "3", "--seed", "5"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "replications.parquet",
        "scenario.yaml",
        "summary.json",
        "timeseries.parquet",
        "trains.parquet",
        "visits.parquet",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_seed"] == 5 and manifest["replications"] == 3
    assert manifest["config"]["nodes"]["border"]["servers"] == 2
    assert {"simpy", "numpy", "python"} <= set(manifest["versions"])
    assert manifest["wall_seconds"] > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 3
    assert set(summary["kpis"]) >= CORRIDOR_KPIS
    assert set(summary["nodes"]["border"]) >= NODE_KPIS
    for est in summary["kpis"].values():
        assert set(est) == {"mean", "ci_low", "ci_high", "unit"}
    trains = pq.read_table(out / "trains.parquet").to_pydict()
    reps = pq.read_table(out / "replications.parquet").to_pydict()
    # the summary mean is the mean of the per-replication rows
    delivered = [
        v
        for k, s, v in zip(reps["kpi"], reps["scope"], reps["value"], strict=True)
        if k == "trains_delivered" and s == "corridor"
    ]
    assert summary["kpis"]["trains_delivered"]["mean"] == pytest.approx(sum(delivered) / 3)
    in_window = [d for d in trains["arrive_day"] if d == d and 0 <= d <= 30]
    assert len(in_window) == sum(delivered)
    visits = pq.read_table(out / "visits.parquet")
    assert visits.num_rows == 3 * len(trains["train"])
    ts = pq.read_table(out / "timeseries.parquet")
    assert ts.num_rows == 3 * 3 * 35  # replications × nodes × days (warm-up included)
    # the resolved scenario reproduces the run
    again = execute(RunRequest(out / "scenario.yaml", out=tmp_path / "again"))
    assert again.summary["kpis"] == summary["kpis"]


def test_failure_while_writing_leaves_no_directory(
    scenario_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = results.TableSink.append_table

    def flaky(self: results.TableSink, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of writing
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(results.TableSink, "append_table", flaky)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(scenario_file), "--out", str(out)])
    assert result.exit_code == 130
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [scenario_file]  # no staging directory left either


def test_rerun_into_the_same_directory_replaces_it_whole(
    scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    execute(RunRequest(scenario_file, out=out, seed=1))
    (out / "stray.txt").write_text("from an older run")
    execute(RunRequest(scenario_file, out=out, seed=2, force=True))
    assert not (out / "stray.txt").exists()
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 2
