"""Commands that set the model beside the facts: ``calibrate``, ``headline``,
``calibrate-choice``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.choice_report import calibration_report, parse_factors
from sim.cli.common import app, err, out, positive_workers, user_errors
from sim.cli.progress import progress_bar
from sim.config.loader import load_scenario


@app.command()
def calibrate(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="scenarios (default: the two baselines and scenarios/episodes/)"),
    ] = None,
    replications: Annotated[
        int | None,
        typer.Option("--replications", "-r", help="per scenario (20); --posterior: per point (2)"),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="root seed (default: each file's)")] = None,
    horizon_days: Annotated[float | None, typer.Option(help="override run.horizon_days")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    posterior: Annotated[
        bool, typer.Option("--posterior", help="sample the border parameters' posterior instead")
    ] = False,
    draws: Annotated[int, typer.Option(help="--posterior: draws to keep", min=1)] = 200,
    design_points: Annotated[int, typer.Option(help="--posterior: LHS points", min=8)] = 32,
    workers: Annotated[int, typer.Option(help="--posterior: processes")] = 1,
    out_file: Annotated[Path, typer.Option("--out", help="--posterior: file to write")] = Path(
        "params/border_posterior.yaml"
    ),
) -> None:
    """Run the baselines and the scenarios with `observed:` targets against them; exit 1 if one
    is missed. With --posterior: the border parameters' posterior from the episodes
    (docs/border_posterior.md), written to --out."""
    if posterior:
        from sim.cli.border_posterior import border_posterior

        border_posterior(
            draws,
            design_points,
            replications or 2,
            1 if seed is None else seed,
            workers,
            out_file,
            quiet,
        )
        return
    from sim.analysis.targets import default_files, markdown
    from sim.cli.studies import calibrate

    replications = replications or 20
    chosen = files or default_files()
    with user_errors(), progress_bar(err, "calibrate", None, quiet) as step:
        report = calibrate(chosen, replications, seed, horizon_days, on_step=step)
    out.print(markdown(report), markup=False, highlight=False, soft_wrap=True)
    if not report.all_met:
        raise typer.Exit(1)


@app.command()
def headline(
    folder: Annotated[Path, typer.Option(help="folder of the shipped scenarios")] = Path(
        "scenarios"
    ),
    replications: Annotated[int, typer.Option("--replications", "-r")] = 10,
    horizon_days: Annotated[float | None, typer.Option(help="override run.horizon_days")] = None,
    workers: Annotated[int, typer.Option(help="processes for replications")] = 1,
    only: Annotated[list[str] | None, typer.Option(help="scenario name (repeatable)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    history_params: Annotated[
        Path | None,
        typer.Option(
            help="demand ensemble for the history years instead of their own "
            "(e.g. one structure alone: an ensemble file listing it)"
        ),
    ] = None,
    draws: Annotated[
        int,
        typer.Option(
            min=0,
            help="also N paired draws of each pair (run --draws): the changes' 90 %% "
            "prediction intervals in a second table",
        ),
    ] = 0,
) -> None:
    """Every shipped scenario against its baseline (paired), as a Markdown table."""
    from sim.analysis.headline import headline_of, markdown
    from sim.workflow.headline import run_pairs

    # runs and mode-choice iterations: the count is not known in advance
    with user_errors(), progress_bar(err, "headline", None, quiet) as step:
        pairs = run_pairs(
            folder,
            replications,
            horizon_days,
            positive_workers(workers),
            only or (),
            step,
            history_params,
            draws,
        )
        rows = [headline_of(pair) for pair in pairs]  # the runs, read
    out.print(markdown(rows), markup=False, highlight=False, soft_wrap=True)
    seeds = "each scenario's run.seed, shared with its baseline"
    out.print(
        f"\nproduced by: corridor headline -r {replications}"
        + (f" --horizon-days {horizon_days:g}" if horizon_days else "")
        + (f" --history-params {history_params}" if history_params else "")
        + (f" --draws {draws}" if draws else "")
        + f" ({seeds})",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command("calibrate-choice")
def calibrate_choice(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML with a mode_choice section")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override a field: dotted.path=value (repeatable)"),
    ] = None,
    vot_factors: Annotated[
        str, typer.Option(help="value-of-time multipliers for the sensitivity table")
    ] = "0.5,1,2",
    workers: Annotated[int, typer.Option(help="processes for replications")] = 1,
) -> None:
    """Fit the rail constant so the simulated rail share matches the observed one; VOT table."""
    with user_errors():
        loaded, _ = load_scenario(scenario, tuple(set_ or ()))
        factors = parse_factors(vot_factors)
        report = calibration_report(loaded, str(scenario), factors, positive_workers(workers), err)
        out.print(report, highlight=False, markup=False)
