"""A run's draws (``corridor run --draws``): what varies, how it is paired, and what the
prediction interval holds, checked against queueing theory and against the catalogue."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sim.analysis.queueing import mmc_mean_wait
from sim.cli.app import app
from sim.config.uncertainty import UncertainInput, field_values
from sim.workflow.draws import hypercube, plan_draws, run_draws

ROOT = Path(__file__).resolve().parents[1]
MMC = ROOT / "scenarios" / "examples" / "mmc_queue.yaml"


def _catalogue(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "uncertainty.yaml"
    path.write_text(body)
    return path


def test_hypercube_is_stratified_and_seeded() -> None:
    n = 50
    u = hypercube(n, 6, seed=3)
    for col in u.T:  # one point in each 1/n slice of every column: a Latin hypercube
        assert sorted(np.floor(col * n).astype(int).tolist()) == list(range(n))
    assert np.array_equal(u, hypercube(n, 6, seed=3))
    assert not np.array_equal(u, hypercube(n, 6, seed=4))


def test_fields_follow_their_kind() -> None:
    doc = {
        "nodes": {
            "brest": {
                "room_trains": 60,
                "servers": 8,
                "handling_hours": {"dist": "uniform", "low": 2.0, "high": 4.0},
            },
            "minsk": {"room_trains": None},
        },
        "flows": {
            "other-brest-west": {"gives_way": {"per_china_eu_train": 0.9}},
            "other-brest-east": {"gives_way": {"per_china_eu_train": 0.9}},
            "xian": {"gives_way": None},
        },
    }
    factor = UncertainInput(id="F", paths=("nodes.*.handling_hours",), factor=(2.0, 2.0))
    assert field_values(doc, factor, 0.3) == {
        "nodes.brest.handling_hours": {"dist": "uniform", "low": 4.0, "high": 8.0}
    }
    rooms = UncertainInput(id="R", paths=("nodes.*.room_trains",), factor=(0.5, 0.5))
    assert field_values(doc, rooms, 0.9) == {"nodes.brest.room_trains": 30}  # unset: left alone
    lam = UncertainInput(
        id="L", paths=("flows.other-brest-*.gives_way.per_china_eu_train",), range=(0.8, 1.0)
    )
    got = field_values(doc, lam, 0.5)
    assert got == {
        "flows.other-brest-west.gives_way.per_china_eu_train": pytest.approx(0.9),
        "flows.other-brest-east.gives_way.per_china_eu_train": pytest.approx(0.9),
    }
    servers = UncertainInput(id="S", paths=("nodes.brest.servers",), range=(3, 4))
    whole = [
        field_values(doc, servers, u)["nodes.brest.servers"] for u in np.linspace(0, 0.999, 100)
    ]
    assert set(whole) == {3, 4} and abs(whole.count(3) - 50) <= 1  # each whole number equally


def test_two_scenarios_share_their_draws() -> None:
    """Common random numbers: the same seed gives the same inputs draw by draw, whichever
    inputs each scenario uses (the closure alone has the Caspian re-routing share, A53)."""
    base, _ = plan_draws(ROOT / "scenarios/baseline_2025.yaml", (), {}, 8, 2025)
    closure, _ = plan_draws(ROOT / "scenarios/poland_closure_2025.yaml", (), {}, 8, 2025)
    assert "A53" in closure.used and "A53" not in base.used
    for b, c in zip(base.draws, closure.draws, strict=True):
        shared = set(b.inputs) & set(c.inputs) - {"demand_teu"}
        assert shared and all(b.inputs[k] == c.inputs[k] for k in shared)
    again, _ = plan_draws(ROOT / "scenarios/baseline_2025.yaml", (), {}, 8, 2025)
    assert [d.fields for d in again.draws] == [d.fields for d in base.draws]
    # a history year's draws carry the demand ensemble's spread
    totals = [d.inputs["demand_teu"] for d in base.draws]
    assert len(set(totals)) == len(totals) and max(totals) > 1.2 * min(totals)


def test_drawn_servers_give_erlang_c_waits(tmp_path: Path) -> None:
    """An M/M/c border whose track count is uncertain (3 or 4, A-row style): each draw's
    mean wait is its own c's Erlang C wait, so the prediction spans both, and the draws with
    the same c average to theory."""
    cat = _catalogue(
        tmp_path, "inputs:\n  - {id: C, paths: [nodes.border.servers], range: [3, 4]}\n"
    )
    plan, scenarios = plan_draws(MMC, (), {"run.horizon_days": 120}, 16, 7, cat)
    outs = run_draws(scenarios, plan.seed, workers=1)
    lam, mean_h = 2.4, 1.0
    by_c: dict[int, list[float]] = {3: [], 4: []}
    for d, o in zip(plan.draws, outs, strict=True):
        by_c[int(d.fields["nodes.border.servers"])].append(
            o.kpis.nodes["border"]["wait_hours_mean"]
        )
    assert all(len(v) >= 4 for v in by_c.values())
    for c, waits in by_c.items():
        theory = mmc_mean_wait(lam, 1.0 / mean_h, c)
        assert np.mean(waits) == pytest.approx(theory, rel=0.15), (c, np.mean(waits), theory)


def test_run_with_draws_writes_both_intervals_and_compare_pairs_them(tmp_path: Path) -> None:
    cat_body = "inputs:\n  - {id: H, paths: [nodes.border.handling_hours], factor: [0.8, 1.1]}\n"
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "uncertainty.yaml").write_text(cat_body)
    (tmp_path / "scenarios").mkdir()
    scenario = tmp_path / "scenarios" / "mmc.yaml"
    scenario.write_text(MMC.read_text())
    runner = CliRunner()
    outs = []
    for servers in (3, 4):
        out = tmp_path / f"run{servers}"
        res = runner.invoke(
            app,
            [
                "run",
                str(scenario),
                "--draws",
                "6",
                "-r",
                "2",
                "--set",
                "run.horizon_days=30",
                "--set",
                f"nodes.border.servers={servers}",
                "--out",
                str(out),
            ],
        )
        assert res.exit_code == 0, res.output
        assert "prediction" in res.output and "95 % CI" in res.output
        outs.append(out)
    summary = json.loads((outs[0] / "summary.json").read_text())
    pred = summary["prediction"]
    assert pred["draws"] == 6 and list(pred["inputs"]) == ["H"]
    wait = pred["nodes"]["border"]["wait_hours_mean"]
    assert wait["low"] <= wait["median"] <= wait["high"]
    draws = pq.read_table(outs[0] / "draws.parquet")
    assert sorted(set(draws["draw"].to_pylist())) == list(range(6))
    inputs = pq.read_table(outs[0] / "draw_inputs.parquet").to_pydict()
    assert all(0.8 <= v <= 1.1 for v in inputs["value"])
    csv_file = tmp_path / "diff.csv"
    res = runner.invoke(
        app,
        [
            "compare",
            str(outs[0]),
            str(outs[1]),
            "--metric",
            "node:border:wait_hours_mean",
            "--csv",
            str(csv_file),
        ],
    )
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "prediction interval" in text and "6 draws" in text
    row = next(csv.DictReader(csv_file.open()))
    # a fourth track shortens every draw's wait (the same inputs and streams in both runs)
    assert int(row["prediction_draws"]) == 6
    assert (
        float(row["prediction_low"])
        <= float(row["prediction_median"])
        <= float(row["prediction_high"])
        < 0
    )


def test_bad_draw_inputs_are_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = _catalogue(
        tmp_path, "inputs:\n  - {id: X, paths: [nodes.border.servers], range: [4, 1]}\n"
    )
    res = runner.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 2 and "not an interval" in res.output
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "uncertainty.yaml").write_text(bad.read_text())
    scenario = tmp_path / "s.yaml"
    scenario.write_text(MMC.read_text())
    res = runner.invoke(app, ["run", str(scenario), "--draws", "3", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()  # refused before anything was simulated or written
    res = runner.invoke(app, ["run", str(MMC), "--draws", "-1", "--out", str(tmp_path / "p")])
    assert res.exit_code == 2


def test_the_border_comes_from_its_posterior() -> None:
    """With params/border_posterior.yaml shipped, each draw takes one of its joint draws (g, λ,
    h together) and A34's prior range stands aside; the fields are the posterior's own."""
    from sim.config.border_posterior import load_border_posterior

    post = load_border_posterior(ROOT / "params" / "border_posterior.yaml")
    plan, scenarios = plan_draws(ROOT / "scenarios/baseline_2025.yaml", (), {}, 6, 11)
    assert plan.border_posterior_file is not None and "A34" not in plan.used
    joint = {tuple(post.draw(k).values()) for k in range(post.size)}
    for d, s in zip(plan.draws, scenarios, strict=True):
        drawn = (d.inputs["border_g"], d.inputs["border_lambda"], d.inputs["border_h"])
        assert drawn in joint  # a joint draw, not three independent ones
        gives_way = s.flows["other-brest-west"].gives_way
        assert gives_way is not None and gives_way.per_china_eu_train == d.inputs["border_lambda"]


def test_headline_reads_paired_draws_as_changes() -> None:
    """The headline's second table: draw i of the scenario against draw i of its baseline,
    the change's median and 90 % prediction interval (here a known +1 day, +i trains)."""
    from sim.analysis.headline import _prediction
    from sim.engine.metrics import ReplicationKpis
    from sim.engine.replications import ReplicationOutput

    def out(i: int, transit: float, queue: float) -> ReplicationOutput:
        corridor = {"transit_days_mean": transit, "throughput_teu_per_day": 100.0}
        nodes = {"brest": {"queue_max": queue, "wait_hours_mean": 1.0}}
        return ReplicationOutput(i, ReplicationKpis(corridor, nodes, {}))

    base = [out(i, 10.0 + i, 5.0) for i in range(21)]
    scen = [out(i, 11.0 + i, 5.0 + i) for i in range(21)]
    pred = _prediction((scen, base), "brest")
    assert pred["transit_days"] == pytest.approx((1.0, 1.0, 1.0))
    assert pred["queue_max_trains"] == pytest.approx((10.0, 1.0, 19.0))  # 5th–95th of 0…20
    assert pred["throughput_teu_per_day"] == pytest.approx((0.0, 0.0, 0.0))
