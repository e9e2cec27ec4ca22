"""compare: paired differences over replication pairs, Welch when unpaired, the bar chart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from matplotlib.container import BarContainer
from plot_fixtures import overlapping_labels, run_small, three_paired_runs
from scipy import stats
from typer.testing import CliRunner

from sim.analysis.compare import differences, welch_interval
from sim.cli.app import app
from sim.plots.comparison import comparison_figure
from sim.store.runs import open_runs, parse_metric

WAIT = "node:brest:wait_hours_mean"


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return three_paired_runs(tmp_path_factory.mktemp("three"))


def by_hand(run: Path, scope: str, name: str, kpi: str) -> np.ndarray:
    t = pq.read_table(run / "replications.parquet").to_pydict()
    rows = [
        (r, v)
        for r, s, n, k, v in zip(
            t["replication"], t["scope"], t["name"], t["kpi"], t["value"], strict=True
        )
        if (s, n, k) == (scope, name, kpi)
    ]
    return np.asarray([v for _, v in sorted(rows)])


def test_paired_difference_is_the_t_interval_over_replication_pairs(
    three_runs: list[Path],
) -> None:
    runs = open_runs(three_runs)
    metrics = [parse_metric("throughput_teu_per_day"), parse_metric(WAIT)]
    diffs = differences(runs, metrics)
    assert len(diffs) == 4 and all(d.paired for d in diffs)
    for d in diffs:
        other = three_runs[[r.label for r in runs].index(d.scenario)]
        a = by_hand(three_runs[0], d.metric.scope, d.metric.name, d.metric.kpi)
        b = by_hand(other, d.metric.scope, d.metric.name, d.metric.kpi)
        ci = stats.ttest_rel(b, a).confidence_interval(0.95)
        assert d.mean == pytest.approx(float(np.mean(b - a)))
        assert (d.ci_low, d.ci_high) == pytest.approx((ci.low, ci.high))
        assert d.n == 3


def test_common_random_numbers_make_the_paired_interval_tighter(
    three_runs: list[Path],
) -> None:
    """Same seed: replication r of both runs sees the same trains, so the pairs are positively
    correlated and the differences vary less than two independent samples would (compared as
    spreads: with 3 pairs the paired t quantile, df=2, is larger than Welch's)."""
    base, _, more = open_runs(three_runs)
    for key, factor in (("throughput_teu_per_day", 1 / 3), (WAIT, 1.0)):
        metric = parse_metric(key)
        (paired,) = differences([base, more], [metric])
        a, b = base.values(metric)[1], more.values(metric)[1]
        spread = np.std(b - a, ddof=1)
        assert spread < factor * np.sqrt(np.var(a, ddof=1) + np.var(b, ddof=1))
        _, low, high, _ = welch_interval(a, b, 0.95)
        assert paired.paired and low < paired.mean < high
    assert paired.ci_high < 0  # a third server at brest cuts the wait, and the CI says so


def test_runs_with_different_seeds_are_compared_unpaired_with_welch(
    three_runs: list[Path],
    tmp_path: Path,
) -> None:
    other = run_small(tmp_path, name="other_seed", seed=99)
    base, _, _, odd = open_runs([*three_runs, other])
    (d,) = differences([base, odd], [parse_metric(WAIT)])
    a = by_hand(three_runs[0], "node", "brest", "wait_hours_mean")
    b = by_hand(other, "node", "brest", "wait_hours_mean")
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert not d.paired and d.method == "Welch"
    assert (d.ci_low, d.ci_high) == pytest.approx((ci.low, ci.high))


def test_bar_heights_and_error_bars_are_the_summary_estimates(
    three_runs: list[Path],
) -> None:
    runs = open_runs(three_runs)
    metrics = [parse_metric("throughput_teu_per_day"), parse_metric(WAIT)]
    fig = comparison_figure(runs, metrics, differences(runs, metrics))
    for ax, metric in zip(fig.axes, metrics, strict=False):
        (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
        expected = [r.estimate(metric) for r in runs]
        assert [p.get_height() for p in bars.patches] == pytest.approx(
            [e["mean"] for e in expected]
        )
        (caps,) = [c for c in ax.containers if not isinstance(c, BarContainer)]
        segments = caps.lines[2][0].get_segments()  # one vertical error segment per bar
        assert [s[0][1] for s in segments] == pytest.approx([e["ci_low"] for e in expected])
        assert [s[1][1] for s in segments] == pytest.approx([e["ci_high"] for e in expected])
        assert [t.get_text() for t in ax.get_xticklabels()] == [r.label for r in runs]
        assert ax.get_ylabel() == metric.unit
    assert overlapping_labels(fig) == []


def test_compare_command_writes_chart_and_csv(
    three_runs: list[Path],
    tmp_path: Path,
) -> None:
    out, csv = tmp_path / "cmp.svg", tmp_path / "diff.csv"
    args = ["compare", *map(str, three_runs), "--metric", WAIT, "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--csv", str(csv)])
    assert result.exit_code == 0, result.output
    assert out.read_text().lstrip().startswith("<?xml") and "<svg" in out.read_text()
    lines = csv.read_text().strip().splitlines()
    # the closure leads with its four disruption KPIs at brest, then the asked metric
    assert len(lines) == 1 + 2 * 5 and all(",True" in line for line in lines[1:])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "nowhere"], "nowhere: no such results directory"),
        (["compare", "{run}", "--metric", "node:brest:speed"], "unknown node KPI 'speed'"),
        (["compare", "{run}", "--metric", "node:nowhere:utilisation"], "no node 'nowhere'"),
        (["compare", "{run}", "--out", "x.gif"], "unknown image format '.gif'"),
    ],
)
def test_compare_input_errors_are_one_line_and_exit_2(
    three_runs: list[Path],
    args: list[str],
    message: str,
) -> None:
    result = CliRunner().invoke(app, [a.replace("{run}", str(three_runs[0])) for a in args])
    assert result.exit_code == 2
    assert message in result.output and result.output.count("corridor: error:") == 1


def test_compare_writes_nothing_unless_asked(
    three_runs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21, item 10: a comparison read in the terminal used to leave comparison.png in
    the working directory; a figure is drawn only where --out names it."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["compare", *map(str, three_runs), "--metric", WAIT])
    assert result.exit_code == 0, result.output
    assert "difference from" in result.output and "wrote" not in result.output
    assert list(tmp_path.iterdir()) == []
    asked = CliRunner().invoke(app, ["compare", *map(str, three_runs), "--out", "bars.png"])
    assert asked.exit_code == 0, asked.output
    assert [p.name for p in tmp_path.iterdir()] == ["bars.png"]
    assert (tmp_path / "bars.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
