"""The ``corridor`` command: parse arguments, call the library, print. No logic lives here.

Input problems end with exit code 2 and one line ``corridor: error: FILE: FIELD: problem``;
an interrupted run exits 130 and leaves no results directory behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from sim.choice.fixed_point import Iteration
from sim.cli.choice_print import iteration_line, print_mode_choice
from sim.cli.choice_report import calibration_report, parse_factors
from sim.cli.validate import check_file
from sim.config.loader import load_raw, load_scenario
from sim.config.scenario import Scenario
from sim.engine.replications import ReplicationOutput
from sim.errors import ConfigError
from sim.formatting import format_value
from sim.workflow.run import RunRequest, execute

app = typer.Typer(
    name="corridor",
    help="Discrete-event simulation of China–EU rail freight through Belarus.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

EXIT_INPUT = 2
EXIT_INTERRUPTED = 130


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    err.print(f"corridor: error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn input errors and interrupts into one line and an exit code, never a traceback."""
    try:
        yield
    except ConfigError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; no results directory was written", EXIT_INTERRUPTED)


def _ci(est: dict[str, Any]) -> str:
    unit = est["unit"]
    if est["ci_low"] is None:
        return "–"
    return f"{format_value(est['ci_low'], unit)} – {format_value(est['ci_high'], unit)}"


def print_summary(summary: dict[str, Any], scenario: Scenario) -> None:
    conf = round(summary["confidence"] * 100)
    table = Table(
        title=f"{summary['scenario']}: {summary['replications']} replication(s), "
        f"{summary['horizon_days']:g} days from {summary['start_date']}",
        title_justify="left",
    )
    table.add_column("KPI")
    table.add_column("mean", justify="right")
    table.add_column(f"{conf}% CI", justify="right")
    table.add_column("unit")
    for name, est in summary["kpis"].items():
        table.add_row(name, format_value(est["mean"], est["unit"]), _ci(est), est["unit"])
    out.print(table)
    nodes = Table(title="capacity-limited nodes (means across replications)", title_justify="left")
    reduced = any(k["recovery_days"]["mean"] is not None for k in summary["nodes"].values())
    columns = ["node", "util", "wait h", "p95 h", "q max", "q end", "handled"]
    if reduced:
        columns.append("clear d")  # recovery_days: days for a closure's backlog to clear
    for col in columns:
        nodes.add_column(col, justify="left" if col == "node" else "right", no_wrap=True)
    for nid, kpis in summary["nodes"].items():
        if scenario.nodes[nid].servers is None and kpis["servers_mean"]["mean"] is None:
            continue
        cells = [
            nid,
            format_value(kpis["utilisation"]["mean"], "fraction"),
            format_value(kpis["wait_hours_mean"]["mean"]),
            format_value(kpis["wait_hours_p95"]["mean"]),
            format_value(kpis["queue_max"]["mean"]),
            format_value(kpis["queue_end"]["mean"]),
            format_value(kpis["trains_handled"]["mean"]),
        ]
        if reduced:
            cells.append(format_value(kpis["recovery_days"]["mean"]))
        nodes.add_row(*cells)
    if nodes.row_count:
        out.print(nodes)
    if "mode_choice" in summary:
        print_mode_choice(summary["mode_choice"], out)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    replications: Annotated[
        int | None, typer.Option("--replications", "-r", help="override run.replications")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="override run.seed (root seed)")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override a field: dotted.path=value (repeatable)"),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="results directory (default results/<name>/<time>)")
    ] = None,
    workers: Annotated[int, typer.Option(help="processes for replications")] = 1,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="print only the run directory")
    ] = False,
) -> None:
    """Simulate a scenario; print KPIs with confidence intervals; write a results directory."""
    with user_errors():
        request = RunRequest(
            scenario_file=scenario,
            overrides=tuple(set_ or ()),
            replications=replications,
            seed=seed,
            out=out_dir,
            workers=max(1, workers),
        )

        def progress(o: ReplicationOutput) -> None:
            if not quiet:
                err.print(
                    f"  replication {o.replication}: {o.trains} trains, {o.wall_seconds:.2f} s",
                    highlight=False,
                )

        def iteration(it: Iteration) -> None:
            if not quiet:
                err.print(f"  mode choice {iteration_line(it)}", highlight=False)

        outcome = execute(request, on_done=progress, on_iteration=iteration)
        if quiet:
            out.print(str(outcome.run_dir), highlight=False)
            return
        print_summary(outcome.summary, outcome.scenario)
        out.print(f"results: {outcome.run_dir}  ({outcome.wall_seconds:.1f} s)", highlight=False)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="scenario, params or sweep files")],
) -> None:
    """Check files; exit 0 when all are valid, 2 otherwise (one line per bad file)."""
    bad = 0
    for path in files:
        try:
            kind = check_file(path)
            out.print(f"ok: {path} ({kind})", highlight=False)
        except ConfigError as exc:
            bad += 1
            err.print(f"corridor: error: {exc}", markup=False, highlight=False, soft_wrap=True)
    if bad:
        raise typer.Exit(EXIT_INPUT)


def _catalogue(folder: Path) -> list[tuple[str, str]]:
    rows = []
    for path in sorted(folder.rglob("*.yaml")):
        try:
            raw = load_raw(path)
            text = str(raw.data.get("description", "")).strip().splitlines()
            rows.append((str(path), text[0] if text else ""))
        except ConfigError as exc:
            rows.append((str(path), f"(invalid: {exc.problem})"))
    return rows


@app.command("list")
def list_(
    root: Annotated[
        Path, typer.Option(help="project folder holding scenarios/ and params/")
    ] = Path("."),
) -> None:
    """The scenarios and params shipped, with their one-line descriptions."""
    for folder in ("scenarios", "params"):
        table = Table(title=folder, title_justify="left")
        table.add_column("file", no_wrap=True)
        table.add_column("description")
        for name, text in _catalogue(root / folder):
            table.add_row(name, text)
        out.print(table)


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--out", help="write to a file")] = None,
) -> None:
    """Print the JSON Schema of the scenario format (for editor completion and checks)."""
    doc = Scenario.model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "corridor scenario"
    text = json.dumps(doc, indent=2)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text + "\n")
        out.print(f"wrote {output}", highlight=False)


@app.command()
def compare(
    runs: Annotated[
        list[Path], typer.Argument(help="results directories; the first is the baseline")
    ],
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", help="KPI, node:ID:KPI or flow:ID:KPI (repeatable)"),
    ] = None,
    out_file: Annotated[Path, typer.Option("--out", help="bar chart, .png or .svg")] = Path(
        "comparison.png"
    ),
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="also write the differences as CSV")
    ] = None,
) -> None:
    """Bars with CIs per scenario, and differences from the first run (paired when seeds match)."""
    # imported here, not at the top: matplotlib is slow to import and `run` never needs it
    from sim.analysis.compare import DEFAULT_METRICS, difference_rows, differences, write_csv
    from sim.plots import save_figure
    from sim.plots.common import check_format
    from sim.plots.comparison import comparison_figure
    from sim.store.runs import open_runs, parse_metric

    with user_errors():
        check_format(out_file)
        metrics = [parse_metric(m) for m in (metric or DEFAULT_METRICS)]
        opened = open_runs(runs)
        diffs = differences(opened, metrics)
        save_figure(comparison_figure(opened, metrics, diffs), out_file)
        if diffs:
            conf = round(opened[0].confidence * 100)
            mixed = any(not d.paired for d in diffs)
            table = Table(title=f"difference from {opened[0].label}", title_justify="left")
            heads = ["metric", "scenario", "difference", f"{conf}% CI", "relative"]
            for head in heads + (["interval"] if mixed else []):
                left = head in heads[:2]
                table.add_column(head, justify="left" if left else "right", overflow="fold")
            for row in difference_rows(diffs):
                unit = f" {row['unit']}" if row["unit"] not in ("", "fraction") else ""
                cells = [row["metric"], row["scenario"], row["difference"] + unit, row["ci"]]
                table.add_row(*cells, row["relative"], *([row["method"]] if mixed else []))
            out.print(table)
            paired = "paired: replication r against r of the baseline (same root seed)"
            welch = "Welch: unpaired, the runs have different root seeds or replication counts"
            out.print(f"{paired}\n{welch}" if mixed else paired, highlight=False)
        if csv_file is not None:
            write_csv(diffs, csv_file)
            out.print(f"wrote {csv_file}", highlight=False)
        out.print(f"wrote {out_file}", highlight=False)


@app.command()
def plot(
    directory: Annotated[Path, typer.Argument(help="results directory or sweep directory")],
    kind: Annotated[
        str,
        typer.Option(
            help="throughput|queues|transit|utilisation|train-graph|map "
            "(run); response|heatmap|sensitivity (sweep)"
        ),
    ],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="image file, .png or .svg (default KIND.png)")
    ] = None,
    route: Annotated[str | None, typer.Option(help="train-graph: route id")] = None,
    replication: Annotated[int, typer.Option(help="train-graph: replication")] = 0,
    days: Annotated[
        str | None, typer.Option(help="train-graph: window FROM:TO in days from start_date")
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="sweep: KPI, node:ID:KPI or flow:ID:KPI")
    ] = None,
    x: Annotated[str | None, typer.Option(help="sweep: parameter on the x axis")] = None,
    by: Annotated[
        str | None, typer.Option(help="sweep: second parameter (lines or heatmap rows)")
    ] = None,
) -> None:
    """Draw one chart of a run or a sweep into a PNG or SVG file."""
    from sim.plots import PlotOptions
    from sim.plots import plot as draw_plot
    from sim.plots.common import check_format

    with user_errors():
        target = out_file or Path(f"{kind}.png")
        check_format(target)
        window = None
        if days is not None:
            try:
                a, b = (float(v) for v in days.split(":"))
            except ValueError:
                raise ConfigError("--days", (), f"'{days}': use FROM:TO, e.g. 200:260") from None
            window = (a, b)
        opts = PlotOptions(route, replication, window, metric, x, by)
        draw_plot(directory, kind, target, opts)
        out.print(f"wrote {target}", highlight=False)


@app.command()
def report(
    runs: Annotated[
        list[Path], typer.Argument(help="results directories; the first is the baseline")
    ],
    out_file: Annotated[Path, typer.Option("--out", help="HTML file")] = Path("report.html"),
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", help="KPIs for the comparison (repeatable)"),
    ] = None,
) -> None:
    """One self-contained HTML page: scenarios, KPI table, comparison and plots."""
    from sim.report.html import write_report

    with user_errors():
        write_report(runs, out_file, metric)
        out.print(f"report: {out_file}", highlight=False)


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
            workers=max(1, workers),
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
    from sim.analysis.sensitivity import analyse_sweep

    with user_errors():
        doc = analyse_sweep(sweep_dir, kpi, resamples=resamples, confidence=confidence)
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
        out.print(f"wrote {sweep_dir / 'sensitivity.json'}", highlight=False)


@app.command()
def calibrate(
    files: Annotated[
        list[Path] | None, typer.Argument(help="baselines (default: the two shipped ones)")
    ] = None,
    replications: Annotated[int, typer.Option("--replications", "-r")] = 20,
    seed: Annotated[int | None, typer.Option(help="root seed (default: each file's)")] = None,
    horizon_days: Annotated[float | None, typer.Option(help="override run.horizon_days")] = None,
) -> None:
    """Run the baselines and compare them with sourced targets; exit 1 if one is missed."""
    from sim.analysis.targets import DEFAULT_BASELINES, calibrate, markdown

    with user_errors():
        report = calibrate(files or list(DEFAULT_BASELINES), replications, seed, horizon_days)
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
) -> None:
    """Every shipped scenario against its baseline (paired), as a Markdown table."""
    from sim.analysis.headline import headlines, markdown

    with user_errors():
        rows = headlines(folder, replications, horizon_days, max(1, workers), only or ())
    out.print(markdown(rows), markup=False, highlight=False, soft_wrap=True)
    seeds = "each scenario's run.seed, shared with its baseline"
    out.print(
        f"\nproduced by: corridor headline -r {replications}"
        + (f" --horizon-days {horizon_days:g}" if horizon_days else "")
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
        report = calibration_report(loaded, str(scenario), factors, max(1, workers), err)
        out.print(report, highlight=False, markup=False)


@app.command("sweep-table")
def sweep_table_command(
    sweep_dir: Annotated[Path, typer.Argument(help="a sweep directory")],
    metric: Annotated[
        list[str] | None,
        typer.Option(help="KPI, node:ID:KPI or flow:ID:KPI (repeatable)"),
    ] = None,
) -> None:
    """A Markdown table of a sweep: one row per point, mean and 95% CI of each metric."""
    from sim.analysis.sweep_table import DEFAULT_METRICS, sweep_table

    with user_errors():
        sys.stdout.write(sweep_table(sweep_dir, metric or list(DEFAULT_METRICS)) + "\n")


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Console entry point: SIGTERM is treated like Ctrl-C so staging directories are removed."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except KeyboardInterrupt:
        err.print("corridor: error: interrupted; no results directory was written")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # a bug, not an input error: say so briefly unless debugging
        if os.environ.get("CORRIDOR_DEBUG"):
            raise
        err.print(
            f"corridor: internal error: {type(exc).__name__}: {exc} "
            "(set CORRIDOR_DEBUG=1 for a traceback)",
            markup=False,
        )
        sys.exit(1)
