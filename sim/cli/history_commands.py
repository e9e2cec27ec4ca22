"""``corridor fit-history`` and ``corridor backtest``: the fitted time-series choice (issue 12).

Registered on the main app by :func:`register`; input problems end with exit 2 and one line,
as everywhere else in the CLI.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from sim.cli.common import fail, user_errors
from sim.config.history_files import DEFAULT_HISTORY, DEFAULT_OBSERVED, DEFAULT_PARAMS
from sim.errors import ConfigError

if TYPE_CHECKING:  # the commands import their work lazily, to keep the CLI quick to start
    from sim.choice.year_chain import HistoryYearFile
    from sim.config.history import HistoryChoice, Observed

out = Console(soft_wrap=True, highlight=False)  # Markdown tables: never wrapped


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """The CLI's one-line errors (common.user_errors), plus a fit that cannot be done."""
    from sim.choice.fit_history import FitInputError

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


def _fixed(items: list[str]) -> dict[str, float]:
    """``NAME=VALUE`` pairs of ``--fix``."""
    out: dict[str, float] = {}
    for text in items:
        name, sep, value = text.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError("--fix", (), f"'{text}' is not NAME=number") from None
        if not sep:
            raise ConfigError("--fix", (), f"'{text}' is not NAME=number")
    return out


HistoryOpt = Annotated[Path, typer.Option(help="folder of year scenarios, or one year's file")]
ParamsOpt = Annotated[Path, typer.Option(help="assumptions and fitted parameters")]
ObservedOpt = Annotated[Path, typer.Option(help="observations the fit may see")]


def _load(
    history: Path, params: Path, observed: Path
) -> tuple[HistoryChoice, Observed, list[HistoryYearFile]]:
    """What fit-history and history-sensitivity read: the params, the observations, the years."""
    from sim.choice.year_chain import history_chain
    from sim.config.history_files import load_history_params, load_observed

    return load_history_params(params), load_observed(observed), history_chain(history)


def fit_history(
    history: HistoryOpt = DEFAULT_HISTORY,
    params: ParamsOpt = DEFAULT_PARAMS,
    observed: ObservedOpt = DEFAULT_OBSERVED,
    years: Annotated[str, typer.Option(help="years to fit, e.g. 2016-2023")] = "2016-2023",
    seed: Annotated[int | None, typer.Option(help="default: fit_seed of the params")] = None,
    starts: Annotated[int, typer.Option(help="seeded starting points of the optimiser")] = 8,
    leave_one_out: Annotated[bool, typer.Option(help="refit without each year")] = True,
    fix: Annotated[
        list[str] | None, typer.Option(help="pin a parameter: NAME=VALUE (repeatable)")
    ] = None,
    out_params: Annotated[
        Path | None, typer.Option("--out", help="write here instead of --params")
    ] = None,
) -> None:
    """Fit the time-series choice to the observed years jointly; rewrite the params file."""
    from sim.choice.fit_history import NAMES, fit, leave_one_year_out, to_vector
    from sim.choice.history import run_chain, year_inputs
    from sim.config.history_write import write_fit

    with _user_errors():
        started = time.perf_counter()
        hp, obs, files = _load(history, params, observed)
        chosen = _years(years)
        seed_ = hp.fit_seed if seed is None else seed
        inputs = [year_inputs(f.history, hp.assumptions) for f in files]
        fixed = _fixed(fix or [])
        result = fit(inputs, hp.assumptions, obs, chosen, seed_, starts, fixed)
        loo = (
            leave_one_year_out(
                inputs,
                hp.assumptions,
                obs,
                chosen,
                seed_,
                max(2, starts // 2),
                result.fitted,
                fixed,
            )
            if leave_one_out
            else []
        )
        wall = time.perf_counter() - started
        target = out_params or params
        if target != params:
            target.write_text(params.read_text(encoding="utf-8"), encoding="utf-8")
        write_fit(
            target,
            result.fitted,
            chosen,
            seed_,
            {r.year: r.fitted for r in loo},
            f"corridor fit-history --years {years} (seed {seed_}, {starts} starts"
            + "".join(f", --fix {t}" for t in fix or [])
            + ")",
        )
    for name, value in zip(NAMES, to_vector(result.fitted), strict=True):
        out.print(f"{name:28s} {value:12.4g}", markup=False)
    out.print(f"cost (½ Σ residual²) {result.cost:.3f} over {len(result.residuals)} residuals")
    runs = run_chain(inputs, result.fitted, hp.assumptions)
    loo_by_year = {r.year: r for r in loo}
    out.print("\n| year | fitted TEU | observed | error | leave-one-out error |", markup=False)
    out.print("|---|---|---|---|---|", markup=False)
    for r in runs:
        o = obs.years.get(r.year)
        if o is None:
            continue
        lo = loo_by_year.get(r.year)
        loo_err = f"{lo.predicted_total_teu / o.total_teu - 1:+.1%}" if lo else "—"
        out.print(
            f"| {r.year} | {r.total_teu:,.0f} | {o.total_teu:,.0f} | "
            f"{r.total_teu / o.total_teu - 1:+.1%} | {loo_err} |",
            markup=False,
        )
    out.print(f"\nwrote {out_params or params} in {wall:.1f} s", markup=False)


def backtest(
    history: HistoryOpt = DEFAULT_HISTORY,
    params: ParamsOpt = DEFAULT_PARAMS,
    observed: ObservedOpt = DEFAULT_OBSERVED,
    replications: Annotated[int, typer.Option("--replications", "-r")] = 3,
    workers: Annotated[int, typer.Option(help="processes for replications")] = 1,
    horizon_days: Annotated[float | None, typer.Option(help="override run.horizon_days")] = None,
    years: Annotated[str, typer.Option(help="only these years, e.g. 2024-2025")] = "",
) -> None:
    """Every history year simulated at the fitted choice, against Y1/Y2; 2024–25 predicted."""
    from sim.choice.backtest import backtest as run_backtest
    from sim.choice.backtest import markdown
    from sim.config.history_files import load_history_params, load_observed

    with _user_errors():
        started = time.perf_counter()
        hp = load_history_params(params)
        obs = load_observed(observed)
        rows = run_backtest(
            history,
            hp,
            obs,
            max(1, replications),
            max(1, workers),
            horizon_days,
            _years(years) if years else (),
        )
    out.print(markdown(rows), markup=False)
    out.print(
        f"\nproduced by: corridor backtest -r {replications} "
        f"({time.perf_counter() - started:.0f} s;"
        " each year's run.seed; intervals of 2024+ include the fit's uncertainty)",
        markup=False,
    )


def history_sensitivity(
    history: HistoryOpt = DEFAULT_HISTORY,
    params: ParamsOpt = DEFAULT_PARAMS,
    observed: ObservedOpt = DEFAULT_OBSERVED,
    trajectories: Annotated[int, typer.Option(help="Morris trajectories")] = 6,
    seed: Annotated[int, typer.Option()] = 2024,
    starts: Annotated[int, typer.Option(help="optimiser starts per refit")] = 3,
    fix: Annotated[
        list[str] | None, typer.Option(help="pin a parameter in every refit: NAME=VALUE")
    ] = None,
) -> None:
    """Morris screening of the 2024–25 predictions over market size, VOT, eastbound rates."""
    from sim.analysis.history_sensitivity import markdown, morris

    with _user_errors():
        started = time.perf_counter()
        hp, obs, files = _load(history, params, observed)
        fit_years = hp.fit_years or sorted(obs.years)
        result = morris(
            files, hp.assumptions, obs, fit_years, trajectories, seed, starts, _fixed(fix or [])
        )
    out.print(markdown(result), markup=False)
    out.print(
        f"\nproduced by: corridor history-sensitivity --trajectories {trajectories} "
        f"--seed {seed}"
        + "".join(f" --fix {t}" for t in fix or [])
        + f" ({time.perf_counter() - started:.0f} s)",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add the history commands to the ``corridor`` app."""
    app.command("fit-history")(fit_history)
    app.command("backtest")(backtest)
    app.command("history-sensitivity")(history_sensitivity)
