"""A sweep: many (point, replication) runs of one scenario, streamed to a resumable directory.

Flow: the request (CLI flags or a sweep YAML) → a :class:`SweepPlan` (parameters, points, the
resolved base scenario; every point validated before any run) → chunks of runs handed to an
executor → one Parquet part file per finished chunk under ``runs/`` (and ``failures/``).

Reproducibility: run (point p, replication r) is ``run_replication(scenario_p, r, root_seed)``,
i.e. replication r of every point draws from the same streams ``Streams(root_seed, r)``, so
points share common random numbers, and no result depends on which worker ran it or when.

Resumability: a part file is written under a hidden temporary name and renamed into place,
so it is complete or absent; it is named after its first run, which is unique because a run
is written at most once. ``--resume`` reads back which (point, replication) pairs are in
``runs/`` or ``failures/`` and runs only the rest: after Ctrl-C or ``kill -9`` nothing is
lost (beyond the chunks in flight) and nothing is duplicated. Delete ``failures/`` and resume
to retry failed runs.
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np

from sim.config.scenario import Scenario
from sim.engine.replications import replication_rows
from sim.errors import ConfigError
from sim.executors import Executor, Lost, make_executor
from sim.store.run_dir import (
    command_line,
)
from sim.store.sweeps import read_failures
from sim.sweep.demand import solve_demand
from sim.sweep.directory import (
    default_sweep_dir,
    done_runs,
    lock_sweep_dir,
    open_sweep_dir,
    write_chunk,
    write_manifest,
)
from sim.sweep.plan import ChunkResult, ChunkTask, SweepPlan, SweepRequest, chunks, plan_sweep
from sim.workflow.lifecycle import choose

# ---------------------------------------------------------------------------- running


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Worker side: run each pair through the lifecycle's steps (the point's history demand
    was applied when it was planned; its mode choice here, once per point); a run that
    raises is recorded with its error, not raised."""
    result = ChunkResult(columns={k: [] for k in ("replication", "scope", "name", "kpi", "value")})
    started = time.perf_counter()
    chosen: dict[int, Scenario] = {}  # each point's demand after its mode choice, if any
    for point, rep in task.runs:
        try:
            if point not in chosen:
                # deterministic (seeded by the point's run.seed), so any worker gets the same
                chosen[point] = choose(task.scenarios[point]).scenario
            out = task.replicate(chosen[point], rep, task.root_seed, False)
        except Exception as exc:
            last = traceback.extract_tb(exc.__traceback__)[-1]
            where = f" ({Path(last.filename).name}:{last.lineno})"
            result.failures.append((point, rep, f"{type(exc).__name__}: {exc}{where}"))
            continue
        rows = replication_rows([out])
        n = len(rows["kpi"])
        result.points.extend([point] * n)
        for key, col in result.columns.items():
            values = rows[key]
            col.extend(values.tolist() if isinstance(values, np.ndarray) else values)
    result.run_seconds = time.perf_counter() - started
    return result


# ---------------------------------------------------------------------------- orchestration


def _missing_points(plan: SweepPlan, done: set[tuple[int, int]]) -> list[int]:
    return [
        p
        for p in range(len(plan.points))
        if any((p, r) not in done for r in range(plan.replications))
    ]


class Reporter(Protocol):
    def start(self, total: int, done_before: int, description: str) -> None: ...

    def advance(self, runs: int, failed: int) -> None: ...


@dataclass
class SweepSummary:
    sweep_dir: Path
    points: int
    replications: int
    runs_total: int
    runs_before: int
    runs_this_session: int
    failures_this_session: int
    failures_total: int
    workers: int
    executor: str
    wall_seconds: float
    workers_replaced: int = 0

    @property
    def runs_per_second(self) -> float:
        return self.runs_this_session / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "replications": self.replications,
            "runs_total": self.runs_total,
            "runs_before": self.runs_before,
            "runs_this_session": self.runs_this_session,
            "failures_this_session": self.failures_this_session,
            "failures_total": self.failures_total,
            "workers": self.workers,
            "executor": self.executor,
            "wall_seconds": round(self.wall_seconds, 3),
            "runs_per_second": round(self.runs_per_second, 4),
            "runs_per_second_per_worker": round(self.runs_per_second / max(1, self.workers), 4),
            "workers_replaced": self.workers_replaced,
        }


class SweepInterrupted(Exception):
    """Ctrl-C or SIGTERM during a sweep; what is on disk is complete and resumable."""


def run_sweep(
    plan: SweepPlan,
    sweep_dir: Path,
    executor: Executor,
    resume: bool = False,
    reporter: Reporter | None = None,
) -> SweepSummary:
    """Run every missing (point, replication) of ``plan``; write parts as chunks finish."""
    runs = failed = before = 0
    lock: IO[str] | None = None
    try:
        started = time.perf_counter()
        created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if not resume:  # a demand that is an input error stops a new sweep before it is made
            solve_demand(plan, executor, range(len(plan.points)))
        lock = lock_sweep_dir(sweep_dir)
        manifest = open_sweep_dir(plan, sweep_dir, resume)
        done = done_runs(sweep_dir)
        before = len(done)
        if resume:  # only the blocks the missing runs need
            solve_demand(plan, executor, _missing_points(plan, done))
        if reporter:
            reporter.start(plan.total_runs, before, executor.description)
        for task, result in executor.map_unordered(run_chunk, chunks(plan, done)):
            if isinstance(result, Lost):
                result = ChunkResult(
                    failures=[(p, r, f"lost: {result.reason}") for p, r in task.runs]
                )
            write_chunk(sweep_dir, plan, task, result)
            runs += len(task.runs)
            failed += len(result.failures)
            if reporter:
                reporter.advance(len(task.runs), len(result.failures))
        executor.close()
        summary = SweepSummary(
            sweep_dir=sweep_dir,
            points=len(plan.points),
            replications=plan.replications,
            runs_total=plan.total_runs,
            runs_before=before,
            runs_this_session=runs,
            failures_this_session=failed,
            failures_total=read_failures(sweep_dir).num_rows,
            workers=executor.workers,
            executor=executor.description,
            wall_seconds=time.perf_counter() - started,
            workers_replaced=int(getattr(executor, "replaced", 0)),
        )
        manifest["sessions"] = [
            *manifest.get("sessions", []),
            {"started_utc": created, "command": command_line(), **summary.as_dict()},
        ]
        manifest["complete"] = before + runs == plan.total_runs
        write_manifest(sweep_dir, manifest)
        return summary
    except KeyboardInterrupt:
        raise SweepInterrupted(
            f"interrupted: {before + runs} of {plan.total_runs} runs are saved in {sweep_dir}; "
            "run the same command with --resume to finish"
        ) from None
    finally:
        executor.close()
        if lock is not None:
            lock.close()


def sweep(request: SweepRequest, reporter: Reporter | None = None) -> SweepSummary:
    """Plan (validating every point), then run on the chosen executor."""
    if request.resume and request.out is None:
        raise ConfigError("--resume", (), "needs --out DIR, the sweep directory to continue")
    plan = plan_sweep(request)
    sweep_dir = request.out or default_sweep_dir(request.results_root, plan.base_scenario.name)
    executor = make_executor(request.workers, request.dask)
    return run_sweep(plan, sweep_dir, executor, request.resume, reporter)
