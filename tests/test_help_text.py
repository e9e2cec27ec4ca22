"""--help shows what was written: Rich must not turn ``:ID:``-like text into emoji (issue 15,
item 4), above all where the metric syntax is explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from sim.cli.app import app

COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def _emoji(text: str) -> list[str]:
    return [ch for ch in text if ord(ch) >= 0x1F000 or 0x2600 <= ord(ch) <= 0x27BF]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_no_emoji(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert _emoji(result.output) == []


@pytest.mark.parametrize("command", ["compare", "plot", "sweep-table"])
def test_metric_syntax_is_shown_verbatim(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert "node:NODE:KPI" in result.output and "flow:FLOW:KPI" in result.output


def test_list_fits_an_80_column_terminal() -> None:
    """Issue 21, item 10: the file column wrapped on an 80-column terminal. Each file is
    named whole on one line, relative to its folder (the table's title), and no line is
    wider than the terminal."""
    repo = Path(__file__).resolve().parents[1]
    result = CliRunner().invoke(
        app, ["list", "--root", str(repo)], terminal_width=80, env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    firsts = {line.split()[0] for line in lines if line.startswith("  ") and line.split()}
    for folder in ("scenarios", "params"):
        assert f"{(repo / folder).as_posix()}/" in result.output
        for path in (repo / folder).rglob("*.yaml"):
            assert path.relative_to(repo / folder).as_posix() in firsts
