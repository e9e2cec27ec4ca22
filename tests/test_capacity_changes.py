"""Closures and capacity changes: trains queue, nothing is lost, the backlog drains."""

from __future__ import annotations

import numpy as np
import pytest
from builders import one_node, validated

from sim.engine.network import build_network, build_schedule, schedule_mean_between
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
    assert rec.delivered.sum() + np.isnan(rec.delivered_hours).sum() == len(rec.plan)


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


def _split_border(trains_per_hour_each_way: float) -> dict:
    """src ⇄ border ⇄ sink; the border has 4 servers a direction (exponential 1 h) and a
    capacity factor of 0.375 from day 10 to day 40: the whole node's 8 would round to 3, each
    direction's 4 rounds to 2, so the trains have 2 + 2 = 4 servers meanwhile."""
    per_year = trains_per_hour_each_way * 8760
    return {
        "run": {"start_date": "2024-01-01", "warmup_days": 10, "horizon_days": 60},
        "nodes": {
            "src": {"kind": "terminal"},
            "border": {
                "servers_by_direction": {"west": 4, "east": 4},
                "handling_hours": {"dist": "exponential", "mean": 1.0},
            },
            "sink": {"kind": "destination"},
        },
        "links": {
            "in": {"from": "src", "to": "border", "hours": 0},
            "out": {"from": "border", "to": "sink", "hours": 0},
        },
        "routes": {"through": {"nodes": ["src", "border", "sink"]}},
        "flows": {
            d: {
                "origin": a,
                "destination": b,
                "routes": {"through": 1},
                "teu_per_year": per_year,
                "teu_per_train": 1,
            }
            for d, a, b in (("west", "src", "sink"), ("east", "sink", "src"))
        },
        "events": {
            "cut": {"targets": ["border"], "start": 10, "end": 40, "capacity_factor": 0.375}
        },
    }


def test_split_node_capacity_kpis_count_the_pools_the_trains_use() -> None:
    """Utilisation and servers_mean of a node with per-direction pools under a capacity factor
    come from the pools' schedules (issue 21 item 5: they divided by the whole node's 3)."""
    scenario = validated(_split_border(3.0))  # 3 a direction: 2 servers of 1 h are overrun
    whole = build_schedule("border", 8, scenario, 70 * 24.0)
    assert whole.servers == (8, 3, 8)  # the rounding that made the old figures wrong
    out = run_replication(scenario, 0, seed=2)
    net, rec = simulate(scenario, 0, seed=2)
    border = net.nodes[net.node_ids().index("border")]
    w0, w1 = rec.warmup_hours, rec.end_hours
    edges = np.asarray([w0, w1])
    pools = [schedule_mean_between(s, edges)[0] for s in border.direction_schedules.values()]
    servers_mean = float(sum(pools))
    assert servers_mean == pytest.approx((30 * 4 + 30 * 8) / 60)
    mine = rec.visits_at(border.index)
    start, end = rec.visit_start[mine], rec.visit_end[mine]
    end = np.where(np.isnan(end) & ~np.isnan(start), w1, end)  # still being handled
    busy = np.clip(np.minimum(end, w1) - np.maximum(start, w0), 0, None)
    kpis = out.kpis.nodes["border"]
    assert kpis["servers_mean"] == pytest.approx(servers_mean)
    assert kpis["utilisation"] == pytest.approx(np.nansum(busy) / (servers_mean * (w1 - w0)))
    # from the day after the cut begins (trains then in service finish first: no preemption)
    # to its end the queues never empty, so all 4 servers are busy: each day's busy servers
    # equal its servers (the whole node's 3 would put them above the capacity)
    ts = out.tables["timeseries"]
    here = np.asarray(ts["node"]) == "border"
    day = np.asarray(ts["day"])[here]
    servers, busy_mean = np.asarray(ts["servers_mean"])[here], np.asarray(ts["busy_mean"])[here]
    cut = (day >= 11) & (day < 40)
    np.testing.assert_allclose(servers[cut], 4.0)
    np.testing.assert_allclose(busy_mean[cut], 4.0)
    assert np.all(busy_mean[day != 10] <= servers[day != 10] + 1e-9)
