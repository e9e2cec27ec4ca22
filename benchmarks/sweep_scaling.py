"""Sweep scale-out: one fixed sweep on 1, 2, … N workers of the local pool and of a Dask
LocalCluster (N = ``os.cpu_count()``), alternating; wall time, speed-up, per-task overhead,
and a check that every executor and worker count writes the same bytes.

The sweep: the M/M/3 example with a long horizon (one run ≈ 1 s, so the figure measures
parallel scaling rather than start-up), two points × ``--runs-per-worker``·N/2 replications,
one run per task (``chunk_size=1``: the most tasks, so the most overhead). Target: speed-up
≥ 0.8·N for N ≤ cores.

- speed-up: the median wall time of the 1-worker local pool over the median of a contender
  (starting and stopping the executor excluded: paid once per sweep, and printed apart);
- per-task overhead: what each task costs besides its simulations, ``(N · wall − Σ run
  seconds) / tasks``: dispatch, pickling, writing the part file, and the idle tail where
  fewer tasks than workers are left;
- bytes: the rows (``table_digest(read_runs(DIR))``) must be the same for every measurement,
  and each part file byte-identical across them (the same chunking writes the same files).

Rounds alternate the order of the contenders, so drift in the machine's load hits all alike.
Nothing is asserted about timings (the machine may be shared); a difference in bytes exits 1.

    .venv/bin/python benchmarks/sweep_scaling.py [--workers 1,2] [--runs-per-worker 4]
        [--horizon-days 1500] [--repeats 2] [--no-dask] [--dask-profiler]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _common

from sim.executors import DaskPool, Executor, LocalPool, Lost
from sim.store.sweeps import read_runs, table_digest
from sim.sweep.plan import SweepPlan, SweepRequest, plan_sweep
from sim.sweep.runner import run_sweep

SCENARIO = _common.ROOT / "scenarios" / "examples" / "mmc_queue.yaml"


class Timed:
    """An executor that adds up the seconds its tasks spent in simulations (``run_seconds``
    of each chunk result), to tell the per-task overhead from the work."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.workers = inner.workers
        self.description = inner.description
        self.run_seconds = 0.0
        self.close_seconds = 0.0
        self.tasks = 0

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Iterable[Any]
    ) -> Iterator[tuple[Any, Any | Lost]]:
        for task, result in self.inner.map_unordered(fn, tasks):
            self.run_seconds += float(getattr(result, "run_seconds", 0.0))
            self.tasks += 1
            yield task, result

    def close(self) -> None:
        """Stopping a cluster takes seconds: timed apart, like its start."""
        started = time.perf_counter()
        self.inner.close()
        self.close_seconds += time.perf_counter() - started


@dataclass
class Measured:
    label: str
    workers: int
    start_seconds: float
    wall_seconds: float
    run_seconds: float
    tasks: int
    digest: str
    parts: dict[str, bytes]

    @property
    def overhead_ms(self) -> float:
        return (self.workers * self.wall_seconds - self.run_seconds) / self.tasks * 1e3


def measure(kind: str, workers: int, plan: SweepPlan, out: Path) -> Measured:
    started = time.perf_counter()
    inner: Executor
    if kind == "local":
        inner = LocalPool(workers)
    elif kind == "dask-profiled":  # Dask's default: the workers' statistical profiler on
        inner = DaskPool("local", workers, worker_config={})
    else:
        inner = DaskPool("local", workers)
    ready = time.perf_counter()
    executor = Timed(inner)
    summary = run_sweep(plan, out, executor)
    wall = time.perf_counter() - ready - executor.close_seconds
    assert summary.failures_this_session == 0, f"{kind} {workers}: runs failed"
    parts = {p.name: p.read_bytes() for p in sorted((out / "runs").glob("part-*.parquet"))}
    m = Measured(
        f"{kind} ×{workers}",
        workers,
        ready - started + executor.close_seconds,
        wall,
        executor.run_seconds,
        executor.tasks,
        table_digest(read_runs(out)),
        parts,
    )
    print(
        f"  {m.label:<17} start+stop {m.start_seconds:5.2f} s  wall {m.wall_seconds:7.2f} s  "
        f"simulating {m.run_seconds:7.2f} s  overhead {m.overhead_ms:7.1f} ms/task  "
        f"digest {m.digest[:12]}",
        flush=True,
    )
    return m


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cores = os.cpu_count() or 1
    default_workers = sorted({1, *(n for n in (2, 4, 8, 16, 32, 64) if n <= cores), cores})
    parser.add_argument(
        "--workers",
        default=",".join(map(str, default_workers)),
        help="worker counts, comma-separated (default: 1, 2, 4, … up to os.cpu_count())",
    )
    parser.add_argument("--runs-per-worker", type=int, default=4, help="runs per worker at max N")
    parser.add_argument("--horizon-days", type=float, default=1500)
    parser.add_argument("--repeats", type=int, default=2, help="rounds, order alternating")
    parser.add_argument("--no-dask", action="store_true", help="local pool only")
    parser.add_argument(
        "--dask-profiler",
        action="store_true",
        help="also a Dask cluster with its workers' profiler on (Dask's default; off in ours)",
    )
    args = parser.parse_args()
    counts = sorted({int(w) for w in args.workers.split(",")} | {1})
    runs = max(2, args.runs_per_worker * max(counts))
    runs += runs % 2  # two points
    request = SweepRequest(
        target=SCENARIO,
        vary=("nodes.border.servers=3,4",),
        overrides=(f"run.horizon_days={args.horizon_days}",),
        replications=runs // 2,
        chunk_size=1,
    )
    plan = plan_sweep(request)
    kinds = ["local"] if args.no_dask else ["local", "dask"]
    if args.dask_profiler and not args.no_dask:
        kinds.append("dask-profiled")
    contenders = [(k, n) for n in counts for k in kinds]
    print(
        f"== sweep scaling: {runs} runs of {SCENARIO.name} ({args.horizon_days:g} days), "
        f"one run per task, workers {counts}, {len(kinds)} executor(s), {args.repeats} rounds"
    )
    print(f"machine: {_common.machine()}")
    results: dict[tuple[str, int], list[Measured]] = {c: [] for c in contenders}
    with tempfile.TemporaryDirectory() as tmp:
        warm = plan_sweep(
            SweepRequest(
                target=SCENARIO,
                vary=("nodes.border.servers=3",),
                overrides=("run.horizon_days=50",),
                replications=2,
            )
        )
        run_sweep(warm, Path(tmp) / "warm", LocalPool(1))  # imports, page cache: discarded
        for k in range(args.repeats):
            print(f"round {k + 1}:")
            order = contenders if k % 2 == 0 else contenders[::-1]
            for kind, n in order:
                out = Path(tmp) / f"{kind}{n}-{k}"
                results[(kind, n)].append(measure(kind, n, plan, out))
    everything = [m for ms in results.values() for m in ms]
    base = statistics.median(m.wall_seconds for m in results[("local", 1)])
    per_run = statistics.median(m.run_seconds / m.tasks for m in everything)
    print(f"\nmean simulation per run {per_run:.2f} s; local ×1 wall (median) {base:.2f} s")
    print(
        f"{'executor':<13} {'workers':>7} {'start+stop s':>12} {'wall s':>8} {'speed-up':>9} "
        f"{'÷ N':>6} {'per round':>16} {'overhead ms/task':>17}"
    )
    for (kind, n), ms in results.items():
        wall = statistics.median(m.wall_seconds for m in ms)
        rounds = " ".join(
            f"{one.wall_seconds / m.wall_seconds:.2f}"
            for one, m in zip(results[("local", 1)], ms, strict=True)
        )
        speedup = base / wall
        print(
            f"{kind:<13} {n:>7} {statistics.median(m.start_seconds for m in ms):>12.2f} "
            f"{wall:>8.2f} {speedup:>8.2f}× {speedup / n:>6.2f} {rounds:>16} "
            f"{statistics.median(m.overhead_ms for m in ms):>17.1f}"
        )
    met = all(
        base / statistics.median(m.wall_seconds for m in ms) >= 0.8 * n
        for (_, n), ms in results.items()
        if n <= (os.cpu_count() or 1)
    )
    print(f"target speed-up ≥ 0.8·N for N ≤ cores: {'met' if met else 'NOT met'}")
    digests = {m.digest for m in everything}
    reference = everything[0].parts
    same_parts = all(m.parts == reference for m in everything)
    print(
        f"bytes: {len(everything)} sweeps, {len(digests)} distinct row digest(s) "
        f"({everything[0].digest[:16]}…), {len(reference)} part files "
        f"{'byte-identical' if same_parts else 'DIFFER'} across executors and worker counts"
    )
    return 0 if len(digests) == 1 and same_parts else 1


if __name__ == "__main__":
    sys.exit(main())
