"""What every command shares: the Typer app, the consoles, and how errors become one line.

Input problems end with exit code 2 and one line ``corridor: error: FILE: FIELD: problem``;
an interrupted command exits 130 and leaves no results directory behind.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from sim.cli.choice_print import print_mode_choice
from sim.config.scenario import Scenario
from sim.engine.market_kpis import markets_table
from sim.errors import ConfigError
from sim.formatting import format_value

app = typer.Typer(
    name="corridor",
    help="Discrete-event simulation of China–EU rail freight through Belarus.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


out = Console()


err = Console(stderr=True)


MARKET_HELP = "corridor KPIs of this market instead (china_eu, belarus_china, other, M/CARGO)"

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
    except OSError as exc:  # inputs and results are read with their own messages: a write
        where = exc.filename or "output"
        blocked = exc.errno in (errno.EEXIST, errno.ENOTDIR)
        reason = "a file stands where a folder is needed" if blocked else exc.strerror or exc
        fail(str(ConfigError(str(where), (), f"cannot write: {reason}")))
    except KeyboardInterrupt:
        fail("interrupted; no results directory was written", EXIT_INTERRUPTED)


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
    if "mode_choice" in summary:
        print_mode_choice(summary["mode_choice"], out)


def warn(problem: ConfigError) -> None:
    """A scenario that runs but probably not as meant: one line on stderr, even with -q."""
    err.print(f"corridor: warning: {problem}", markup=False, highlight=False, soft_wrap=True)


def positive_workers(workers: int) -> int:
    """``--workers 0`` or below is a mistake, not a request for one process."""
    if workers < 1:
        raise ConfigError("--workers", (), f"must be at least 1 (got {workers})")
    return workers
