"""Commands on one scenario: ``run``, ``validate``, ``list``, ``schema``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from sim.choice.fixed_point import Iteration
from sim.cli.choice_print import iteration_line, print_mode_choice
from sim.cli.common import (
    EXIT_INPUT,
    app,
    err,
    out,
    positive_workers,
    user_errors,
    warn,
)
from sim.cli.interrupts import EXIT_INTERRUPTED as EXIT_INTERRUPTED
from sim.cli.markets import markets_table
from sim.cli.prediction import prediction_table
from sim.cli.validate import check_file
from sim.config.loader import load_raw
from sim.config.scenario import Scenario
from sim.engine.replications import ReplicationOutput
from sim.errors import ConfigError
from sim.formatting import format_value
from sim.workflow.run import RunRequest, execute


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
    strict: Annotated[
        bool, typer.Option(help="refuse a scenario with warnings (e.g. an event outside the run)")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="let --out replace a previous corridor run there")
    ] = False,
    draws: Annotated[
        int,
        typer.Option(
            min=0,
            help="also run N joint draws of params/uncertainty.yaml's inputs, the border "
            "posterior and the demand ensemble (one replication each): a prediction interval "
            "beside the replication interval",
        ),
    ] = 0,
) -> None:
    """Simulate a scenario; print KPIs with confidence intervals; write a results directory."""
    with user_errors():
        request = RunRequest(
            scenario_file=scenario,
            overrides=tuple(set_ or ()),
            replications=replications,
            seed=seed,
            out=out_dir,
            workers=positive_workers(workers),
            strict=strict,
            force=force,
            draws=draws,
        )
        every = max(1, draws // 10)

        def drawn(o: ReplicationOutput) -> None:
            if not quiet and ((o.replication + 1) % every == 0 or o.replication + 1 == draws):
                err.print(f"  draws: {o.replication + 1}/{draws}", highlight=False)

        def progress(o: ReplicationOutput) -> None:
            if not quiet:
                err.print(
                    f"  replication {o.replication}: {o.trains} trains, {o.wall_seconds:.2f} s",
                    highlight=False,
                )

        def iteration(it: Iteration) -> None:
            if not quiet:
                err.print(f"  mode choice {iteration_line(it)}", highlight=False)

        outcome = execute(
            request, on_done=progress, on_iteration=iteration, on_warning=warn, on_draw=drawn
        )
        if quiet:
            out.print(str(outcome.run_dir), highlight=False)
            return
        print_summary(outcome.summary, outcome.scenario)
        out.print(f"results: {outcome.run_dir}  ({outcome.wall_seconds:.1f} s)", highlight=False)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="scenario, params or sweep files")],
    strict: Annotated[bool, typer.Option(help="count warnings as errors")] = False,
) -> None:
    """Check files; exit 0 when all are valid, 2 otherwise (one line per bad file)."""
    bad = 0
    for path in files:
        try:
            kind = check_file(path, on_warning=None if strict else warn)
            out.print(f"ok: {path} ({kind})", highlight=False)
        except ConfigError as exc:
            bad += 1
            err.print(f"corridor: error: {exc}", markup=False, highlight=False, soft_wrap=True)
    if bad:
        raise typer.Exit(EXIT_INPUT)


def _catalogue(folder: Path) -> list[tuple[str, str]]:
    """(file relative to ``folder``, first line of its description) for each YAML file."""
    rows = []
    for path in sorted(folder.rglob("*.yaml")):
        name = path.relative_to(folder).as_posix()
        try:
            raw = load_raw(path)
            text = str(raw.data.get("description", "")).strip().splitlines()
            rows.append((name, text[0] if text else ""))
        except ConfigError as exc:
            rows.append((name, f"(invalid: {exc.problem})"))
    return rows


@app.command("list")
def list_(
    root: Annotated[
        Path, typer.Option(help="project folder holding scenarios/ and params/")
    ] = Path("."),
) -> None:
    """The scenarios and params shipped, with their one-line descriptions."""
    # the folder is the title and the files are named inside it, without vertical rules: on
    # an 80-column terminal the file column stays one line and the description keeps ~40
    for folder in ("scenarios", "params"):
        where = root / folder
        table = Table(title=f"{where.as_posix()}/", title_justify="left", box=box.SIMPLE_HEAD)
        table.add_column("file", no_wrap=True)
        table.add_column("description", overflow="fold")
        for name, text in _catalogue(where):
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
        with user_errors():
            output.write_text(text + "\n")
        out.print(f"wrote {output}", highlight=False)


def ci_text(est: dict[str, Any]) -> str:
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
        table.add_row(name, format_value(est["mean"], est["unit"]), ci_text(est), est["unit"])
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
    if (by_market := markets_table(summary)) is not None:
        out.print(by_market)
    if (both := prediction_table(summary)) is not None:
        out.print(both)
    if "mode_choice" in summary:
        print_mode_choice(summary["mode_choice"], out)
    if "history_demand" in summary:
        print_history_demand(summary["history_demand"])


def print_history_demand(block: dict[str, Any]) -> None:
    """The demand ensemble's answer for a history year: the rail TEU the run simulates (the
    median choice), the year's predictive interval, and where the bookings of a rail closure
    went (D7), which the simulated trains above do not show."""
    out.print(
        f"rail demand from the demand ensemble (median choice, simulated above): "
        f"{block['rail_teu_westbound']:,.0f} TEU/yr westbound, "
        f"{block['rail_teu_eastbound']:,.0f} eastbound"
    )
    if "rail_teu_total_median" in block:
        out.print(
            "the year's rail TEU, predictive interval (structures, parameters, discrepancy, "
            "the series' band and simulation noise): "
            f"median {block['rail_teu_total_median']:,.0f}, "
            f"50 % {block['rail_teu_total_p25']:,.0f}–{block['rail_teu_total_p75']:,.0f}, "
            f"90 % {block['rail_teu_total_p05']:,.0f}–{block['rail_teu_total_p95']:,.0f} "
            f"(low end: {block['rail_teu_total_low_end_structure']}; high end: "
            f"{block['rail_teu_total_high_end_structure']})"
        )
    if block["closure_booked_teu"] > 0:
        from sim.choice.history_demand import closure_of

        out.print(closure_of(block).describe())
