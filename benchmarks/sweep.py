"""Sweep throughput: runs/s with 1 and 2 local workers (and optionally a Dask LocalCluster).

Each run is one replication of the M/M/3 example with a long horizon, so a run takes ≥ 1 s
and the figure measures parallel scaling, not start-up overhead. Target: ≥ 1.8× on 2 cores.
The machine must be otherwise idle for the ratio to mean anything.

    .venv/bin/python benchmarks/sweep.py [--runs 8] [--horizon-days 1500] [--dask]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from pathlib import Path

from sim.executors import DaskPool, Executor, LocalPool
from sim.store.sweeps import read_runs, table_digest
from sim.sweep.plan import SweepRequest, plan_sweep
from sim.sweep.runner import run_sweep

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "examples" / "mmc_queue.yaml"


def measure(label: str, executor: Executor, request: SweepRequest, out: Path) -> float:
    plan = plan_sweep(request)
    started = time.perf_counter()
    summary = run_sweep(plan, out, executor)
    wall = time.perf_counter() - started
    rate = summary.runs_this_session / wall
    print(
        f"{label:<22} {summary.runs_this_session:>4} runs  {wall:7.2f} s  {rate:6.3f} runs/s  "
        f"digest {table_digest(read_runs(out))[:12]}"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8, help="replications (runs) per measurement")
    parser.add_argument("--horizon-days", type=float, default=1500)
    parser.add_argument("--repeats", type=int, default=3, help="rounds, alternating 1 and 2")
    parser.add_argument("--dask", action="store_true", help="also a 2-worker Dask LocalCluster")
    args = parser.parse_args()
    request = SweepRequest(
        target=SCENARIO,
        vary=("nodes.border.servers=3",),
        overrides=(f"run.horizon_days={args.horizon_days}",),
        replications=args.runs,
        chunk_size=1,
    )
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    ones: list[float] = []
    twos: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        # warm-up (discarded): imports, page cache and the forkserver cost the first sweep more
        warm = dataclasses.replace(request, replications=2)
        measure("warm-up (discarded)", LocalPool(1), warm, Path(tmp) / "warm")
        for k in range(args.repeats):
            # alternate which goes first, so drift in machine load hits both alike
            order = [(1, ones), (2, twos)] if k % 2 == 0 else [(2, twos), (1, ones)]
            for workers, sink in order:
                label = f"{workers} worker{'s' if workers > 1 else ''} (local)"
                sink.append(
                    measure(label, LocalPool(workers), request, Path(tmp) / f"w{workers}{k}")
                )
        one, two = statistics.median(ones), statistics.median(twos)
        rounds = [t / o for o, t in zip(ones, twos, strict=True)]
        print(f"  mean run time {1 / one:.2f} s (target: ≥ 1 s per run)")
        print(f"median runs/s: 1 worker {one:.3f}, 2 workers {two:.3f}")
        print(
            "scaling 2 vs 1 worker per round: "
            + " ".join(f"{r:.2f}" for r in rounds)
            + f"; median of rounds {statistics.median(rounds):.2f}x "
            "(target ≥ 1.8x on 2 idle cores; a round pairs runs made minutes apart, "
            "so the per-round spread is the machine's noise)"
        )
        if args.dask:
            dask = measure("2 workers (Dask local)", DaskPool("local", 2), request, Path(tmp) / "d")
            print(f"scaling Dask 2 vs local 1: {dask / one:.2f}x")


if __name__ == "__main__":
    main()
