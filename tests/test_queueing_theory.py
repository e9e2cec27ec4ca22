"""The engine against queueing theory: Erlang C for M/M/c, and Little's law."""

from __future__ import annotations

import numpy as np
import pytest
from builders import one_node, validated

from sim.analysis.queueing import erlang_c, mmc_mean_wait
from sim.engine.replications import run_replications
from sim.stats import estimate


def test_erlang_c_known_values() -> None:
    # M/M/1: P(wait) = rho; M/M/2 at a = 1: C = 1/3 (textbook values).
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        erlang_c(2, 2.0)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("servers", "utilisation", "replications", "horizon_days"),
    [(3, 0.6, 8, 300), (4, 0.85, 12, 600)],
)
def test_mmc_mean_wait_matches_erlang_c(
    servers: int, utilisation: float, replications: int, horizon_days: int
) -> None:
    mean_handling_hours = 2.0
    lam = utilisation * servers / mean_handling_hours
    doc = one_node(
        servers,
        {"dist": "exponential", "mean": mean_handling_hours},
        lam,
        horizon_days=horizon_days,
        replications=replications,
        seed=11,
    )
    outs = run_replications(validated(doc), replications, seed=11, with_tables=False)
    waits = [o.kpis.nodes["border"]["wait_hours_mean"] for o in outs]
    est = estimate(waits, 0.99)
    expected = mmc_mean_wait(lam, 1 / mean_handling_hours, servers)
    assert est.ci_low <= expected <= est.ci_high, (est, expected)
    util = estimate([o.kpis.nodes["border"]["utilisation"] for o in outs], 0.99)
    assert util.ci_low <= utilisation <= util.ci_high


def test_littles_law_on_the_queue() -> None:
    lam = 2.0
    doc = one_node(3, {"dist": "lognormal", "mean": 1.2, "sd": 0.8}, lam, replications=3)
    for o in run_replications(validated(doc), 3, seed=5, with_tables=False):
        node = o.kpis.nodes["border"]
        horizon_hours = 200 * 24
        arrival_rate = o.kpis.corridor["trains_departed"] / horizon_hours
        # L = λ W within 3% (edge effects of the window are far smaller than that here)
        assert node["queue_mean"] == pytest.approx(arrival_rate * node["wait_hours_mean"], rel=0.03)


def test_utilisation_equals_offered_load() -> None:
    lam, mean_h, c = 1.5, 1.6, 4
    doc = one_node(c, {"dist": "gamma", "shape": 2, "scale": mean_h / 2}, lam, replications=4)
    outs = run_replications(validated(doc), 4, seed=3, with_tables=False)
    util = np.mean([o.kpis.nodes["border"]["utilisation"] for o in outs])
    assert util == pytest.approx(lam * mean_h / c, rel=0.02)
