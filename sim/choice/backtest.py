"""Backtest: every history year from its own inputs, simulated at the fitted choice.

For each year of ``scenarios/history/`` the fitted time-series choice (:mod:`sim.choice.history`)
gives the rail demand per direction; the year's scenario is simulated with its rail flows
carrying that demand (a few replications, the year's seed) and the TEU delivered through
the 1520 network (the Middle Corridor routes excluded, as in Y1) is reported per direction
with a 95 % interval across replications.

Years with observations (2016–2023) show the error against Y1/Y2 and the leave-one-year-out
error (the refit without that year predicting it). Years without (2024, 2025) are
predictions; their interval is the range of the predictions of the full fit and of every
leave-one-year-out refit (the fit's own uncertainty: how far the answer moves when one year
of history is missing), each widened by the replication interval of the simulation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.choice.history import (
    NO_CLOSURE,
    ClosureSplit,
    YearInputs,
    YearResult,
    run_chain,
    year_inputs,
)
from sim.choice.history_demand import china_eu_flows, is_westbound, share_1520, with_rail_demand
from sim.choice.year_chain import HistoryYearFile, history_chain
from sim.config.history import HistoryChoice, Observed
from sim.config.scenario import Scenario
from sim.engine.replications import run_replication
from sim.executors import map_ordered
from sim.stats import Estimate, estimate


def _delivered_1520(args: tuple[Scenario, int, int]) -> tuple[float, float]:
    """TEU per year delivered on 1520 routes in one replication, per direction."""
    s, replication, seed = args
    out = run_replication(s, replication, seed, with_tables=False)
    per_year = 365.0 / s.run.horizon_days
    teu = [0.0, 0.0]
    china_eu = china_eu_flows(s)
    for fid, k in out.kpis.flows.items():
        if fid in china_eu:
            teu[0 if is_westbound(s, fid) else 1] += k["teu_delivered"] * share_1520(s, fid)
    return teu[0] * per_year, teu[1] * per_year


@dataclass(frozen=True)
class YearRow:
    """One line of the backtest."""

    year: int
    inputs: str
    demand_teu: tuple[float, float]  # what the fitted choice asks of rail
    simulated: tuple[Estimate, Estimate, Estimate]  # westbound, eastbound, total delivered
    observed_total: float | None
    observed_westbound_share: float | None
    loo_error: float | None  # leave-one-year-out relative error of the choice's total
    interval: tuple[float, float] | None  # prediction interval of the total (no observation)
    closure: ClosureSplit = NO_CLOSURE  # both directions: where a rail closure's bookings went

    @property
    def error(self) -> float | None:
        if self.observed_total is None:
            return None
        return self.simulated[2].mean / self.observed_total - 1.0

    @property
    def westbound_share(self) -> float:
        return self.simulated[0].mean / self.simulated[2].mean if self.simulated[2].mean else 0.0


def inputs_summary(f: HistoryYearFile) -> str:
    """The year's inputs in one cell."""
    h = f.history
    sea = h.sea.half_year_rates_usd_per_feu or [h.sea.rate_usd_per_feu] * 2
    pairs = h.rail.half_year_border_train_pairs_per_day or [h.rail.border_train_pairs_per_day]
    parts = [
        f"sea ${sea[0]:,.0f}/{sea[1]:,.0f}",
        f"on time {h.sea.on_time_share:.0%}",
        f"rail ${h.rail.rate_usd_per_feu:,.0f}",
        f"border {'/'.join(f'{p:g}' for p in pairs)} pairs/d",
    ]
    if h.rail.sanctions_from is not None:
        parts.append("sanctions")
    parts += [f"{c.option} closed {c.start:%d %b}" for c in h.closures.values() if c.enabled]
    return ", ".join(parts)


@dataclass(frozen=True)
class Prepared:
    """Everything the backtest needs before simulating."""

    files: list[HistoryYearFile]
    inputs: list[YearInputs]
    results: list[YearResult]
    loo_error: dict[int, float]  # year -> relative error of its leave-one-out prediction
    spread: dict[int, tuple[float, float]]  # predicted year -> (min, max) over the refits,
    # as ratios to the full fit's prediction


def prepare(history: Path, params: HistoryChoice, observed: Observed) -> Prepared:
    """The chain of years, the fitted choice's answer, and the leave-one-out errors."""
    files = history_chain(history)
    a = params.assumptions
    inputs = [year_inputs(f.history, a) for f in files]
    results = run_chain(inputs, params.fitted, a)
    loo_error: dict[int, float] = {}
    loo_runs: list[list[YearResult]] = []
    for year, fitted in sorted(params.leave_one_out.items()):
        run = run_chain(inputs, fitted, a)
        loo_runs.append(run)
        obs = observed.years.get(year)
        mine = next((r for r in run if r.year == year), None)
        if obs is not None and mine is not None:
            loo_error[year] = mine.total_teu / obs.total_teu - 1.0
    spread: dict[int, tuple[float, float]] = {}
    for k, r in enumerate(results):
        if r.year in observed.years or r.total_teu <= 0:
            continue
        ratios = [1.0] + [run[k].total_teu / r.total_teu for run in loo_runs]
        spread[r.year] = (min(ratios), max(ratios))
    return Prepared(files, inputs, results, loo_error, spread)


def backtest(
    history: Path,
    params: HistoryChoice,
    observed: Observed,
    replications: int,
    workers: int = 1,
    horizon_days: float | None = None,
    years: Sequence[int] = (),
) -> list[YearRow]:
    """Simulate every year (or ``years``) at the fitted demand; one row per year."""
    prep = prepare(history, params, observed)
    rows = []
    for f, r in zip(prep.files, prep.results, strict=True):
        if years and r.year not in years:
            continue
        s = with_rail_demand(f.scenario, r.teu)
        if horizon_days is not None:
            s = s.model_copy(
                update={"run": s.run.model_copy(update={"horizon_days": horizon_days})}
            )
        jobs = [(s, k, s.run.seed) for k in range(replications)]
        reps = list(map_ordered(_delivered_1520, jobs, workers))
        west = estimate([w for w, _ in reps])
        east = estimate([e for _, e in reps])
        total = estimate([w + e for w, e in reps])
        obs = observed.years.get(r.year)
        interval = None
        if r.year in prep.spread and total.mean > 0:
            lo, hi = prep.spread[r.year]
            low = total.ci_low if total.n > 1 else total.mean
            high = total.ci_high if total.n > 1 else total.mean
            interval = (low * lo, high * hi)
        rows.append(
            YearRow(
                year=r.year,
                inputs=inputs_summary(f),
                demand_teu=r.teu,
                simulated=(west, east, total),
                observed_total=obs.total_teu if obs else None,
                observed_westbound_share=obs.westbound_share if obs else None,
                loo_error=prep.loo_error.get(r.year),
                interval=interval,
                closure=r.closure[0] + r.closure[1],
            )
        )
    return rows


def _k(x: float) -> str:
    return f"{x / 1000:,.0f}k"


def _est(e: Estimate) -> str:
    if e.n < 2 or math.isnan(e.ci_low):
        return _k(e.mean)
    return f"{_k(e.mean)} [{_k(e.ci_low)}–{_k(e.ci_high)}]"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:+.1%}"


def markdown(rows: Sequence[YearRow]) -> str:
    """The backtest as a Markdown table, observed years first, then predictions."""
    head = (
        "| year | inputs | choice W / E | simulated W [95% CI] | simulated E [95% CI] | "
        "simulated total | observed (Y1) | error | W share sim / obs | leave-one-out error |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        total = _est(r.simulated[2])
        if r.interval is not None:
            total = f"**{_k(r.simulated[2].mean)}** [{_k(r.interval[0])}–{_k(r.interval[1])}]"
        obs = "prediction" if r.observed_total is None else f"{r.observed_total:,.0f}"
        share = f"{r.westbound_share:.1%}"
        if r.observed_westbound_share is not None:
            share += f" / {r.observed_westbound_share:.1%}"
        lines.append(
            f"| {r.year} | {r.inputs} | {_k(r.demand_teu[0])} / {_k(r.demand_teu[1])} | "
            f"{_est(r.simulated[0])} | {_est(r.simulated[1])} | {total} | {obs} | "
            f"{_pct(r.error)} | {share} | {_pct(r.loo_error)} |"
        )
    notes = [closure_note(r.year, r.closure) for r in rows if r.closure.booked > 0]
    return "\n".join(lines + (["", *notes] if notes else []))


def closure_note(year: int, c: ClosureSplit) -> str:
    """One line: where the choice sent the bookings of a year's rail closure (D7)."""
    return f"{year}, {c.describe()}"
