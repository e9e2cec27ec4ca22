"""Backtest: every history year from its own inputs, the demand ensemble's answer, simulated.

For each year of ``scenarios/history/`` the ensemble (every structure's posterior draws,
weighed by the rule of ``params/demand/ensemble.yaml``) gives the rail demand per direction:
its median is simulated (a few replications, the year's seed) and the TEU delivered through
the 1520 network (the Middle Corridor routes excluded, as in Y1) is reported per direction
with a 95 % interval across replications. Beside it, the ensemble's predictive interval of
the year (structures, parameters, the fitted discrepancy, the series' band and the
simulation's noise), and for 2016–2023 whether the observation is inside it, in sample and
with the year left out (PSIS-LOO, :mod:`sim.choice.weighing`). Years without observations
(2024, 2025) are predictions: median with 50 % and 90 % intervals, in total, by direction and
for the Middle Corridor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.choice import kernel as K
from sim.choice.ensemble import EnsembleRun, YearPrediction
from sim.choice.history import NO_CLOSURE, Chain, ClosureSplit
from sim.choice.history_demand import china_eu_flows, is_westbound, share_1520
from sim.choice.year_chain import HistoryYearFile
from sim.config.scenario import Scenario
from sim.stats import Estimate

if TYPE_CHECKING:  # the assessment comes from the caller (sim.choice.demand_fit.assess)
    from sim.choice.demand_fit import Assessment
    from sim.engine.replications import ReplicationOutput


def delivered_1520(s: Scenario, out: ReplicationOutput) -> tuple[float, float]:
    """TEU per year delivered on 1520 routes in one replication, per direction."""
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
    prediction: YearPrediction  # the ensemble's, in sample for 2016–2023
    simulated: tuple[Estimate, Estimate, Estimate]  # westbound, eastbound, total delivered
    observed_total: float | None
    observed_westbound_share: float | None
    closure: ClosureSplit = NO_CLOSURE  # both directions: where a rail closure's bookings went
    through_simulation: Estimate | None = None  # total over ensemble draws, each simulated
    draw_totals: tuple[float, ...] = ()  # those draws' simulated totals, in quantile order

    @property
    def demand_teu(self) -> tuple[float, float]:
        return self.prediction.demand_teu

    @property
    def error(self) -> float | None:
        if self.observed_total is None:
            return None
        return self.simulated[2].mean / self.observed_total - 1.0

    @property
    def westbound_share(self) -> float:
        return self.simulated[0].mean / self.simulated[2].mean if self.simulated[2].mean else 0.0


def inputs_summary(f: HistoryYearFile, chain: Chain) -> str:
    """The year's inputs in one cell; the border as the network gives it to the choice
    (China–EU TEU a year westbound, per half-year)."""
    h = f.history
    sea = h.sea.half_year_rates_usd_per_feu or [h.sea.rate_usd_per_feu] * 2
    k = chain.years.index(h.year)
    caps = [2.0 * chain.halves[2 * k + i, K.H_CAP_W] / 1000.0 for i in (0, 1)]
    parts = [
        f"sea ${sea[0]:,.0f}/{sea[1]:,.0f}",
        f"on time {h.sea.on_time_share:.0%}",
        f"rail ${h.rail.rate_usd_per_feu:,.0f}",
        f"border {caps[0]:,.0f}k/{caps[1]:,.0f}k TEU/yr W",
    ]
    if h.rail.sanctions_from is not None:
        parts.append("sanctions")
    parts += [f"{c.option} closed {c.start:%d %b}" for c in h.closures.values() if c.enabled]
    return ", ".join(parts)


@dataclass(frozen=True)
class Backtest:
    """The rows and the ensemble's assessment they came from."""

    rows: list[YearRow]
    assessment: Assessment


def quantile_draws(er: EnsembleRun, year: int, n: int) -> list[int]:
    """``n`` ensemble draws at evenly spaced quantiles of the year's choice total."""
    t = er.teu(year)
    total = t[:, 0] + t[:, 1]
    order = np.argsort(total, kind="stable")
    return [int(order[min(len(order) - 1, int((k + 0.5) / n * len(order)))]) for k in range(n)]


def _k(x: float) -> str:
    return f"{x / 1000:,.0f}k"


def _est(e: Estimate) -> str:
    if e.n < 2 or math.isnan(e.ci_low):
        return _k(e.mean)
    return f"{_k(e.mean)} [{_k(e.ci_low)}–{_k(e.ci_high)}]"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:+.1%}"


def markdown(bt: Backtest) -> str:
    """The backtest as Markdown: observed years (in sample), then predictions."""
    head = (
        "| year | inputs | ensemble median [90 %] | observed (Y1) | inside 90 % | "
        "simulated W / E [95 % CI] | simulated total | error | W share sim / obs |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    predicted = []
    for r in bt.rows:
        p = r.prediction.total
        obs = "prediction" if r.observed_total is None else f"{r.observed_total:,.0f}"
        inside = (
            "—"
            if r.observed_total is None
            else ("yes" if p.contains(r.observed_total, 90) else "no")
        )
        share = f"{r.westbound_share:.1%}"
        if r.observed_westbound_share is not None:
            share += f" / {r.observed_westbound_share:.1%}"
        lines.append(
            f"| {r.year} | {r.inputs} | {_k(p.median)} [{_k(p.low90)}–{_k(p.high90)}] | {obs} | "
            f"{inside} | {_est(r.simulated[0])} / {_est(r.simulated[1])} | "
            f"{_est(r.simulated[2])} | {_pct(r.error)} | {share} |"
        )
        if r.observed_total is None:
            predicted.append(r)
    if predicted:
        lines += [
            "",
            "| predicted year | quantity | median | 50 % interval | 90 % interval | "
            "low end from | high end from |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in predicted:
            for label, iv in r.prediction.quantities():
                lines.append(
                    f"| {r.year} | {label} | {_k(iv.median)} | {_k(iv.low50)}–{_k(iv.high50)} | "
                    f"{_k(iv.low90)}–{_k(iv.high90)} | {iv.low_driver} | {iv.high_driver} |"
                )
    for r in predicted:
        if r.draw_totals:
            q = np.quantile(np.asarray(r.draw_totals), [0.05, 0.5, 0.95])
            lines.append(
                f"\n{r.year} through the simulation: {len(r.draw_totals)} ensemble draws at "
                f"evenly spaced quantiles of the choice, one replication each, deliver "
                f"{_k(q[1])} TEU (5–95 %: {_k(q[0])}–{_k(q[2])}; parameters and structures "
                "only, no discrepancy)"
            )
    notes = [closure_note(r.year, r.closure) for r in bt.rows if r.closure.booked > 0]
    return "\n".join(lines + (["", *notes] if notes else []))


def closure_note(year: int, c: ClosureSplit) -> str:
    """One line: where the choice sent the bookings of a year's rail closure (D7)."""
    return f"{year}, {c.describe()}"
