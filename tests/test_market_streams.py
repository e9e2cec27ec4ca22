"""Each market draws its handling and travel times from its own streams, whatever engine
features are on (issue 21 item 4: with dispatch rules the trains took China–EU's streams).

The line: src → a → b → sink westbound for the China–EU flow (with an alternative through m
for the re-routing rule), and the same nodes eastbound for another market. Nothing limits
capacity: b is a pure dwell except while it is closed (then everything queues and is let
through at once when it reopens), and b's room is finite westbound only. So the two markets
share every handling and travel-time distribution but no capacity, and one market's times
can change only if it drew from the other's streams.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from builders import validated

from sim.config.scenario import Scenario
from sim.engine.model import sampler_slots
from sim.engine.records import Records
from sim.engine.replications import simulate

WARMUP_DAYS = 5


def _line(china_eu_per_day: float, other_per_day: float) -> Scenario:
    nodes: dict[str, Any] = {"src": {"kind": "terminal"}, "sink": {"kind": "destination"}}
    for nid in ("a", "b", "m"):
        nodes[nid] = {
            "handling_hours": {"dist": "exponential", "mean": 2.0},
            "handling_hours_by_type": {
                "reload": {"dist": "uniform", "low": 4, "high": 8},
                "transfer": {"dist": "exponential", "mean": 1.0},
            },
        }
    nodes["b"]["room_trains_by_direction"] = {"west": 3}
    by_b, by_m = ["src", "a", "b", "sink"], ["src", "a", "m", "sink"]
    hours = {"dist": "uniform", "low": 3, "high": 9}
    links = {
        f"{x}{y}": {"from": x, "to": y, "hours": hours if y != "m" else 30.0}
        for seq in (by_b, by_m)
        for x, y in itertools.pairwise(seq)
    }
    flows: dict[str, Any] = {
        "transit": {
            "origin": "src",
            "destination": "sink",
            "routes": {"by_b": 1, "by_m": 0},
            "teu_per_year": china_eu_per_day * 365,
            "teu_per_train": 1,
            "train_types": {"reload": 0.3, "transfer": 0.7},
        }
    }
    if other_per_day:
        flows["local"] = {
            "origin": "sink",
            "destination": "src",
            "routes": {"by_b": 1},
            "teu_per_year": other_per_day * 365,
            "teu_per_train": 1,
            "market": "other",
            "train_types": {"reload": 0.5, "transfer": 0.5},
        }
    rule = {
        "via": "b",
        "suspend_after_closed_days": 2,
        "release_trains_per_day": 12,
        "reroute_via": "m",
        "reroute_share": 0.5,
    }
    return validated(
        {
            "run": {"start_date": "2024-01-01", "warmup_days": WARMUP_DAYS, "horizon_days": 60},
            "nodes": nodes,
            "links": links,
            "routes": {"by_b": {"nodes": by_b}, "by_m": {"nodes": by_m}},
            "flows": flows,
            "events": {"shut": {"targets": ["b"], "start": 10, "end": 20, "servers": 0}},
            "dispatch": {"hold_and_move": rule},
        }
    )


def _times_of(rec: Records, flow_id: str) -> list[tuple[float, ...]]:
    """Every train of a flow: planned departure, path, then each visit's arrival, start, end
    and leave times, and its delivery (NaN where not reached); in departure order."""
    plan = rec.plan
    k = plan.flow_ids.index(flow_id)
    assert rec.visit_leave is not None  # the blocking engine ran
    out = []
    for i in np.flatnonzero(plan.flow == k):
        visits = slice(rec.visit_offset[i], rec.visit_offset[i + 1])
        times = [rec.visit_arrive[visits], rec.visit_start[visits], rec.visit_end[visits]]
        times.append(rec.visit_leave[visits])
        row = [plan.depart_hours[i], float(plan.path[i]), *np.concatenate(times)]
        out.append((*row, rec.delivered_hours[i]))
    return out


def _same(a: list[tuple[float, ...]], b: list[tuple[float, ...]]) -> None:
    assert len(a) == len(b)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_every_train_samples_from_its_own_market_block() -> None:
    _, rec = simulate(_line(12, 8), 0, seed=3)
    slots, per_market = sampler_slots(rec.plan)
    markets = np.asarray([0 if m == "china_eu" else 1 for m in rec.plan.flow_markets])
    np.testing.assert_array_equal(slots // per_market, markets[rec.plan.flow])
    np.testing.assert_array_equal(slots % per_market, rec.plan.train_type + 1)


def test_other_traffic_leaves_china_eu_times_unchanged_under_rules_and_blocking() -> None:
    """Rules hold and re-route, b's room holds trains back, yet adding another market's
    trains on the same nodes and links changes no China–EU time."""
    _, alone = simulate(_line(12, 0), 0, seed=5)
    _, both = simulate(_line(12, 8), 0, seed=5)
    plan = both.plan
    assert plan.rerouted is not None and plan.rerouted.sum() > 10  # the rule re-routed
    origin_arrive = both.visit_arrive[both.visit_offset[:-1]]
    assert (origin_arrive > plan.depart_hours + 1.0).sum() > 10  # ... and held departures
    assert both.visit_leave is not None
    assert (both.visit_leave > both.visit_end + 1e-9).sum() > 10  # b's room held trains
    other = plan.flow == plan.flow_ids.index("local")
    assert other.sum() > 400 and np.isfinite(both.delivered_hours[other]).sum() > 400
    _same(_times_of(both, "transit"), _times_of(alone, "transit"))


def test_china_eu_volume_leaves_other_traffic_times_unchanged() -> None:
    """The other way round: doubling the China–EU trains shifts none of the other market's
    draws (they took China–EU's streams before the fix, so this failed)."""
    _, some = simulate(_line(12, 8), 0, seed=6)
    _, more = simulate(_line(24, 8), 0, seed=6)
    assert (more.plan.flow == 0).sum() > 1.5 * (some.plan.flow == 0).sum()
    _same(_times_of(more, "local"), _times_of(some, "local"))


def test_a_rule_that_never_acts_gives_the_records_of_the_run_without_rules() -> None:
    """The departure loop with rules and the plain one start the same trains on the same
    samplers: a throttle that never trips changes nothing (two markets, two train types)."""
    doc = _line(12, 8).model_dump(mode="json", by_alias=True, exclude_none=True)
    doc["events"] = {}
    doc["dispatch"] = {"never": {"via": "b", "throttle_above_trains": 10**6,
                                 "throttle_trains_per_day": 1}}  # fmt: skip
    _, ruled = simulate(validated(doc), 0, seed=4)
    del doc["dispatch"]
    _, plain = simulate(validated(doc), 0, seed=4)
    for flow_id in ("transit", "local"):
        _same(_times_of(ruled, flow_id), _times_of(plain, flow_id))
