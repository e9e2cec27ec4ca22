"""When a node's capacity is reduced, and when its backlog has cleared: one definition.

Every figure about a disruption (``recovery_days`` of a run, the comparison's disruption KPIs
and its choice of node, the report's chart, the headline's disruption columns) reads its window
from here, so a closure has the same dates everywhere.

**The window.** A reduction is a span of the capacity schedule the engine runs
(:func:`sim.engine.network.build_schedule`) during which the node has fewer servers or slower
handling (a larger handling factor) than

- the capacity it had when the simulation began (start of the warm-up): a condition in force
  from the start, such as B1's 14-pair handling at Brest until Dec 2021 in a 2019 run, is the
  state the run is in, not a disruption of it (and its end, a rise, is no reduction either);
- and, against a baseline (compare, report, headline), the baseline's schedule of the same
  node on the scenario's calendar at the same time: an event the baseline has too is not the
  disruption, and neither is an expansion the scenario lacks (belarus_china_pivot without
  D5 against belarus_corridor_capacity with it).

Adjacent reduced segments form one window. The schedule is built without the run's end, so a
window ends when its events do (the 2019 works: 1 May 2019 to 1 Jan 2020) or at ``inf``.
Times are hours from the start of the simulation (warm-up included).

**Clearing.** After the last window that ends inside the measurement window, the node's
backlog (:func:`waiting_path`: trains queued at it plus, with finite room, trains held
upstream on their way to it) clears when it first falls back to its level when that window
began. Before this module the run's ``recovery_days`` counted the node's queue only and the
headline's "clears after" the trains held anywhere too (so a second node closed at the same
time, Grodno beside Brest, "cleared" with Brest's backlog); with no finite room all three
agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.network import Schedule, build_schedule
from sim.stats import StepPath

if TYPE_CHECKING:  # types only: keeps the import chain through metrics as short as before
    from sim.config.scenario import Scenario
    from sim.engine.network import Network
    from sim.engine.records import Records

Window = tuple[float, float]
"""(start, end) hours from the start of the simulation; ``end`` may be ``inf``."""


def _at(schedule: Schedule, t_hours: float) -> tuple[int | None, float]:
    i = max(k for k, start in enumerate(schedule.times_hours) if start <= t_hours)
    return schedule.servers[i], schedule.handling_factor[i]


def starting_state(schedule: Schedule) -> Schedule:
    """The reference of a run with no baseline: the capacity it began with, held constant."""
    return Schedule((0.0,), (schedule.servers[0],), (schedule.handling_factor[0],))


def reduced_spans(schedule: Schedule, *references: Schedule) -> list[Window]:
    """Spans when ``schedule`` has fewer servers (None: unlimited) or a larger handling factor
    than every one of ``references`` at the same time; adjacent spans merged."""
    cuts = sorted({*schedule.times_hours, *(t for r in references for t in r.times_hours)})
    ends = [*cuts[1:], math.inf]
    out: list[Window] = []
    for start, end in zip(cuts, ends, strict=True):
        servers, factor = _at(schedule, start)
        if not all(_below(servers, factor, *_at(ref, start)) for ref in references):
            continue
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _below(servers: int | None, factor: float, ref_servers: int | None, ref_factor: float) -> bool:
    fewer = servers is not None and (ref_servers is None or servers < ref_servers)
    return fewer or factor > ref_factor


def reductions(schedule: Schedule) -> list[Window]:
    """A run's own reductions of one node: against the capacity it began with."""
    return reduced_spans(schedule, starting_state(schedule))


def node_schedule(scenario: Scenario, node_id: str) -> Schedule:
    """The capacity schedule the engine runs for ``node_id`` (build_network's), not cut at the
    end of the run, so a window that outlasts the run keeps its events' end."""
    return build_schedule(node_id, scenario.nodes[node_id].servers, scenario, math.inf)


def reduction_windows(
    scenario: Scenario, node_id: str, baseline: Scenario | None = None
) -> list[Window]:
    """The reductions of ``node_id`` in ``scenario`` (see the module docstring): against the
    capacity it began with and, when the baseline has the node, the baseline's schedule of it
    on the scenario's calendar."""
    mine = node_schedule(scenario, node_id)
    if baseline is None or node_id not in baseline.nodes:
        return reductions(mine)
    on_my_calendar = baseline.model_copy(update={"run": scenario.run})
    return reduced_spans(mine, starting_state(mine), node_schedule(on_my_calendar, node_id))


def in_measurement(windows: Sequence[Window], scenario: Scenario) -> list[Window]:
    """The windows that overlap the measurement window (after the warm-up)."""
    w0 = scenario.run.warmup_days * 24.0
    w1 = (scenario.run.warmup_days + scenario.run.horizon_days) * 24.0
    return [(a, b) for a, b in windows if b > w0 and a < w1]


def as_days(windows: Sequence[Window], scenario: Scenario) -> list[Window]:
    """Hours from the start of the simulation → days from ``start_date`` (results' clock)."""
    warmup = scenario.run.warmup_days
    return [(a / 24.0 - warmup, b / 24.0 - warmup) for a, b in windows]


def clearing(
    backlog: StepPath, windows: Sequence[Window], w0: float, w1: float
) -> tuple[float, float]:
    """(days to clear, cleared 1/0) after the last window ending inside ``(w0, w1)``: from its
    end until ``backlog`` first falls back to its level when that window began. Never by
    ``w1``: the days to ``w1`` (a lower bound) and 0. No such window (none, or the last one
    lasts to the end of the run): (NaN, NaN)."""
    done = [(a, b) for a, b in windows if w0 < b < w1]
    if not done:
        return math.nan, math.nan
    began, reopened = done[-1]
    target = backlog.level_at(max(began, 0.0) - 1e-9)
    if backlog.level_at(reopened) <= target:
        return 0.0, 1.0
    low = np.flatnonzero((backlog.times >= reopened) & (backlog.levels <= target))
    if len(low) == 0 or backlog.times[low[0]] > w1:
        return (w1 - reopened) / 24.0, 0.0
    return float(backlog.times[low[0]] - reopened) / 24.0, 1.0


def waiting_path(net: Network, rec: Records, index: int, direction: str | None = None) -> StepPath:
    """Trains waiting for node ``index`` over time: queued there, plus (with finite room) held
    anywhere upstream on their way to it, of one direction of travel when given. E1 counts
    "trains queued for Małaszewicze" this way; it is the backlog a reduction leaves."""
    through = np.asarray([index in p.nodes for p in net.paths])[rec.plan.path[rec.visit_train]]
    if direction is not None:
        dirs = np.asarray([p.direction for p in net.paths])[rec.plan.path[rec.visit_train]]
        through &= dirs == direction
    at = through & (rec.visit_node == index)
    queue = StepPath.from_events(rec.visit_arrive[at], rec.visit_start[at])
    if rec.visit_leave is None:
        return queue
    # held upstream: visits before the one at the node, on trains that go through it
    seq_at = np.full(len(rec.plan), -1, dtype=np.int64)
    seq_at[rec.visit_train[at]] = rec.visit_seq[at]
    before = through & (rec.visit_seq < seq_at[rec.visit_train])
    return add_paths(queue, StepPath.from_events(rec.visit_end[before], rec.visit_leave[before]))


def add_paths(a: StepPath, b: StepPath) -> StepPath:
    """The sum of two step paths (levels added at every change of either)."""
    times = np.union1d(a.times, b.times)
    return StepPath(times, a.levels_at(times) + b.levels_at(times))
