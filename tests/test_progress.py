"""Long commands show progress on a terminal and stay quiet with -q or into a pipe (issue 15,
item 8)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from plot_fixtures import run_small
from rich.console import Console
from typer.testing import CliRunner

from sim.cli.app import app
from sim.cli.progress import progress_bar, shows_progress
from sim.cli.studies import calibrate
from sim.report.html import report_steps, write_report


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=100), buffer


def test_a_bar_only_for_a_terminal_and_never_with_quiet() -> None:
    tty, seen = _console(True)
    assert shows_progress(tty, quiet=False) and not shows_progress(tty, quiet=True)
    with progress_bar(tty, "work", 2, quiet=False) as step:
        step("first")
        step("second")
    assert "work" in seen.getvalue()
    pipe, unseen = _console(False)
    assert not shows_progress(pipe, quiet=False)
    with progress_bar(pipe, "work", 2, quiet=False) as step:
        step("first")
    assert unseen.getvalue() == ""


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("progress")
    return [run_small(folder, name="base", closure=False), run_small(folder, name="closure")]


def test_report_reports_each_part(two_runs: list[Path], tmp_path: Path) -> None:
    notes: list[str] = []
    kinds = ["queues", "transit"]
    write_report(two_runs, tmp_path / "r.html", kinds=kinds, on_step=notes.append)
    assert len(notes) == report_steps(2, len(kinds))
    assert notes[-1] == "closure: transit"


def test_calibrate_reports_each_replication() -> None:
    notes: list[str] = []
    root = Path(__file__).resolve().parent.parent
    calibrate([root / "scenarios/baseline_2019.yaml"], 2, horizon_days=20, on_step=notes.append)
    assert notes[:2] == ["baseline_2019: replication 0", "baseline_2019: replication 1"]


@pytest.mark.parametrize("command", ["report", "calibrate", "headline"])
def test_long_commands_take_quiet(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert "--quiet" in result.output and "-q" in result.output


def test_report_into_a_pipe_prints_no_bar(two_runs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", *map(str, two_runs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and result.stdout.strip() == f"report: {out}"
