"""report: one self-contained HTML page with descriptions, KPIs, comparison and plots."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from plot_fixtures import three_paired_runs
from typer.testing import CliRunner

from sim.cli.app import app
from sim.errors import ConfigError
from sim.formatting import format_value
from sim.plots import RUN_KINDS
from sim.report.html import write_report
from sim.store.runs import RunData


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return three_paired_runs(tmp_path_factory.mktemp("three"))


def test_report_is_self_contained_and_holds_every_part(
    three_runs: list[Path],
    tmp_path: Path,
) -> None:
    out = tmp_path / "sub" / "report.html"
    result = CliRunner().invoke(app, ["report", *map(str, three_runs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    images = re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 1 + len(RUN_KINDS) * 3  # the comparison, then every kind per run
    for _, data in images:
        picture = Image.open(io.BytesIO(base64.b64decode(data)))
        assert picture.format == "PNG" and picture.width >= 800
    assert not re.search(r'(src|href)="(https?:|//|file:)', text)  # nothing fetched on open
    runs = [RunData.open(p) for p in three_runs]
    for run in runs:
        assert html.escape(run.scenario.description) in text
        mean = run.summary["kpis"]["throughput_teu_per_day"]["mean"]
        assert format_value(mean, "TEU/day") in text
    assert "brest_closed" in text and "2024-01-16 → 2024-01-23" in text  # the event table
    assert "Comparison with base" in text and "paired" in text
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no partial file left


def test_report_needs_an_html_file(three_runs: list[Path], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"give a \.html file"):
        write_report(three_runs[:1], tmp_path / "report.png")
