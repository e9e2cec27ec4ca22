"""The report leads with generated findings whose numbers are those of the results store,
then the comparison chart, then details folded (issue 15, the report)."""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import pytest
from plot_fixtures import three_paired_runs

from sim.analysis.compare import difference, leading_metrics
from sim.analysis.findings import findings
from sim.formatting import format_difference, format_value
from sim.report.html import write_report
from sim.store.runs import Metric, RunData, open_runs, parse_metric

NUM = re.compile(
    r'<span class=num data-run="([^"]*)" data-key="([^"]*)" data-stat="([^"]*)" '
    r'data-value="([^"]*)">([^<]*)</span>'
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], str]:
    folder = tmp_path_factory.mktemp("findings")
    paths = three_paired_runs(folder)
    out = write_report(paths, folder / "report.html", kinds=["queues"])
    return paths, out.read_text(encoding="utf-8")


def _metric(base: RunData, run: RunData, key: str) -> Metric:
    """The metric a finding used: the disruption ones carry the scenario's windows."""
    lead = {m.key: m for m in leading_metrics([base, run], [])}
    return lead.get(key) or parse_metric(key)


def test_findings_come_first_then_the_chart_then_folded_details(
    report: tuple[list[Path], str],
) -> None:
    _, text = report
    heads = re.findall(r"<h2>([^<]*)</h2>", text)
    assert heads[:2] == ["Findings", "Comparison with base"]
    body = text[text.index("<h2>Comparison with base</h2>") :]
    assert body.index("<img") < body.index("<details")  # the chart is not folded
    summaries = re.findall(r"<summary>([^<]*)</summary>", text)
    assert "Differences, with intervals and method" in summaries
    assert [s for s in summaries if s.startswith("Plots of")] == [
        "Plots of base",
        "Plots of closure",
        "Plots of more_servers",
    ]


def test_every_number_in_the_findings_is_that_of_the_results(
    report: tuple[list[Path], str],
) -> None:
    paths, text = report
    runs = {r.label: r for r in open_runs(paths)}
    base = runs["base"]
    section = text[text.index("<section id=findings>") : text.index("</section>")]
    numbers = NUM.findall(section)
    assert len(numbers) >= 20
    stats = {stat for _, _, stat, _, _ in numbers}
    assert {"mean", "difference", "ci_low", "ci_high"} <= stats
    for label, key, stat, value, shown in numbers:
        run = runs[label]
        metric = _metric(base, run, key)
        if stat == "mean":
            expected = run.estimate(metric)["mean"]
            if metric.kpi not in ("caught_wait_hours_mean", "teu_wait_days"):
                block = (
                    run.summary["kpis"]
                    if metric.scope == "corridor"
                    else run.summary["nodes"][metric.name]
                )
                assert expected == block[metric.kpi]["mean"] or block[metric.kpi]["mean"] is None
            assert float(value) == pytest.approx(expected)
            assert html.unescape(shown) == format_value(expected, metric.unit)
        else:
            d = difference(base, run, metric, base.confidence)
            expected = {"difference": d.mean, "ci_low": d.ci_low, "ci_high": d.ci_high}[stat]
            if math.isnan(expected):
                assert value == ""
                continue
            assert float(value) == pytest.approx(expected)
            assert html.unescape(shown) == format_difference(expected, metric.unit)


def test_a_closure_finding_tells_held_trains_delay_and_recovery(
    report: tuple[list[Path], str],
) -> None:
    paths, _ = report
    found = {f.scenario: f for f in findings(open_runs(paths))}
    closure = found["closure"].text()
    assert "Where brest loses capacity, up to" in closure
    assert "trains are held at once" in closure and "backlog clears" in closure
    assert "busiest capacity-limited node is" in closure
    more = found["more_servers"].text()
    assert "loses capacity" not in more  # nothing was disrupted
    assert len(found["closure"].sentences) == 3 and len(found["more_servers"].sentences) == 2
