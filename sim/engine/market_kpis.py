"""KPIs by market: China–EU transit, Belarus–China, other traffic, each on its own.

Corridor KPIs count China–EU trains only (sim/engine/metrics.py); a planner asking what Belarus's
pivot to China does needs the same throughput, transit and wait figures for the other
markets too, and for a market's cargo classes where it has several (``belarus_china/bulk``).
These are computed once per replication from the records, stored under the ``market`` scope
(``summary.json``'s ``markets`` block, ``replications.parquet``), and addressed as
``market:ID:KPI`` by ``corridor compare``, ``report`` and ``plot`` (``--market ID`` on those
commands, which turns corridor KPIs into the market's, and the terminal's table are in
sim/cli/markets.py). Single-market scenarios get none of this, so their outputs are unchanged.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from sim.config.scenario import Scenario
from sim.engine.records import Records
from sim.kpis import units
from sim.markets import MARKET_CHINA_EU

FloatArray = NDArray[np.float64]

MARKET_UNITS: dict[str, str] = units("market")
"""Per market (and market/cargo): delivered trains' transit and their total queueing wait
along the path (held time included when rooms are finite), as the corridor KPIs define them."""


def market_groups(s: Scenario) -> dict[str, list[int]]:
    """Flow indices (in ``s.flows`` order) of each market, and of each ``market/cargo`` pair
    of a market that carries several cargo classes; empty when every flow is China–EU."""
    markets = [f.market for f in s.flows.values()]
    if all(m == MARKET_CHINA_EU for m in markets):
        return {}
    groups: dict[str, list[int]] = {}
    cargos: dict[str, set[str]] = {}
    for k, flow in enumerate(s.flows.values()):
        groups.setdefault(flow.market, []).append(k)
        cargos.setdefault(flow.market, set()).add(flow.cargo)
    for k, flow in enumerate(s.flows.values()):
        if len(cargos[flow.market]) > 1:
            groups.setdefault(f"{flow.market}/{flow.cargo}", []).append(k)
    return groups


def train_wait_hours(rec: Records) -> FloatArray:
    """Hours each train spent queueing for a server (and held, waiting for room onward)."""
    wait: FloatArray = np.nan_to_num(rec.visit_start - rec.visit_arrive, nan=0.0)
    if rec.visit_leave is not None:
        wait = wait + np.nan_to_num(rec.visit_leave - rec.visit_end, nan=0.0)
    result: FloatArray = np.bincount(rec.visit_train, weights=wait, minlength=len(rec.plan)).astype(
        np.float64
    )
    return result


def _mean(x: FloatArray) -> float:
    return float(x.mean()) if len(x) else math.nan


def _p95(x: FloatArray) -> float:
    return float(np.percentile(x, 95)) if len(x) else math.nan


def market_kpis(s: Scenario, rec: Records) -> dict[str, dict[str, float]]:
    """Every market KPI of one replication over the measurement window."""
    groups = market_groups(s)
    if not groups:
        return {}
    plan = rec.plan
    w0, w1 = rec.warmup_hours, rec.end_hours
    arrived = rec.delivered_hours
    delivered = (arrived >= w0) & (arrived <= w1)
    departed = (plan.depart_hours >= w0) & (plan.depart_hours < w1)
    still = np.isnan(arrived)
    transit_days = (arrived - plan.depart_hours) / 24.0
    wait = train_wait_hours(rec)
    horizon_days = (w1 - w0) / 24.0
    out: dict[str, dict[str, float]] = {}
    for name, flows in groups.items():
        mine = np.isin(plan.flow, flows)
        done = mine & delivered
        teu = float(plan.teu[done].sum())
        out[name] = {
            "trains_departed": float((mine & departed).sum()),
            "trains_delivered": float(done.sum()),
            "teu_delivered": teu,
            "throughput_teu_per_day": teu / horizon_days,
            "transit_days_mean": _mean(transit_days[done]),
            "transit_days_p95": _p95(transit_days[done]),
            "wait_hours_mean": _mean(wait[done]),
            "wait_hours_p95": _p95(wait[done]),
            "trains_in_system_end": float((mine & still).sum()),
        }
    return out
