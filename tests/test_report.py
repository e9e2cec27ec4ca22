"""report: one self-contained HTML page with descriptions, KPIs, comparison and plots."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import re
from pathlib import Path

import pytest
import yaml
from PIL import Image
from plot_fixtures import CLOSURE, small_corridor, three_paired_runs
from typer.testing import CliRunner

from sim.cli.app import app
from sim.errors import ConfigError
from sim.formatting import format_value
from sim.plots import RUN_KINDS
from sim.report.html import write_report
from sim.store.runs import RunData
from sim.workflow.run import RunRequest, execute


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


def _chart_data(text: str) -> list[dict]:
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', text)
    assert found is not None
    return json.loads(found.group(1))


def test_time_axes_show_dates(three_runs: list[Path], tmp_path: Path) -> None:
    """Issue 21, item 10: the zoomable charts' x axis read "day from start_date". Their x
    values are now the days on the first run's calendar in seconds since 1970 (UTC), which
    uPlot's time axis and legend show as dates."""
    out = write_report(three_runs, tmp_path / "report.html", kinds=())
    text = out.read_text(encoding="utf-8")
    assert "day from start_date" not in text
    start = RunData.open(three_runs[0]).start_date
    for spec in _chart_data(text):
        assert spec["x_label"] == "date"
        days = [dt.datetime.fromtimestamp(x, dt.UTC).date() for x in spec["data"][0]]
        assert start in days and all(d.isoformat() > "2023-11" for d in days)
        assert days == sorted(days) and len(set(days)) == len(days)  # one point a day
    throughput = _chart_data(text)[-1]
    last = dt.datetime.fromtimestamp(throughput["data"][0][-1], dt.UTC).date()
    assert last == start + dt.timedelta(days=RunData.open(three_runs[0]).horizon_days - 1)


def test_text_from_a_scenario_is_escaped(tmp_path: Path) -> None:
    """The page is written by templates that escape every value: a description or an event id
    holding markup shows as text and cannot add an element to the page."""
    doc = small_corridor(name="hostile")
    doc["description"] = '<script>alert("x")</script> & <b>bold</b>'
    doc["events"] = {"<img src=x>": {"targets": ["brest"], "servers": 0, **CLOSURE}}
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    run = execute(RunRequest(scenario_file=path, out=tmp_path / "hostile")).run_dir
    text = write_report([run], tmp_path / "report.html", kinds=()).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in text
    assert "&lt;img src=x&gt;" in text and "<img src=x>" not in text
    assert text.count("<script") == 3  # the chart data, uPlot and the drawing script only
