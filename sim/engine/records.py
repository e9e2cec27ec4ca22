"""What one replication recorded: one slot per train and one per planned node visit.

Every train and every visit it will make is known before the run (the demand is planned in
advance and a path is fixed), so all arrays are allocated once and the simulation only
writes floats into them; a slot still NaN at the end means "not reached yet". This keeps the
event loop free of appends, DataFrames and objects per train.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from sim.engine.network import Network
from sim.stats import StepPath

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int32]


@dataclass
class Records:
    """Times are simulation hours (t=0 is the start of the warm-up)."""

    plan: TrainPlan
    delivered_hours: FloatArray  # per train: end of service at its destination; NaN if never
    visit_offset: NDArray[np.int64]  # per train (+1): first visit slot of train i
    visit_train: IntArray
    visit_node: IntArray
    visit_seq: IntArray  # position of the node on the train's path
    visit_arrive: FloatArray
    visit_start: FloatArray
    visit_end: FloatArray
    warmup_hours: float
    end_hours: float
    # when the train left the node (accepted downstream or delivered); only with finite room,
    # where it can be later than ``visit_end``: the train was held there
    # (see sim/engine/blocking.py)
    visit_leave: FloatArray | None = None

    @classmethod
    def allocate(cls, net: Network, plan: TrainPlan) -> Records:
        n = len(plan)
        path_len = np.asarray([len(p.nodes) for p in net.paths], dtype=np.int64)
        lengths = path_len[plan.path] if n else np.empty(0, dtype=np.int64)
        offset = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offset[1:])
        total = int(offset[-1])
        visit_train = np.repeat(np.arange(n, dtype=np.int32), lengths)
        visit_seq = (np.arange(total, dtype=np.int64) - offset[:-1][visit_train]).astype(np.int32)
        # every path's nodes end to end; a visit's node sits at its path's start + seq
        path_first = np.concatenate([[0], np.cumsum(path_len)[:-1]]).astype(np.int64)
        flat = np.asarray([n for p in net.paths for n in p.nodes], dtype=np.int32)
        visit_node = flat[path_first[plan.path][visit_train] + visit_seq] if total else flat[:0]
        nan = np.full(total, np.nan)
        return cls(
            plan=plan,
            delivered_hours=np.full(n, np.nan),
            visit_offset=offset,
            visit_train=visit_train,
            visit_node=visit_node,
            visit_seq=visit_seq,
            visit_arrive=nan.copy(),
            visit_start=nan.copy(),
            visit_end=nan,
            warmup_hours=net.warmup_hours,
            end_hours=net.end_hours,
        )

    @property
    def delivered(self) -> NDArray[np.bool_]:
        return ~np.isnan(self.delivered_hours)

    def visits_at(self, node: int) -> NDArray[np.intp]:
        """Indices of the visits to ``node``, in visit-slot order.

        Per-node statistics gather through these instead of a boolean mask per node, so they
        cost O(visits) in total rather than O(nodes × visits). The grouping is computed once
        (call it after the run: only ``visit_node``, fixed at allocation, is used).
        """
        order, starts = self._by_node
        if node + 1 >= len(starts):
            return order[:0]
        return order[starts[node] : starts[node + 1]]

    @cached_property
    def _by_node(self) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        order = np.argsort(self.visit_node, kind="stable")  # stable: slot order within a node
        starts = np.concatenate([[0], np.cumsum(np.bincount(self.visit_node))])
        return order, starts.astype(np.intp)


@dataclass(frozen=True)
class TrainPlan:
    """Every train of one replication, sorted by departure time."""

    depart_hours: NDArray[np.float64]
    flow: NDArray[np.int32]
    path: NDArray[np.int32]
    train_type: NDArray[np.int32]  # index into type_names, -1 when the flow has no types
    teu: NDArray[np.float64]
    flow_ids: tuple[str, ...]
    type_names: tuple[str, ...]
    flow_markets: tuple[str, ...] = ()  # market of each flow (empty: all china_eu)
    # per train: did a dispatch rule move it to another route (sim/engine/reroute.py)? None
    # when no rule re-routes (``path`` is then the drawn route of every train)
    rerouted: NDArray[np.bool_] | None = None

    def __len__(self) -> int:
        return len(self.depart_hours)


def held_path(rec: Records, visits: NDArray[np.intp] | None = None) -> StepPath:
    """Trains held (handled, not yet accepted downstream) over time, at the given visits
    (all visits when None). Needs ``visit_leave`` (finite room)."""
    assert rec.visit_leave is not None
    end, leave = rec.visit_end, rec.visit_leave
    if visits is not None:
        end, leave = end[visits], leave[visits]
    # a train still held at the end has left = NaN: it never leaves the step path
    return StepPath.from_events(end, leave)
