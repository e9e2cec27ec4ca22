"""``corridor backtest``: every history year at the demand ensemble's answer, simulated.

The ensemble's prediction of each year (:mod:`sim.choice.ensemble`) sets the year's rail
flows; the year then runs through the one lifecycle (:mod:`sim.workflow.lifecycle`) as a
scenario given in memory (its demand is the prediction's, not re-derived), and
:mod:`sim.choice.backtest` reads the TEU delivered on the 1520 network into its table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sim.choice.backtest import Backtest, YearRow, delivered_1520, inputs_summary, quantile_draws
from sim.choice.ensemble import predict_year, run
from sim.choice.history_demand import with_rail_demand
from sim.choice.network_years import chain_of
from sim.choice.year_chain import history_chain
from sim.stats import Estimate, estimate
from sim.workflow.lifecycle import Outcome, choose, prepare, run_batch, run_scenario

if TYPE_CHECKING:  # the assessment comes from the caller (sim.choice.demand_fit.assess)
    from sim.choice.demand_fit import Assessment


def backtest(
    history: Path,
    assessment: Assessment,
    replications: int,
    workers: int = 1,
    horizon_days: float | None = None,
    years: Sequence[int] = (),
    draws: int = 0,
) -> Backtest:
    """Simulate every year (or ``years``) at the ensemble's median demand; one row per year.
    ``draws`` > 0 also takes that many ensemble draws of each predicted year (at evenly
    spaced quantiles of its choice) through the simulation, one replication each with the
    year's seed (common random numbers: the draws differ only in their demand)."""
    files = history_chain(history)
    a = assessment
    ens = a.ensemble
    chain = chain_of(history, ens.members[0].model.assumptions)
    er = run(ens, chain, 2000, ens.ensemble.seed)
    rows = []
    for f in files:
        y = f.history.year
        if years and y not in years:
            continue
        pred = predict_year(ens, er, y, ens.ensemble.seed)
        s = with_rail_demand(f.scenario, pred.demand_teu)
        if horizon_days is not None:
            s = s.model_copy(
                update={"run": s.run.model_copy(update={"horizon_days": horizon_days})}
            )
        median: Outcome[object] = run_scenario(
            s, replications=replications, workers=workers, with_tables=False
        )
        reps = [delivered_1520(median.scenario, o) for o in median.outputs]
        obs = ens.observed.years.get(y)
        through: Estimate | None = None
        draw_totals: tuple[float, ...] = ()
        if draws > 0 and obs is None:
            picks = quantile_draws(er, y, draws)
            teu = er.teu(y)
            sims = [with_rail_demand(f.scenario, (teu[i, 0], teu[i, 1])) for i in picks]
            if horizon_days is not None:
                sims = [
                    x.model_copy(
                        update={"run": x.run.model_copy(update={"horizon_days": horizon_days})}
                    )
                    for x in sims
                ]
            ran: list[Outcome[object]] = run_batch(
                [(prepare(x), choose(x)) for x in sims],
                replications=1,
                workers=workers,
                with_tables=False,
            )
            done = [delivered_1520(o.scenario, o.outputs[0]) for o in ran]
            draw_totals = tuple(w + e for w, e in done)
            through = estimate(list(draw_totals))
        rows.append(
            YearRow(
                year=y,
                inputs=inputs_summary(f, chain),
                prediction=pred,
                simulated=(
                    estimate([w for w, _ in reps]),
                    estimate([e for _, e in reps]),
                    estimate([w + e for w, e in reps]),
                ),
                observed_total=obs.total_teu if obs else None,
                observed_westbound_share=obs.westbound_share if obs else None,
                closure=er.closure(y),
                through_simulation=through,
                draw_totals=draw_totals,
            )
        )
    return Backtest(rows, a)
