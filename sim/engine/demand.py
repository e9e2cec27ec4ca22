"""Demand: origin–destination flows turned into the list of trains that will depart.

Departures follow a piecewise-constant rate (annual TEU / TEU per train, times the month's
seasonal factor, times any active ``demand_factor`` events). Poisson departures are drawn
exactly by inverting the cumulative rate; fixed-headway departures are evenly spaced in that
same "operational time", so a seasonal peak shortens the headway. All trains are planned
before the run, in arrays, so the simulation only has to replay them.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from numpy.typing import NDArray

from sim.config.scenario import Flow, Scenario, event_hours
from sim.engine.gives_way import Rates, load_components
from sim.engine.network import Network, active_events
from sim.engine.records import TrainPlan
from sim.engine.reroute import reroute_trains
from sim.engine.streams import Streams

HOURS_PER_YEAR = 365.0 * 24.0


def month_starts_hours(s: Scenario, end_hours: float) -> list[tuple[float, int]]:
    """(hours since t=0, month index 0–11) at t=0 and at each calendar month start after it."""
    origin = dt.datetime.combine(s.run.start_date, dt.time()) - dt.timedelta(days=s.run.warmup_days)
    out = [(0.0, origin.month - 1)]
    year, month = origin.year, origin.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        t = (dt.datetime(year, month, 1) - origin).total_seconds() / 3600.0
        if t >= end_hours:
            return out
        out.append((t, month - 1))


def rate_segments(
    s: Scenario, fid: str, flow: Flow, end_hours: float, planned: Rates | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Segment start times (with ``end_hours`` appended) and trains per hour in each segment.
    ``planned`` gives other flows' segments (a load that gives way reads the China–EU ones);
    without it they are computed here."""
    if flow.load is not None:
        return _load_segments(s, fid, flow, end_hours, planned or _planner(s, end_hours))
    assert flow.teu_per_year is not None
    base = flow.teu_per_year / flow.teu_per_train / HOURS_PER_YEAR
    season = [1.0] * 12
    if flow.seasonality is not None:
        mean = sum(flow.seasonality) / 12.0
        season = [f / mean for f in flow.seasonality]
    months = month_starts_hours(s, end_hours)
    events = active_events(s, fid)
    cuts = {t for t, _ in months}
    for start, end, _ in events:
        cuts.update(t for t in (start, end) if 0.0 < t < end_hours)
    times = sorted(cuts)
    month_times = [t for t, _ in months]
    rates = []
    for t in times:
        m = months[int(np.searchsorted(month_times, t, side="right")) - 1][1]
        factor = math.prod(
            e.demand_factor for a, b, e in events if a <= t < b and e.demand_factor is not None
        )
        rates.append(base * season[m] * factor)
    return np.asarray([*times, end_hours]), np.asarray(rates)


def _planner(s: Scenario, end_hours: float) -> Rates:
    """Every flow's rate segments, each computed once (the China–EU ones serve both their own
    trains and every load that gives way to them)."""
    memo: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}

    def planned(fid: str, flow: Flow) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if fid not in memo:
            memo[fid] = rate_segments(s, fid, flow, end_hours, planned)
        return memo[fid]

    return planned


def _load_segments(
    s: Scenario, fid: str, flow: Flow, end_hours: float, planned: Rates
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Rate segments of a flow given as trains/day by period (zero outside every period);
    ``demand_factor`` events scale it as they scale a TEU flow (for a flow that gives way, the
    paths it shares with the China–EU trains: :mod:`sim.engine.gives_way`). Overlapping
    periods add."""
    assert flow.load is not None
    start, warmup = s.run.start_date, s.run.warmup_days
    spans = [
        (event_hours(p.start, start, warmup), event_hours(p.end, start, warmup)) for p in flow.load
    ]
    inside = [(max(a, 0.0), min(b, end_hours)) for a, b in spans]

    # (paths shared, taken) a day: after giving way to this run's China–EU trains, if it does
    loads = load_components(s, flow, inside, planned)
    periods = [(a, b, c) for (a, b), c in zip(spans, loads, strict=True)]
    events = active_events(s, fid)
    cuts = {0.0}
    for a, b, _ in periods:
        cuts.update(t for t in (a, b) if 0.0 < t < end_hours)
    for a, b, _ in events:
        cuts.update(t for t in (a, b) if 0.0 < t < end_hours)
    times = sorted(cuts)
    rates = []
    for t in times:
        live = [c for a, b, c in periods if a <= t < b]
        factor = math.prod(
            e.demand_factor for a, b, e in events if a <= t < b and e.demand_factor is not None
        )
        if flow.gives_way is None:
            rates.append(sum(shared for shared, _ in live) / 24.0 * factor)
        else:  # the factor scales the shared paths; the China–EU trains take theirs
            rates.append(sum(max(0.0, factor * sh - taken) for sh, taken in live) / 24.0)
    return np.asarray([*times, end_hours]), np.asarray(rates)


def departures(
    flow: Flow, bounds: NDArray[np.float64], rates: NDArray[np.float64], rng: np.random.Generator
) -> NDArray[np.float64]:
    """Departure times in hours for one flow."""
    cum = np.concatenate([[0.0], np.cumsum(rates * np.diff(bounds))])
    total = float(cum[-1])
    if total <= 0:
        return np.empty(0)
    if flow.arrivals == "poisson":
        n = int(rng.poisson(total))
        points = np.sort(rng.uniform(0.0, total, n))
    elif flow.arrivals == "batched":
        return _batched(flow, total, cum, bounds, rng)
    else:
        points = np.arange(rng.uniform(0.0, 1.0), total, 1.0)
    # cum is non-decreasing; interp maps operational time back to clock time exactly.
    return np.interp(points, cum, bounds)


def _batched(
    flow: Flow,
    total: float,
    cum: NDArray[np.float64],
    bounds: NDArray[np.float64],
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Waves of ``batch_trains`` trains, ``batch_spacing_hours`` apart, the waves Poisson at
    the flow's rate divided by the batch size (so the mean number of trains is unchanged):
    block trains gathered after a holiday or a closure, or a weekly timetable's bunch."""
    size = flow.batch_trains
    waves = np.sort(rng.uniform(0.0, total, int(rng.poisson(total / size))))
    starts = np.interp(waves, cum, bounds)
    times = (starts[:, None] + flow.batch_spacing_hours * np.arange(size)[None, :]).ravel()
    result: NDArray[np.float64] = np.sort(times[times < bounds[-1]])
    return result


def plan_trains(s: Scenario, net: Network, streams: Streams) -> TrainPlan:
    """All departures of one replication with their flow, path, type and TEU; the paths are
    those the trains run, after the dispatch rules that re-route (sim/engine/reroute.py)."""
    type_names = sorted({t for f in s.flows.values() for t in f.train_types})
    type_of = {t: i for i, t in enumerate(type_names)}
    parts = []
    planned = _planner(s, net.end_hours)
    for k, (fid, flow) in enumerate(s.flows.items()):
        bounds, rates = planned(fid, flow)
        times = departures(flow, bounds, rates, streams.rng("departures", fid))
        n = len(times)
        route_ids = list(flow.routes)
        shares = np.asarray([flow.routes[r] for r in route_ids], dtype=float)
        choice = streams.rng("route", fid).choice(len(route_ids), size=n, p=shares / shares.sum())
        path_of = np.asarray(
            [net.path_index[(r, s.routes[r].nodes[0] != flow.origin)] for r in route_ids],
            dtype=np.int32,
        )
        if flow.train_types:
            names = list(flow.train_types)
            p = np.asarray([flow.train_types[t] for t in names], dtype=float)
            picked = streams.rng("train_type", fid).choice(len(names), size=n, p=p / p.sum())
            types = np.asarray([type_of[t] for t in names], dtype=np.int32)[picked]
        else:
            types = np.full(n, -1, dtype=np.int32)
        parts.append(
            (
                times,
                np.full(n, k, dtype=np.int32),
                path_of[choice],
                types,
                np.full(n, flow.teu_per_train),
            )
        )
    if not parts:
        empty_f, empty_i = np.empty(0), np.empty(0, dtype=np.int32)
        return TrainPlan(empty_f, empty_i, empty_i, empty_i, empty_f, (), tuple(type_names))
    times = np.concatenate([p[0] for p in parts])
    order = np.argsort(times, kind="stable")
    plan = TrainPlan(
        depart_hours=times[order],
        flow=np.concatenate([p[1] for p in parts])[order],
        path=np.concatenate([p[2] for p in parts])[order].astype(np.int32),
        train_type=np.concatenate([p[3] for p in parts])[order],
        teu=np.concatenate([p[4] for p in parts])[order],
        flow_ids=tuple(s.flows),
        type_names=tuple(type_names),
        flow_markets=tuple(f.market for f in s.flows.values()),
    )
    return reroute_trains(plan, net, streams)
