"""Other traffic that gives way (params/border.yaml, params/exits.yaml; A34): each load period
states the China–EU trains a day it was derived against, and a run whose own China–EU demand
differs carries λ fewer (or more) other trains per China–EU train of difference, never fewer
than none. Checked on the planned trains of the shipped 2023 year, against the China–EU trains
the same plan sends through the node, so the test does not re-use the module's arithmetic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli.app import app
from sim.config.loader import load_scenario
from sim.engine.replications import simulate

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline_2023.yaml"
DAYS = 365.0
WRITTEN = 3.39  # params/border.yaml, other-brest-west from 2024 (and 2023's 2.32 before)


def _rates(factor: float) -> tuple[float, float]:
    """(other trains a day of other-brest-west, China–EU trains a day westbound through Brest)
    planned in a 2024 year of baseline_2023 with every China–EU flow's TEU × factor."""
    overrides = [
        f"flows.{fid}.teu_per_year={flow.teu_per_year * factor}"
        for fid, flow in load_scenario(BASE)[0].flows.items()
        if flow.market == "china_eu" and flow.teu_per_year is not None
    ]
    scenario, _ = load_scenario(
        BASE, overrides, {"run.start_date": "2024-01-01", "run.horizon_days": DAYS}
    )
    net, rec = simulate(scenario, 0, scenario.run.seed)
    plan = rec.plan
    w0 = net.warmup_hours
    inside = plan.depart_hours >= w0
    other = plan.flow == plan.flow_ids.index("other-brest-west")
    brest = net.node_ids().index("brest")
    china_eu = np.asarray([m == "china_eu" for m in plan.flow_markets])[plan.flow]
    west_via_brest = np.asarray([brest in p.nodes and p.direction == "west" for p in net.paths])[
        plan.path
    ]
    return (
        float((other & inside).sum()) / DAYS,
        float((china_eu & west_via_brest & inside).sum()) / DAYS,
    )


@pytest.mark.slow
def test_other_traffic_moves_lambda_per_china_eu_train_the_other_way() -> None:
    (o1, c1), (o2, c2), (o4, c4) = _rates(1.0), _rates(2.0), _rates(4.0)
    assert c4 > 3.36 / 0.9 * 2  # ×4 puts far more China–EU through Brest than the formula's room
    assert c2 == pytest.approx(2 * c1, rel=0.1) and c1 > 2  # the plan doubles China–EU
    # λ = 0.9 (A34): 0.9 fewer other trains per extra China–EU train, Poisson noise aside
    assert (o1 - o2) / (c2 - c1) == pytest.approx(0.9, abs=0.15)
    # the written load was derived against 3.36 China–EU trains a day (border.yaml)
    assert o1 == pytest.approx(WRITTEN + 0.9 * (3.36 - c1), abs=0.25)
    assert o4 == 0.0  # never below none: ×4 China–EU leaves no room at all


def test_gives_way_on_a_china_eu_flow_or_off_its_routes_exits_2(tmp_path: Path) -> None:
    runner = CliRunner()
    for change, problem in (
        ("flows.other-brest-west.market=china_eu", "gives_way is for other traffic"),
        ("flows.other-brest-west.gives_way.node=dostyk", "'dostyk' is not on the flow's routes"),
    ):
        result = runner.invoke(
            app, ["run", str(BASE), "--set", change, "--out", str(tmp_path / "out")]
        )
        assert result.exit_code == 2, result.output
        assert problem in result.output and "flows.other-brest-west" in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert not (tmp_path / "out").exists()


def test_without_gives_way_the_load_is_as_written() -> None:
    """Without gives_way (as every user load that does not ask for it) the load is not moved:
    with all China–EU demand removed, Brest's other trains stay at the written rate (giving
    way they would be 3.39 + 0.9 × 3.36 = 6.41 a day)."""
    no_china_eu = [
        f"flows.{fid}.teu_per_year=0"
        for fid, flow in load_scenario(BASE)[0].flows.items()
        if flow.market == "china_eu" and flow.teu_per_year is not None
    ]
    values = {"run.start_date": "2024-01-01", "run.horizon_days": DAYS}
    for gives_way, expected in ((False, WRITTEN), (True, WRITTEN + 0.9 * 3.36)):
        change = [] if gives_way else ["flows.other-brest-west.gives_way=null"]
        scenario, _ = load_scenario(BASE, [*no_china_eu, *change], values)
        net, rec = simulate(scenario, 0, scenario.run.seed)
        plan = rec.plan
        other = plan.flow == plan.flow_ids.index("other-brest-west")
        per_day = float((other & (plan.depart_hours >= net.warmup_hours)).sum()) / DAYS
        assert per_day == pytest.approx(expected, rel=0.1)  # Poisson: sd ≈ 3 % over a year


def test_a_demand_factor_scales_the_paths_shared_with_china_eu() -> None:
    """Capacity works cut the crossing's paths (A36): on a flow that gives way, a demand_factor
    f scales the shared paths, so the other trains become f × (written + λ × stated) − λ × C,
    not f × (written + λ × (stated − C))."""
    cut = {
        "+events.works": {
            "targets": ["other-brest-west"],
            "start": "2023-11-17",
            "end": "2025-03-01",
            "demand_factor": 0.5,
        }
    }
    values = {"run.start_date": "2024-01-01", "run.horizon_days": DAYS, **cut}
    scenario, _ = load_scenario(BASE, [], values)
    net, rec = simulate(scenario, 0, scenario.run.seed)
    plan = rec.plan
    inside = plan.depart_hours >= net.warmup_hours
    other = float((inside & (plan.flow == plan.flow_ids.index("other-brest-west"))).sum()) / DAYS
    brest = net.node_ids().index("brest")
    china_eu = np.asarray([m == "china_eu" for m in plan.flow_markets])[plan.flow]
    west = np.asarray([brest in p.nodes and p.direction == "west" for p in net.paths])
    c = float((inside & china_eu & west[plan.path]).sum()) / DAYS
    shared = WRITTEN + 0.9 * 3.36
    assert other == pytest.approx(0.5 * shared - 0.9 * c, abs=0.3)  # Poisson sd ≈ 0.1 a day
    assert abs(0.5 * (shared - 0.9 * c) - (0.5 * shared - 0.9 * c)) > 0.9  # the test can tell
