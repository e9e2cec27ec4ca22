"""The demand model of issues 12 and 20: the compiled choice against its closed form, the
structures' switches (exclusion, coverage), the fixed point, inertia and closures, the
break-even check against C13, and bad demand files ending with exit 2 and one line."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from sim.choice import kernel as K
from sim.choice.ensemble import allocate, load
from sim.choice.history import (
    Chain,
    DemandModel,
    YearInputs,
    coverage_observed,
    evaluate,
    results,
    year_inputs,
)
from sim.choice.year_chain import load_chain
from sim.cli.app import app
from sim.config.demand import (
    PARAMETERS,
    Assumptions,
    DemandStructure,
    MiddleCorridor,
    WaitShape,
)
from sim.config.history_files import load_assumptions, load_structure
from sim.config.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
HISTORY = ROOT / "scenarios" / "history"
DEMAND = ROOT / "params" / "demand"
ENSEMBLE = DEMAND / "ensemble.yaml"
runner = CliRunner()


def _assumptions(**change: object) -> Assumptions:
    return load_assumptions(DEMAND / "assumptions.yaml").model_copy(update=change)


def _structure(exclusion: str = "permanent", coverage: str = "none") -> DemandStructure:
    s = load_structure(DEMAND / "reference.yaml")
    return s.model_copy(update={"exclusion": exclusion, "coverage": coverage})


def _model(exclusion: str = "permanent", coverage: str = "none", **change: object) -> DemandModel:
    return DemandModel.of(_structure(exclusion, coverage), _assumptions(**change))


def _theta(**change: float) -> np.ndarray:
    base = {
        "cost_scale_usd": 2000.0,
        "constant_westbound_usd": 8000.0,
        "constant_eastbound_usd": 9000.0,
        "sanctions_westbound_usd": 3000.0,
        "sanctions_eastbound_usd": 2000.0,
        "excluded_westbound": 0.3,
        "excluded_eastbound": 0.4,
        "exclusion_halflife_years": 2.0,
        "excluded_premium_usd": 5000.0,
        "adjustment_rate_up": 0.4,
        "adjustment_rate_down": 0.6,
        "initial_ratio": 0.5,
        "supply_a": 2.0,
        "supply_b": 6.0,
        "coverage_rate_per_year": 0.7,
        "coverage_midpoint_year": 2020.0,
        "coverage_power": 1.0,
        "time_value_pct_per_day": 0.1,
        "eastbound_sea_rate_ratio": 0.5,
        "middle_corridor_constant_usd": 20000.0,
        "market_factor": 1.0,
        "discrepancy_sd": 0.05,
    }
    base.update(change)
    return np.asarray([base[n] for n in PARAMETERS], dtype=float)


def _toy_half(sea_usd: float = 2000.0, rail_usd: float = 5000.0, **col: float) -> np.ndarray:
    row = np.zeros(K.N_HALF_COLUMNS)
    row[K.H_SEA_W], row[K.H_SEA_E] = sea_usd, math.nan
    row[K.H_RAIL_W], row[K.H_RAIL_E] = rail_usd, rail_usd * 0.8
    row[K.H_CAP_W] = row[K.H_CAP_E] = 1e12  # no load: no surcharge, no wait
    row[K.H_MID] = 2030.25
    row[K.H_COV_OBS] = 1.0
    row[K.H_SEA_DAYS], row[K.H_CAPE_DAYS] = 37.0, 10.0
    row[K.H_MARKET_W], row[K.H_MARKET_E] = 5e5, 2.5e5
    for d in range(2):
        i = K.H_WAIT_W + d * K.WAIT_COEFFICIENTS
        row[i : i + K.WAIT_COEFFICIENTS] = (0.0, 1.0, 1.0, 0.05, 91.25)
    row[K.H_MC_RATE_W], row[K.H_MC_RATE_E] = rail_usd + 1500, rail_usd * 0.8 + 1500
    row[K.H_MC_CAP] = 1e12
    for name, value in col.items():
        row[getattr(K, name)] = value
    return row


def _static(
    model: DemandModel, theta: np.ndarray, half: np.ndarray, d: int = 0, suez: bool = True
) -> tuple[float, float]:
    return K._static(
        theta,
        model.flags,
        model.values_usd_per_feu,
        model.shares,
        half,
        model.constants,
        d,
        suez,
        0.0,
    )


def _toy_chain(years: int = 1, **col: float) -> Chain:
    rows = np.stack([_toy_half(**col)] * (2 * years))
    rows[:, K.H_MID] = [2030.25 + 0.5 * k for k in range(2 * years)]
    periods = np.zeros((2 * years, 9, 3))
    periods[:, 0] = (1.0, 1.0, 1.0)
    inputs = [
        YearInputs(2030 + y, rows[2 * y : 2 * y + 2].copy(), periods[2 * y : 2 * y + 2].copy())
        for y in range(years)
    ]
    return Chain.of(inputs)


# --- the choice against its closed form -------------------------------------------------------


def test_the_parameter_vector_is_the_kernels() -> None:
    assert len(PARAMETERS) == K.N_THETA
    for name, index in (
        ("cost_scale_usd", K.SCALE),
        ("excluded_eastbound", K.EXCL_E),
        ("exclusion_halflife_years", K.EXCL_HALFLIFE),
        ("supply_b", K.SUPPLY_B),
        ("coverage_power", K.COV_POWER),
        ("time_value_pct_per_day", K.TIME_VALUE),
        ("eastbound_sea_rate_ratio", K.EAST_SEA),
        ("market_factor", K.MARKET),
        ("discrepancy_sd", K.SIGMA),
    ):
        assert PARAMETERS.index(name) == index


@pytest.mark.parametrize("d", [0, 1])
def test_choice_is_the_closed_form_multinomial_logit_on_a_toy_market(d: int) -> None:
    """Sea, 1520 rail and the Middle Corridor, per class with its value of time (value × r)."""
    model, theta, half = _model(), _theta(), _toy_half()
    a = model.assumptions
    direction = ("westbound", "eastbound")[d]
    sea_rate = 2000.0 if d == 0 else 2000.0 * 0.5
    rail_rate = 5000.0 if d == 0 else 4000.0
    rail_exp = mc_exp = 0.0
    for cls in a.classes.values():
        v = 2 * cls.value_usd_per_teu * 0.1 / 100
        sea = sea_rate + v * 37.0
        rail = (
            rail_rate
            + theta[K.CONST_W + d]
            + v * (a.rail_free_days[direction] + a.rail_buffer_days)
        )
        mc = rail_rate + 1500 + 20000.0 + v * a.middle_corridor.days
        ex = [math.exp(-c / 2000.0) for c in (sea, rail, mc)]
        rail_exp += cls.share * ex[1] / sum(ex)
        mc_exp += cls.share * ex[2] / sum(ex)
    got = _static(model, theta, half, d)
    assert got[0] == pytest.approx(rail_exp, rel=1e-10)
    assert got[1] == pytest.approx(mc_exp, rel=1e-10)


def test_a_closed_suez_adds_the_cape_days_and_raises_the_rail_share() -> None:
    model, theta, half = _model(), _theta(), _toy_half()
    assert _static(model, theta, half, suez=False)[0] > _static(model, theta, half)[0]


def test_a_higher_value_of_time_moves_shippers_to_the_faster_route() -> None:
    model, half = _model(), _toy_half()
    low = _static(model, _theta(time_value_pct_per_day=0.03), half)[0]
    high = _static(model, _theta(time_value_pct_per_day=2.0), half)[0]
    assert high > low


def test_permanent_exclusion_removes_its_share_of_shippers_from_rail() -> None:
    model, half = _model("permanent"), _toy_half()
    free = _static(model, _theta(sanctions_westbound_usd=0.0), half)[0]
    sanctioned = _toy_half(H_SANCT=1.0, H_SANCT_YEARS=5.0)
    got = _static(model, _theta(sanctions_westbound_usd=0.0), sanctioned)[0]
    assert got == pytest.approx(free * 0.7, rel=1e-12)  # 30 % excluded westbound
    costly = _static(model, _theta(sanctions_westbound_usd=2000.0), sanctioned)[0]
    assert costly < got


def test_decaying_exclusion_halves_with_its_half_life() -> None:
    model = _model("decays")
    theta = _theta(sanctions_westbound_usd=0.0, excluded_westbound=0.4, exclusion_halflife_years=2)
    free = _static(model, theta, _toy_half())[0]
    at_start = _static(model, theta, _toy_half(H_SANCT=1.0, H_SANCT_YEARS=0.0))[0]
    one_life = _static(model, theta, _toy_half(H_SANCT=1.0, H_SANCT_YEARS=2.0))[0]
    assert at_start == pytest.approx(free * 0.6, rel=1e-12)
    assert one_life == pytest.approx(free * 0.8, rel=1e-12)


def test_excluded_shippers_return_when_rails_advantage_beats_their_premium() -> None:
    """Structure 'returns': at premium 0 the excluded choose like everyone else; with a
    premium they come back as the sea gets dearer (a sea shock), unlike permanent exclusion."""
    half = _toy_half(H_SANCT=1.0, H_SANCT_YEARS=1.0)
    returns, permanent = _model("returns"), _model("permanent")
    zero = _theta(excluded_premium_usd=0.0, sanctions_westbound_usd=0.0)
    assert _static(returns, zero, half)[0] == pytest.approx(
        _static(returns, zero, _toy_half())[0], rel=1e-12
    )
    theta = _theta(excluded_premium_usd=6000.0)
    calm, shock = half, _toy_half(sea_usd=9000.0, H_SANCT=1.0, H_SANCT_YEARS=1.0)
    gain_returns = _static(returns, theta, shock)[0] / _static(returns, theta, calm)[0]
    gain_permanent = _static(permanent, theta, shock)[0] / _static(permanent, theta, calm)[0]
    assert gain_returns > gain_permanent > 1.0


def test_observed_coverage_follows_v1_and_is_held_after_the_reference_year() -> None:
    a = _assumptions()
    v1 = a.coverage_trains
    assert coverage_observed(2023.5, a) == pytest.approx(1.0)
    assert coverage_observed(2016.5, a) == pytest.approx(v1[2016] / v1[2023])
    assert coverage_observed(2025.25, a) == pytest.approx(1.0)
    between = coverage_observed(2017.0, a)  # log-linear between the years' middles
    assert between == pytest.approx(math.sqrt(v1[2016] * v1[2017]) / v1[2023], rel=1e-9)
    model = _model(coverage="observed")
    base = _static(_model(), _theta(), _toy_half())[0]
    got = _static(model, _theta(coverage_power=0.5), _toy_half(H_COV_OBS=0.25))[0]
    assert got == pytest.approx(base * 0.5, rel=1e-12)
    logistic = _static(
        _model(coverage="logistic"), _theta(coverage_midpoint_year=2030.25), _toy_half()
    )
    assert logistic[0] == pytest.approx(base / 2, rel=1e-12)


# --- rail price and wait answer back ------------------------------------------------------------


def test_a_tight_border_raises_the_price_and_lowers_the_share_at_the_fixed_point() -> None:
    model = _model()
    theta = _theta(adjustment_rate_up=1.0, adjustment_rate_down=1.0)
    loose = _toy_chain(sea_usd=12000.0)
    tight = _toy_chain(sea_usd=12000.0, H_CAP_W=1e5, H_CAP_E=5e4)
    r_loose, r_tight = results(loose, model, theta)[0], results(tight, model, theta)[0]
    assert r_tight.total_teu < r_loose.total_teu
    assert r_tight.rail_rate_usd[0] > r_loose.rail_rate_usd[0]
    # the fixed point: the rate paid is the curve's at the load it produces
    u = r_tight.load[0]
    assert r_tight.rail_rate_usd[0] == pytest.approx(5000.0 * (1 + 2.0 * u**6.0), rel=1e-9)
    assert r_tight.teu[0] == pytest.approx(u * 1e5 * 2, rel=1e-9)
    out = evaluate(tight, model, theta)
    star = out[0, 0, K.O_STAR]
    assert out[0, 0, K.O_SHARE] == pytest.approx(star, rel=1e-9)  # θ = 1: p = p*(p)


def test_border_wait_is_the_networks_curve_then_a_growing_backlog() -> None:
    half = _toy_half()
    i = K.H_WAIT_E
    half[i : i + 5] = (0.5, 2.0, 1.0, 0.5, 40.0)
    assert K._wait_days(0.0, half, 1) == pytest.approx(0.5)
    assert K._wait_days(0.5, half, 1) == pytest.approx(0.5 + 2.0 * 0.5 / 1.0)
    at_one = 0.5 + 2.0 / 0.5
    assert K._wait_days(1.0, half, 1) == pytest.approx(at_one)
    assert K._wait_days(1.5, half, 1) == pytest.approx(at_one + 40.0 * 0.5)
    assert K._wait_days(0.5, half, 0) == pytest.approx(0.5 / 0.55)  # westbound: its own


def test_inertia_at_rate_one_is_the_static_choice_and_slower_rates_lag() -> None:
    model = _model(coverage="logistic")
    chain = _toy_chain(years=3)
    fast = _theta(adjustment_rate_up=1.0, adjustment_rate_down=1.0, initial_ratio=0.2)
    out = evaluate(chain, model, fast)
    assert np.allclose(out[:, :, K.O_SHARE], out[:, :, K.O_STAR], rtol=1e-9)
    slow = evaluate(chain, model, _theta(adjustment_rate_up=0.2, initial_ratio=0.2))
    assert np.all(slow[:, 0, K.O_SHARE] < slow[:, 0, K.O_STAR])  # rail gaining, slowly


# --- closures --------------------------------------------------------------------------------


def _year(path: Path) -> object:
    return load_chain(path)[-1].history


def test_a_rail_closure_re_times_demand_inside_the_year() -> None:
    h = load_chain(HISTORY / "2025.yaml")[-1].history
    without = h.model_copy(
        update={"closures": {k: v for k, v in h.closures.items() if k != "poland"}}
    )
    # no surcharge and no border wait: the load the closure lowers cannot feed back
    theta = _theta(adjustment_rate_up=1.0, adjustment_rate_down=1.0, supply_a=0.0)
    flat = WaitShape(base_days=0.0, scale_days=0.0, power=1.0, delta=0.05, slope_over_days=0.0)
    for wait in (0.0, 1.0):
        model = _model(closure_wait_share=wait, border_wait=flat)
        a = model.assumptions
        closed = results(Chain.of([year_inputs(h, a)]), model, theta)[0]
        open_ = results(Chain.of([year_inputs(without, a)]), model, theta)[0]
        assert closed.first_half_teu == pytest.approx(open_.first_half_teu)  # H1 untouched
        if wait == 1.0:
            assert closed.total_teu == pytest.approx(open_.total_teu, rel=1e-9)
        else:  # 13 of 184 H2 days lost
            lost = 1 - (closed.total_teu - sum(closed.first_half_teu)) / (
                open_.total_teu - sum(open_.first_half_teu)
            )
            assert lost == pytest.approx(13 / 184, rel=1e-9)


def test_a_closures_bookings_split_between_wait_caspian_baltic_and_sea() -> None:
    """D7: while rail is closed, bookings wait, go by the Middle Corridor (no more than the
    Caspian's spare room over the closed days), rail–sea via the Baltic, or by sea; only the
    waiting ones stay in the year's rail TEU, and every booking ends up somewhere."""
    h = load_chain(HISTORY / "2025.yaml")[-1].history
    theta = _theta(adjustment_rate_up=1.0, adjustment_rate_down=1.0)
    roomy = _model(
        closure_wait_share=0.3,
        closure_middle_corridor_share=0.4,
        closure_rail_sea_share=0.1,
        middle_corridor=MiddleCorridor(
            rate_premium_usd_per_feu=1500, days=27.5, capacity_teu_per_year=1e7
        ),
    )
    r = results(Chain.of([year_inputs(h, roomy.assumptions)]), roomy, theta)[0]
    closed_days = 13  # facts: D1, 12–25 Sep 2025
    for d, c in enumerate(r.closure):
        assert c.booked > 0
        assert c.waited == pytest.approx(0.3 * c.booked)
        assert c.middle_corridor == pytest.approx(0.4 * c.booked)
        assert c.rail_sea == pytest.approx(0.1 * c.booked)
        assert c.sea == pytest.approx(0.2 * c.booked)
        h2 = r.teu[d] - r.first_half_teu[d]
        open_rate = h2 / (184 - closed_days + 0.3 * closed_days)
        assert c.booked / closed_days == pytest.approx(open_rate, rel=1e-6)
    # a Caspian with little room takes what fits (MC2 less the Middle Corridor's own choice
    # in the half); the rest goes by sea
    expensive = _theta(
        adjustment_rate_up=1.0, adjustment_rate_down=1.0, middle_corridor_constant_usd=1e6
    )
    mc_own = results(Chain.of([year_inputs(h, roomy.assumptions)]), roomy, theta)[0]
    room_per_year = 20000.0
    tight = _model(
        closure_wait_share=0.3,
        closure_middle_corridor_share=0.4,
        closure_rail_sea_share=0.1,
        middle_corridor=MiddleCorridor(
            rate_premium_usd_per_feu=1500, days=27.5, capacity_teu_per_year=room_per_year
        ),
    )
    t = results(Chain.of([year_inputs(h, tight.assumptions)]), tight, expensive)[0]
    r_cheap = results(Chain.of([year_inputs(h, roomy.assumptions)]), roomy, expensive)[0]
    assert sum(t.middle_corridor_teu) == pytest.approx(0.0, abs=1e-6)  # its own choice: none
    for c_tight, c_roomy in zip(t.closure, r_cheap.closure, strict=True):
        room = room_per_year / 2 * closed_days / 184
        assert c_tight.middle_corridor == pytest.approx(min(room, 0.4 * c_roomy.booked), rel=1e-9)
        assert c_tight.sea == pytest.approx(c_roomy.sea + c_roomy.middle_corridor - room)
    assert sum(mc_own.middle_corridor_teu) > 0  # a cheaper Middle Corridor takes some anyway
    assert t.teu == pytest.approx(r_cheap.teu)  # the Caspian's room does not change rail TEU
    y2019 = load_chain(HISTORY / "2019.yaml")[-1].history
    quiet = results(Chain.of([year_inputs(y2019, roomy.assumptions)]), roomy, theta)[0]
    assert all(c.booked == 0 for c in quiet.closure)


def test_a_switched_off_closure_is_the_year_without_it() -> None:
    h = load_chain(HISTORY / "2025.yaml")[-1].history
    model = _model(closure_wait_share=0.0)
    a, theta = model.assumptions, _theta()
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

    def total(year: object) -> float:
        return results(Chain.of([year_inputs(year, a)]), model, theta)[0].total_teu  # type: ignore[arg-type]

    assert total(off) == pytest.approx(total(without), rel=1e-12)
    assert total(h) < total(off)


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
    assert as_was[-2].history.closures["red_sea"].enabled
    assert no_closure[-2].history == as_was[-2].history
    assert not no_closure[-1].history.closures["poland"].enabled
    assert no_closure[-1].history.closures["red_sea"].enabled
    scenario, _ = load_scenario(scenarios / "baseline_2025.yaml")
    assert not scenario.events["poland_closure"].enabled


# --- value of time: the break-even value density against C13 ------------------------------


def _break_even_usd_per_kg(r_pct_per_day: float) -> float:
    """The value density at which rail and sea cost the same at 2018–19 rates and times (C2/C4
    and C8 rail, S8/S11 sea, G10 transit), without the fitted constants (C13 counts rate,
    inventory and time only): (rail − sea rate) / (r × days saved × kg a FEU)."""
    a = _assumptions()
    years = {f.history.year: f.history for f in load_chain(HISTORY / "2019.yaml")}
    rail = np.mean([years[y].rail.rate_usd_per_feu for y in (2018, 2019)])
    sea = np.mean([np.mean(years[y].sea.half_year_rates_usd_per_feu or []) for y in (2018, 2019)])
    sea_days = np.mean(
        [
            years[y].sea.transit_days
            + a.sea_buffer_days
            + a.reliability_weight * (1 - years[y].sea.on_time_share) * years[y].sea.late_days
            for y in (2018, 2019)
        ]
    )
    rail_days = a.rail_free_days["westbound"] + a.rail_buffer_days + 1.0  # ~1 day at the border
    kg_per_feu = 20000.0  # assumption: ~10 t a TEU (the classes' $/kg in assumptions.yaml)
    return float((rail - sea) / (r_pct_per_day / 100.0 * (sea_days - rail_days) * kg_per_feu))


C13_LOW, C13_HIGH = 1.23, 21.78  # facts: C13, break-even $/kg (time-sensitive low, less high)


def test_the_value_of_time_from_evidence_puts_the_break_even_inside_c13_carrying_cost_not() -> None:
    """Item 1 of issue 20, C13 as an independent check (the fit never sees it): every
    structure whose value of time comes from the evidence (C12, inventory cost as the lower
    end) breaks even between rail and sea, at its posterior median, inside C13's $1.23–21.78
    a kg; inventory carrying cost alone puts the break-even above C13's top — rail would pay
    only for goods worth more than ~$22/kg, which C13 contradicts (docs/mode_choice.md)."""
    ens = load(ENSEMBLE)
    for m in ens.members:
        v = _break_even_usd_per_kg(float(np.median(m.draws[:, K.TIME_VALUE])))
        if m.name == "vot_carrying_cost":
            assert v > C13_HIGH, (m.name, v)
        else:
            assert C13_LOW <= v <= C13_HIGH, (m.name, v)


# --- the ensemble ----------------------------------------------------------------------------


def test_allocation_of_draws_follows_the_weights_and_sums() -> None:
    assert allocate(np.asarray([0.5, 0.25, 0.25]), 8) == [4, 2, 2]
    assert sum(allocate(np.asarray([0.33, 0.33, 0.34]), 1000)) == 1000
    assert allocate(np.asarray([1.0, 0.0]), 5) == [5, 0]


def test_every_fitted_year_is_within_20_percent_in_the_ensemble_median() -> None:
    from sim.choice.ensemble import run
    from sim.choice.network_years import chain_of

    ens = load(ENSEMBLE)
    chain = chain_of(HISTORY, ens.members[0].model.assumptions)
    er = run(ens, chain, 600, ens.ensemble.seed)
    for y, o in ens.observed.years.items():
        t = er.teu(y)
        median = float(np.median(t[:, 0] + t[:, 1]))
        assert abs(median / o.total_teu - 1) <= 0.20, (y, median, o.total_teu)


def test_the_ensemble_file_keeps_weights_by_its_rule_and_the_coverage_it_measured() -> None:
    ens = load(ENSEMBLE)
    assert ens.ensemble.rule == "stacking"
    w = ens.ensemble.weights
    assert w is not None and set(w) == {m.name for m in ens.members}
    assert sum(w.values()) == pytest.approx(1.0, abs=1e-3)
    cov = ens.ensemble.leave_one_period_out
    assert cov is not None and cov["periods"] == 8
    assert 0 <= cov["inside_50"] <= cov["inside_90"] <= 8


# --- bad demand files --------------------------------------------------------------------------


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _copy_demand(tmp_path: Path) -> Path:
    for f in DEMAND.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "history_observed.yaml").write_text(
        (ROOT / "params" / "history_observed.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    ens = yaml.safe_load((tmp_path / "ensemble.yaml").read_text(encoding="utf-8"))
    ens["observed"] = "history_observed.yaml"
    (tmp_path / "ensemble.yaml").write_text(yaml.safe_dump(ens), encoding="utf-8")
    return tmp_path / "ensemble.yaml"


def _edit_structure(tmp_path: Path, change: object) -> Path:
    ensemble = _copy_demand(tmp_path)
    path = tmp_path / "reference.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return ensemble


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["priors"].pop("cost_scale_usd"),
            "priors: no prior for 'cost_scale_usd'",
        ),
        (
            lambda d: d["priors"].update(lead_time={"dist": "fixed", "value": 1, "source": "x"}),
            "priors: unknown parameter 'lead_time'",
        ),
        (
            lambda d: d["priors"].update(
                exclusion_halflife_years={
                    "dist": "uniform",
                    "low": 1,
                    "high": 2,
                    "source": "x",
                }
            ),
            "'exclusion_halflife_years' is not used with exclusion permanent",
        ),
        (
            lambda d: d["priors"]["supply_b"].update(low=50),
            "low must be below high",
        ),
        (lambda d: d.update(exclusion="sometimes"), "exclusion: Input should be"),
        (lambda d: d.pop("posterior"), "not fitted yet"),
        (lambda d: d.update(assumptions="nowhere.yaml"), "no such file: nowhere.yaml"),
    ],
    ids=[
        "missing prior",
        "unknown parameter",
        "unused parameter sampled",
        "empty range",
        "unknown switch",
        "not fitted",
        "missing assumptions",
    ],
)
def test_an_inconsistent_structure_file_ends_with_exit_2_and_one_line(
    tmp_path: Path, change: object, expected: str
) -> None:
    ensemble = _edit_structure(tmp_path, change)
    code, out = _run("backtest", "--ensemble", str(ensemble), "--years", "2016", "-r", "1")
    assert code == 2, out
    assert out.strip().count("\n") == 0, out
    assert expected in out


def test_a_missing_structure_file_ends_with_exit_2_and_one_line(tmp_path: Path) -> None:
    ensemble = _copy_demand(tmp_path)
    (tmp_path / "exclusion_decays.yaml").unlink()
    for command in (("backtest", "--years", "2016", "-r", "1"), ("fit-history", "--table-only")):
        code, out = _run(*command, "--ensemble", str(ensemble))
        assert code == 2, out
        assert out.strip().count("\n") == 0
        assert "no such file: exclusion_decays.yaml" in out


def test_weights_that_name_other_structures_end_with_exit_2(tmp_path: Path) -> None:
    ensemble = _copy_demand(tmp_path)
    doc = yaml.safe_load(ensemble.read_text(encoding="utf-8"))
    doc["weights"] = {"reference": 1.0}
    ensemble.write_text(yaml.safe_dump(doc), encoding="utf-8")
    code, out = _run("backtest", "--ensemble", str(ensemble), "--years", "2016", "-r", "1")
    assert code == 2 and "weights: must name exactly the structures listed" in out


def test_a_fit_of_an_unknown_structure_ends_with_exit_2(tmp_path: Path) -> None:
    ensemble = _copy_demand(tmp_path)
    before = (tmp_path / "reference.yaml").read_text(encoding="utf-8")
    code, out = _run("fit-history", "--ensemble", str(ensemble), "--structure", "nope")
    assert code == 2 and "no structure 'nope'" in out
    assert (tmp_path / "reference.yaml").read_text(encoding="utf-8") == before


# --- a history year runs at the ensemble's demand -------------------------------------------------


def test_running_a_history_year_sets_its_rail_flows_from_the_ensemble_median() -> None:
    from sim.choice.ensemble import predict_year, run
    from sim.choice.history_demand import china_eu_flows, history_teu, is_westbound, share_1520
    from sim.choice.network_years import chain_of
    from sim.workflow.lifecycle import prepare

    year = prepare(HISTORY / "2024.yaml")
    scenario, raw = year.scenario, year.raw
    assert raw is not None
    teu = history_teu(scenario, raw)
    assert teu is not None
    ens = load(ENSEMBLE)
    chain = chain_of(HISTORY / "2024.yaml", ens.members[0].model.assumptions)
    er = run(ens, chain, ens.ensemble.draws_per_structure, ens.ensemble.seed)
    # prepare() returns the scenario with the demand applied; its crossing mix weighs the route
    # shares by those flows' TEU, a difference of a few millionths in the capacity
    assert teu == pytest.approx(predict_year(ens, er, 2024, ens.ensemble.seed).demand_teu, rel=1e-4)
    carried = [0.0, 0.0]
    for fid, teu_per_year in china_eu_flows(scenario).items():
        carried[0 if is_westbound(scenario, fid) else 1] += teu_per_year * share_1520(scenario, fid)
    assert carried == pytest.approx(list(teu), rel=1e-4)  # as above: the applied flows
    cheaper = prepare(
        HISTORY / "2024.yaml", ("history.sea.half_year_rates_usd_per_feu=[1000,1000]",)
    )
    cheaper_sea, raw2 = cheaper.scenario, cheaper.raw
    assert raw2 is not None
    assert sum(history_teu(cheaper_sea, raw2) or (0.0, 0.0)) < sum(teu)


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
    assert {"2016.yaml", "2017.yaml", "ensemble.yaml", "baseline_2019.yaml"} <= names
    assert all(Path(f).is_file() for f in manifest["source_files"])
    block = json.loads((tmp_path / "r" / "summary.json").read_text())["history_demand"]
    assert (
        block["rail_teu_total_p05"] < block["rail_teu_total_median"] < block["rail_teu_total_p95"]
    )
    # the report states the year's range too, with the structures behind its ends
    report = runner.invoke(app, ["report", str(tmp_path / "r"), "--out", str(tmp_path / "r.html")])
    assert report.exit_code == 0, report.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "rail TEU, predictive" in html and block["rail_teu_total_low_end_structure"] in html


def test_a_closure_years_run_reports_where_the_closed_days_bookings_went(tmp_path: Path) -> None:
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
    parts = ("waited", "middle_corridor", "rail_sea", "sea")
    booked = block["closure_booked_teu"]
    assert booked > 0
    assert sum(block[f"closure_{k}_teu"] for k in parts) == pytest.approx(booked, abs=0.5)
    assert "by the Middle Corridor" in " ".join(result.output.split())


def test_the_choice_reads_its_border_from_the_network_more_servers_move_demand() -> None:
    """One border (issue 21, item 1): the choice's capacity and wait come from the simulated
    crossing, so a sweep of Brest's servers moves the demand the ensemble chooses for a year
    the crossing binds (2021: the boom at the border, E3), and not at all in a way the
    written train pairs could (they are gone from the year's inputs)."""
    from sim.choice.history_demand import history_teu
    from sim.workflow.lifecycle import prepare

    def westbound(servers: int) -> float:
        cut = (
            f"nodes.brest.servers_by_direction.west={servers}",
            f"nodes.brest.servers_by_direction.east={servers}",
            f"nodes.brest.servers={2 * servers}",
        )
        year = prepare(HISTORY / "2021.yaml", cut)
        assert year.raw is not None
        teu = history_teu(year.scenario, year.raw)
        assert teu is not None
        return teu[0]

    four, five = westbound(4), westbound(5)
    assert five > 1.1 * four
