"""Sweeps: specs and samplers, identical results on any executor, kill -9 and resume, failures."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from builders import one_node
from typer.testing import CliRunner

from sim.cli.app import app
from sim.config.scenario import Scenario
from sim.engine.replications import ReplicationOutput, run_replication
from sim.executors import DaskPool, LocalPool
from sim.kpis import CORRIDOR_UNITS, FLOW_UNITS, NODE_UNITS
from sim.store.sweeps import (
    RUN_KEYS,
    read_failures,
    read_points,
    read_runs,
    read_sweep_manifest,
    table_digest,
)
from sim.sweep.plan import SweepRequest, plan_sweep
from sim.sweep.runner import run_sweep
from sim.sweep.spec import Parameter, design, parse_vary

ROOT = Path(__file__).resolve().parent.parent

# rows per run of the one-node test scenario: corridor KPIs + 3 nodes + 1 flow
KPIS_PER_RUN = len(CORRIDOR_UNITS) + 3 * len(NODE_UNITS) + len(FLOW_UNITS)


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    doc = one_node(
        2, {"dist": "exponential", "mean": 1.0}, 1.2, horizon_days=20, warmup_days=2, seed=11
    )
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _request(scenario_file: Path, out: Path, **kw: Any) -> SweepRequest:
    vary = kw.pop(
        "vary", ("nodes.border.servers=2,3,4", "nodes.border.handling_hours.mean=0.8,1.0")
    )
    return SweepRequest(target=scenario_file, vary=vary, replications=3, out=out, **kw)


# ---------------------------------------------------------------------------- specs, samplers


def test_specs_and_grid_expansion() -> None:
    servers = parse_vary("nodes.brest.servers=range(8,24,4)")
    assert servers.values == (8, 12, 16, 20) and servers.field_type == "int"
    demand = parse_vary("flows.x.teu_per_year=1000,2e3")
    assert demand.values == (1000.0, 2000.0) and all(type(v) is float for v in demand.values)
    red_sea = parse_vary("events.red_sea.enabled=true,false")
    assert red_sea.values == (True, False)
    points = design([servers, demand, red_sea], "grid", None, 1)
    assert len(points) == 4 * 2 * 2
    assert points[:3] == [(8, 1000.0, True), (8, 1000.0, False), (8, 2000.0, True)]
    assert len(set(points)) == len(points)


def test_lhs_is_stratified_and_integer_fields_get_ints() -> None:
    servers = parse_vary("nodes.brest.servers=8:24")
    factor = parse_vary("events.e.demand_factor=0.5:1.5")
    n = 50
    points = design([servers, factor], "lhs", n, 3)
    assert len(points) == n
    assert all(type(s) is int and 8 <= s <= 24 for s, _ in points)
    assert set(s for s, _ in points) == set(range(8, 25))  # 50 strata cover all 17 integers
    f = np.array([v for _, v in points])
    # Latin hypercube: exactly one point in each of the n equal slices of the interval
    assert sorted(np.floor((f - 0.5) * n).astype(int).tolist()) == list(range(n))
    assert design([servers, factor], "lhs", n, 3) == points
    assert design([servers, factor], "lhs", n, 4) != points


def test_sobol_design_has_the_saltelli_layout() -> None:
    params = [parse_vary("events.e.demand_factor=0:1"), parse_vary("nodes.b.servers=1:4")]
    n, d = 16, 2
    points = design(params, "sobol", n, 5)
    assert len(points) == n * (d + 2)
    for j in range(n):
        a, ab1, ab2, b = points[j * 4 : j * 4 + 4]
        assert ab1 == (b[0], a[1]) and ab2 == (a[0], b[1])
    firsts = sorted(p[0] for p in points[:: d + 2])  # the A rows: a balanced Sobol sample
    assert sorted(np.floor(np.array(firsts) * n).astype(int).tolist()) == list(range(n))


INVALID = {
    "not a range": (["--vary", "nodes.border.servers=range(a)"], "--vary: nodes.border.servers"),
    "fraction for an integer field": (["--vary", "nodes.border.servers=2.5,3"], "not an integer"),
    "interval low > high": (
        ["--vary", "nodes.border.handling_hours.mean=2:1", "--sampler", "lhs", "--samples", "4"],
        "needs low < high",
    ),
    "typo in a node id": (["--vary", "nodes.bordr.servers=2,3"], "nodes.bordr: is not in"),
    "unknown field": (["--vary", "nodes.border.srvers=2,3"], "is not a field of the scenario"),
    "interval on grid": (["--vary", "nodes.border.servers=2:4"], "needs --sampler lhs or sobol"),
    "sobol samples not a power of 2": (
        ["--vary", "nodes.border.servers=2:4", "--sampler", "sobol", "--samples", "10"],
        "power of 2",
    ),
    "invalid value at one point": (
        ["--vary", "nodes.border.servers=2,-1"],
        "nodes.border.servers: Input should be greater than or equal to 0 (got -1) (point 1)",
    ),
    "varying the seed": (["--vary", "run.seed=1,2"], "run.seed: is set for the whole sweep"),
    "zero replications": (["--vary", "nodes.border.servers=2", "-r", "0"], "must be at least 1"),
    "no =": (["--vary", "nodes.border.servers"], "is not of the form dotted.path=SPEC"),
}


@pytest.mark.parametrize("case", INVALID)
def test_invalid_specs_exit_2_with_one_line(case: str, scenario_file: Path, tmp_path: Path) -> None:
    args, expected = INVALID[case]
    out = tmp_path / "sweep"
    result = CliRunner().invoke(app, ["sweep", str(scenario_file), *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("corridor: error: "), result.stderr
    assert expected in lines[0]
    assert not out.exists()  # validated before anything is written or run


# ---------------------------------------------------------------------------- reproducibility


def test_same_rows_on_1_and_2_workers_and_dask(scenario_file: Path, tmp_path: Path) -> None:
    plan = plan_sweep(_request(scenario_file, tmp_path / "x"))
    one = run_sweep(plan, tmp_path / "w1", LocalPool(1))
    two = run_sweep(plan, tmp_path / "w2", LocalPool(2))
    assert one.runs_this_session == two.runs_this_session == 6 * 3
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        run_sweep(plan, tmp_path / "dask", DaskPool(cluster.scheduler_address, 0))
    run_sweep(plan, tmp_path / "own", DaskPool("local", 2, processes=False))  # --dask local
    tables = [read_runs(tmp_path / d) for d in ("w1", "w2", "dask", "own")]
    assert tables[0].num_rows == 18 * KPIS_PER_RUN
    assert len({table_digest(t) for t in tables}) == 1  # bit-identical, NaN included
    # same chunking whatever the workers, so even the part files are byte-identical
    files = sorted(p.name for p in (tmp_path / "w1" / "runs").glob("part-*"))
    for name in files:
        assert (tmp_path / "w1/runs" / name).read_bytes() == (
            tmp_path / "w2/runs" / name
        ).read_bytes()
    # the parameter columns hold each point's values; points share common random numbers
    rows = tables[0].to_pylist()
    assert {(r["point"], r["nodes.border.servers"]) for r in rows} == {
        (p, 2 + p // 2) for p in range(6)
    }
    departed = pc.equal(tables[0]["kpi"], "trains_departed")
    counts = tables[0].filter(departed).to_pylist()
    by_rep: dict[int, set[float]] = {}
    for r in counts:
        by_rep.setdefault(r["replication"], set()).add(r["value"])
    assert all(len(v) == 1 for v in by_rep.values())  # same arrivals at every point (CRN)
    assert len({next(iter(v)) for v in by_rep.values()}) > 1  # but not across replications


def test_rows_match_a_plain_run_of_the_point(scenario_file: Path, tmp_path: Path) -> None:
    plan = plan_sweep(_request(scenario_file, tmp_path / "x", vary=("nodes.border.servers=3",)))
    run_sweep(plan, tmp_path / "s", LocalPool(1))
    runs = read_runs(tmp_path / "s")
    scenario = Scenario.model_validate(yaml.safe_load(scenario_file.read_text()))
    scenario.nodes["border"].servers = 3
    direct = run_replication(scenario, 2, 11, with_tables=False)
    wait = runs.filter(
        pc.and_(
            pc.and_(pc.equal(runs["replication"], 2), pc.equal(runs["name"], "border")),
            pc.equal(runs["kpi"], "wait_hours_mean"),
        )
    )
    assert wait["value"].to_pylist() == [direct.kpis.nodes["border"]["wait_hours_mean"]]


# ---------------------------------------------------------------------------- kill -9, resume


@pytest.mark.parametrize("killed_on", [[], ["--dask", "local"]], ids=["local", "dask"])
def test_kill_9_then_resume_gives_the_uninterrupted_rows(
    tmp_path: Path, killed_on: list[str]
) -> None:
    """Killed on the local pool or on a Dask LocalCluster, resumed on the local pool: the
    rows are those of a clean run (the executor is not part of the result)."""
    if killed_on:
        pytest.importorskip("distributed")
    doc = one_node(2, {"dist": "exponential", "mean": 1.0}, 1.2, horizon_days=150, seed=3)
    scenario = tmp_path / "longer.yaml"
    scenario.write_text(yaml.safe_dump(doc))
    args = [
        "sweep",
        str(scenario),
        "--vary",
        "nodes.border.servers=2,3,4",
        "-r",
        "8",
        "--workers",
        "2",
        "--chunk-size",
        "1",
        "-q",
    ]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *args, *killed_on, "--out", str(killed)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while len(list((killed / "runs").glob("part-*"))) < 4:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    os.killpg(proc.pid, signal.SIGKILL)  # leftovers of the process group (its workers)
    partial = len(list((killed / "runs").glob("part-*")))
    assert 4 <= partial < 24
    assert read_sweep_manifest(killed)["complete"] is False

    resumed = CliRunner().invoke(app, [*args, "--out", str(killed), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    manifest = read_sweep_manifest(killed)
    session = manifest["sessions"][-1]
    assert manifest["complete"] is True
    assert session["runs_before"] >= 4
    assert session["runs_before"] + session["runs_this_session"] == 24

    clean = tmp_path / "clean"
    assert CliRunner().invoke(app, [*args, "--out", str(clean)]).exit_code == 0
    a, b = read_runs(killed), read_runs(clean)
    assert a.num_rows == b.num_rows == 24 * KPIS_PER_RUN
    assert table_digest(a) == table_digest(b)
    keys = pa.table({k: a[k] for k in RUN_KEYS}).group_by(list(RUN_KEYS)).aggregate([])
    assert keys.num_rows == a.num_rows  # no duplicates

    again = CliRunner().invoke(app, [*args, "--out", str(killed), "--resume"])
    assert (
        again.exit_code == 0
        and read_sweep_manifest(killed)["sessions"][-1]["runs_this_session"] == 0
    )
    other = CliRunner().invoke(app, [*args[:-1], "-r", "9", "--out", str(killed), "--resume"])
    assert other.exit_code == 2 and "differs from the sweep being resumed" in other.stderr


# ---------------------------------------------------------------------------- failures


def raise_at_three_servers(
    scenario: Scenario, replication: int, seed: int, with_tables: bool = True
) -> ReplicationOutput:
    if scenario.nodes["border"].servers == 3 and replication == 1:
        raise RuntimeError("deliberate failure")
    return run_replication(scenario, replication, seed, with_tables)


def die_at_four_servers(
    scenario: Scenario, replication: int, seed: int, with_tables: bool = True
) -> ReplicationOutput:
    if scenario.nodes["border"].servers == 4 and replication == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return run_replication(scenario, replication, seed, with_tables)


def test_failed_and_lost_runs_are_recorded_and_the_sweep_goes_on(
    scenario_file: Path, tmp_path: Path
) -> None:
    request = _request(
        scenario_file, tmp_path / "x", vary=("nodes.border.servers=2,3,4",), chunk_size=1
    )
    plan = plan_sweep(request)
    plan.replicate = raise_at_three_servers  # the plan's replication step, a test's stand-in
    summary = run_sweep(plan, tmp_path / "raise", LocalPool(2))
    failures = read_failures(tmp_path / "raise").to_pylist()
    assert [(f["point"], f["replication"]) for f in failures] == [(1, 1)]
    assert failures[0]["error"].startswith("RuntimeError: deliberate failure (test_sweep.py:")
    assert summary.failures_this_session == 1
    assert read_runs(tmp_path / "raise").num_rows == 8 * KPIS_PER_RUN

    plan.replicate = die_at_four_servers
    pool = LocalPool(2, max_attempts=2)
    run_sweep(plan, tmp_path / "die", pool)
    assert pool.replaced == 2  # the dead worker was replaced and the run retried once
    failures = read_failures(tmp_path / "die").to_pylist()
    assert [(f["point"], f["replication"]) for f in failures] == [(2, 0)]
    assert "worker process died (exit code -9)" in failures[0]["error"]
    assert read_runs(tmp_path / "die").num_rows == 8 * KPIS_PER_RUN


def die_once(task: tuple[int, str]) -> int:
    value, marker = task
    if marker and not os.path.exists(marker):
        Path(marker).touch()
        os._exit(7)
    return value * value


def test_local_pool_replaces_a_dead_worker_and_retries(tmp_path: Path) -> None:
    pool = LocalPool(2)
    try:
        tasks = [(i, str(tmp_path / "once") if i == 3 else "") for i in range(8)]
        results = dict(pool.map_unordered(die_once, tasks))
    finally:
        pool.close()
    assert {t[0]: r for t, r in results.items()} == {i: i * i for i in range(8)}
    assert pool.replaced == 1


# ---------------------------------------------------------------------------- sensitivity


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_the_ishigami_function() -> None:
    pytest.importorskip("SALib")
    from sim.analysis.sensitivity import sobol_indices

    params = [
        Parameter(f"x{i}", "-pi:pi", "interval", "float", low=-math.pi, high=math.pi)
        for i in (1, 2, 3)
    ]
    x = np.asarray(design(params, "sobol", 4096, 2024))
    got = sobol_indices(["x1", "x2", "x3"], ishigami(x), resamples=200)
    s1 = {"x1": 0.314, "x2": 0.442, "x3": 0.0}
    st = {"x1": 0.558, "x2": 0.442, "x3": 0.244}
    for name in s1:
        assert got[name]["S1"] == pytest.approx(s1[name], abs=0.03), (name, got)
        assert got[name]["ST"] == pytest.approx(st[name], abs=0.03), (name, got)
        assert 0 < got[name]["S1_conf"] < 0.1


def test_sensitivity_command_on_a_sobol_sweep(scenario_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("SALib")
    out = tmp_path / "sobol"
    args = ["sweep", str(scenario_file), "--vary", "nodes.border.servers=2:4"]
    args += ["--vary", "run.confidence=0.8:0.99", "--sampler", "sobol", "--samples", "16"]
    result = CliRunner().invoke(app, [*args, "-r", "1", "--out", str(out), "-q", "--workers", "2"])
    assert result.exit_code == 0, result.output
    points = read_points(out)
    assert points.num_rows == 16 * 4
    assert points.schema.field("nodes.border.servers").type == pa.int64()
    assert set(points["nodes.border.servers"].to_pylist()) == {2, 3, 4}
    result = CliRunner().invoke(
        app, ["sensitivity", str(out), "--kpi", "node:border:wait_hours_mean"]
    )
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load((out / "sensitivity.json").read_text())
    assert doc["kpi"] == "node:border:wait_hours_mean" and doc["method"] == "sobol"
    servers, conf = doc["parameters"]["nodes.border.servers"], doc["parameters"]["run.confidence"]
    assert servers["ST"] > 0.5
    assert conf["ST"] == 0.0  # the confidence level cannot change a wait: exactly no effect
    # the spread over the design is that of the point means the indices were computed from
    from sim.analysis.sensitivity import kpi_by_point

    y = kpi_by_point(out, "node", "border", "wait_hours_mean", 64)
    assert doc["spread"]["p95"] == pytest.approx(float(np.percentile(y, 95)))
    assert doc["spread"]["p5"] < doc["spread"]["p95"]  # 2 to 4 servers: the wait moves
    assert "95th percentile" in result.output


# ---------------------------------------------------------------------------- sweep files


def test_shipped_sweep_file_plans() -> None:
    files = sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))
    assert files
    for path in files:
        plan = plan_sweep(SweepRequest(target=path))
        assert len(plan.points) >= 2 and plan.replications >= 2


def test_sweep_file_errors_name_the_file_and_field(scenario_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad_sweep.yaml"
    bad.write_text(
        yaml.safe_dump(
            {"scenario": scenario_file.name, "parameters": {"nodes.border.servers": "3;4"}}
        )
    )
    result = CliRunner().invoke(app, ["sweep", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert (
        f"{bad}: parameters.nodes.border.servers: is an integer field; '3;4' is not an integer"
        in (result.stderr)
    )
    pq_files = list(tmp_path.glob("o/**/*.parquet"))
    assert not pq_files


def test_one_sweep_process_per_directory(scenario_file: Path, tmp_path: Path) -> None:
    import fcntl

    out = tmp_path / "busy"
    out.mkdir()
    with (out / ".lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running sweep holds it
        args = ["sweep", str(scenario_file), "--vary", "nodes.border.servers=2", "--out", str(out)]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "is in use by another running sweep" in result.stderr
    assert CliRunner().invoke(app, args).exit_code == 0  # the lock went with its holder


def test_mode_choice_is_solved_per_point(tmp_path: Path) -> None:
    """A sweep over the sea rate: each point's rail demand comes from its own fixed point."""
    from sim.sweep.points import point_scenario
    from sim.workflow.lifecycle import choose

    scenario = ROOT / "scenarios" / "examples" / "mode_choice_small.yaml"
    request = SweepRequest(
        target=scenario,
        vary=("mode_choice.options.sea_suez.rate_usd_per_feu=1500,6000",),
        overrides=("run.horizon_days=120",),
        replications=2,
        out=tmp_path / "s",
    )
    plan = plan_sweep(request)
    assert plan.chunk_size == 2  # one chunk per point: its fixed point is solved once
    run_sweep(plan, tmp_path / "s", LocalPool(1))
    runs = read_runs(tmp_path / "s").to_pydict()

    def departed(point: int) -> list[float]:
        return [
            v
            for p, k, sc, v in zip(
                runs["point"], runs["kpi"], runs["scope"], runs["value"], strict=True
            )
            if p == point and k == "trains_departed" and sc == "corridor"
        ]

    # dearer sea: more rail trains (the toy's border saturates, so the rise is bounded)
    assert sum(departed(1)) > 1.05 * sum(departed(0))
    # the rows are those of the point's chosen demand run directly
    chosen = choose(point_scenario(plan.base, plan.parameters, plan.points[1])).scenario
    direct = run_replication(chosen, 1, plan.root_seed, with_tables=False)
    assert departed(1)[1] == direct.kpis.corridor["trains_departed"]


def test_a_history_year_point_gets_the_fitted_demand_of_its_own_inputs() -> None:
    """A sweep over a history year sets each point's rail flows as `corridor run` would, so
    varying the year's sea rate varies the rail demand (not the base file's written flows)."""
    from sim.choice.history_demand import history_teu
    from sim.sweep.demand import solve_demand
    from sim.sweep.points import point_scenario
    from sim.workflow.lifecycle import prepare

    plan = plan_sweep(
        SweepRequest(
            target=ROOT / "scenarios" / "history" / "2021.yaml",
            vary=("history.sea.half_year_rates_usd_per_feu.1=2000,13693",),
            replications=1,
        )
    )
    cheap, dear = (point_scenario(plan.base, plan.parameters, v) for v in plan.points)
    # planning solves no demand; the sweep's workers solve each distinct history block once,
    # and the cache they fill gives the same answers, point by point
    assert not plan.history_cache and len(set(plan.demand_keys)) == 2
    pool = LocalPool(2)
    try:
        assert solve_demand(plan, pool, range(2)) == 2  # one per distinct history block
        assert solve_demand(plan, pool, range(2)) == 0  # solved: nothing left to send
    finally:
        pool.close()
    assert len(plan.history_cache) == 2
    for v, own in zip(plan.points, (cheap, dear), strict=True):
        cached = point_scenario(plan.base, plan.parameters, v, history_cache=plan.history_cache)
        assert cached.flows == own.flows
    year = prepare(ROOT / "scenarios" / "history" / "2021.yaml")
    as_run, raw = year.scenario, year.raw
    assert raw is not None
    expected = history_teu(as_run, raw)
    assert expected is not None

    def rail_teu(s: Scenario) -> float:
        return sum(f.teu_per_year or 0.0 for f in s.flows.values() if f.market == "china_eu")

    assert rail_teu(dear) == pytest.approx(rail_teu(as_run), rel=1e-9)  # 13,693: 2021's own
    # the cheap point carries what the fitted choice gives 2021 with that H2 sea rate
    cheap_year = prepare(
        ROOT / "scenarios" / "history" / "2021.yaml",
        ("history.sea.half_year_rates_usd_per_feu.1=2000",),
    )
    cheap_run, cheap_raw = cheap_year.scenario, cheap_year.raw
    assert cheap_raw is not None
    assert history_teu(cheap_run, cheap_raw) is not None
    assert rail_teu(cheap) == pytest.approx(rail_teu(cheap_run), rel=1e-9)
    assert rail_teu(cheap) < rail_teu(dear) - 1000.0  # cheaper sea in H2: less rail


def test_a_history_block_is_solved_as_its_first_point_whichever_points_are_missing() -> None:
    """Points that share a history block share one demand, solved as the block's first point
    in the plan: the choice reads the point's network too, so a resume that solved it as its
    first *missing* point would give other rows than the uninterrupted sweep (found by killing
    the study: 5 of 16 parts differed). Planning only; nothing is solved here."""
    from sim.sweep.demand import demand_tasks

    plan = plan_sweep(
        SweepRequest(
            target=ROOT / "scenarios" / "history" / "2021.yaml",
            vary=("nodes.brest.room_trains=50,60,70",),
            replications=1,
        )
    )
    assert len(set(plan.demand_keys)) == 1  # the border is no part of the history block
    for missing in ([0, 1, 2], [1, 2], [2]):
        (task,) = demand_tasks(plan, missing)
        assert task.point == 0
        assert task.scenario.nodes["brest"].room_trains == 50
