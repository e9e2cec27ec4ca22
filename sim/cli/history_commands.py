"""``corridor fit-history`` and ``corridor backtest``: the fitted time-series choice (issue 12).

Registered on the main app by :func:`register`; input problems end with exit 2 and one line,
as everywhere else in the CLI.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sim.cli.common import fail, user_errors
from sim.config.history_files import DEFAULT_ENSEMBLE, DEFAULT_HISTORY
from sim.errors import ConfigError

out = Console(soft_wrap=True, highlight=False)  # Markdown tables: never wrapped


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """The CLI's one-line errors (common.user_errors), plus a fit that cannot be done."""
    from sim.choice.posterior import FitInputError

    with user_errors():
        try:
            yield
        except FitInputError as exc:
            fail(f"fit-history: {exc}")


def _years(text: str) -> list[int]:
    """``2016-2023`` or ``2016,2017,...``."""
    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-", 1))
            return list(range(a, b + 1))
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError("--years", (), f"'{text}' is not a range (2016-2023) or a list") from None


HistoryOpt = Annotated[Path, typer.Option(help="folder of year scenarios, or one year's file")]
EnsembleOpt = Annotated[Path, typer.Option(help="the demand ensemble (structures and rule)")]


def fit_history(
    history: HistoryOpt = DEFAULT_HISTORY,
    ensemble: EnsembleOpt = DEFAULT_ENSEMBLE,
    years: Annotated[str, typer.Option(help="years to fit, e.g. 2016-2023")] = "2016-2023",
    structure: Annotated[
        list[str] | None, typer.Option(help="sample only this structure (repeatable)")
    ] = None,
    nlive: Annotated[int, typer.Option(help="live points of the nested sampler")] = 300,
    workers: Annotated[int, typer.Option(help="processes (one structure each)")] = 2,
    loo_nlive: Annotated[
        int,
        typer.Option(help="live points of the exact leave-one-year-out refits (0: PSIS only)"),
    ] = 150,
    table_only: Annotated[
        bool, typer.Option(help="no sampling: re-make the weights and tables from the draws")
    ] = False,
    observed: Annotated[
        Path | None,
        typer.Option(
            help="fit these observations instead (e.g. params/history_observed_utlc.yaml)"
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="fit a copy of the ensemble in this new folder, leaving params/demand as it is",
        ),
    ] = None,
) -> None:
    """Sample every demand structure's posterior (2016–2023 only), weigh the structures by
    the ensemble's rule, check the intervals leaving one year out; print the tables."""
    from sim.choice.demand_fit import (
        assess,
        coverage_table,
        prediction_lines,
        sample_structures,
        structure_table,
    )

    with _user_errors():
        started = time.perf_counter()
        chosen = _years(years)
        if nlive < 20:
            raise ConfigError("--nlive", (), "must be at least 20")
        if out_dir is not None or observed is not None:
            from sim.choice.demand_fit import copy_ensemble

            if out_dir is None:
                raise ConfigError("--observed", (), "needs --out: the shipped fit stays as it is")
            ensemble = copy_ensemble(ensemble, out_dir, observed)
        if not table_only:
            sample_structures(
                ensemble,
                history,
                chosen,
                nlive,
                max(1, workers),
                structure or (),
                lambda name, post, wall: out.print(
                    f"{name}: {post.likelihood_calls:,} likelihood calls, log evidence "
                    f"{post.log_evidence:.2f} ± {post.log_evidence_error:.2f} ({wall:.0f} s)",
                    markup=False,
                ),
                max(0, loo_nlive),
                lambda name, year, k, wall: out.print(
                    f"{name} without {year} (Pareto k {k:.2f}): refitted ({wall:.0f} s)",
                    markup=False,
                ),
            )
        result = assess(ensemble, history, chosen, write=True)
    out.print("\n" + structure_table(result), markup=False)
    out.print("\n" + coverage_table(result), markup=False)
    out.print("\nEnsemble predictions (median [50 %; 90 %] predictive intervals):", markup=False)
    for line in prediction_lines(result):
        out.print(f"- {line}", markup=False)
    out.print(
        f"\nwrote {ensemble} and its structures in {time.perf_counter() - started:.0f} s",
        markup=False,
    )


def backtest(
    history: HistoryOpt = DEFAULT_HISTORY,
    ensemble: EnsembleOpt = DEFAULT_ENSEMBLE,
    replications: Annotated[int, typer.Option("--replications", "-r")] = 3,
    workers: Annotated[int, typer.Option(help="processes for replications")] = 1,
    horizon_days: Annotated[float | None, typer.Option(help="override run.horizon_days")] = None,
    years: Annotated[str, typer.Option(help="only these years, e.g. 2024-2025")] = "",
    draws: Annotated[
        int, typer.Option(help="ensemble draws of each predicted year through the simulation")
    ] = 10,
) -> None:
    """Every history year at the ensemble's demand, simulated, against Y1/Y2 with the
    ensemble's intervals in and out of sample; 2024–25 predicted."""
    from sim.choice.backtest import markdown
    from sim.choice.demand_fit import assess, coverage_table, fitted_years
    from sim.workflow.backtest import backtest as run_backtest

    with _user_errors():
        started = time.perf_counter()
        result = run_backtest(
            history,
            assess(ensemble, history, fitted_years(history), write=False),
            max(1, replications),
            max(1, workers),
            horizon_days,
            _years(years) if years else (),
            max(0, draws),
        )
    out.print(markdown(result), markup=False)
    out.print("\n" + coverage_table(result.assessment), markup=False)
    out.print(
        f"\nproduced by: corridor backtest -r {replications} --draws {draws} "
        f"({time.perf_counter() - started:.0f} s; each year's run.seed; the ensemble's "
        "intervals cover structures, parameters, the fitted discrepancy, Y1's band and the "
        "simulation's noise; the simulated CI covers replications only)",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add the history commands to the ``corridor`` app."""
    app.command("fit-history")(fit_history)
    app.command("backtest")(backtest)
