"""The report in a real headless browser, with the network cut: the interactive charts draw,
no script error or console error occurs, and the findings shown are those of summary.json
(issue 15, the report).

Needs a Chromium binary (Debian's ``chromium``, or ``$CORRIDOR_CHROMIUM``): ``make test``
installs it where it can (``make browser``: apt-get as root) and this test is skipped, saying
so, where there is none. No driver package is needed: Chromium's own ``--dump-dom`` prints the
page after its scripts ran, and the page records its errors and charts on ``<body>``.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from plot_fixtures import run_small

from sim.formatting import format_value
from sim.report.html import write_report
from sim.store.runs import open_runs, parse_metric

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium() -> str | None:
    given = os.environ.get("CORRIDOR_CHROMIUM")
    if given:
        return given
    return next((p for p in map(shutil.which, NAMES) if p), None)


BROWSER = chromium()
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium binary (make browser installs Debian's chromium)"
)


def dump_dom(page: Path, profile: Path) -> tuple[str, str]:
    """The DOM after the page's scripts ran, and the browser's log, with every host
    unresolvable and every proxy refused, so any fetch from the network would fail."""
    assert BROWSER is not None
    args = [
        BROWSER,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        "--window-size=1280,2000",
        "--dump-dom",
        page.as_uri(),
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], str, str]:
    folder = tmp_path_factory.mktemp("browser")
    runs = [run_small(folder, name="base", closure=False), run_small(folder, name="closure")]
    page = write_report(runs, folder / "report.html", kinds=["queues"])
    dom, log = dump_dom(page, folder / "profile")
    return runs, dom, log


def test_charts_draw_with_no_error_and_no_network(opened: tuple[list[Path], str, str]) -> None:
    _, dom, log = opened
    body = re.search(r"<body([^>]*)>", dom)
    assert body is not None
    attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1)))
    assert attributes.get("data-errors") == "0", attributes
    assert attributes.get("data-charts") == "2"  # held trains at brest, throughput
    assert dom.count('class="uplot') >= 2 and dom.count("<canvas") >= 2
    assert "Uncaught" not in log and "ERR_NAME_NOT_RESOLVED" not in log


def test_findings_in_the_page_are_those_of_summary_json(
    opened: tuple[list[Path], str, str],
) -> None:
    paths, dom, _ = opened
    runs = {r.label: r for r in open_runs(paths)}
    shown = re.findall(
        r'<span class="num" data-run="([^"]*)" data-key="([^"]*)" data-stat="mean" '
        r'data-value="([^"]*)">([^<]*)</span>',
        dom,
    )
    checked = 0
    for label, key, _, text in shown:
        metric = parse_metric(key)
        if metric.kpi in ("caught_wait_hours_mean", "teu_wait_days", "recovery_days"):
            continue  # derived from the tables, checked in test_report_findings
        summary = runs[label].summary
        block = summary["kpis"] if metric.scope == "corridor" else summary["nodes"][metric.name]
        assert html.unescape(text) == format_value(block[metric.kpi]["mean"], metric.unit)
        checked += 1
    assert checked >= 4
