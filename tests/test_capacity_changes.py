"""Closures and capacity changes: trains queue, nothing is lost, the backlog drains."""

from __future__ import annotations

import numpy as np
import pytest
from builders import one_node, validated

from sim.engine.network import build_network
from sim.engine.replications import run_replication, simulate


def _closure_doc(arrivals: str, days: float, servers: int = 2) -> dict:
    # 1 train/h arrives; 2 servers × 1.5 h fixed handling = 1.333 trains/h capacity
    return one_node(
        servers,
        1.5,
        1.0,
        arrivals=arrivals,
        warmup_days=10,
        horizon_days=60,
        events={"closed": {"targets": ["border"], "start": 10.0, "end": 10.0 + days, "servers": 0}},
    )


def _queue_path(rec, node: int, t: np.ndarray) -> np.ndarray:
    mine = rec.visit_node == node
    arrive, start = rec.visit_arrive[mine], rec.visit_start[mine]
    return np.asarray(
        [((arrive <= x) & ~(start <= x)).sum() for x in t]  # arrived and not yet started
    )


def test_fixed_headway_closure_builds_lambda_d_and_drains_at_spare_rate() -> None:
    days = 5.0
    scenario = validated(_closure_doc("fixed", days))
    net, rec = simulate(scenario, 0, seed=1)
    border = net.node_ids().index("border")
    close_h, open_h = (10 + 10) * 24.0, (10 + 10 + days) * 24.0
    backlog = _queue_path(rec, border, np.asarray([open_h - 1e-6]))[0]
    assert backlog == pytest.approx(1.0 * days * 24, abs=2)  # λ·D trains, give or take the phase
    # no train starts service while closed
    starts = rec.visit_start[rec.visit_node == border]
    assert not ((starts > close_h + 1.5) & (starts < open_h)).any()
    # drains at capacity minus arrivals: 120 / (1.333 - 1) = 360 h
    t = open_h + np.arange(0, 600, 1.0)
    q = _queue_path(rec, border, t)
    cleared = t[np.argmax(q <= 1)] - open_h
    assert cleared == pytest.approx(backlog / (2 / 1.5 - 1.0), rel=0.05)
    assert rec.delivered.sum() + np.isnan(rec.arrive_hours).sum() == len(rec.plan)


def test_poisson_closure_backlog_is_about_lambda_d() -> None:
    days = 4.0
    backlogs = []
    for seed in range(6):
        out = run_replication(validated(_closure_doc("poisson", days, servers=3)), 0, seed)
        ts = out.tables["timeseries"]
        border = np.asarray(ts["node"]) == "border"
        day = np.asarray(ts["day"])[border]
        q_end = np.asarray(ts["queue_end"])[border]
        backlogs.append(q_end[day == 10 + days - 1][0])
    # λ·D = 96, Poisson sd ≈ 10 per run: the mean of 6 runs is within ±3 sd/sqrt(6) ≈ 12
    assert np.mean(backlogs) == pytest.approx(96, abs=13)


def test_capacity_factor_and_overlapping_events_compose() -> None:
    doc = one_node(
        14,
        1.0,
        0.1,
        events={
            "works": {
                "targets": ["border"],
                "start": "2024-02-01",
                "end": "2024-03-01",
                "capacity_factor": 8 / 14,
            },
            "strike": {
                "targets": ["border"],
                "start": "2024-02-10",
                "end": "2024-02-12",
                "servers": 0,
            },
            "checks": {
                "targets": ["border"],
                "start": "2024-02-11",
                "end": "2024-02-20",
                "handling_factor": 1.5,
            },
        },
    )
    net = build_network(validated(doc))
    sched = net.nodes[1].schedule
    day = lambda d: (20 + d) * 24.0  # noqa: E731 - warm-up of 20 days before 2024-01-01
    assert sched.servers_at(day(0)) == 14
    assert sched.servers_at(day(31)) == 8
    assert sched.servers_at(day(40)) == 0
    assert sched.servers_at(day(45)) == 8
    assert sched.servers_at(day(61)) == 14
    i = sched.times_hours.index(day(41))
    assert sched.handling_factor[i] == 1.5


def test_handling_factor_lengthens_service() -> None:
    doc = one_node(
        5,
        2.0,
        0.5,
        events={
            "checks": {"targets": ["border"], "start": 0.0, "end": 400.0, "handling_factor": 1.25}
        },
    )
    out = run_replication(validated(doc), 0, seed=2, with_tables=False)
    assert out.kpis.nodes["border"]["handling_hours_mean"] == pytest.approx(2.5)


def test_recovery_days_is_backlog_over_spare_rate() -> None:
    # 5-day closure at 1 train/h: ~120 trains drain at 4/3 - 1 = 1/3 train/h → about 15 days
    out = run_replication(validated(_closure_doc("fixed", 5.0)), 0, seed=1, with_tables=False)
    node = out.kpis.nodes["border"]
    assert node["backlog_cleared"] == 1.0
    assert node["recovery_days"] == pytest.approx(120 / (1 / 3) / 24, rel=0.05)
    assert np.isnan(out.kpis.nodes["source"]["recovery_days"])  # never reduced


def test_recovery_not_reached_is_a_censored_lower_bound() -> None:
    # reopens 5 days before the end; the 15-day drain cannot finish: lower bound 5 days
    doc = one_node(
        2,
        1.5,
        1.0,
        arrivals="fixed",
        warmup_days=10,
        horizon_days=60,
        events={"closed": {"targets": ["border"], "start": 50.0, "end": 55.0, "servers": 0}},
    )
    node = run_replication(validated(doc), 0, seed=1, with_tables=False).kpis.nodes["border"]
    assert node["backlog_cleared"] == 0.0
    assert node["recovery_days"] == pytest.approx(5.0)
