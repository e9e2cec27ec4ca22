"""Commands on sweeps: ``sweep``, ``sensitivity``, ``sweep-table``, ``discover``,
``study-report``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sim.cli.common import EXIT_INTERRUPTED, app, err, fail, out, positive_workers, user_errors
from sim.errors import ConfigError


@app.command()
def sweep(
    target: Annotated[Path, typer.Argument(help="scenario YAML, or a sweep YAML file")],
    vary: Annotated[
        list[str] | None,
        typer.Option(help="PATH=SPEC: list 8,12,16 | range(8,24,4) | interval 8:24 (repeatable)"),
    ] = None,
    replications: Annotated[int | None, typer.Option("--replications", "-r")] = None,
    seed: Annotated[int | None, typer.Option(help="root seed (default: run.seed)")] = None,
    sampler: Annotated[str | None, typer.Option(help="grid | lhs | sobol")] = None,
    samples: Annotated[
        int | None, typer.Option(help="lhs: points; sobol: base rows, a power of 2")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="fixed override dotted.path=value")
    ] = None,
    workers: Annotated[int, typer.Option(help="local processes, or LocalCluster workers")] = (
        os.cpu_count() or 1
    ),
    dask: Annotated[
        str | None, typer.Option(help="'local' (LocalCluster) or tcp://HOST:PORT")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="sweep directory (default results/sweeps/...)")
    ] = None,
    resume: Annotated[bool, typer.Option(help="run only what is missing in --out")] = False,
    chunk_size: Annotated[int | None, typer.Option(help="runs per task (default: auto)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Run a scenario over a grid / LHS / Sobol design of parameters, resumably."""
    from sim.cli.sweep_display import RichReporter, summary_table
    from sim.sweep.plan import SweepRequest
    from sim.sweep.runner import SweepInterrupted
    from sim.sweep.runner import sweep as run_sweep

    reporter = None if quiet else RichReporter(err)
    with user_errors():
        request = SweepRequest(
            target=target,
            vary=tuple(vary or ()),
            overrides=tuple(set_ or ()),
            sampler=sampler,
            samples=samples,
            replications=replications,
            seed=seed,
            out=out_dir,
            resume=resume,
            workers=positive_workers(workers),
            dask=dask,
            chunk_size=chunk_size,
        )
        try:
            summary = run_sweep(request, reporter)
        except SweepInterrupted as exc:
            if reporter:
                reporter.stop()
            fail(str(exc), EXIT_INTERRUPTED)
        finally:
            if reporter:
                reporter.stop()
        if quiet:
            out.print(str(summary.sweep_dir), highlight=False)
        else:
            out.print(summary_table(summary))


@app.command()
def sensitivity(
    sweep_dir: Annotated[Path, typer.Argument(help="a sweep directory made with --sampler sobol")],
    kpi: Annotated[
        str,
        typer.Option(help="scope:name:kpi, e.g. node:border:wait_hours_mean, or a corridor KPI"),
    ] = "corridor::transit_days_mean",
    resamples: Annotated[int, typer.Option(help="bootstrap resamples for the CIs")] = 1000,
    confidence: Annotated[float, typer.Option(help="confidence level of the CIs")] = 0.95,
) -> None:
    """Sobol indices (first order S1 and total ST, with CIs) of a KPI to the varied parameters."""
    from sim.analysis.sensitivity import analyse_sweep, doubtful_parameters

    with user_errors():
        doc = analyse_sweep(sweep_dir, kpi, resamples=resamples, confidence=confidence)
        doubtful = doubtful_parameters(doc)
        if doubtful:
            err.print(
                f"corridor: warning: Sobol indices of {', '.join(doubtful)} lie outside [0, 1] "
                "or have intervals wider than ±0.5: the sample is too small, use more --samples",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        table = Table(
            title=f"Sobol indices of {doc['kpi']} ({doc['points']} points, "
            f"mean of {doc['replications']} replication(s) each)",
            title_justify="left",
        )
        for col in ("parameter", "S1", "± S1", "ST", "± ST"):
            table.add_column(col, justify="left" if col == "parameter" else "right")
        for path, ix in doc["parameters"].items():
            table.add_row(path, *(f"{ix[k]:.3f}" for k in ("S1", "S1_conf", "ST", "ST_conf")))
        out.print(table)
        spread = doc["spread"]
        out.print(
            f"over the design (point means): 5th percentile {spread['p5']:.4g}, "
            f"median {spread['median']:.4g}, 95th percentile {spread['p95']:.4g}",
            highlight=False,
            soft_wrap=True,
        )
        out.print(f"wrote {sweep_dir / 'sensitivity.json'}", highlight=False)


@app.command("sweep-table")
def sweep_table_command(
    sweep_dir: Annotated[Path, typer.Argument(help="a sweep directory")],
    metric: Annotated[
        list[str] | None,
        typer.Option(help="KPI, node:NODE:KPI or flow:FLOW:KPI (repeatable)"),
    ] = None,
) -> None:
    """A Markdown table of a sweep: one row per point, mean and 95% CI of each metric."""
    from sim.analysis.sweep_table import DEFAULT_METRICS, sweep_table

    with user_errors():
        sys.stdout.write(sweep_table(sweep_dir, metric or list(DEFAULT_METRICS)) + "\n")


@app.command()
def discover(
    sweep_dir: Annotated[Path, typer.Argument(help="a sweep directory")],
    kpi: Annotated[str, typer.Argument(help="KPI, node:NODE:KPI, flow:FLOW:KPI or market:M:KPI")],
    above: Annotated[
        float | None, typer.Option(help="find where the KPI's point mean exceeds this")
    ] = None,
    below: Annotated[
        float | None, typer.Option(help="find where the KPI's point mean is under this")
    ] = None,
    min_density: Annotated[
        float, typer.Option(help="least share of a box's points where the condition holds")
    ] = 0.8,
    boxes: Annotated[int, typer.Option(help="at most this many boxes")] = 3,
    out_file: Annotated[Path, typer.Option("--out", help="figure file, .png or .svg")] = Path(
        "discovery.png"
    ),
) -> None:
    """Scenario discovery (PRIM): the input ranges where a KPI is above or below a threshold."""
    from sim.analysis.discovery import Direction
    from sim.analysis.discovery import discover as find_boxes
    from sim.plots.common import check_format, save_figure
    from sim.plots.discovery import discovery_figure
    from sim.store.sweeps import read_sweep_manifest

    with user_errors():
        direction: Direction
        if above is not None and below is None:
            threshold, direction = above, "above"
        elif below is not None and above is None:
            threshold, direction = below, "below"
        else:
            raise ConfigError("discover", (), "give exactly one of --above VALUE or --below VALUE")
        check_format(out_file)
        result = find_boxes(sweep_dir, kpi, threshold, direction, min_density, boxes)
        reps = read_sweep_manifest(sweep_dir).get("replications", "?")
        missing = (
            f"; {result.points_without_value} point(s) without a value left out"
            if result.points_without_value
            else ""
        )
        out.print(
            f"{result.points} points (KPI averaged over {reps} replication(s) each), "
            f"{result.of_interest} with {result.condition}{missing}",
            highlight=False,
            soft_wrap=True,
        )
        for line in result.describe():
            out.print(line, highlight=False, soft_wrap=True, markup=False)
        if result.boxes:
            save_figure(discovery_figure(result), out_file)
            out.print(f"wrote {out_file}", highlight=False)


@app.command("study-report")
def study_report(
    sweep_dir: Annotated[Path, typer.Argument(help="the sweep directory of a study")],
    out_file: Annotated[Path, typer.Option("--out", help="the report page, .html")] = Path(
        "study.html"
    ),
    figure: Annotated[
        Path | None, typer.Option(help="also write the study's figure here (.png or .svg)")
    ] = None,
    boxes: Annotated[int, typer.Option(help="at most this many boxes a question")] = 3,
) -> None:
    """A study's findings: PRIM boxes for each of its questions, in plain words, and a page."""
    from sim.analysis.study import study_findings
    from sim.plots.common import check_format, save_figure
    from sim.plots.study import study_figure
    from sim.report.study import write_study_report

    with user_errors():
        if figure is not None:
            check_format(figure)
        if boxes < 1:
            raise ConfigError("--boxes", (), f"must be at least 1 (got {boxes})")
        found = study_findings(sweep_dir, boxes)
        unfinished = f" of the {found.planned} planned" if found.points < found.planned else ""
        out.print(
            f"{found.points} points{unfinished}, {found.replications} replication(s) each: "
            f"{found.description}",
            highlight=False,
            soft_wrap=True,
        )
        for finding in found.findings:
            for sentence in finding.sentences:
                out.print(f"- {sentence}", highlight=False, soft_wrap=True, markup=False)
        write_study_report(found, out_file)
        out.print(f"wrote {out_file}", highlight=False)
        if figure is not None:
            save_figure(study_figure(found), figure)
            out.print(f"wrote {figure}", highlight=False)
