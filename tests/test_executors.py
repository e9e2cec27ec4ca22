"""The one executor behind replications, the choice's fixed point and sweeps."""

from __future__ import annotations

import math

import pytest

from sim.executors import LocalPool, WorkFailed, map_ordered


def test_map_ordered_keeps_task_order_when_tasks_finish_out_of_order() -> None:
    # the first task is by far the slowest, so with 2 workers the others finish first
    tasks = [range(20_000_000), range(10), range(5), range(1_000), range(3)]
    got = list(map_ordered(sum, tasks, workers=2))
    assert got == [len(r) * (len(r) - 1) // 2 for r in tasks]


def test_map_ordered_inline_equals_pool() -> None:
    tasks = [range(n) for n in (7, 0, 100, 3)]
    assert list(map_ordered(sum, tasks, workers=1)) == list(map_ordered(sum, tasks, workers=2))


def test_a_failed_task_stops_an_ordered_map() -> None:
    with pytest.raises(WorkFailed, match="task 1 failed: ValueError"):
        list(map_ordered(math.sqrt, [4.0, -1.0, 9.0], workers=2))


def test_map_ordered_on_a_given_executor_leaves_it_open() -> None:
    pool = LocalPool(2, preload=())
    try:
        assert list(map_ordered(abs, [-3, 2, -1], workers=2, executor=pool)) == [3, 2, 1]
        assert list(map_ordered(abs, [-5], workers=2, executor=pool)) == [5]
    finally:
        pool.close()


def test_dask_workers_that_cannot_import_the_simulator_are_one_input_error() -> None:
    """The pool imports the simulator on every worker when it starts: a cluster without it
    fails there, with the module named, instead of losing every chunk later."""
    pytest.importorskip("distributed")
    from sim.errors import ConfigError
    from sim.executors import DaskPool

    with pytest.raises(ConfigError, match="the workers cannot import no_such_module_for_corridor"):
        DaskPool("local", 1, processes=False, preload=("no_such_module_for_corridor",))
    pool = DaskPool("local", 1, processes=False, preload=("math",))
    try:
        assert list(pool.map_unordered(math.sqrt, [4.0])) == [(4.0, 2.0)]
    finally:
        pool.close()
