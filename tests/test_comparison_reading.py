"""What a reader of a comparison sees: units (percentage points, never "-0.0"), which interval
was used and why, and the disruption KPIs leading when a scenario has a closure (issue 15,
items 6, 7 and 11)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from plot_fixtures import run_small, three_paired_runs
from typer.testing import CliRunner

from sim.analysis.compare import difference_rows, differences, leading_metrics, pairing_legend
from sim.cli.app import app
from sim.formatting import format_difference, format_relative, format_value
from sim.kpis import CATALOGUE, CORRIDOR_UNITS, FLOW_UNITS, NODE_UNITS, SCOPES, kpis, units
from sim.store.runs import open_runs, parse_metric

UTIL = "node:brest:utilisation"


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return three_paired_runs(tmp_path_factory.mktemp("three"))


def test_the_catalogue_names_every_kpi_the_run_writes_once() -> None:
    assert (units("corridor"), units("node"), units("flow")) == (
        CORRIDOR_UNITS,
        NODE_UNITS,
        FLOW_UNITS,
    )
    keys = [(k.scope, k.key) for k in CATALOGUE]
    assert len(keys) == len(set(keys)) and {k.scope for k in CATALOGUE} == set(SCOPES)
    assert all(k.label and k.definition and k.unit for k in CATALOGUE)


def test_fraction_differences_are_percentage_points_and_zero_has_no_sign() -> None:
    assert format_difference(0.579, "fraction") == "+57.9 pp"
    assert format_difference(-0.0004, "fraction") == "0.0 pp"
    assert format_difference(-1e-9, "days") == "0.00"
    assert format_relative(-1e-6) == "0.0%"
    assert format_relative(1.376) == "+137.6%"
    assert format_relative(31.6) == "–"  # ×32 of a nearly empty baseline: the difference says it
    assert format_value(-1e-6, "fraction") == "0.0%"
    assert format_value(-1e-9, "hours") == "0.00"


def test_utilisation_difference_is_shown_in_pp_in_rows_and_terminal(
    three_runs: list[Path], tmp_path: Path
) -> None:
    runs = open_runs(three_runs)
    rows = difference_rows(differences(runs, [parse_metric(UTIL)]))
    assert all(r["unit"] == "pp" and r["difference"].endswith(" pp") for r in rows)
    assert all(r["ci"].count(" pp") == 2 for r in rows)
    args = ["compare", *map(str, three_runs), "--metric", UTIL, "--out", str(tmp_path / "c.png")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    shown = [
        [cell.strip() for cell in line.split("│")]
        for line in result.output.splitlines()
        if "node:brest:uti" in line
    ]
    assert len(shown) == 2 and all(row[3].endswith(" pp") for row in shown)  # not "%"
    assert "-0.0" not in result.output


def test_same_seed_with_different_counts_is_paired_over_common_replications(
    three_runs: list[Path], tmp_path: Path
) -> None:
    """Replication r draws the same streams whatever the count: pair r with r."""
    more = run_small(tmp_path, name="base5", closure=False, replications=5)
    base, closure = open_runs([more, three_runs[1]])
    (d,) = differences([base, closure], [parse_metric("node:brest:wait_hours_mean")])
    assert d.paired and d.n == 3
    a = base.values(d.metric)[1][:3]
    b = closure.values(d.metric)[1]
    assert d.mean == pytest.approx(float(np.mean(b - a)))
    assert pairing_legend([d]) == [pairing_legend([d])[0]] and "Welch" not in pairing_legend([d])[0]


def test_legend_names_only_the_method_used(three_runs: list[Path], tmp_path: Path) -> None:
    other = run_small(tmp_path, name="other_seed", seed=99, closure=False)
    args = ["compare", str(three_runs[0]), str(other), "--metric", "throughput_teu_per_day"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.output
    assert "Welch, unpaired: different root seeds" in result.output
    assert "paired: replication" not in result.output
    paired = CliRunner().invoke(
        app, ["compare", *map(str, three_runs[:2]), "--out", str(tmp_path / "d.png")]
    )
    assert "paired: replication" in paired.output and "Welch" not in paired.output


def test_disruption_kpis_lead_the_comparison_of_a_closure(three_runs: list[Path]) -> None:
    base, closure, more = open_runs(three_runs)
    asked = [parse_metric("throughput_teu_per_day")]
    assert leading_metrics([base, more], asked) == asked  # no disruption: nothing added
    lead = leading_metrics([base, closure], asked)
    assert [m.key for m in lead] == [
        "node:brest:queue_max",
        "node:brest:recovery_days",
        "node:brest:caught_wait_hours_mean",
        "node:brest:teu_wait_days",
        "throughput_teu_per_day",
    ]
    diffs = {d.metric.kpi: d for d in differences([base, closure], lead)}
    # a 7-day closure of both servers: trains caught wait days longer, the queue peaks and
    # takes days to clear, and the intervals say so
    for kpi in ("queue_max", "recovery_days", "caught_wait_hours_mean", "teu_wait_days"):
        assert diffs[kpi].significant and diffs[kpi].mean > 0, kpi
    assert diffs["caught_wait_hours_mean"].mean > 24.0


def test_teu_wait_days_is_teu_times_days_waited_from_the_tables(three_runs: list[Path]) -> None:
    closure = open_runs([three_runs[1]])[0]
    reps, values = closure.values(parse_metric("node:brest:teu_wait_days"))
    visits = pq.read_table(three_runs[1] / "visits.parquet").to_pandas()
    trains = pq.read_table(three_runs[1] / "trains.parquet").to_pandas()
    v = visits[(visits.node == "brest") & (visits.arrive_day >= 0)]
    v = v[v.arrive_day < closure.horizon_days].merge(trains[["replication", "train", "teu"]])
    wait = v.wait_hours.fillna((closure.horizon_days - v.arrive_day) * 24.0)
    by_hand = (v.teu * wait / 24.0).groupby(v.replication).sum()
    assert values == pytest.approx(by_hand.loc[reps].to_numpy())
    assert "teu_wait_days" in kpis("node") and "teu_wait_days" not in NODE_UNITS


def test_headline_table_never_shows_minus_zero() -> None:
    from sim.analysis.headline import Effect, Headline, markdown
    from sim.stats import Estimate

    tiny = Effect(18.33, 18.33, Estimate(-0.0004, -0.0021, 0.0013, 10))
    flat = Effect(580.0, 580.0, Estimate(-0.001, -0.3, 0.2, 10))
    row = Headline("s", "b", tiny, flat, "brest", tiny, tiny, "dostyk", 0.41)
    text = markdown([row])
    assert "-0.0" not in text
    assert "(0.00 [0.00, 0.00])" in text and "(0.0 %)" in text


def test_a_baseline_event_before_the_window_does_not_hide_the_closed_node() -> None:
    """The shipped baselines carry border.yaml's B1-era slow handling at Brest (ended Dec 2021):
    a 2025 closure of Brest must still be the disruption the comparison leads with, not the
    next node it closes (it once led with Grodno)."""
    from sim.analysis.compare import disrupted_node
    from sim.config.loader import load_scenario
    from sim.engine.reduction import in_measurement, reduction_windows

    root = Path(__file__).resolve().parent.parent / "scenarios"
    base, _ = load_scenario(root / "baseline_2023.yaml")
    closure, _ = load_scenario(root / "poland_closure_2025.yaml")
    assert not in_measurement(reduction_windows(base, "brest"), base)  # B1 ended before 2023
    handled = {"brest": 30.0, "grodno": 3.0, "svislach": 1.0}
    nodes = {n: {"trains_handled": {"mean": handled.get(n, 0.0)}} for n in base.nodes}
    found = disrupted_node(base, nodes, [closure])
    assert found is not None and found[0] == "brest"
    (start, end), *_ = found[1]
    assert 13.0 <= end - start <= 13.1  # D1: 12 Sep 00:00 to 25 Sep ~01:00


def test_a_ratio_to_a_nearly_empty_baseline_is_labelled_as_a_difference(
    three_runs: list[Path],
) -> None:
    """A closure's queue against a queue of nearly none is "+114.6" (trains on the axis), not
    "+3,172.7%"."""
    import dataclasses

    from sim.plots.comparison import MAX_RELATIVE, comparison_figure

    runs = open_runs(three_runs)
    metric = parse_metric("node:brest:queue_max")
    diffs = differences(runs, [metric])
    tiny = [dataclasses.replace(d, mean=5.0, base_mean=5.0 / (2 * MAX_RELATIVE)) for d in diffs]
    small = [dataclasses.replace(d, mean=5.0, base_mean=50.0) for d in diffs]
    labels = {}
    for name, ds in (("tiny", tiny), ("small", small)):
        fig = comparison_figure(runs, [metric], ds)
        labels[name] = [t.get_text() for t in fig.axes[0].texts]
    shown = format_difference(5.0, "trains")  # the axis carries the unit
    assert labels["tiny"] and all(x.rstrip("*†") == shown for x in labels["tiny"])
    assert labels["small"] and all(x.rstrip("*†").endswith("%") for x in labels["small"])
