"""Arrivals that bunch: batched departures keep the mean rate and lengthen the waits."""

from __future__ import annotations

import numpy as np
import pytest
from builders import one_node, validated

from sim.engine.replications import run_replications, simulate


def _doc(arrivals: str, batch: int = 1, spacing: float = 0.5) -> dict:
    doc = one_node(3, {"dist": "exponential", "mean": 2.0}, 1.0, horizon_days=200)
    doc["flows"]["trains"]["arrivals"] = arrivals
    if arrivals == "batched":
        doc["flows"]["trains"]["batch_trains"] = batch
        doc["flows"]["trains"]["batch_spacing_hours"] = spacing
    return doc


def test_batched_departures_come_in_waves_at_the_same_mean_rate() -> None:
    _, rec = simulate(validated(_doc("batched", 6, spacing=0.1)), 0, seed=3)
    t = rec.plan.depart_hours
    hours = (20 + 200) * 24
    assert len(t) == pytest.approx(hours, rel=0.08)  # 1 train an hour on average
    gaps = np.diff(t)
    # five of every six gaps are the 0.1 h spacing inside a wave (waves, 6 h apart on
    # average and 0.5 h long, seldom overlap)
    assert np.mean(np.isclose(gaps, 0.1)) == pytest.approx(5 / 6, abs=0.08)


def test_waves_make_trains_wait_longer_than_poisson_ones() -> None:
    waits = {}
    for name, doc in (("poisson", _doc("poisson")), ("batched", _doc("batched", 6))):
        outs = run_replications(validated(doc), 3, seed=5, with_tables=False)
        waits[name] = np.mean([o.kpis.nodes["border"]["wait_hours_mean"] for o in outs])
    # M/M/3 at 67 %: about 1.8 h; waves of 6 arriving within 2.5 h wait several hours
    assert waits["batched"] > 2 * waits["poisson"]
