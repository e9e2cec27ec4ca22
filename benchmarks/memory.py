"""Peak memory of `corridor run` against the number of replications (issue #14).

A run streams each replication's tables (trains, visits, time series) to its staging
directory as soon as the replication finishes, so peak memory should be that of one
replication however many follow. This runs the 2023 baseline with every flow's demand
multiplied by ``--demand`` (×50 by default, ~3.4 KB of records a train) once with 1
replication and once with ``--replications`` (10), each in a fresh process, and prints the
peak resident memory of each (``wait4``'s ``ru_maxrss``) and their ratio. The promise: the
ratio stays within 1.5. Before streaming, 10 replications at ×50 held ~1.8 GiB.

    python benchmarks/memory.py [--demand 50] [--replications 10] [--horizon-days 365]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common

from sim.config.loader import load_scenario

SCENARIO = _common.ROOT / "scenarios" / "baseline_2023.yaml"


def peak_mb(args: list[str]) -> tuple[float, float]:
    """Peak RSS (MB) and wall seconds of one command in a fresh process."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(args)}")
    return usage.ru_maxrss / 1024.0, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demand", type=float, default=50.0)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--horizon-days", type=float, default=365.0)
    args = parser.parse_args()
    scenario, _ = load_scenario(SCENARIO)
    overrides = [f"run.horizon_days={args.horizon_days:g}", "mode_choice.enabled=false"]
    overrides += [  # the China–EU demand; the border's other traffic (load:) stays as it is
        f"flows.{fid}.teu_per_year={flow.teu_per_year * args.demand:.6g}"
        for fid, flow in scenario.flows.items()
        if flow.teu_per_year is not None
    ]
    print(f"# {_common.machine()}")
    print(f"# {SCENARIO.name}, demand ×{args.demand:g}, {args.horizon_days:g} days")
    peaks: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for reps in (1, args.replications):
            command = [sys.executable, "-m", "sim", "run", str(SCENARIO), "-q", "--workers", "1"]
            command += ["-r", str(reps), "--out", str(Path(tmp) / f"r{reps}")]
            for text in overrides:
                command += ["--set", text]
            peaks[reps], wall = peak_mb(command)
            print(f"{reps:>3} replication(s): peak RSS {peaks[reps]:7.0f} MB  ({wall:.1f} s)")
    ratio = peaks[args.replications] / peaks[1]
    print(f"ratio {args.replications} / 1 replication: {ratio:.2f} (promise: <= 1.5)")


if __name__ == "__main__":
    main()
