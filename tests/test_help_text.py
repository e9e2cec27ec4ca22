"""--help shows what was written: Rich must not turn ``:ID:``-like text into emoji (issue 15,
item 4), above all where the metric syntax is explained."""

from __future__ import annotations

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
