"""The Chinese exits as they really work (params/exits.yaml): other CR Express traffic loaded at
Dostyk and Altynkol as the params state it, China–EU counted apart, no train lost; D8's dated
halt of loading to Alashankou defers trains, never deletes them; bad suspension dates exit 2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from builders import validated
from typer.testing import CliRunner

from sim.cli.app import app
from sim.config.loader import load_scenario
from sim.config.scenario import Scenario
from sim.engine.metrics import replication_kpis
from sim.engine.replications import simulate

ROOT = Path(__file__).resolve().parents[1]


def _per_day(scenario: Scenario, flow: str, day: dt.date) -> float:
    """The trains/day a load flow states for a day (what the params file says)."""
    load = scenario.flows[flow].load
    assert load is not None
    return sum(
        p.trains_per_day
        for p in load
        if isinstance(p.start, dt.date) and isinstance(p.end, dt.date) and p.start <= day < p.end
    )


def test_exit_other_traffic_is_loaded_as_stated_and_counted_apart() -> None:
    """baseline_2023, 150 days: Dostyk and Altynkol handle the other trains exits.yaml states
    (Poisson noise aside) on top of the China–EU ones, which node KPIs count separately, and
    every train of every market is delivered or still in the system."""
    scenario, _ = load_scenario(
        ROOT / "scenarios/baseline_2023.yaml", values={"run.horizon_days": 150}
    )
    net, rec = simulate(scenario, 0, scenario.run.seed)
    kpis = replication_kpis(net, rec)
    day = dt.date(2023, 3, 1)
    for node, flows in (
        ("dostyk", ("other-dostyk-west", "other-dostyk-east")),
        ("altynkol", ("other-altynkol-west", "other-altynkol-east")),
    ):
        stated = sum(_per_day(scenario, f, day) for f in flows) * 150
        assert stated > 1000  # the params load the exit, or the test is idle
        k = kpis.nodes[node]
        other = k["trains_handled"] - k["trains_handled_china_eu"]
        assert other == pytest.approx(stated, rel=0.08)  # Poisson: sd ≈ 2.5 %
        # China–EU trains are a minority at the exits (B24, B25), and they are there
        assert 0 < k["trains_handled_china_eu"] < 0.25 * k["trains_handled"]
    # conservation: every planned train, of every market, delivered or still under way
    assert rec.delivered.sum() + np.isnan(rec.delivered_hours).sum() == len(rec.plan)
    other_market = np.asarray([m == "other" for m in rec.plan.flow_markets])[rec.plan.flow]
    assert other_market.sum() > 0
    # corridor KPIs count China–EU trains only
    assert kpis.corridor["trains_departed"] < 0.5 * len(rec.plan)


def test_the_2021_surge_queues_at_the_exit_and_the_d8_halt_defers_loading() -> None:
    """e3_2021: from July the westbound load at Dostyk (15.1 a day) exceeds its 14.1, so trains
    queue there (E4); while D8's halt holds (25 Oct – 1 Nov 2021) no westbound train whose
    path passes Alashankou leaves, and every one of them leaves later."""
    scenario, _ = load_scenario(ROOT / "scenarios/episodes/e3_2021.yaml")
    net, rec = simulate(scenario, 0, scenario.run.seed)
    assert rec.delivered.sum() + np.isnan(rec.delivered_hours).sum() == len(rec.plan)
    origin = dt.datetime.combine(scenario.run.start_date, dt.time()) - dt.timedelta(
        days=scenario.run.warmup_days
    )

    def hours(day: dt.date) -> float:
        return (dt.datetime.combine(day, dt.time()) - origin).total_seconds() / 3600.0

    halt_start, halt_end = hours(dt.date(2021, 10, 25)), hours(dt.date(2021, 11, 1))
    rule = net.rules[0]
    held = np.isin(rec.plan.path, list(rule.paths)) & np.isin(rec.plan.flow, list(rule.flows))
    planned = rec.plan.depart_hours
    left = rec.visit_arrive[rec.visit_offset[:-1]]
    caught = held & (planned >= halt_start) & (planned < halt_end)
    assert caught.sum() > 50  # a week of ~20 trains a day through Alashankou
    assert (left[caught] >= halt_end - 1e-9).all()  # none left during the halt
    others = ~held & (planned >= halt_start) & (planned < halt_end)
    assert others.sum() > 0  # eastbound and Khorgos trains were not held
    np.testing.assert_allclose(left[others], planned[others])
    # the exit is where the trains wait in October: the queue at Dostyk, westbound
    ids = net.node_ids()
    at_dostyk = rec.visit_node == ids.index("dostyk")
    arrive, start = rec.visit_arrive[at_dostyk], rec.visit_start[at_dostyk]
    t = halt_start
    queued = ((arrive <= t) & ((start > t) | np.isnan(start))).sum()
    assert queued > 40


def _halt_doc(period: dict[str, Any]) -> dict[str, Any]:
    return {
        "run": {"start_date": "2024-01-01", "warmup_days": 1, "horizon_days": 10},
        "nodes": {"a": {"kind": "terminal"}, "b": {"kind": "destination"}},
        "links": {"ab": {"from": "a", "to": "b", "hours": 1}},
        "routes": {"line": {"nodes": ["a", "b"]}},
        "flows": {
            "f": {
                "origin": "a",
                "destination": "b",
                "routes": {"line": 1},
                "teu_per_year": 3650,
                "teu_per_train": 1,
            }
        },
        "dispatch": {"halt": {"via": "b", "suspend_periods": [period]}},
    }


def test_a_dated_suspension_holds_exactly_its_window() -> None:
    scenario = validated(_halt_doc({"start": 3, "end": 5}))
    _, rec = simulate(scenario, 0, seed=5)
    planned = rec.plan.depart_hours
    left = rec.visit_arrive[rec.visit_offset[:-1]]
    a, b = (1 + 3) * 24.0, (1 + 5) * 24.0  # day offsets from the start, after a 1-day warm-up
    caught = (planned >= a) & (planned < b)
    assert caught.sum() > 10
    assert (left[caught] >= b - 1e-9).all()
    np.testing.assert_allclose(left[~caught], planned[~caught])
    assert rec.delivered.sum() + np.isnan(rec.delivered_hours).sum() == len(rec.plan)


def test_a_suspension_that_ends_before_it_starts_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_halt_doc({"start": "2024-01-05", "end": "2024-01-03"})))
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"{path}: dispatch.halt.suspend_periods[0].end: must be after start" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
