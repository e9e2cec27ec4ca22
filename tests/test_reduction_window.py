"""One reduction window (sim/engine/reduction.py) for metrics, compare, report and headline.

Issue 21, item 3: the 2019 works once had three different windows (the run's metrics merged
them with B1's standing slow handling into one reduction that never ended, the headline took
the capacity at the window's start as reference, the comparison counted B1 as a disruption of
the baseline and so did not lead with the works).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from builders import one_node, validated

from sim.analysis import compare
from sim.analysis.compare import disrupted_node
from sim.analysis.headline import Effect, Headline, markdown
from sim.config.loader import load_scenario
from sim.config.scenario import Scenario, event_hours
from sim.engine.disruption import disruption_kpis
from sim.engine.metrics import replication_kpis
from sim.engine.network import build_network, closed_windows
from sim.engine.reduction import (
    as_days,
    in_measurement,
    node_schedule,
    reduction_windows,
    reductions,
)
from sim.engine.replications import simulate
from sim.report import interactive
from sim.stats import Estimate

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _shipped(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.yaml")[0]


def _hours(scenario: Scenario, event_id: str) -> tuple[float, float]:
    event, run = scenario.events[event_id], scenario.run
    start = event_hours(event.start, run.start_date, run.warmup_days)
    return start, event_hours(event.end, run.start_date, run.warmup_days)


def test_the_2019_works_have_one_window_the_works_dates() -> None:
    works, base = _shipped("malaszewicze_works_2019"), _shipped("baseline_2019")
    expected = [_hours(works, "e20_works")]  # 1 May 2019 to 1 Jan 2020 (D2)
    assert reduction_windows(works, "brest", base) == expected
    assert reduction_windows(works, "brest") == expected  # the run's own: the same window
    assert as_days(expected, works) == [(120.0, 365.0)]
    # B1's 14-pair handling is in force all through both runs: it is in the schedule the
    # engine runs (× 1.143, × 2.0 under the works), and it is not the disruption
    sched = node_schedule(works, "brest")
    assert sched.handling_factor[0] == pytest.approx(1.143)
    assert max(sched.handling_factor) == pytest.approx(1.143 * 1.75)


def test_the_standing_b1_event_in_both_runs_is_not_a_disruption() -> None:
    base = _shipped("baseline_2019")
    assert "b1_14_pairs_until_dec_2021" in base.events
    assert reduction_windows(base, "brest") == []
    assert reduction_windows(base, "brest", base) == []
    nodes = {n: {"trains_handled": {"mean": 1.0}} for n in base.nodes}
    assert disrupted_node(base, nodes, [base]) is None


def test_compare_and_report_lead_with_the_works() -> None:
    works, base = _shipped("malaszewicze_works_2019"), _shipped("baseline_2019")
    # the crossing is the busiest node of the baseline's summary, as it is in a 2019 run
    nodes = {n: {"trains_handled": {"mean": 10.0 if n == "brest" else 1.0}} for n in base.nodes}
    found = disrupted_node(base, nodes, [works])
    assert found == ("brest", ((120.0, 365.0),))
    # the report's chart and the comparison's lead read the same function
    assert interactive.disrupted_node is compare.disrupted_node


def test_an_event_the_baseline_has_too_is_not_the_disruption() -> None:
    shared = {"targets": ["border"], "start": 30.0, "end": 35.0, "servers": 0}
    own = {"targets": ["border"], "start": 80.0, "end": 90.0, "handling_factor": 2.0}
    base = validated(one_node(2, 1.0, 1.0, events={"shared": shared}))
    scen = validated(one_node(2, 1.0, 1.0, events={"shared": shared, "own": own}))
    assert reduction_windows(scen, "border", base) == [_hours(scen, "own")]
    # without a baseline both are reductions of the capacity the run began with
    assert reduction_windows(scen, "border") == [_hours(scen, "shared"), _hours(scen, "own")]


def test_an_expansion_the_scenario_lacks_is_not_a_disruption() -> None:
    """belarus_china_pivot runs without D5, which its baseline builds in July 2025: less
    capacity than the baseline from July, but no less than it began with."""
    pivot, base = _shipped("belarus_china_pivot"), _shipped("belarus_corridor_capacity")
    assert reduction_windows(pivot, "dostyk", base) == []


def test_the_window_of_a_closure_is_its_event_as_the_engine_runs_it() -> None:
    closed = {"targets": ["border"], "start": 40.0, "end": 47.5, "servers": 0}
    scen = validated(one_node(2, 1.0, 1.0, events={"closed": closed}))
    net = build_network(scen)
    border = net.nodes[net.node_ids().index("border")]
    expected = [_hours(scen, "closed")]
    assert reductions(border.schedule) == expected  # what the run's recovery_days uses
    assert reduction_windows(scen, "border") == expected  # what compare and headline use
    assert closed_windows(border.schedule, 0.0) == expected  # the dispatch rules' closure
    assert expected == [((20 + 40) * 24.0, (20 + 47.5) * 24.0)]  # hours, 20-day warm-up first
    assert as_days(in_measurement(expected, scen), scen) == [(40.0, 47.5)]  # from start_date


def test_a_condition_from_before_the_run_is_the_state_it_runs_in() -> None:
    slow = {"targets": ["border"], "start": -400.0, "end": 100.0, "handling_factor": 1.5}
    scen = validated(one_node(2, 1.0, 1.0, events={"slow": slow}))
    assert reduction_windows(scen, "border") == []  # and its end, a rise, is no reduction


def _closed_line() -> dict[str, Any]:
    """src -> a -> b -> sink with finite room: a closure of b holds trains at a and src."""
    nodes: dict[str, Any] = {"src": {"kind": "terminal"}, "sink": {"kind": "destination"}}
    for nid, servers, room in (("a", 2, 5), ("b", 2, 3)):
        nodes[nid] = {
            "servers": servers,
            "handling_hours": {"dist": "exponential", "mean": 1.5},
            "room_trains": room,
        }
    seq = ["src", "a", "b", "sink"]
    links = {f"{x}{y}": {"from": x, "to": y, "hours": 0.5} for x, y in itertools.pairwise(seq)}
    return {
        "run": {"start_date": "2024-01-01", "warmup_days": 5, "horizon_days": 60},
        "nodes": nodes,
        "links": links,
        "routes": {"line": {"nodes": seq}},
        "flows": {
            "f": {
                "origin": "src",
                "destination": "sink",
                "routes": {"line": 1},
                "teu_per_year": 0.5 * 8760,
                "teu_per_train": 1,
            }
        },
        "events": {"shut": {"targets": ["b"], "start": 10, "end": 17, "servers": 0}},
    }


def test_one_clearing_time_in_the_run_and_in_the_headline() -> None:
    """recovery_days (a run's KPI, compare's lead) and clear_days (the headline's column) are
    one figure: trains queued at the node plus trains held upstream for it, back to their level."""
    scen = validated(_closed_line())
    base = validated({**_closed_line(), "events": {}})
    for seed in (1, 2, 3):
        net, rec = simulate(scen, 0, seed)
        run_kpi = replication_kpis(net, rec).nodes["b"]
        headline = disruption_kpis(net, rec, "b", reduction_windows(scen, "b", base))
        assert run_kpi["backlog_cleared"] == 1.0
        assert 0.5 < run_kpi["recovery_days"] < 40  # a week's trains drain at the spare rate
        assert headline["clear_days"] == run_kpi["recovery_days"]
        assert headline["held_peak"] >= 5  # a's room, at least, was held


def test_the_headline_has_one_clears_after_column() -> None:
    e = Effect(1.0, 2.0, Estimate(1.0, 0.5, 1.5, 10))
    row = Headline("s", "b", e, e, "brest", e, e, "brest", 0.9, {"clear_days": 10.31})
    header, _, line = markdown([row]).splitlines()
    assert header.count("clears after") == 1
    assert header.count("|") == line.count("|")
    assert "| 10.3 |" in line
