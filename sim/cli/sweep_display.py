"""The sweep's terminal output: a progress bar (runs done, runs/s, ETA) and the end summary.

Kept apart from the orchestration so the library can run sweeps silently (notebooks, tests,
benchmarks) and the CLI stays a thin shell.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from sim.sweep.runner import SweepSummary


class RichReporter:
    """Implements :class:`sim.sweep.runner.Reporter` with a rich progress bar on stderr."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[eta]}"),
            console=console,
            transient=False,
        )
        self.task: TaskID | None = None
        self.started = 0.0
        self.runs = 0
        self.failed = 0
        self.total = 0
        self.done = 0

    def start(self, total: int, done_before: int, description: str) -> None:
        if done_before:
            self.console.print(
                f"resuming: {done_before} of {total} runs already done", highlight=False
            )
        self.console.print(f"executor: {description}", highlight=False)
        self.started = time.perf_counter()
        self.progress.start()
        self.task = self.progress.add_task(
            "sweep", total=total, completed=done_before, rate="", failed="", eta="ETA –"
        )
        self.total = total
        self.done = done_before

    def advance(self, runs: int, failed: int) -> None:
        self.runs += runs
        self.failed += failed
        self.done += runs
        rate = self.runs / max(time.perf_counter() - self.started, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        if self.task is not None:
            self.progress.update(
                self.task,
                advance=runs,
                rate=f"{rate:.2f} runs/s",
                failed=f"{self.failed} failed" if self.failed else "",
                eta=f"ETA {dt.timedelta(seconds=round(eta))}",
            )

    def stop(self) -> None:
        if self.task is not None:
            self.progress.stop()
            self.task = None


def summary_table(summary: SweepSummary) -> Table:
    d: dict[str, Any] = summary.as_dict()
    table = Table(title=f"sweep: {summary.sweep_dir}", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = [
        ("points", f"{d['points']}"),
        ("replications per point", f"{d['replications']}"),
        ("runs done / total", f"{d['runs_before'] + d['runs_this_session']} / {d['runs_total']}"),
        ("runs this session", f"{d['runs_this_session']}"),
        (
            "failed runs (this session / all)",
            f"{d['failures_this_session']} / {d['failures_total']}",
        ),
        ("wall time", f"{d['wall_seconds']:.1f} s"),
        ("runs/s", f"{d['runs_per_second']:.3f}"),
        ("runs/s per worker", f"{d['runs_per_second_per_worker']:.3f}  ({d['workers']} workers)"),
        ("executor", d["executor"]),
    ]
    if d["workers_replaced"]:
        rows.append(("workers replaced", f"{d['workers_replaced']}"))
    for what, value in rows:
        table.add_row(what, value)
    return table
