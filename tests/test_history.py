"""The time-series choice of issue 12: closed-form logit, supply curve, inertia, closures,
a fit that recovers the parameters of data it generated, and bad input ending with exit 2."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sim.choice.fit_history import NAMES, fit, to_fitted, to_vector
from sim.choice.history import (
    Half,
    Period,
    YearInputs,
    border_wait_days,
    run_chain,
    solve_year,
    static_share,
    supply_rate_usd,
    year_inputs,
)
from sim.choice.year_chain import load_chain
from sim.cli.app import app
from sim.config.history import (
    Assumptions,
    Coverage,
    Fitted,
    Observed,
    ObservedPrice,
    ObservedYear,
    SupplyCurve,
)
from sim.config.history_files import load_history_params
from sim.config.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
HISTORY = ROOT / "scenarios" / "history"
PARAMS = ROOT / "params" / "history_choice.yaml"
runner = CliRunner()


def _assumptions(**change: object) -> Assumptions:
    base = load_history_params(PARAMS).assumptions
    return base.model_copy(update=change)


def _fitted(**change: object) -> Fitted:
    base = Fitted(
        cost_scale_usd=2000.0,
        constant_usd_per_feu={"westbound": 8000.0, "eastbound": 9000.0},
        sanctions_usd_per_feu=3000.0,
        sanctions_excluded_share=0.3,
        adjustment_rate_up=0.4,
        adjustment_rate_down=0.6,
        initial_ratio=0.5,
        supply=SupplyCurve(a=2.0, b=6.0),
    )
    return base.model_copy(update=change)


def _toy_year(sea_usd: float = 2000.0, rail_usd: float = 5000.0) -> YearInputs:
    half = Half(
        sea_rate_usd=(sea_usd, sea_usd * 0.5),
        capacity_teu=(1e12, 1e12),  # no load: the supply curve and the wait stay at zero
        sanctions_share=0.0,
        periods=(Period(1.0, True, True),),
        mid_year=2030.25,
    )
    return YearInputs(
        year=2030,
        market_teu=(1e6, 5e5),
        rail_base_usd=(rail_usd, rail_usd * 0.8),
        sea_days=37.0,
        cape_extra_days=10.0,
        halves=(half, half),
    )


# --- the choice ------------------------------------------------------------------------------


def test_choice_is_the_closed_form_binary_logit_on_a_toy_market() -> None:
    a = _assumptions(queue_days_scale=0.0)
    f = _fitted()
    inp = _toy_year()
    for d, direction in enumerate(("westbound", "eastbound")):
        expected = 0.0
        for cls in a.classes.values():
            v = cls.value_of_time_usd_per_feu_day
            sea = inp.halves[0].sea_rate_usd[d] + v * inp.sea_days
            rail = (
                inp.rail_base_usd[d]
                + f.constant_usd_per_feu[direction]
                + v * (a.rail_free_days[direction] + a.rail_buffer_days)
            )
            expected += cls.share / (1.0 + math.exp((rail - sea) / f.cost_scale_usd))
        got = static_share(inp, inp.halves[0], d, True, 0.0, f, a)
        assert got == pytest.approx(expected, rel=1e-12)


def test_a_closed_suez_adds_the_cape_days_and_raises_the_rail_share() -> None:
    a, f, inp = _assumptions(), _fitted(), _toy_year()
    assert static_share(inp, inp.halves[0], 0, False, 0.0, f, a) > static_share(
        inp, inp.halves[0], 0, True, 0.0, f, a
    )


def test_sanctions_remove_the_excluded_share_and_add_their_cost() -> None:
    a, f, inp = _assumptions(), _fitted(sanctions_usd_per_feu=0.0), _toy_year()
    free = static_share(inp, inp.halves[0], 0, True, 0.0, f, a)
    half = replace(inp.halves[0], sanctions_share=1.0)
    assert static_share(inp, half, 0, True, 0.0, f, a) == pytest.approx(free * 0.7)
    costly = _fitted(sanctions_usd_per_feu=2000.0)
    assert static_share(inp, half, 0, True, 0.0, costly, a) < free * 0.7


# --- rail price and wait answer back -----------------------------------------------------


@pytest.mark.parametrize("a_, b_", [(0.0, 1.0), (2.0, 6.0), (100.0, 25.0)])
def test_supply_curve_at_zero_load_is_the_base_rate_and_rises_with_load(
    a_: float, b_: float
) -> None:
    curve = SupplyCurve(a=a_, b=b_)
    assert supply_rate_usd(4500.0, 0.0, curve) == 4500.0
    rates = [supply_rate_usd(4500.0, u, curve) for u in (0.2, 0.5, 0.8, 1.0)]
    assert rates == sorted(rates)
    assert rates[-1] == pytest.approx(4500.0 * (1 + a_))


def test_border_wait_is_the_mm1_shape_then_a_fluid_backlog() -> None:
    assert border_wait_days(0.0, 1.0) == 0.0
    assert border_wait_days(0.5, 2.0) == pytest.approx(2.0)  # 2 × 0.5 / 0.5
    # above capacity a backlog grows for the half-year: its mean age is (u-1)/u × T/2
    assert border_wait_days(1.5, 0.0) == pytest.approx((0.5 / 1.5) * 365 / 4)


def test_a_tight_border_raises_the_price_and_lowers_the_share_at_the_fixed_point() -> None:
    a, f = _assumptions(), _fitted(adjustment_rate_up=1.0, adjustment_rate_down=1.0)
    loose = _toy_year(sea_usd=12000.0)
    tight_half = replace(loose.halves[0], capacity_teu=(2e5, 1e5))
    tight = replace(loose, halves=(tight_half, tight_half))
    r_loose = solve_year(loose, f, a, None)
    r_tight = solve_year(tight, f, a, None)
    assert r_tight.total_teu < r_loose.total_teu
    assert r_tight.rail_rate_usd[0] > r_loose.rail_rate_usd[0]
    # the fixed point: the rate paid is the curve's at the load it produces (both halves
    # are equal and static here, so the year's means are those of either half)
    assert r_tight.rail_rate_usd[0] == pytest.approx(
        supply_rate_usd(5000.0, r_tight.load[0], f.supply), rel=1e-9
    )
    assert r_tight.teu[0] == pytest.approx(r_tight.load[0] * 2e5 * 2, rel=1e-9)


# --- inertia ---------------------------------------------------------------------------------


def _history_inputs(a: Assumptions) -> list[YearInputs]:
    return [year_inputs(y.history, a) for y in load_chain(HISTORY / "2025.yaml")]


def test_inertia_at_rate_one_is_the_static_choice() -> None:
    a = _assumptions()
    inputs = _history_inputs(a)
    static = _fitted(adjustment_rate_up=1.0, adjustment_rate_down=1.0)
    chained = run_chain(inputs, static, a)
    for inp, r in zip(inputs, chained, strict=True):
        alone = solve_year(inp, static, a, (0.3, 0.01))  # any starting point: it is forgotten
        assert r.teu == pytest.approx(alone.teu, rel=1e-9)
    slow = run_chain(inputs, _fitted(adjustment_rate_up=0.2, adjustment_rate_down=0.2), a)
    assert any(
        abs(s.total_teu / r.total_teu - 1) > 0.05 for s, r in zip(slow, chained, strict=True)
    )


def test_a_rail_closure_re_times_demand_inside_the_year() -> None:
    chain = load_chain(HISTORY / "2025.yaml")
    h = chain[-1].history
    assert "poland" in h.closures
    f = _fitted()
    previous = (0.02, 0.02)
    without = h.model_copy(
        update={"closures": {k: v for k, v in h.closures.items() if k != "poland"}}
    )
    for wait in (0.0, 1.0):
        a = _assumptions(closure_wait_share=wait)
        closed = solve_year(year_inputs(h, a), f, a, previous)
        open_ = solve_year(year_inputs(without, a), f, a, previous)
        assert closed.first_half_teu == pytest.approx(open_.first_half_teu)  # H1 untouched
        if wait == 1.0:  # every booking waits and ships after the reopening
            assert closed.total_teu == pytest.approx(open_.total_teu, rel=1e-9)
        else:  # 13 of 184 H2 days lost
            lost = 1 - (closed.total_teu - sum(closed.first_half_teu)) / (
                open_.total_teu - sum(open_.first_half_teu)
            )
            assert lost == pytest.approx(13 / 184, rel=0.05)


def test_a_closures_bookings_split_between_wait_caspian_baltic_and_sea() -> None:
    """D7: while rail is closed, bookings wait, go by the Middle Corridor (no more than the
    Caspian's spare room over the closed days), rail–sea via the Baltic, or by sea; only the
    waiting ones stay in the year's rail TEU, and every booking ends up somewhere."""
    h = load_chain(HISTORY / "2025.yaml")[-1].history
    f, previous = _fitted(), (0.02, 0.02)
    roomy = _assumptions(
        closure_wait_share=0.3,
        closure_middle_corridor_share=0.4,
        closure_rail_sea_share=0.1,
        middle_corridor_spare_teu_per_year=1e9,
    )
    r = solve_year(year_inputs(h, roomy), f, roomy, previous)
    closed_days = 13  # facts: D1, 12–25 Sep 2025
    for d, c in enumerate(r.closure):
        assert c.booked > 0
        assert c.waited == pytest.approx(0.3 * c.booked)
        assert c.middle_corridor == pytest.approx(0.4 * c.booked)
        assert c.rail_sea == pytest.approx(0.1 * c.booked)
        assert c.sea == pytest.approx(0.2 * c.booked)
        # the booked volume is the closed days' share of the half at the solved rail share
        h2 = r.teu[d] - r.first_half_teu[d]
        open_rate = h2 / (184 - closed_days + 0.3 * closed_days)  # TEU a day the half carried
        assert c.booked / closed_days == pytest.approx(open_rate, rel=1e-6)
    # a Caspian with little room takes what fits; the rest goes by sea
    room_per_year = 1000.0
    tight = roomy.model_copy(update={"middle_corridor_spare_teu_per_year": room_per_year})
    t = solve_year(year_inputs(h, tight), f, tight, previous)
    for c_tight, c_roomy in zip(t.closure, r.closure, strict=True):
        room = room_per_year * closed_days / 184 * 182.5 / 365
        assert c_tight.middle_corridor == pytest.approx(room, rel=1e-9)
        assert c_tight.sea == pytest.approx(c_roomy.sea + c_roomy.middle_corridor - room)
    # where the closed days' bookings went does not change the year's rail TEU (only waiting
    # does): the Y1 volume, and so the fit, is the same whatever the diversion shares
    plain = roomy.model_copy(
        update={"closure_middle_corridor_share": 0.0, "closure_rail_sea_share": 0.0}
    )
    assert solve_year(year_inputs(h, plain), f, plain, previous).teu == pytest.approx(r.teu)
    # a year without a closure reports none
    assert all(
        c.booked == 0
        for c in solve_year(
            year_inputs(load_chain(HISTORY / "2019.yaml")[-1].history, roomy), f, roomy, previous
        ).closure
    )


def test_closure_shares_over_one_end_with_exit_2(tmp_path: Path) -> None:
    doc = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    doc["assumptions"]["closure_middle_corridor_share"] = 0.6  # + wait 0.5 > 1
    bad = tmp_path / "history_choice.yaml"
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    code, out = _run("backtest", "--params", str(bad))
    assert code == 2
    assert out.strip().count("\n") == 0
    assert "must not exceed 1" in out


def test_a_switched_off_closure_is_the_year_without_it() -> None:
    """``enabled: false`` (the counterfactual baselines) must equal deleting the closure."""
    h = load_chain(HISTORY / "2025.yaml")[-1].history
    f, a = _fitted(), _assumptions(closure_wait_share=0.0)
    off = h.model_copy(
        update={
            "closures": {
                k: c.model_copy(update={"enabled": k != "poland"}) for k, c in h.closures.items()
            }
        }
    )
    without = h.model_copy(
        update={"closures": {k: c for k, c in h.closures.items() if k != "poland"}}
    )
    with_it = solve_year(year_inputs(h, a), f, a, (0.02, 0.02))
    assert solve_year(year_inputs(off, a), f, a, (0.02, 0.02)) == solve_year(
        year_inputs(without, a), f, a, (0.02, 0.02)
    )
    assert with_it.total_teu < solve_year(year_inputs(off, a), f, a, (0.02, 0.02)).total_teu


def test_the_counterfactual_baselines_change_only_what_they_say() -> None:
    """baseline_2024 is 2024 with Suez open at 2023's sea inputs; baseline_2025_suez_open
    follows it (not the 2024 of the crisis); baseline_2025 only drops the border closure."""
    scenarios = ROOT / "scenarios"
    as_was = load_chain(HISTORY / "2025.yaml")
    calm = load_chain(scenarios / "baseline_2025_suez_open.yaml")
    no_closure = load_chain(scenarios / "baseline_2025.yaml")
    assert [f.history.year for f in calm] == [f.history.year for f in as_was]
    y2023 = as_was[-3].history
    for year in calm[-2:]:
        assert year.history.sea.on_time_share == y2023.sea.on_time_share
        assert not any(c.enabled for c in year.history.closures.values())
    assert as_was[-2].history.closures["red_sea"].enabled  # the crisis year as it was
    assert no_closure[-2].history == as_was[-2].history  # same 2024
    assert not no_closure[-1].history.closures["poland"].enabled
    assert no_closure[-1].history.closures["red_sea"].enabled
    scenario, _ = load_scenario(scenarios / "baseline_2025.yaml")
    assert not scenario.events["poland_closure"].enabled  # open on the network too


# --- the fit ---------------------------------------------------------------------------------


def test_the_fit_recovers_known_parameters_from_data_it_generated() -> None:
    a = _assumptions()
    inputs = _history_inputs(a)
    truth = _fitted(coverage=Coverage(rate_per_year=0.8, midpoint_year=2018.0))
    made = run_chain(inputs, truth, a)
    years = list(range(2016, 2024))
    observed = Observed(
        total_band=0.1,
        share_band=0.05,
        price_band=0.25,
        years={
            r.year: ObservedYear(
                total_teu=r.total_teu,
                first_half_teu=sum(r.first_half_teu),
                westbound_share=r.westbound_share,
                facts="generated",
            )
            for r in made
            if r.year in years
        },
        rail_price={
            r.year: ObservedPrice(usd_per_feu=r.rail_rate_usd[0], facts="generated")
            for r in made
            if r.year in (2020, 2021)
        },
    )
    result = fit(inputs, a, observed, years, seed=7, starts=4)
    assert result.cost < 1e-6
    got = dict(zip(NAMES, to_vector(result.fitted), strict=True))
    want = dict(zip(NAMES, to_vector(truth), strict=True))
    for name in ("cost_scale_usd", "constant_westbound", "constant_eastbound"):
        assert got[name] == pytest.approx(want[name], rel=0.05), name
    for name in ("adjustment_rate_up", "adjustment_rate_down"):
        assert got[name] == pytest.approx(want[name], abs=0.05), name
    assert got["coverage_rate_per_year"] == pytest.approx(0.8, abs=0.1)
    assert got["coverage_midpoint_year"] == pytest.approx(2018.0, abs=0.3)
    # and it reproduces the years it never saw
    again = run_chain(inputs, to_fitted(to_vector(result.fitted)), a)
    for r, m in zip(again, made, strict=True):
        assert r.total_teu == pytest.approx(m.total_teu, rel=0.01)


# --- bad input: exit 2, one line -----------------------------------------------------------


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stderr + result.stdout


def _year_file(tmp_path: Path, change) -> Path:
    doc = yaml.safe_load((HISTORY / "2016.yaml").read_text(encoding="utf-8"))
    doc["extends"] = str((ROOT / "scenarios" / "baseline_2019.yaml").resolve())
    change(doc["history"])
    path = tmp_path / "2016.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda h: h["sea"].pop("rate_usd_per_feu"),
            "history.sea.rate_usd_per_feu: Field required",
        ),
        (
            lambda h: h["rail"].update(rate_usd_per_feu=-5),
            "history.rail.rate_usd_per_feu: Input should be greater than or equal to 0",
        ),
        (  # found by the fuzzer: validated, then the run could not write its JSON
            lambda h: h["rail"].update(border_train_pairs_per_day=float("inf")),
            "history.rail.border_train_pairs_per_day: Input should be a finite number",
        ),
    ],
    ids=["year without a rate", "negative rate", "infinite border"],
)
def test_a_bad_year_ends_with_exit_2_and_one_line(tmp_path: Path, change, expected: str) -> None:
    path = _year_file(tmp_path, change)
    code, text = _run("backtest", "--history", str(path))
    assert code == 2
    assert text.strip().count("\n") == 0
    assert expected in text


def test_a_supply_curve_falling_with_load_ends_with_exit_2(tmp_path: Path) -> None:
    text = PARAMS.read_text(encoding="utf-8")
    bad = tmp_path / "history_choice.yaml"
    doc = yaml.safe_load(text)
    doc["fitted"]["supply"]["a"] = -0.5
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    code, out = _run("backtest", "--params", str(bad))
    assert code == 2
    assert out.strip().count("\n") == 0
    assert "fitted.supply" in out and "may not fall with load" in out


def test_a_fitted_constant_without_a_direction_ends_with_exit_2(tmp_path: Path) -> None:
    """Found by the fuzzer: a constant for one direction only passed validation, then the
    choice raised KeyError('westbound')."""
    doc = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    del doc["fitted"]["constant_usd_per_feu"]["westbound"]
    bad = tmp_path / "history_choice.yaml"
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    code, out = _run("backtest", "--params", str(bad))
    assert code == 2
    assert out.strip().count("\n") == 0
    assert "fitted.constant_usd_per_feu: missing westbound" in out


def test_a_fit_with_fewer_observations_than_parameters_ends_with_exit_2(tmp_path: Path) -> None:
    params = tmp_path / "history_choice.yaml"
    params.write_text(PARAMS.read_text(encoding="utf-8"), encoding="utf-8")
    code, out = _run("fit-history", "--years", "2016-2018", "--params", str(params))
    assert code == 2
    assert out.strip().count("\n") == 0
    assert "fewer than the" in out
    assert params.read_text(encoding="utf-8") == PARAMS.read_text(encoding="utf-8")


def test_running_a_history_year_sets_its_rail_flows_from_the_fitted_choice() -> None:
    from sim.choice.history_demand import china_eu_flows, history_teu, is_westbound, share_1520
    from sim.workflow.run import RunRequest, prepare

    scenario, raw = prepare(RunRequest(scenario_file=HISTORY / "2024.yaml"))
    teu = history_teu(scenario, raw)
    assert teu is not None
    params = load_history_params(PARAMS)
    chain = run_chain(_history_inputs(params.assumptions), params.fitted, params.assumptions)
    assert teu == pytest.approx(next(r.teu for r in chain if r.year == 2024), rel=1e-12)
    carried = [0.0, 0.0]
    for fid, teu_per_year in china_eu_flows(scenario).items():  # other traffic is not set
        carried[0 if is_westbound(scenario, fid) else 1] += teu_per_year * share_1520(scenario, fid)
    assert carried == pytest.approx(list(teu), rel=1e-9)
    # an override of this year's inputs changes the demand: the year runs from its inputs
    dear, raw2 = prepare(
        RunRequest(
            scenario_file=HISTORY / "2024.yaml",
            overrides=("history.rail.sanctions_from=null",),
        )
    )
    assert sum(history_teu(dear, raw2) or (0.0, 0.0)) > sum(teu)


def test_another_fitted_choice_can_replace_a_years_own() -> None:
    """headline --history-params: the structural alternative's demand, from its own params."""
    from sim.choice.history_demand import history_teu
    from sim.workflow.run import RunRequest, prepare

    alt_file = ROOT / "params" / "history_choice_exclusion_only.yaml"
    scenario, raw = prepare(RunRequest(scenario_file=HISTORY / "2024.yaml"))
    own = history_teu(scenario, raw)
    alt = history_teu(scenario, raw, alt_file)
    alt_params = load_history_params(alt_file)
    chain = run_chain(
        _history_inputs(alt_params.assumptions), alt_params.fitted, alt_params.assumptions
    )
    assert alt == pytest.approx(next(r.teu for r in chain if r.year == 2024), rel=1e-12)
    assert own is not None and alt is not None and abs(sum(alt) - sum(own)) > 1000.0  # not its own


def test_headline_with_a_missing_history_params_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "headline",
            "--only",
            "red_sea_2024",
            "-r",
            "1",
            "--horizon-days",
            "5",
            "--history-params",
            str(tmp_path / "nope.yaml"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "nope.yaml" in result.output and len(result.output.strip().splitlines()) == 1


def test_a_history_run_lists_every_file_its_demand_was_read_from(tmp_path: Path) -> None:
    import json

    result = runner.invoke(
        app,
        [
            *("run", str(HISTORY / "2017.yaml"), "-r", "1", "-q"),
            *("--set", "run.horizon_days=5", "--out", str(tmp_path / "r")),
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    names = {Path(f).name for f in manifest["source_files"]}
    assert {"2016.yaml", "2017.yaml", "history_choice.yaml", "baseline_2019.yaml"} <= names
    assert all(Path(f).is_file() for f in manifest["source_files"])


def test_a_closure_years_run_reports_where_the_closed_days_bookings_went(tmp_path: Path) -> None:
    """The simulated trains show the rail side of a closure; the summary and the printout
    also carry the choice's side (D7): what waited, went by the Caspian, rail–sea or by sea."""
    import json

    result = runner.invoke(
        app,
        [
            *("run", str(ROOT / "scenarios" / "poland_closure_2025.yaml"), "-r", "1"),
            *("--set", "run.horizon_days=5", "--out", str(tmp_path / "r")),
        ],
    )
    assert result.exit_code == 0, result.output
    block = json.loads((tmp_path / "r" / "summary.json").read_text())["history_demand"]
    params = load_history_params(PARAMS)
    year = run_chain(_history_inputs(params.assumptions), params.fitted, params.assumptions)
    y2025 = next(r for r in year if r.year == 2025)
    assert block["rail_teu_westbound"] == pytest.approx(y2025.teu[0], abs=0.1)
    parts = ("waited", "middle_corridor", "rail_sea", "sea")
    booked = block["closure_booked_teu"]
    assert booked > 0
    assert sum(block[f"closure_{k}_teu"] for k in parts) == pytest.approx(booked, abs=0.5)
    a = params.assumptions
    assert block["closure_middle_corridor_teu"] == pytest.approx(
        min(a.closure_middle_corridor_share * booked, a.middle_corridor_spare_teu_per_year),
        rel=1e-3,
    )
    assert "by the Middle Corridor" in " ".join(result.output.split())


def test_coverage_trend_scales_the_static_choice_and_switches_off() -> None:
    """The coverage trend multiplies the static choice by a logistic in time: half of it at
    the midpoint, and nothing changes when it is switched off (the NO_COVERAGE values)."""
    from sim.choice.fit_history import NO_COVERAGE
    from sim.choice.history import coverage_share, static_share

    inp = _toy_year()
    half = inp.halves[0]
    a = _assumptions()
    plain = _fitted()
    mid = _fitted(coverage=Coverage(rate_per_year=0.7, midpoint_year=half.mid_year))
    base = static_share(inp, half, 0, True, 0.0, plain, a)
    assert base > 0
    assert static_share(inp, half, 0, True, 0.0, mid, a) == pytest.approx(base / 2)
    later = _fitted(coverage=Coverage(rate_per_year=0.7, midpoint_year=half.mid_year - 1.0))
    assert coverage_share(half.mid_year, later) == pytest.approx(1 / (1 + math.exp(-0.7)))
    off = to_fitted(to_vector(plain))  # the vector form carries the switched-off trend
    assert off.coverage is not None
    assert off.coverage.rate_per_year == NO_COVERAGE["coverage_rate_per_year"]
    assert static_share(inp, half, 0, True, 0.0, off, a) == base
