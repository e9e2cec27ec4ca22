"""Mode choice: the logit's properties, censoring-aware rail times, the congestion fixed point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from builders import validated

from sim.choice.fit import calibrate, shifted, vot_sensitivity
from sim.choice.fixed_point import ChoiceModel, measure, solve
from sim.choice.logit import logit_shares
from sim.choice.rail_times import flow_times, nominal_transit_days
from sim.config.loader import load_scenario
from sim.config.mode_choice import ModeChoice
from sim.engine.replications import simulate
from sim.errors import ConfigError
from sim.workflow.run import RunRequest, execute

# --- the logit -------------------------------------------------------------------------------


def test_equal_costs_split_evenly_with_and_without_nests() -> None:
    costs = np.full(4, 2500.0)
    avail = np.ones(4, dtype=bool)
    assert logit_shares(costs, avail, 800.0) == pytest.approx(np.full(4, 0.25))
    # one nest holding every option, any lambda: still an even split
    nested = logit_shares(costs, avail, 800.0, nest_of=[0, 0, 0, 0], nest_lambda=[0.3])
    assert nested == pytest.approx(np.full(4, 0.25))


def test_closed_option_gets_zero_and_the_rest_still_sum_to_one() -> None:
    costs = np.asarray([1000.0, 1200.0, 4000.0, 5000.0])
    avail = np.asarray([False, True, True, True])
    for nest_of, lam in (([-1, -1, -1, -1], ()), ([0, 0, -1, -1], (0.4,))):
        shares = logit_shares(costs, avail, 1000.0, nest_of, lam)
        assert shares[0] == 0.0
        assert shares.sum() == pytest.approx(1.0)
        assert (shares[1:] > 0).all()
    assert logit_shares(costs, np.zeros(4, dtype=bool), 1000.0).sum() == 0.0


def test_shares_match_the_closed_form_multinomial_logit() -> None:
    costs = np.asarray([1500.0, 2300.0, 4100.0])
    expected = np.exp(-costs / 700.0) / np.exp(-costs / 700.0).sum()
    assert logit_shares(costs, np.ones(3, dtype=bool), 700.0) == pytest.approx(expected)


def test_raising_the_sea_rate_never_lowers_the_rail_share() -> None:
    """Monotonicity over many random markets: 2 sea options in a nest, 1–3 rail options."""
    rng = np.random.default_rng(4)
    for _ in range(500):
        n_rail = int(rng.integers(1, 4))
        costs = np.concatenate([rng.uniform(500, 9000, 2), rng.uniform(2000, 12000, n_rail)])
        avail = rng.random(len(costs)) < 0.85
        avail[2] = True
        lam = float(rng.uniform(0.05, 1.0))
        nest_of = [0, 0, *([-1] * n_rail)]
        scale = float(rng.uniform(200, 3000))
        base = logit_shares(costs, avail, scale, nest_of, [lam])
        assert base.sum() == pytest.approx(1.0)
        raised = costs.copy()
        raised[int(rng.integers(0, 2))] += float(rng.uniform(1, 5000))
        after = logit_shares(raised, avail, scale, nest_of, [lam])
        assert after[2:].sum() >= base[2:].sum() - 1e-12


def test_nest_moves_suez_traffic_to_the_cape_not_to_rail() -> None:
    """With sea options nested, closing Suez mostly fills the Cape (no IIA over-shift)."""
    costs = np.asarray([2000.0, 2600.0, 5000.0])  # suez, cape, rail
    both = np.ones(3, dtype=bool)
    no_suez = np.asarray([False, True, True])
    mnl_gain = logit_shares(costs, no_suez, 1000.0)[2] / logit_shares(costs, both, 1000.0)[2]
    nested = [0, 0, -1]
    nl_gain = (
        logit_shares(costs, no_suez, 1000.0, nested, [0.2])[2]
        / logit_shares(costs, both, 1000.0, nested, [0.2])[2]
    )
    assert nl_gain < mnl_gain
    # the rail gain under the nest equals the loss of sea "inclusive value" only: exp(Δcost/s)
    # for the nest's cost moving from its log-sum to the Cape's cost (small when lambda is small)
    assert nl_gain == pytest.approx(
        logit_shares(np.asarray([2600.0, 5000.0]), np.ones(2, dtype=bool), 1000.0)[1]
        / logit_shares(costs, both, 1000.0, nested, [0.2])[2]
    )


# --- small networks --------------------------------------------------------------------------


def toy(
    servers: int | None = 2,
    handling: Any = None,
    *,
    horizon_days: float = 120,
    mode_choice: dict[str, Any] | None = None,
    rail_teu: float = 100_000,
) -> dict[str, Any]:
    """china -> border -> eu by rail (7 + 3 days of travel) against two sea options."""
    doc: dict[str, Any] = {
        "name": "toy",
        "run": {
            "start_date": "2024-01-01",
            "warmup_days": 20,
            "horizon_days": horizon_days,
            "replications": 2,
            "seed": 5,
        },
        "nodes": {
            "china": {"kind": "terminal"},
            "border": {
                "kind": "border",
                "servers": servers,
                "handling_hours": handling
                if handling is not None
                else {"dist": "exponential", "mean": 6},
            },
            "eu": {"kind": "destination"},
        },
        "links": {
            "east": {"from": "china", "to": "border", "hours": 168},
            "west": {"from": "border", "to": "eu", "hours": 72},
        },
        "routes": {"line": {"nodes": ["china", "border", "eu"]}},
        "flows": {
            "rail-west": {
                "origin": "china",
                "destination": "eu",
                "routes": {"line": 1},
                "teu_per_year": rail_teu,
                "teu_per_train": 100,
            }
        },
    }
    doc["mode_choice"] = mode_choice or {
        "cost_scale_usd": 1000,
        "nests": {"sea": 0.5},
        "classes": {
            "low": {"value_of_time_usd_per_feu_day": 10, "teu_per_year": {"westbound": 1.5e6}},
            "high": {"value_of_time_usd_per_feu_day": 150, "teu_per_year": {"westbound": 5e5}},
        },
        "options": {
            "sea_suez": {
                "mode": "sea",
                "nest": "sea",
                "rate_usd_per_feu": 1500,
                "transit_days": 35,
            },
            "sea_cape": {
                "mode": "sea",
                "nest": "sea",
                "rate_usd_per_feu": 1800,
                "transit_days": 45,
            },
            "rail": {
                "mode": "rail",
                "rate_usd_per_feu": 4500,
                "flows": {"westbound": ["rail-west"]},
            },
        },
        "max_iterations": 30,
        "tolerance": 0.002,
    }
    return doc


def test_rail_time_of_an_uncongested_line_is_its_nominal_time_even_at_the_end() -> None:
    """No queue, fixed times: every train departed in the window counts with exactly the
    nominal 10.25 days, including those still travelling when the run stops."""
    s = validated(toy(servers=None, handling=6))
    net, rec = simulate(s, 0, 3)
    times = flow_times(net, rec)[("rail-west", "line")]
    assert times.trains_unfinished > 10  # ~10 days of departures are still on their way
    assert times.transit_days_mean == pytest.approx(10.25)
    assert nominal_transit_days(s, net, "rail-west", "line") == pytest.approx(10.25)


def test_saturation_shows_in_the_rail_time_not_only_in_the_backlog() -> None:
    """Demand at 1.5x the border's capacity (12 trains/day against 8/day). Fluid queue: the
    queue grows by 4 trains/day from the first arrival, so a train departing on day d waits
    d/2 days and its transit is 10.25 + d/2. Over departures on days 20–220 that averages
    70.25 days. Trains delivered by the end are the early ones only (d <= 139.8: ~50 days),
    so a delivered-only mean hides the saturation; the censoring-aware time must not."""
    capacity_teu = 2 * 24 / 6 * 100 * 365  # 2 tracks, 6 h a train, 100 TEU: 292,000 TEU/year
    s = validated(toy(servers=2, handling=6, rail_teu=1.5 * capacity_teu, horizon_days=200))
    fluid_days = 10.25 + (20 + 220) / 2 / 2
    measured = []
    for replication in range(3):
        net, rec = simulate(s, replication, 3)
        times = flow_times(net, rec)[("rail-west", "line")]
        assert times.trains_unfinished > 500
        delivered = ~np.isnan(rec.delivered_hours) & (rec.plan.depart_hours >= rec.warmup_hours)
        transit = (rec.delivered_hours - rec.plan.depart_hours)[delivered] / 24.0
        assert float(transit.mean()) < 0.8 * fluid_days
        measured.append(times.transit_days_mean)
    assert float(np.mean(measured)) == pytest.approx(fluid_days, rel=0.1)


@pytest.mark.slow
def test_fixed_point_converges_and_pushes_demand_off_a_saturating_line() -> None:
    s = validated(toy(servers=2, horizon_days=120))
    model = ChoiceModel.build(s)
    free_flow_rail = model.rail_teu(model.shares(model.free_days))
    capacity = 2 * 24 / 6 * 100 * 365  # 292,000 TEU/year
    assert free_flow_rail > 1.3 * capacity  # without feedback the line would be swamped
    solution = solve(s, seed=5)
    assert solution.converged
    assert len(solution.iterations) >= 2
    rail = model.rail_teu(solution.shares)
    assert rail < 1.1 * capacity
    assert solution.days[0, 2] > model.free_days[0, 2] + 2  # congestion made rail slower
    # consistency: simulate the converged demand afresh (other replications), measure the
    # times and let the logit answer: it must stay near the converged shares.
    fresh = measure(model.scenario_with(s, solution.shares), 4, seed=99)
    response = model.shares(model.days_from(fresh))
    assert np.abs(response - solution.shares).max() < 0.03
    # the iterations' gaps come down to the tolerance
    assert solution.iterations[-1].gap < s.mode_choice.tolerance  # type: ignore[union-attr]
    assert solution.iterations[0].gap > 10 * solution.iterations[-1].gap


def test_without_a_capacity_limit_the_fixed_point_is_the_free_flow_choice() -> None:
    s = validated(toy(servers=None, handling=6))
    solution = solve(s, seed=5)
    model = solution.model
    assert solution.converged and len(solution.iterations) == 1
    assert solution.shares == pytest.approx(model.shares(model.free_days))


def test_a_closure_for_half_the_window_averages_the_two_regimes() -> None:
    mc = toy(servers=None, handling=6)["mode_choice"]
    mc["options"]["sea_suez"]["closures"] = {"red_sea": {"start": 60.0}}  # day 60 of 120
    s = validated(toy(servers=None, handling=6, mode_choice=mc))
    model = ChoiceModel.build(s)
    days = model.free_days
    half = model.shares(days)
    assert model.window_share[0] == pytest.approx(0.5)
    open_ = ChoiceModel.build(validated(toy(servers=None, handling=6))).shares(days)
    mc["options"]["sea_suez"]["available"] = False
    shut = ChoiceModel.build(validated(toy(servers=None, handling=6, mode_choice=mc)))
    closed = shut.shares(days)
    assert closed[..., 0] == pytest.approx(0.0)
    assert half == pytest.approx((open_ + closed) / 2)


def test_choice_sets_the_flow_demand_and_splits_it_by_written_weights() -> None:
    doc = toy(servers=None, handling=6)
    doc["flows"]["rail-west-2"] = {**doc["flows"]["rail-west"], "teu_per_year": 300_000}
    doc["mode_choice"]["options"]["rail"]["flows"]["westbound"].append("rail-west-2")
    s = validated(doc)
    model = ChoiceModel.build(s)
    x = model.shares(model.free_days)
    solved = model.scenario_with(s, x)
    rail = model.rail_teu(x)
    assert solved.flows["rail-west"].teu_per_year == pytest.approx(0.25 * rail)
    assert solved.flows["rail-west-2"].teu_per_year == pytest.approx(0.75 * rail)
    assert model.input_teu.sum() == pytest.approx(400_000)


def two_routes(servers: int | None = None) -> dict[str, Any]:
    """The toy with a second, slower route (via 'north') in the same flow, 50/50 as written."""
    doc = toy(servers=servers, handling=6)
    doc["nodes"]["north"] = {"kind": "border"}
    doc["links"]["east2"] = {"from": "china", "to": "north", "hours": 240}
    doc["links"]["west2"] = {"from": "north", "to": "eu", "hours": 72}
    doc["routes"]["line2"] = {"nodes": ["china", "north", "eu"]}
    doc["flows"]["rail-west"]["routes"] = {"line": 0.5, "line2": 0.5}
    opts = doc["mode_choice"]["options"]
    opts["rail"]["via"] = ["border"]
    opts["rail_north"] = {**opts["rail"], "via": ["north"]}
    return doc


def test_options_by_route_set_the_route_shares_of_a_shared_flow() -> None:
    """Two routes of one flow, one via a second border: route choice sets the flow's route
    shares from the options' TEU; the slower route gets less."""
    s = validated(two_routes(servers=None))
    model = ChoiceModel.build(s)
    assert model.free_days[0, 2] == pytest.approx(10.25)
    assert model.free_days[0, 3] == pytest.approx(13.0)
    assert model.input_teu[0, 2:] == pytest.approx([50_000, 50_000])
    x = model.shares(model.free_days)
    teu = model.option_teu(x)[0]
    solved = model.scenario_with(s, x).flows["rail-west"]
    assert solved.teu_per_year == pytest.approx(teu[2] + teu[3])
    assert solved.routes["line"] == pytest.approx(teu[2] / (teu[2] + teu[3]))
    assert teu[2] > teu[3] > 0
    net, rec = simulate(model.scenario_with(s, x), 0, 1)
    times = flow_times(net, rec)
    assert times[("rail-west", "line2")].transit_days_mean == pytest.approx(13.0)


def test_a_route_left_without_an_option_is_an_error(tmp_path: Path) -> None:
    doc = toy()
    doc["nodes"]["north"] = {"kind": "border"}
    doc["links"]["east2"] = {"from": "china", "to": "north", "hours": 240}
    doc["links"]["west2"] = {"from": "north", "to": "eu", "hours": 72}
    doc["routes"]["line2"] = {"nodes": ["china", "north", "eu"]}
    doc["flows"]["rail-west"]["routes"] = {"line": 0.5, "line2": 0.5}
    doc["mode_choice"]["options"]["rail"]["via"] = ["border"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match="route 'line2' of flow 'rail-west' is carried by no"):
        load_scenario(path)


# --- input errors and the results directory ----------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda mc: mc["options"]["rail"]["flows"]["westbound"].append("nope"),
            "mode_choice.options.rail.flows.westbound[1]: unknown flow 'nope'",
        ),
        (
            lambda mc: mc["options"]["sea_cape"].pop("transit_days"),
            "mode_choice.options.sea_cape.transit_days: needed when the option has no flows",
        ),
        (
            lambda mc: mc["options"]["sea_cape"].update(nest="ocean"),
            "mode_choice.options.sea_cape.nest: unknown nest 'ocean' (add it to nests)",
        ),
        (
            lambda mc: mc["options"]["sea_suez"].update(
                closures={"x": {"start": "2024-03-01", "end": "2024-02-01"}}
            ),
            "mode_choice.options.sea_suez.closures.x.end: ends before it starts",
        ),
        (
            lambda mc: [c["teu_per_year"].update(westbound=0) for c in mc["classes"].values()],
            "mode_choice: classes: total teu_per_year must be > 0",
        ),
        (
            lambda mc: mc["nests"].update(sea=1.5),
            "mode_choice.nests.sea: Input should be less than or equal to 1 (got 1.5)",
        ),
    ],
)
def test_bad_mode_choice_names_the_field(tmp_path: Path, change: Any, message: str) -> None:
    doc = toy()
    change(doc["mode_choice"])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    assert str(info.value).endswith(f"bad.yaml: {message}")


def test_run_directory_holds_the_choice_and_its_iteration_log(tmp_path: Path) -> None:
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(toy(servers=2, horizon_days=60)))
    outcome = execute(RunRequest(scenario_file=path, out=tmp_path / "run"))
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    block = summary["mode_choice"]
    assert {"kpis", "nodes", "flows"} <= set(summary)
    log = pq.read_table(outcome.run_dir / "mode_choice_iterations.parquet").to_pydict()
    assert max(log["iteration"]) == block["iterations"] == len(block["iteration_log"])
    split = block["modal_split"]["all"]
    assert sum(v["share"]["mean"] for v in split.values()) == pytest.approx(1.0)
    chosen = block["rail_teu_per_year"]["chosen"]
    assert split["rail"]["teu_per_year"] == pytest.approx(chosen)
    # the simulated flow carried the chosen demand (its departures match it within noise)
    departed = summary["kpis"]["trains_departed"]["mean"] * 100 * 365 / 60
    assert departed == pytest.approx(chosen, rel=0.1)
    assert block["rail_teu_per_year"]["shifted_to_rail"] == pytest.approx(chosen - 100_000)


def test_switched_off_the_flows_run_as_written(tmp_path: Path) -> None:
    doc = toy(servers=None, handling=6, horizon_days=60)
    doc["mode_choice"]["enabled"] = False
    path = tmp_path / "off.yaml"
    path.write_text(yaml.safe_dump(doc))
    outcome = execute(RunRequest(scenario_file=path, out=tmp_path / "run"))
    assert "mode_choice" not in outcome.summary
    departed = outcome.summary["kpis"]["trains_departed"]["mean"] * 100 * 365 / 60
    assert departed == pytest.approx(100_000, rel=0.15)
    assert not (outcome.run_dir / "mode_choice_iterations.parquet").exists()


def test_mode_choice_model_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="valu_of_time"):
        ModeChoice.model_validate(
            {
                "classes": {"x": {"valu_of_time": 1, "teu_per_year": {"w": 1}}},
                "options": {},
            }
        )


# --- calibration -------------------------------------------------------------------------------


def test_calibration_reproduces_the_observed_share_through_the_simulation() -> None:
    doc = toy(servers=4, horizon_days=90)  # capacity 584,000 TEU/year: the target is below
    doc["mode_choice"]["observed_rail_teu_per_year"] = 150_000
    s = validated(doc)
    result = calibrate(s, seed=5)
    assert result.target_share == pytest.approx(0.075)
    assert result.model_share == pytest.approx(0.075, rel=0.25 * 0.1)
    assert result.within_tolerance
    # the calibrated constants, run through the ordinary fixed point, give the same share
    calibrated = shifted(s.mode_choice, result.constants["rail"])  # type: ignore[arg-type]
    again = solve(s, seed=5, mc=calibrated)
    assert again.model.rail_share(again.shares) == pytest.approx(result.model_share, rel=1e-9)
    # a higher observed share needs a lower rail constant
    doc["mode_choice"]["observed_rail_teu_per_year"] = 250_000
    higher = calibrate(validated(doc), seed=5)
    assert higher.constants["rail"] < result.constants["rail"]


def test_rail_share_rises_with_the_value_of_time_when_rail_is_faster() -> None:
    s = validated(toy(servers=None, handling=6))
    shares = [sol.model.rail_share(sol.shares) for _, sol in vot_sensitivity(s, [0.5, 1, 2], 5)]
    assert shares[0] < shares[1] < shares[2]


def test_calibration_per_option_reproduces_the_written_route_split() -> None:
    """Targets: 150,000 TEU split as the flows are written (50/50 over the two routes),
    although the northern route is 2.75 days slower: its constant must come out lower."""
    doc = two_routes(servers=4)
    doc["mode_choice"]["observed_rail_teu_per_year"] = 150_000
    result = calibrate(validated(doc), seed=5)
    assert result.within_tolerance
    assert result.constants["rail_north"] < result.constants["rail"]
    # at free flow the difference is the value of 2.75 days, averaged over the classes
    # that choose rail (a value of time between 10 and 150 USD/day)
    gap = result.constants["rail"] - result.constants["rail_north"]
    assert 10 * 2.75 < gap < 150 * 2.75


def test_same_seed_same_choice_on_any_number_of_workers(tmp_path: Path) -> None:
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(toy(servers=2, horizon_days=60)))
    one = execute(RunRequest(scenario_file=path, out=tmp_path / "one", workers=1))
    two = execute(RunRequest(scenario_file=path, out=tmp_path / "two", workers=2))
    summary = "summary.json"
    assert (one.run_dir / summary).read_bytes() == (two.run_dir / summary).read_bytes()
    log_one = pq.read_table(one.run_dir / "mode_choice_iterations.parquet")
    assert log_one.equals(pq.read_table(two.run_dir / "mode_choice_iterations.parquet"))


def test_calibrate_choice_without_a_target_is_a_one_line_input_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sim.cli.app import app

    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(toy()))
    result = CliRunner().invoke(app, ["calibrate-choice", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip().endswith(
        "toy.yaml: mode_choice.observed_rail_teu_per_year: needed to calibrate"
    )
    assert "Traceback" not in result.output
