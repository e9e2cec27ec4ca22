"""A sweep's demand quantile (``demand_quantile:`` in a sweep file).

The year's rail demand at quantile q must be the q-quantile of the very distribution a run's
``--draws`` samples (an ensemble draw times exp(ε σ)), so a study's "demand above its 70th
percentile" means what the prediction intervals mean; it must rise with q and keep the
median's split between the directions.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from sim.choice.history_demand import YearDemand, demand_draws, quantile_teu
from sim.errors import ConfigError
from sim.sweep.plan import SweepRequest, plan_sweep

ROOT = Path(__file__).resolve().parent.parent


def _demand(seed: int) -> YearDemand:
    rng = np.random.default_rng(seed)
    members = 300
    structure = rng.integers(0, 3, members)  # three structures, far apart, as the ensemble's
    level = np.array([60_000.0, 120_000.0, 300_000.0])[structure] * rng.lognormal(0, 0.2, members)
    west = level * rng.uniform(0.6, 0.7, members)
    return YearDemand(
        teu=(80_000.0, 40_000.0),
        sources=(),
        member_teu=np.column_stack([west, level - west]),
        member_sigma=rng.uniform(0.1, 0.4, members),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_quantile_is_that_of_the_draws_distribution(seed: int) -> None:
    demand = _demand(seed)
    u = np.random.default_rng(seed + 100).random((200_000, 2))
    drawn = demand_draws(demand, u[:, 0], u[:, 1])
    assert drawn is not None
    totals = np.array([w + e for w, e in drawn])
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        west, east = quantile_teu(demand, q)
        assert west / east == pytest.approx(2.0)  # the median choice's split
        # the Monte Carlo quantile of 200,000 draws is within 1.5 % of the exact one
        assert west + east == pytest.approx(np.quantile(totals, q), rel=0.015)


def test_the_quantile_rises_with_q_and_refuses_the_ends() -> None:
    demand = _demand(4)
    totals = [sum(quantile_teu(demand, q)) for q in np.linspace(0.01, 0.99, 50)]
    assert all(b > a for a, b in itertools.pairwise(totals))
    for q in (0.0, 1.0):
        with pytest.raises(ValueError, match="inside"):
            quantile_teu(demand, q)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("0:0.9", "inside \\(0, 1\\)"),
        ("0.1,0.5", "demand_quantile: needs an interval"),
        ("0.1:0.9", "needs a history year"),
    ],
)
def test_a_demand_quantile_needs_an_interval_and_a_demand_ensemble(
    tmp_path: Path, spec: str, message: str
) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"scenario: {ROOT / 'scenarios' / 'examples' / 'mmc_queue.yaml'}\n"
        "sampler: lhs\nsamples: 4\nparameters:\n  nodes.border.servers: '3:5'\n"
        f"demand_quantile: '{spec}'\n"
    )
    with pytest.raises(ConfigError, match=message) as caught:
        plan_sweep(SweepRequest(path))
    assert "\n" not in str(caught.value)
