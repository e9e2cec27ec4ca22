"""The fast engine paths behave exactly like the plain SimPy constructs they replace.

`TrackPool` hands out servers without request/release events; it must allocate exactly as a
`simpy.Resource` does (FIFO, capacity changes applied at once, no preemption). Per-node
grouping of visits must give the same visits, in the same order, as a boolean mask.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy
from builders import one_node, validated

from sim.engine.replications import simulate
from sim.engine.resources import TrackPool

Starts = dict[int, tuple[float, float]]  # train -> (start, end) of its service


class _ResourcePool(simpy.Resource):
    """The reference: a simpy.Resource whose capacity may change (the engine's old pool)."""

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        super().__init__(env, capacity=max(capacity, 1))
        self._capacity = capacity

    def set_capacity(self, capacity: int) -> None:
        self._capacity = capacity
        while self.put_queue and len(self.users) < capacity:
            waiting = len(self.put_queue)
            self._trigger_put(None)
            if len(self.put_queue) == waiting:
                break


def _workload(seed: int) -> tuple[list[float], list[float], list[tuple[float, int]]]:
    """Continuous arrival and holding times (no ties) and capacity changes incl. closures."""
    rng = random.Random(seed)
    arrivals, t = [], 0.0
    for _ in range(400):
        t += rng.expovariate(1.0)
        arrivals.append(t)
    holds = [rng.expovariate(1 / 2.5) for _ in arrivals]
    changes = [(rng.uniform(0, t), rng.choice([0, 1, 2, 3, 5])) for _ in range(12)]
    return arrivals, holds, sorted(changes)


def _run_with_trackpool(seed: int) -> Starts:
    arrivals, holds, changes = _workload(seed)
    env = simpy.Environment()
    pool = TrackPool(env, 3)
    out: Starts = {}

    def train(i: int) -> Generator[Any, Any, None]:
        yield env.timeout(arrivals[i])
        wait = pool.acquire()
        if wait is not None:
            yield wait
        start = env.now
        yield env.timeout(holds[i])
        pool.release()
        out[i] = (start, env.now)

    return _drive(env, pool, changes, train, len(arrivals), out)


def _run_with_resource(seed: int) -> Starts:
    arrivals, holds, changes = _workload(seed)
    env = simpy.Environment()
    pool = _ResourcePool(env, 3)
    out: Starts = {}

    def train(i: int) -> Generator[Any, Any, None]:
        yield env.timeout(arrivals[i])
        with pool.request() as request:
            yield request
            start = env.now
            yield env.timeout(holds[i])
        out[i] = (start, env.now)

    return _drive(env, pool, changes, train, len(arrivals), out)


def _drive(
    env: simpy.Environment,
    pool: Any,
    changes: list[tuple[float, int]],
    train: Any,
    n: int,
    out: Starts,
) -> Starts:
    def follow() -> Generator[Any, Any, None]:
        for t, servers in changes:
            yield env.timeout(t - env.now)
            pool.set_capacity(servers)
        yield env.timeout(1.0)
        pool.set_capacity(3)  # reopen at the end so every train is served

    env.process(follow())
    for i in range(n):
        env.process(train(i))
    env.run()
    return out


def test_trackpool_allocates_exactly_like_a_simpy_resource() -> None:
    for seed in range(5):
        fast, reference = _run_with_trackpool(seed), _run_with_resource(seed)
        assert len(fast) == 400
        assert fast == reference  # same start and end of service for every train
        waited = sum(
            start > arrive
            for (start, _), arrive in zip(
                (fast[i] for i in range(400)), _workload(seed)[0], strict=True
            )
        )
        assert waited > 100  # closures and busy periods really made trains queue


def test_trackpool_is_fifo_never_exceeds_capacity_and_never_preempts() -> None:
    env = simpy.Environment()
    pool = TrackPool(env, 1)
    log: list[tuple[str, int, float]] = []
    peak = [0]

    def train(i: int, arrive: float, hold: float) -> Generator[Any, Any, None]:
        yield env.timeout(arrive)
        wait = pool.acquire()
        if wait is not None:
            yield wait
        log.append(("start", i, env.now))
        peak[0] = max(peak[0], pool.busy)
        yield env.timeout(hold)
        pool.release()

    def schedule() -> Generator[Any, Any, None]:
        yield env.timeout(0.5)
        pool.set_capacity(0)  # closed while train 0 is being served: it is not preempted
        yield env.timeout(4.0)
        pool.set_capacity(2)  # reopens with two servers: the two oldest waiters start at once

    env.process(schedule())
    for i, arrive in enumerate([0.0, 1.0, 2.0, 3.0]):
        env.process(train(i, arrive, 2.0))
    env.run()
    assert log == [("start", 0, 0.0), ("start", 1, 4.5), ("start", 2, 4.5), ("start", 3, 6.5)]
    assert peak[0] == 2


def test_visits_grouped_by_node_match_a_mask() -> None:
    doc = one_node(2, {"dist": "exponential", "mean": 1.5}, 1.0, horizon_days=30)
    net, rec = simulate(validated(doc), 0, seed=5)
    for node in range(len(net.nodes) + 1):  # one past the end: no visits
        mask = rec.visit_node == node
        np.testing.assert_array_equal(rec.visits_at(node), np.flatnonzero(mask))
