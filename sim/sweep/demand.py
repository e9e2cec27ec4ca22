"""A sweep's history demand: solved once per distinct history block, on the sweep's workers.

Why: a point on a history year takes its rail flows from the demand ensemble's chain of
years (~15 s of CPU a distinct history block; the 2026 study has 12 blocks among 512 points).
Solved while planning, in the main process, that was minutes of one core while the workers
waited, repeated on every ``--resume``. Here the distinct blocks that the *missing* runs need
go to the sweep's one executor like any other task, so they run in parallel, and a resume
that has only a few points left solves only theirs. The answer is deterministic (the
ensemble is seeded by its file), so which worker solved a block changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sim.choice.history_demand import YearDemand, year_demand
from sim.config.loader import RawScenario, validate_raw
from sim.config.scenario import Scenario
from sim.errors import ConfigError
from sim.executors import Executor, Lost
from sim.sweep.plan import SweepPlan
from sim.sweep.points import point_raw


@dataclass(frozen=True)
class DemandTask:
    """One distinct history block, as the first point that has it."""

    key: str
    point: int
    scenario: Scenario
    raw: RawScenario


@dataclass(frozen=True)
class DemandProblem:
    """A block whose demand is an input error (sent back as data: the executor's tasks do
    not raise)."""

    source: str
    path: tuple[str | int, ...]
    problem: str


def solve_block(task: DemandTask) -> YearDemand | DemandProblem:
    """Worker side: the block's demand from the ensemble (the same call `corridor run` makes)."""
    try:
        demand = year_demand(task.scenario, task.raw)
    except ConfigError as exc:
        return DemandProblem(exc.source, tuple(exc.path), exc.problem)
    if demand is None:  # planning keyed only points with an ensemble
        return DemandProblem(task.raw.main_file, ("history", "params"), "has no demand ensemble")
    return demand


def demand_tasks(plan: SweepPlan, points: Iterable[int]) -> list[DemandTask]:
    """The distinct history blocks these points need that the plan has not solved yet.

    A block is solved as its *first point in the plan*, whichever points are missing: the
    demand reads the point's network too (the choice's border comes from it), so points that
    share a block but differ in D5/D6 would otherwise get another answer on a ``--resume``
    than in an uninterrupted sweep. The block's demand is an approximation shared by its
    points (docs/study.md); which point stands for it must not depend on when it was solved."""
    tasks: dict[str, DemandTask] = {}
    for p in points:
        key = plan.demand_keys[p] if p < len(plan.demand_keys) else None
        if key is None or key in plan.history_cache or key in tasks:
            continue
        first = plan.demand_keys.index(key)
        raw = point_raw(
            plan.base, plan.parameters, plan.points[first], derived=plan.derived, border=plan.border
        )
        tasks[key] = DemandTask(key, first, validate_raw(raw), raw)
    return list(tasks.values())


def solve_demand(plan: SweepPlan, executor: Executor, points: Iterable[int]) -> int:
    """Fill ``plan.history_cache`` for these points on ``executor``; how many blocks it
    sent. A block whose demand is an input error raises it, naming its first point; a block
    lost with its worker is solved in this process (the cache is complete on return)."""
    tasks = demand_tasks(plan, points)
    for task, result in executor.map_unordered(solve_block, tasks):
        if isinstance(result, Lost):  # its worker died each time: solve it here instead
            result = solve_block(task)
        if isinstance(result, DemandProblem):
            raise ConfigError(result.source, result.path, f"{result.problem} (point {task.point})")
        plan.history_cache[task.key] = result
    return len(tasks)
