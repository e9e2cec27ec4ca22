"""The capacity-limited resources trains use: a node's track pools (servers, by direction
and by class), its stations, and a link's tracks, which the train process
(:mod:`sim.engine.model`) queues at; room gates (:mod:`sim.engine.blocking`) are pools too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import simpy


class TrackPool:
    """Servers of a node or link: how many are busy, how many exist now, who waits (FIFO).

    It allocates exactly like a ``simpy.Resource`` (first come, first served; a capacity
    change never preempts a train already being served) but costs far less per visit: a
    train that finds a free server takes it without a request event passing through the
    event queue, and a release is a counter decrement rather than a second event. Only a
    train that must wait yields an event, triggered in arrival order when a server frees
    or capacity returns. This halves the SimPy events per visit (see benchmarks/).
    """

    __slots__ = ("_env", "_waiting", "busy", "capacity")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        self._env = env
        self.capacity = capacity
        self.busy = 0
        self._waiting: deque[simpy.Event] = deque()

    def acquire(self) -> simpy.Event | None:
        """Take a server: None if one was free (taken now), else an event to wait for."""
        if self.busy < self.capacity and not self._waiting:
            self.busy += 1
            return None
        wait = self._env.event()
        self._waiting.append(wait)
        return wait

    @property
    def waiting(self) -> int:
        """Trains waiting for a server (or for room)."""
        return len(self._waiting)

    def release(self) -> None:
        self.busy -= 1
        if self._waiting:
            self._admit()

    def set_capacity(self, capacity: int) -> None:
        self.capacity = capacity
        self._admit()

    def _admit(self) -> None:
        waiting = self._waiting
        while waiting and self.busy < self.capacity:
            self.busy += 1
            waiting.popleft().succeed()


class Station:
    """Run-time state of a node: its pool, a handling-time sampler (hours) per sampler slot
    (market × train type, see :func:`sim.engine.model.sampler_slots`), the handling factor."""

    __slots__ = ("factor", "handling_hours_by_slot", "pool")

    def __init__(
        self,
        pool: TrackPool | None,
        handling_hours_by_slot: list[Callable[[], float]],
        factor: float,
    ) -> None:
        self.pool = pool
        self.handling_hours_by_slot = handling_hours_by_slot
        self.factor = factor


class Track:
    """Run-time state of a link: optional pool (capacity or closures), and a travel-time
    sampler (hours) per market (``travel_hours_by_market[0]`` for China–EU trains; see
    :func:`sim.engine.model.market_slots`)."""

    __slots__ = ("factor", "pool", "travel_hours_by_market")

    def __init__(
        self,
        pool: TrackPool | None,
        travel_hours_by_market: list[Callable[[], float]],
        factor: float,
    ) -> None:
        self.pool = pool
        self.travel_hours_by_market = travel_hours_by_market
        self.factor = factor
