"""The choice's border from the network (issue 21, item 1): capacity from the simulated
crossing, a wait curve that agrees with the engine, kept by the hash of its network."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pytest

from sim.choice.border_supply import (
    SHIPPED_CURVES,
    WaitCurve,
    WaitCurveCache,
    border_supply,
    crossing_capacity,
    read_curves,
    simulated_waits,
)
from sim.config.loader import load_scenario
from sim.config.scenario import Scenario
from sim.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
H1 = (dt.date(2024, 1, 1), dt.date(2024, 7, 1))
HALVED_BREST = (
    "nodes.brest.servers_by_direction.west=2",
    "nodes.brest.servers_by_direction.east=2",
    "nodes.brest.servers=4",
)


def history(year: int, *overrides: str) -> Scenario:
    return load_scenario(ROOT / f"scenarios/history/{year}.yaml", overrides)[0]


def halves(year: int) -> list[tuple[dt.date, dt.date]]:
    mid = dt.date(year, 7, 1)
    return [(dt.date(year, 1, 1), mid), (mid, dt.date(year + 1, 1, 1))]


def test_the_crossings_are_read_from_the_network() -> None:
    cap = crossing_capacity(history(2024), *H1)
    assert [(c.by_node, c.eu_node) for c in cap.crossings] == [
        ("brest", "malaszewicze"),
        ("grodno", "kuznica"),
        ("svislach", "siemianowka"),
    ]
    shares = cap.mixes[0].shares
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["brest"] > 0.85  # demand files: Brest 90 % of the 1520 trains


def test_capacity_is_brests_server_rate_when_the_other_traffic_has_given_way() -> None:
    """2024: Brest's other traffic (3.39 + 0.9 × 3.36 shared paths a day, params/border.yaml)
    is gone at 7.1 China–EU trains a day, so at capacity Brest's 4 westbound servers at the
    China–EU mean handling of 0.7 × 5 + 0.3 × 8.5 = 6.05 h (B4) are all China–EU's."""
    cap = crossing_capacity(history(2024), *H1)
    brest_share = cap.mixes[0].shares["brest"]
    expected = 4 * 24 / 6.05 / brest_share
    assert cap.trains_per_day[0] == pytest.approx(expected, rel=1e-6)
    assert cap.teu_per_year[0] == pytest.approx(expected * 365 * 100, rel=1e-6)  # B15: 100 TEU


def test_other_traffic_that_fills_the_crossing_leaves_less_to_china_eu() -> None:
    """2016: g × B19 / 2 = 13.375 shared paths a day against Brest's 13.89 trains a day (14
    pairs, handling × 1.143): each China–EU train adds 1 − λ = 0.1 net, so the capacity is
    (13.89 − 13.375) / 0.1 China–EU trains a day through Brest (A34), not 13.89."""
    cap = crossing_capacity(history(2016), *halves(2016)[0])
    rate = 4 * 24 / (6.05 * 1.143)
    expected = (rate - 13.375) / 0.1 / cap.mixes[0].shares["brest"]
    assert cap.trains_per_day[0] == pytest.approx(expected, rel=0.01)


def test_halving_brests_servers_halves_the_capacity_and_changes_the_hash() -> None:
    base = crossing_capacity(history(2024), *H1)
    halved = crossing_capacity(history(2024, *HALVED_BREST), *H1)
    for d in (0, 1):
        assert halved.teu_per_year[d] / base.teu_per_year[d] == pytest.approx(0.5, rel=0.02)
    assert halved.network_hash != base.network_hash


def test_capacity_rises_with_brests_servers() -> None:
    caps = [
        crossing_capacity(
            history(
                2024,
                f"nodes.brest.servers_by_direction.west={n}",
                f"nodes.brest.servers_by_direction.east={n}",
                f"nodes.brest.servers={2 * n}",
            ),
            *H1,
        ).teu_per_year[0]
        for n in (2, 3, 4, 5)
    ]
    assert all(b > a for a, b in itertools.pairwise(caps))


def test_a_full_closure_does_not_reduce_the_capacity() -> None:
    """2025's 13-day closure (D1, servers 0) is the choice's to model, not capacity."""
    start, end = halves(2025)[1]
    closed = crossing_capacity(history(2025), start, end)
    opened = crossing_capacity(history(2025, "events.poland_closure.enabled=false"), start, end)
    assert closed.trains_per_day == pytest.approx(opened.trains_per_day)
    assert closed.network_hash == opened.network_hash  # the same curve serves both


def test_the_2019_works_reduce_the_capacity_in_the_half_years_they_cover() -> None:
    """E20 works from 1 May 2019 (B2, D2): two of H1's six months, all of H2."""
    off = tuple(
        f"events.{e}.enabled=false"
        for e in ("e20_works", "e20_other_traffic_west", "e20_other_traffic_east")
    )
    with_works = [crossing_capacity(history(2019), *h).trains_per_day[0] for h in halves(2019)]
    without = [crossing_capacity(history(2019, *off), *h).trains_per_day[0] for h in halves(2019)]
    assert without[0] == pytest.approx(without[1], rel=0.01)
    assert with_works[1] < with_works[0] < without[0]
    assert with_works[1] < 0.8 * without[1]


def test_an_unknown_or_wrong_crossing_is_a_config_error() -> None:
    s = history(2024)
    with pytest.raises(ConfigError, match="not a Belarus–EU crossing"):
        crossing_capacity(s, *H1, crossings=("nowhere",))
    with pytest.raises(ConfigError, match="not a Belarus–EU crossing"):
        crossing_capacity(s, *H1, crossings=("minsk",))
    with pytest.raises(ConfigError, match="no China–EU route crosses"):
        crossing_capacity(load_scenario(ROOT / "scenarios/examples/mmc_queue.yaml")[0], *H1)
    with pytest.raises(ConfigError, match="passes no China–EU train"):
        crossing_capacity(
            history(2024, "nodes.brest.servers_by_direction.west=0", "nodes.brest.servers=4"),
            *H1,
            crossings=("brest",),
        )


def test_one_crossing_alone_has_the_capacity_of_its_own_share() -> None:
    brest = crossing_capacity(history(2024), *H1, crossings=("brest",))
    assert brest.mixes[0].shares == {"brest": 1.0}
    assert brest.trains_per_day[0] == pytest.approx(4 * 24 / 6.05)


def test_the_hash_ignores_the_seed_and_the_demand_level() -> None:
    """A curve is a function of the network: not of the run's seed, nor of how much China–EU
    demand the scenario writes (the load is the curve's argument)."""
    base = crossing_capacity(history(2024), *H1).network_hash
    assert crossing_capacity(history(2024, "run.seed=7"), *H1).network_hash == base
    doubled = history(2024)
    flows = {
        k: f.model_copy(update={"teu_per_year": 2 * f.teu_per_year})
        if f.market == "china_eu" and f.teu_per_year
        else f
        for k, f in doubled.flows.items()
    }
    assert crossing_capacity(doubled.model_copy(update={"flows": flows}), *H1).network_hash == base


def test_the_shipped_curves_cover_every_history_half_year() -> None:
    """params/border_wait.yaml is up to date: every shipped history half-year finds its
    curve (else regenerate it with docs/experiments/border_supply.py --write)."""
    shipped = read_curves(SHIPPED_CURVES)
    for year in range(2016, 2026):
        for span in halves(year):
            h = crossing_capacity(history(year), *span).network_hash
            assert h in shipped, f"{year} {span[0]}: no curve for {h}"


def test_the_curve_is_monotone_and_its_two_forms_agree() -> None:
    curves = read_curves(SHIPPED_CURVES)
    loads = np.linspace(-0.1, 2.0, 211)
    for both, west, east in curves.values():
        for c in (both, west, east):
            w = c.wait_days_array(loads)
            assert np.all(np.diff(w) >= -1e-12)
            assert [c.wait_days(float(u)) for u in loads] == pytest.approx(list(w))


def test_a_cached_curve_is_not_fitted_again() -> None:
    s = history(2024)
    cap = crossing_capacity(s, *H1)
    marker = WaitCurve(cap.network_hash, c0=123.0)
    cache = WaitCurveCache(path=None)
    cache.put((marker, marker, marker))
    assert border_supply(s, *H1, cache).wait.wait_days(0.5) == 123.0


@pytest.mark.slow
def test_the_wait_curve_agrees_with_a_fresh_simulation() -> None:
    """At five loads from 0.3 to 1.1 of capacity the curve fitted on the fly is within 20 %
    (or 0.3 d) of the mean wait of six fresh replications of the crossing (other seeds); each
    direction's own curve, fitted to half the trains, within 30 % (at u = 1.1 one direction's
    half-year mean moves by ±15 % between seeds: a 1 % change in its Poisson count moves the
    backlog's growth by 10 %)."""
    s = history(2024)
    cache = WaitCurveCache(path=None)  # fit here, not from the shipped file
    supply = border_supply(s, *H1, cache)
    cap = crossing_capacity(s, *H1)
    loads = (0.3, 0.5, 0.7, 0.9, 1.1)
    fresh = simulated_waits(
        s, cap.crossings, cap.mixes, cap.trains_per_day, *H1, loads, 6, root_seed=99
    )
    for u, row in zip(loads, fresh, strict=True):
        for curve, simulated, rel in zip(
            (supply.wait, *supply.wait_by_direction),
            (row[2], row[0], row[1]),
            (0.2, 0.3, 0.3),
            strict=True,
        ):
            assert abs(curve.wait_days(u) - simulated) <= max(rel * simulated, 0.3), (u, simulated)
    # the halved crossing: a new hash, a new fit, and a longer wait at the same load's TEU
    halved = border_supply(history(2024, *HALVED_BREST), *H1, cache)
    assert halved.wait.network_hash != supply.wait.network_hash
    teu = 0.6 * supply.capacity_teu[0]
    assert halved.wait.wait_days(teu / halved.capacity_teu[0]) > supply.wait.wait_days(0.6) + 1
