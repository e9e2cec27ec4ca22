"""Demand generation (seasonality, headways, demand shocks) and the named distributions."""

from __future__ import annotations

import numpy as np
import pytest
from builders import one_node, validated
from pydantic import TypeAdapter

from sim.config.distributions import BufferedSampler, DistributionField
from sim.engine.demand import plan_trains
from sim.engine.network import build_network
from sim.engine.streams import Streams


def _plan(doc: dict, replication: int = 0, seed: int = 1):
    s = validated(doc)
    return plan_trains(s, build_network(s), Streams(seed, replication))


def test_fixed_headway_gives_the_exact_annual_count() -> None:
    doc = one_node(2, 1.0, 0.5, arrivals="fixed", warmup_days=0, horizon_days=365)
    plan = _plan(doc)
    assert len(plan) == pytest.approx(0.5 * 8760, abs=1)
    assert np.allclose(np.diff(plan.depart_hours), 2.0)


def test_seasonality_shifts_trains_between_months_but_keeps_the_total() -> None:
    season = [0.5] * 6 + [1.5] * 6
    doc = one_node(2, 1.0, 0.5, arrivals="fixed", warmup_days=0, horizon_days=365)
    doc["flows"]["trains"]["seasonality"] = season
    plan = _plan(doc)
    assert len(plan) == pytest.approx(0.5 * 8760, rel=0.01)
    first_half = (plan.depart_hours < 182 * 24).sum()
    assert first_half / len(plan) == pytest.approx(0.25, abs=0.01)


def test_poisson_count_and_demand_factor_event() -> None:
    doc = one_node(
        2,
        1.0,
        1.0,
        warmup_days=0,
        horizon_days=100,
        events={"ban": {"targets": ["trains"], "start": 50.0, "end": 100.0, "demand_factor": 0.25}},
    )
    counts = [len(_plan(doc, r)) for r in range(20)]
    # 50 days at 24/day + 50 days at 6/day = 1500 trains; Poisson sd ≈ 39 per run
    assert np.mean(counts) == pytest.approx(1500, abs=3 * 39 / np.sqrt(20))
    plan = _plan(doc)
    late = (plan.depart_hours >= 50 * 24).sum()
    assert late == pytest.approx(300, abs=4 * np.sqrt(300))


def test_route_shares_and_train_types() -> None:
    doc = one_node(2, 1.0, 2.0, warmup_days=0, horizon_days=200)
    doc["nodes"]["border"]["handling_hours_by_type"] = {"reload": 8.5, "transfer": 5.0}
    doc["flows"]["trains"]["train_types"] = {"reload": 0.3, "transfer": 0.7}
    plan = _plan(doc)
    share = (np.asarray(plan.type_names)[plan.train_type] == "reload").mean()
    assert share == pytest.approx(0.3, abs=0.02)


dist = TypeAdapter(DistributionField)


@pytest.mark.parametrize(
    "spec",
    [
        5,
        {"dist": "exponential", "mean": 3},
        {"dist": "uniform", "low": 2, "high": 6},
        {"dist": "triangular", "low": 1, "mode": 2, "high": 6},
        {"dist": "normal", "mean": 1, "sd": 1},  # truncation at 0 raises the mean
        {"dist": "lognormal", "mean": 4, "sd": 2},
        {"dist": "gamma", "shape": 3, "scale": 1.5},
        {"dist": "empirical", "values": [1, 2, 10], "weights": [1, 1, 2]},
    ],
)
def test_sample_means_match_analytic_means(spec: object) -> None:
    d = dist.validate_python(spec)
    rng = np.random.default_rng(0)
    draws = d.sample(rng, 200_000)
    assert (draws >= 0).all()
    assert draws.mean() == pytest.approx(d.mean(), rel=0.01)


def test_buffered_sampler_hands_out_draws_in_order() -> None:
    d = dist.validate_python({"dist": "exponential", "mean": 2})
    sampler = BufferedSampler(d, np.random.default_rng(3), batch=16)
    got = [sampler() for _ in range(40)]
    rng = np.random.default_rng(3)
    expected = np.concatenate([d.sample(rng, 16) for _ in range(3)])[:40]
    np.testing.assert_allclose(got, expected)
