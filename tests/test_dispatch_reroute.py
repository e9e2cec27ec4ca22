"""Trains re-routed while a crossing is closed (``reroute_via``, issue 12 item 4): who goes,
when, how many, that nothing is lost, that a share of 0 changes nothing, and the bad inputs.

The network: src → a → c → sink and src → a → m → sink. The flow's own routes are both, with
share 0 on the one through m, so any train seen at m was moved there by the rule. c is closed
from day 10 to day 20 of the window (warm-up 5 days).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from builders import validated
from typer.testing import CliRunner

from sim.analysis.measures import transit_days_between
from sim.api import compare, open_results
from sim.cli.app import app
from sim.engine.network import Schedule, build_network, closed_windows
from sim.engine.records import Records
from sim.engine.replications import run_replication, simulate

WARMUP_DAYS = 5
CLOSED = ((WARMUP_DAYS + 10) * 24.0, (WARMUP_DAYS + 20) * 24.0)  # hours since t=0


def _two_ways(
    rule: dict[str, Any] | None,
    *,
    routes: dict[str, float] | None = None,
    trains_per_hour: float = 0.5,
    **extra_rules: dict[str, Any],
) -> dict[str, Any]:
    nodes: dict[str, Any] = {"src": {"kind": "terminal"}, "sink": {"kind": "destination"}}
    for nid in ("a", "c", "m"):
        nodes[nid] = {"servers": 4, "handling_hours": {"dist": "exponential", "mean": 0.5}}
    by_c, by_m = ["src", "a", "c", "sink"], ["src", "a", "m", "sink"]
    links = {
        f"{x}{y}": {"from": x, "to": y, "hours": 0.5 if y != "m" else 30.0}
        for seq in (by_c, by_m)
        for x, y in itertools.pairwise(seq)
    }
    rules = {**({"move": rule} if rule is not None else {}), **extra_rules}
    return {
        "run": {"start_date": "2024-01-01", "warmup_days": WARMUP_DAYS, "horizon_days": 60},
        "nodes": nodes,
        "links": links,
        "routes": {"by_c": {"nodes": by_c}, "by_m": {"nodes": by_m}},
        "flows": {
            "f": {
                "origin": "src",
                "destination": "sink",
                "routes": routes or {"by_c": 1, "by_m": 0},
                "teu_per_year": trains_per_hour * 8760,
                "teu_per_train": 1,
            }
        },
        "events": {"shut": {"targets": ["c"], "start": 10, "end": 20, "servers": 0}},
        **({"dispatch": rules} if rules else {}),
    }


def _reroute(share: float, **more: Any) -> dict[str, Any]:
    return {"via": "c", "reroute_via": "m", "reroute_share": share, **more}


def _visits(rec: Records, node: int) -> set[int]:
    """Trains that have a visit planned at ``node``."""
    return set(rec.visit_train[rec.visit_node == node].tolist())


def _assert_conserved(rec: Records) -> None:
    """Every train that departs is delivered or still somewhere on its path, once."""
    delivered = rec.delivered
    assert int(delivered.sum()) + int(np.isnan(rec.delivered_hours).sum()) == len(rec.plan)
    last = rec.visit_offset[1:] - 1
    assert not np.isnan(rec.visit_end[last][delivered]).any()
    np.testing.assert_array_equal(rec.visit_end[last][delivered], rec.delivered_hours[delivered])


def test_share_one_moves_every_train_departing_while_closed_and_none_after() -> None:
    scenario = validated(_two_ways(_reroute(1.0)))
    net, rec = simulate(scenario, 0, seed=11)
    plan = rec.plan
    assert plan.rerouted is not None
    ids = net.node_ids()
    c, m = ids.index("c"), ids.index("m")
    while_closed = (plan.depart_hours >= CLOSED[0]) & (plan.depart_hours < CLOSED[1])
    assert while_closed.sum() > 80  # ~120 planned: the rule has work, or the test is idle
    by_m = net.path_index[("by_m", False)]
    np.testing.assert_array_equal(plan.rerouted, while_closed)
    np.testing.assert_array_equal(plan.path == by_m, while_closed)
    # the records follow the new path: the moved trains visit m and never c, the rest never m
    moved = set(np.flatnonzero(while_closed).tolist())
    assert _visits(rec, m) == moved
    assert not (_visits(rec, c) & moved)
    # a moved train keeps its flow, departure, TEU; its transit includes the 30 h detour
    _, plain = simulate(validated(_two_ways(None)), 0, seed=11)
    np.testing.assert_array_equal(plan.depart_hours, plain.plan.depart_hours)
    np.testing.assert_array_equal(plan.flow, plain.plan.flow)
    np.testing.assert_array_equal(plan.teu, plain.plan.teu)
    transit = rec.delivered_hours - plan.depart_hours
    assert np.nanmin(transit[while_closed]) >= 30.0
    # the moved trains do not wait for c to reopen; in the run without the rule they do
    assert np.nanmax(transit[while_closed]) < 30.0 + 24.0
    plain_transit = plain.delivered_hours - plain.plan.depart_hours
    assert np.nanmedian(plain_transit[while_closed]) > 3 * 24.0
    _assert_conserved(rec)


def test_a_lag_starts_the_moves_that_many_days_into_the_closure() -> None:
    scenario = validated(_two_ways(_reroute(1.0, reroute_after_closed_days=3)))
    _, rec = simulate(scenario, 0, seed=12)
    t = rec.plan.depart_hours
    assert rec.plan.rerouted is not None
    np.testing.assert_array_equal(rec.plan.rerouted, (t >= CLOSED[0] + 72.0) & (t < CLOSED[1]))


def test_kpis_tables_and_node_counts_see_the_new_route() -> None:
    scenario = validated(_two_ways(_reroute(0.5)))
    out = run_replication(scenario, 0, seed=13, with_tables=True)
    trains = out.tables["trains"]
    rerouted = np.asarray(trains["rerouted"])
    routes = np.asarray(trains["route"])
    assert 20 < rerouted.sum() < 100  # about half of ~120
    np.testing.assert_array_equal(routes == "by_m", rerouted)
    depart = np.asarray(trains["depart_day"])
    in_window = (depart >= 0) & (depart < 60)
    assert out.kpis.corridor["trains_rerouted"] == float((rerouted & in_window).sum())
    delivered_at_m = out.kpis.nodes["m"]["trains_handled"]
    arrive = np.asarray(trains["arrive_day"])
    assert delivered_at_m >= float((rerouted & (arrive <= 60)).sum())
    # without a rule that re-routes, neither the KPI nor the column exists
    plain = run_replication(validated(_two_ways(None)), 0, seed=13, with_tables=True)
    assert "trains_rerouted" not in plain.kpis.corridor
    assert "rerouted" not in plain.tables["trains"]


def _arrays(rec: Records) -> dict[str, Any]:
    names = ("delivered_hours", "visit_offset", "visit_node", "visit_arrive", "visit_start")
    return {n: getattr(rec, n) for n in names} | {"path": rec.plan.path}


@pytest.mark.parametrize("holding", [None, {"suspend_after_closed_days": 3}])
def test_share_zero_gives_the_records_of_the_run_without_it(holding: dict[str, Any] | None) -> None:
    """Share 0 with a suspension equals the suspension alone; share 0 alone equals no rule."""
    plain_rule = None if holding is None else {"via": "c", **holding}
    _, plain = simulate(validated(_two_ways(plain_rule)), 0, seed=14)
    _, zero = simulate(validated(_two_ways(_reroute(0.0, **(holding or {})))), 0, seed=14)
    assert zero.plan.rerouted is not None and not zero.plan.rerouted.any()
    for name, values in _arrays(plain).items():
        np.testing.assert_array_equal(_arrays(zero)[name], values, err_msg=name)
    # the test can fail: share 1 does change the records
    _, one = simulate(validated(_two_ways(_reroute(1.0, **(holding or {})))), 0, seed=14)
    assert not np.array_equal(one.plan.path, plain.plan.path)


def test_rerouting_and_suspension_in_one_rule() -> None:
    """Half move from day 0; the others wait at the origin from 3 days in until c reopens."""
    rule = _reroute(0.5, suspend_after_closed_days=3)
    _, rec = simulate(validated(_two_ways(rule)), 0, seed=15)
    plan = rec.plan
    assert plan.rerouted is not None
    left_origin = rec.visit_arrive[rec.visit_offset[:-1]]
    held = (plan.depart_hours >= CLOSED[0] + 72.0) & (plan.depart_hours < CLOSED[1])
    stayed, moved = held & ~plan.rerouted, held & plan.rerouted
    assert stayed.sum() > 10 and moved.sum() > 10
    assert (left_origin[stayed] >= CLOSED[1] - 1e-9).all()  # held until the reopening
    np.testing.assert_array_equal(left_origin[moved], plan.depart_hours[moved])  # left at once
    _assert_conserved(rec)


@pytest.mark.slow
def test_a_share_moves_that_share_within_a_binomial_bound() -> None:
    share = 0.3
    scenario = validated(_two_ways(_reroute(share), trains_per_hour=2.0))
    moved, candidates = 0, 0
    for replication in range(4):
        _, rec = simulate(scenario, replication, seed=16)
        t = rec.plan.depart_hours
        assert rec.plan.rerouted is not None
        candidates += int(((t >= CLOSED[0]) & (t < CLOSED[1])).sum())
        moved += int(rec.plan.rerouted.sum())
        _assert_conserved(rec)
    assert candidates > 1500
    sd = np.sqrt(candidates * share * (1 - share))
    assert abs(moved - share * candidates) < 4 * sd, (moved, candidates)


def test_draws_are_per_rule_and_flow_and_a_larger_share_moves_a_superset() -> None:
    """Adding a rule shifts no other stream (departures, types: identical), and shares draw
    from the same numbers (common random numbers across a sweep of the share)."""
    _, low = simulate(validated(_two_ways(_reroute(0.2))), 0, seed=17)
    _, high = simulate(validated(_two_ways(_reroute(0.6))), 0, seed=17)
    _, plain = simulate(validated(_two_ways(None)), 0, seed=17)
    assert low.plan.rerouted is not None and high.plan.rerouted is not None
    assert 0 < low.plan.rerouted.sum() < high.plan.rerouted.sum()
    assert not (low.plan.rerouted & ~high.plan.rerouted).any()
    np.testing.assert_array_equal(low.plan.depart_hours, plain.plan.depart_hours)
    np.testing.assert_array_equal(low.plan.train_type, plain.plan.train_type)
    # a second rule, listed after, draws from its own stream: the first one's choice stays
    _, both = simulate(validated(_two_ways(_reroute(0.2), second=_reroute(0.5))), 0, seed=17)
    assert both.plan.rerouted is not None
    second_only = both.plan.rerouted & ~low.plan.rerouted
    assert not (low.plan.rerouted & ~both.plan.rerouted).any() and second_only.any()


def test_a_closure_in_two_segments_is_one_window() -> None:
    """Closed 10–30 h with a handling factor changing at 20 h: 5 h in is 15 h, to 30 h."""
    schedule = Schedule((0.0, 10.0, 20.0, 30.0), (2, 0, 0, 2), (1.0, 1.0, 2.0, 1.0))
    assert closed_windows(schedule, 5.0) == [(15.0, 30.0)]
    assert closed_windows(schedule, 0.0) == [(10.0, 30.0)]
    assert closed_windows(schedule, 20.0) == []


def test_a_disabled_rule_moves_nothing() -> None:
    scenario = validated(_two_ways(_reroute(1.0, enabled=False)))
    assert build_network(scenario).reroutes == ()
    _, rec = simulate(scenario, 0, seed=18)
    assert rec.plan.rerouted is None


BAD = [
    (_reroute(1.0) | {"reroute_via": "nowhere"}, "dispatch.move.reroute_via: unknown node"),
    (_reroute(1.5), "dispatch.move.reroute_share: Input should be less than or equal to 1"),
    (_reroute(-0.1), "dispatch.move.reroute_share: Input should be greater than or equal to 0"),
    ({"via": "c", "suspend_after_closed_days": 2, "reroute_share": 0.5},
     "dispatch.move: reroute_share needs reroute_via"),
    ({"via": "c", "suspend_after_closed_days": 2, "reroute_after_closed_days": 1},
     "dispatch.move: reroute_after_closed_days needs reroute_via"),
    ({"via": "c", "reroute_via": "m"}, "dispatch.move: reroute_via needs reroute_share"),
    (_reroute(1.0) | {"reroute_via": "c"}, "dispatch.move: reroute_via must differ from via"),
    (_reroute(1.0, reroute_after_closed_days=-1),
     "dispatch.move.reroute_after_closed_days: Input should be greater than or equal to 0"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_reroute_fields_exit_2_with_one_line(
    tmp_path: Path, rule: dict[str, Any], message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_two_ways(rule)))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}: {message}" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("flows", "message"),
    [
        (["f"], "dispatch.move.flows[0]: flow 'f' has no route through 'm' that avoids 'c'"),
        (None, "dispatch.move.reroute_via: no flow of the rule has a route through 'm'"),
    ],
)
def test_a_flow_with_nowhere_to_go_is_an_error(
    tmp_path: Path, flows: list[str] | None, message: str
) -> None:
    rule = _reroute(1.0) | ({"flows": flows} if flows else {})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_two_ways(rule, routes={"by_c": 1})))
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert f"{path}: {message}" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_the_via_port_measure_counts_a_moved_train_on_its_new_route() -> None:
    """measures.transit_days_between reads the path the train ran: with m a port, the moved
    trains are the Middle-Corridor ones, the rest the Belarus ones."""
    doc = _two_ways(_reroute(1.0))
    doc["nodes"]["src"]["country"], doc["nodes"]["sink"]["country"] = "CN", "PL"
    doc["nodes"]["m"]["kind"] = "port"
    scenario = validated(doc)
    net, rec = simulate(scenario, 0, seed=19)
    assert rec.plan.rerouted is not None
    delivered = rec.delivered & (rec.delivered_hours >= rec.warmup_hours)
    delivered &= rec.delivered_hours <= rec.end_hours
    by_port = transit_days_between(scenario, net, rec, ["CN"], ["PL"], via_port=True)
    by_land = transit_days_between(scenario, net, rec, ["CN"], ["PL"], via_port=False)
    assert len(by_port) == int((delivered & rec.plan.rerouted).sum()) > 80
    assert len(by_land) == int((delivered & ~rec.plan.rerouted).sum())


def test_runs_with_rules_read_back_and_compare(tmp_path: Path) -> None:
    """The results directory keeps the resolved scenario with every field written out; it
    must validate again (a default of 0 days once read back as "given without reroute_via"),
    and compare must handle a KPI that only one of the runs has."""
    plain, moved = tmp_path / "plain.yaml", tmp_path / "moved.yaml"
    plain.write_text(yaml.safe_dump(_two_ways({"via": "c", "suspend_after_closed_days": 3})))
    moved.write_text(yaml.safe_dump(_two_ways(_reroute(0.5, suspend_after_closed_days=3))))
    runner = CliRunner()
    for path in (plain, moved):
        result = runner.invoke(
            app, ["run", str(path), "-r", "2", "--workers", "1", "--out", str(tmp_path / path.stem)]
        )
        assert result.exit_code == 0, result.output
    runs = open_results(tmp_path / "plain", tmp_path / "moved")
    assert [r.scenario.dispatch["move"].reroute_share for r in runs] == [None, 0.5]
    result = runner.invoke(
        app,
        [
            "compare",
            str(tmp_path / "plain"),
            str(tmp_path / "moved"),
            "--metric",
            "trains_rerouted",
            "--metric",
            "node:m:trains_handled",
            "--out",
            str(tmp_path / "cmp.png"),
        ],
    )
    assert result.exit_code == 0, result.output
    # the plain run re-routed none: the difference is the moved run's count, paired
    (diff,) = compare(tmp_path / "plain", tmp_path / "moved", metrics=["trains_rerouted"])
    counts = open_results(tmp_path / "moved")[0].values(diff.metric)[1]
    assert diff.base_mean == 0.0 and diff.mean == pytest.approx(counts.mean()) and diff.paired
    assert counts.min() > 10
    # a KPI that is not "none" when absent (held trains need finite room) is a one-line error
    result = runner.invoke(
        app, ["compare", str(tmp_path / "plain"), str(tmp_path / "moved"), "--metric",
              "trains_held_peak", "--out", str(tmp_path / "held.png")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "no KPI 'trains_held_peak' in this run" in result.output
    assert len(result.output.strip().splitlines()) == 1
