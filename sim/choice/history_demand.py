"""A history year's rail demand from the demand ensemble, for ``corridor run`` and friends.

A scenario with a ``history`` block runs with its rail flows carrying the ensemble's median
choice for that year (every structure's posterior draws, weighed by the ensemble's rule);
the earlier years come from the files the ``previous`` links name (each relative to the file
that set it), this year from the scenario as loaded (so ``--set
history.sea.rate_usd_per_feu=...`` changes the demand), and the ensemble from
``history.params``. The year's predictive interval travels with the demand into the run's
summary. Without a ``history`` block nothing changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq
from scipy.stats import norm

from sim.choice import kernel as K
from sim.choice.border_supply import WaitCurveCache
from sim.choice.ensemble import (
    EnsembleRun,
    Interval,
    LoadedEnsemble,
    interval,
    load,
    predict_year,
    run,
)
from sim.choice.history import NO_CLOSURE, Chain, ClosureSplit
from sim.choice.network_years import network_year_inputs
from sim.choice.year_chain import HistoryYearFile, load_chain
from sim.config.loader import RawScenario
from sim.config.run_limits import size_problems
from sim.config.scenario import Scenario
from sim.errors import ConfigError
from sim.markets import MARKET_CHINA_EU

MIDDLE_CORRIDOR_NODES = ("aktau",)  # routes through these are not 1520 transit (Y1 excludes them)


def is_westbound(s: Scenario, fid: str) -> bool:
    """A flow is westbound when it starts in China (the choice's two directions)."""
    return s.nodes[s.flows[fid].origin].country == "CN"


def share_1520(s: Scenario, fid: str) -> float:
    """Fraction of a flow's TEU on routes that stay on the 1520 network (not the Caspian)."""
    routes = s.flows[fid].routes
    total = sum(routes.values())
    off = sum(
        share
        for rid, share in routes.items()
        if any(n in s.routes[rid].nodes for n in MIDDLE_CORRIDOR_NODES)
    )
    return (total - off) / total if total > 0 else 0.0


def china_eu_flows(s: Scenario) -> dict[str, float]:
    """TEU a year of the China–EU flows: the ones the choice sets (other markets' trains,
    e.g. the border overlay's other traffic, load the network but are not its demand)."""
    return {
        fid: flow.teu_per_year
        for fid, flow in s.flows.items()
        if flow.market == MARKET_CHINA_EU and flow.teu_per_year is not None
    }


def with_rail_demand(s: Scenario, teu: tuple[float, float]) -> Scenario:
    """The scenario with each direction's flows scaled so that their 1520 routes carry
    ``teu`` (westbound, eastbound) per year; the origin–destination pattern is the scenario's."""
    written = [0.0, 0.0]
    chosen = china_eu_flows(s)
    for fid, teu_per_year in chosen.items():
        written[0 if is_westbound(s, fid) else 1] += teu_per_year * share_1520(s, fid)
    flows = dict(s.flows)
    for fid, teu_per_year in chosen.items():
        d = 0 if is_westbound(s, fid) else 1
        factor = teu[d] / written[d] if written[d] > 0 else 0.0
        flows[fid] = s.flows[fid].model_copy(update={"teu_per_year": teu_per_year * factor})
    return s.model_copy(update={"flows": flows})


def _relative(raw: RawScenario, field: str, value: str) -> Path:
    origin = Path(raw.source_of(("history", field)) or raw.main_file)
    path = origin.parent / value
    if not path.exists():
        raise ConfigError(str(origin), ("history", field), f"no such file: {value}")
    return path


Teu = tuple[float, float]


@dataclass(frozen=True)
class YearDemand:
    """What the demand ensemble gives a history year, and the files it was read from."""

    teu: Teu  # rail TEU per year, westbound and eastbound: the ensemble's median choice
    sources: tuple[str, ...]  # the ensemble and every earlier year (for a run's manifest)
    closure: ClosureSplit = NO_CLOSURE  # where a rail closure's bookings went, both directions
    total: Interval | None = None  # predictive interval of the year's rail TEU (all layers)
    middle_corridor: Interval | None = None
    # the ensemble's draws of the year (structures in proportion to their weights): rail TEU
    # [draw, (westbound, eastbound)] and each draw's discrepancy σ (demand_draws, quantile_teu)
    member_teu: NDArray[np.float64] | None = field(default=None, repr=False, compare=False)
    member_sigma: NDArray[np.float64] | None = field(default=None, repr=False, compare=False)

    def summary(self) -> dict[str, float | str]:
        """The block a run's summary keeps: the year's rail TEU from the ensemble, its
        predictive interval (parameters, structures, the discrepancy and the simulation's
        noise), and where the bookings of the closed days went (all zero without a closure)."""
        c = self.closure
        out: dict[str, float | str] = {
            "rail_teu_westbound": round(self.teu[0], 1),
            "rail_teu_eastbound": round(self.teu[1], 1),
            "closure_booked_teu": round(c.booked, 1),
            "closure_waited_teu": round(c.waited, 1),
            "closure_middle_corridor_teu": round(c.middle_corridor, 1),
            "closure_rail_sea_teu": round(c.rail_sea, 1),
            "closure_sea_teu": round(c.sea, 1),
        }
        for label, iv in (
            ("rail_teu_total", self.total),
            ("middle_corridor_teu", self.middle_corridor),
        ):
            if iv is not None:
                out |= {
                    f"{label}_median": round(iv.median, 1),
                    f"{label}_p05": round(iv.low90, 1),
                    f"{label}_p25": round(iv.low50, 1),
                    f"{label}_p75": round(iv.high50, 1),
                    f"{label}_p95": round(iv.high90, 1),
                    f"{label}_low_end_structure": iv.low_driver,
                    f"{label}_high_end_structure": iv.high_driver,
                }
        return out


def closure_of(block: dict[str, Any]) -> ClosureSplit:
    """The closure split back from a run summary's ``history_demand`` block."""
    return ClosureSplit(
        booked=block["closure_booked_teu"],
        waited=block["closure_waited_teu"],
        middle_corridor=block["closure_middle_corridor_teu"],
        rail_sea=block["closure_rail_sea_teu"],
    )


def year_demand(
    scenario: Scenario,
    raw: RawScenario,
    params_file: Path | None = None,
    cache: dict[str, YearDemand] | None = None,
) -> YearDemand | None:
    """The year's rail demand from the demand ensemble, or None without one.
    ``params_file`` replaces the year's ``history.params`` (another ensemble file).
    ``cache`` (one per sweep) keeps the answer per distinct history block, so the points of a
    sweep that vary something else do not re-read and re-run the chain of years each."""
    h = scenario.history
    if h is None or (h.params is None and params_file is None):
        return None
    if params_file is None:
        assert h.params is not None
        params_file = _relative(raw, "params", h.params)
    elif not params_file.is_file():
        raise ConfigError(str(params_file), (), "no such file")
    key = demand_key(scenario, raw, params_file)
    if cache is not None and key in cache:
        return cache[key]
    resolved = _ensemble_years(scenario, raw, params_file)
    assert resolved is not None
    years, ens, er = resolved
    pred = predict_year(ens, er, h.year, ens.ensemble.seed)
    demand = YearDemand(
        teu=pred.demand_teu,
        sources=(str(params_file), *(str(f.path) for f in years)),
        closure=er.closure(h.year),
        total=pred.total,
        middle_corridor=pred.middle_corridor,
        member_teu=np.asarray(er.teu(h.year)[:, :2], dtype=float),
        member_sigma=np.asarray(er.thetas[:, K.SIGMA], dtype=float),
    )
    if cache is not None:
        cache[key] = demand
    return demand


def demand_key(scenario: Scenario, raw: RawScenario, params_file: Path | None = None) -> str:
    """What a history year's demand depends on (its history block, the ensemble file, where
    the previous year is read from): points of a sweep with the same key share one answer."""
    h = scenario.history
    assert h is not None
    if params_file is None:
        params_file = _relative(raw, "params", h.params) if h.params is not None else None
    origin = raw.source_of(("history", "previous")) or raw.main_file
    return json.dumps([h.model_dump(mode="json"), str(params_file), str(origin)], sort_keys=True)


def history_teu(
    scenario: Scenario, raw: RawScenario, params_file: Path | None = None
) -> Teu | None:
    """Rail TEU per year (westbound, eastbound) the fitted choice gives this year, or None."""
    demand = year_demand(scenario, raw, params_file)
    return None if demand is None else demand.teu


def applied(scenario: Scenario, demand: YearDemand | None, origin: str = "") -> Scenario:
    """The scenario with its rail flows carrying ``demand`` (unchanged when None). A demand
    that would plan more trains than a replication may hold (a market of 1e9 TEU validates,
    and the choice may send a share of it to rail) is refused like any input that big, with
    one line naming the year's market: what validates must also run."""
    if demand is None:
        return scenario
    out = with_rail_demand(scenario, demand.teu)
    for _, problem in size_problems(out):
        raise ConfigError(
            origin or scenario.name,
            ("history", "market_teu_per_year"),
            f"the year's demand ({demand.teu[0]:.3g} + {demand.teu[1]:.3g} TEU of rail) {problem}",
        )
    return out


def with_history_demand(
    scenario: Scenario,
    raw: RawScenario,
    params_file: Path | None = None,
    cache: dict[str, YearDemand] | None = None,
) -> Scenario:
    """The scenario with its rail flows set by the fitted choice (unchanged without one)."""
    return applied(scenario, year_demand(scenario, raw, params_file, cache), raw.main_file)


def check_history(scenario: Scenario, raw: RawScenario) -> None:
    """Read and validate everything a history year's demand needs — the ensemble, its
    structures and observations, every earlier year — without computing it (no crossing is
    simulated: ``corridor validate`` stays quick; the run computes the demand)."""
    h = scenario.history
    if h is None or h.params is None:
        return
    load(_relative(raw, "params", h.params))
    _earlier_years(scenario, raw)


def _earlier_years(scenario: Scenario, raw: RawScenario) -> list[HistoryYearFile]:
    """The years before a history scenario's, oldest first, checked to end the year before."""
    h = scenario.history
    assert h is not None
    earlier = [] if h.previous is None else load_chain(_relative(raw, "previous", h.previous))
    if earlier and earlier[-1].history.year != h.year - 1:
        raise ConfigError(
            raw.source_of(("history", "year")) or raw.main_file,
            ("history", "year"),
            f"expected {earlier[-1].history.year + 1} (the year after its 'previous')",
        )
    return earlier


def _ensemble_years(
    scenario: Scenario, raw: RawScenario, params_file: Path | None
) -> tuple[list[HistoryYearFile], LoadedEnsemble, EnsembleRun] | None:
    """A history scenario's earlier years, its ensemble, and the ensemble run through the
    chain of years up to it (None without a history block naming an ensemble)."""
    h = scenario.history
    if h is None or (h.params is None and params_file is None):
        return None
    if params_file is None:
        assert h.params is not None
        params_file = _relative(raw, "params", h.params)
    ens = load(params_file)
    assumptions = ens.members[0].model.assumptions
    earlier = _earlier_years(scenario, raw)
    cache = WaitCurveCache()
    chain = Chain.of(
        [network_year_inputs(f.scenario, assumptions, cache) for f in earlier]
        + [network_year_inputs(scenario, assumptions, cache)]
    )
    return earlier, ens, run(ens, chain, ens.ensemble.draws_per_structure, ens.ensemble.seed)


def quantile_teu(demand: YearDemand, q: float) -> Teu:
    """The year's rail TEU (westbound, eastbound) at quantile ``q`` of the distribution a run's
    ``--draws`` samples (:func:`demand_draws`: an ensemble draw, structures by their weights,
    times exp(ε σ) of its discrepancy), split between the directions as the median choice.

    Why a quantile: a sweep's design wants one number that orders the demand's doubt (a PRIM
    box reads "the demand is above its 70th percentile"); the member index of the draws does
    not order anything. The distribution is the mixture Σ_m Φ((ln t − ln T_m) / σ_m) / M over
    the ensemble's draws m, solved for t (Brent's method on ln t)."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile {q} is not inside (0, 1)")
    if demand.member_teu is None or demand.member_sigma is None:
        raise ValueError("the year's demand has no ensemble draws")
    log_total = np.log(np.maximum(demand.member_teu.sum(axis=1), 1e-9))
    sigma = np.maximum(demand.member_sigma, 1e-9)

    def excess(log_t: float) -> float:
        return float(np.mean(norm.cdf((log_t - log_total) / sigma))) - q

    span = 10.0 * float(sigma.max())
    log_t = brentq(excess, float(log_total.min()) - span, float(log_total.max()) + span)
    west, east = demand.teu
    scale = float(np.exp(log_t)) / max(west + east, 1e-9)
    return west * scale, east * scale


@dataclass(frozen=True)
class DemandChange:
    """A scenario's rail demand against its baseline's, draw by draw (the same structures and
    parameter draws in both): parameters and structure only, no noise, which is common to
    both years of a paired comparison."""

    teu: Interval  # scenario − baseline, TEU a year, both directions
    relative: Interval  # (scenario − baseline) / baseline


def demand_change(
    scenario: Scenario,
    raw: RawScenario,
    baseline: Scenario,
    baseline_raw: RawScenario,
    params_file: Path | None = None,
) -> DemandChange | None:
    """The ensemble's interval of the change in rail demand a scenario makes (both must be
    history years of the same ensemble; None otherwise)."""
    a = _ensemble_years(scenario, raw, params_file)
    b = _ensemble_years(baseline, baseline_raw, params_file)
    if a is None or b is None or scenario.history is None or baseline.history is None:
        return None
    ra, rb = a[2], b[2]
    ta, tb = ra.teu(scenario.history.year), rb.teu(baseline.history.year)
    diff = (ta[:, 0] + ta[:, 1]) - (tb[:, 0] + tb[:, 1])
    base = np.maximum(tb[:, 0] + tb[:, 1], 1e-9)
    names = [m.name for m in ra.members]
    return DemandChange(
        interval(diff, ra.member_of_draw, names),
        interval(diff / base, ra.member_of_draw, names),
    )


def demand_draws(
    demand: YearDemand | None,
    member_u: NDArray[np.float64],
    shock_u: NDArray[np.float64],
) -> list[Teu] | None:
    """Rail TEU per year (westbound, eastbound) for each draw of a run's ``--draws``, or None
    without a demand ensemble (``demand``: the year's, as :func:`year_demand` solved it for
    the run, so the chain of years is not run a second time).

    Draw i takes the ensemble draw at ``member_u[i]`` of the mixture (the ensemble run already
    holds each structure's draws in proportion to its weight, so a uniform point picks a
    structure by its weight and a posterior draw within it) and scales both directions by
    exp(ε σ), ε = Φ⁻¹(``shock_u[i]``) and σ that draw's discrepancy between the choice and the
    years it was fitted to (θ's σ): the year's demand as the fit says it may come out. The
    series' measurement band and the simulation's noise of the year's predictive interval
    stay out, the first because it is the error of the record, not of the demand, the second
    because the draw is simulated. The network the choice sees is the scenario's own for
    every draw (the draws' border changes act on the simulated trains only)."""
    if demand is None or demand.member_teu is None or demand.member_sigma is None:
        return None
    teu, sigma = demand.member_teu, demand.member_sigma
    pick = np.minimum((np.asarray(member_u) * len(teu)).astype(np.int64), len(teu) - 1)
    eps = norm.ppf(np.clip(np.asarray(shock_u, dtype=float), 1e-9, 1.0 - 1e-9))
    scale = np.exp(eps * sigma[pick])
    return [(float(teu[i, 0] * f), float(teu[i, 1] * f)) for i, f in zip(pick, scale, strict=True)]
