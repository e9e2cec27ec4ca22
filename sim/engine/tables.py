"""Flat columns for the results store, derived from one replication's records.

Times in tables are days relative to ``run.start_date`` (negative during the warm-up), which
is what plots and users want; the simulation itself works in hours from the warm-up start.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.columns import Columns
from sim.engine.network import Network, schedule_mean_between
from sim.engine.records import Records, held_path
from sim.stats import StepPath


def _day(rec: Records, hours: NDArray[np.float64]) -> NDArray[np.float64]:
    result: NDArray[np.float64] = (hours - rec.warmup_hours) / 24.0
    return result


def train_columns(net: Network, rec: Records, replication: int) -> Columns:
    plan = rec.plan
    n = len(plan)
    path_route = [p.route_id for p in net.paths]
    path_reverse = np.asarray([p.reverse for p in net.paths], dtype=bool)
    types = [*plan.type_names, ""]  # index -1 maps to ""
    rerouted: Columns = {} if plan.rerouted is None else {"rerouted": plan.rerouted}
    return {
        "replication": np.full(n, replication, dtype=np.int32),
        "train": np.arange(n, dtype=np.int32),
        "flow": [plan.flow_ids[k] for k in plan.flow.tolist()],
        "route": [path_route[p] for p in plan.path.tolist()],
        "reverse": path_reverse[plan.path] if n else np.empty(0, dtype=bool),
        "train_type": [types[t] for t in plan.train_type.tolist()],
        "teu": plan.teu,
        "depart_day": _day(rec, plan.depart_hours),
        "arrive_day": _day(rec, rec.delivered_hours),
        "transit_days": (rec.delivered_hours - plan.depart_hours) / 24.0,
        **rerouted,  # only with a rule that re-routes: was the train moved to ``route``?
    }


def visit_columns(net: Network, rec: Records, replication: int) -> Columns:
    ids = net.node_ids()
    return {
        "replication": np.full(len(rec.visit_train), replication, dtype=np.int32),
        "train": rec.visit_train,
        "node": [ids[k] for k in rec.visit_node.tolist()],
        "seq": rec.visit_seq,
        "arrive_day": _day(rec, rec.visit_arrive),
        "start_day": _day(rec, rec.visit_start),
        "end_day": _day(rec, rec.visit_end),
        "wait_hours": rec.visit_start - rec.visit_arrive,
        "handling_hours": rec.visit_end - rec.visit_start,
    }


def timeseries_columns(net: Network, rec: Records, replication: int) -> Columns:
    """Per node and simulated day (warm-up included): flows in and out, queue, busy servers,
    and, with finite room, the trains held there (handled, waiting to be accepted onward)."""
    edges = np.arange(0.0, rec.end_hours + 1e-9, 24.0)
    if edges[-1] < rec.end_hours:
        edges = np.append(edges, rec.end_hours)
    n_days = len(edges) - 1
    day = (edges[:-1] - rec.warmup_hours) / 24.0
    teu_of_visit = rec.plan.teu[rec.visit_train] if len(rec.visit_train) else np.empty(0)
    cols: dict[str, list[NDArray[np.generic]]] = {
        k: []
        for k in (
            "day",
            "arrivals",
            "departures",
            "teu_out",
            "queue_mean",
            "queue_end",
            "busy_mean",
            "servers_mean",
        )
    }
    if rec.visit_leave is not None:  # finite room: trains held at each node, per day
        cols["held_mean"] = []
        cols["held_end"] = []
    names: list[str] = []
    for node in net.nodes:
        mine = rec.visits_at(node.index)
        arrive, start, end = rec.visit_arrive[mine], rec.visit_start[mine], rec.visit_end[mine]
        ended = ~np.isnan(end)
        queue = StepPath.from_events(arrive, start)
        busy = StepPath.from_events(start, end)
        cols["day"].append(day)
        cols["arrivals"].append(np.histogram(arrive, edges)[0])
        cols["departures"].append(np.histogram(end[ended], edges)[0])
        cols["teu_out"].append(
            np.histogram(end[ended], edges, weights=teu_of_visit[mine][ended])[0]
        )
        cols["queue_mean"].append(queue.mean_between(edges))
        cols["queue_end"].append(queue.levels_at(edges[1:]))
        cols["busy_mean"].append(busy.mean_between(edges))
        cols["servers_mean"].append(schedule_mean_between(node.schedule, edges))
        if rec.visit_leave is not None:
            held = held_path(rec, mine)
            cols["held_mean"].append(held.mean_between(edges))
            cols["held_end"].append(held.levels_at(edges[1:]))
        names.extend([node.id] * n_days)
    out: Columns = {
        "replication": np.full(len(names), replication, dtype=np.int32),
        "node": names,
    }
    for key, parts in cols.items():
        out[key] = np.concatenate(parts) if parts else np.empty(0)
    return out
