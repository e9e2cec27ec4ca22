"""Helpers shared by the benchmark scripts: timing, alternation, memory, machine description.

Benchmarks print figures; they never assert timings (the machine may be shared). The robust
figure is a ratio measured in one process with the contenders alternating, so background
load hits both about equally.
"""

from __future__ import annotations

import gc
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/x.py` from anywhere
    sys.path.insert(0, str(ROOT))


def machine() -> str:
    """One line naming the machine, so printed figures can be compared across runs."""
    load = os.getloadavg()
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load avg {load[0]:.1f}; Python {platform.python_version()}, "
        f"SimPy {simpy.__version__}, NumPy {np.__version__}"
    )


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of one call (garbage collected first so earlier garbage is not
    billed). CPU time is the steadier figure when other processes share the cores."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def alternate(
    contenders: dict[str, Callable[[], Any]], repeats: int
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, list[Any]]]:
    """Run each contender ``repeats`` times, interleaved (A B, then B A, …).

    Returns wall seconds, CPU seconds and the values returned, each per contender.
    """
    walls: dict[str, list[float]] = {k: [] for k in contenders}
    cpus: dict[str, list[float]] = {k: [] for k in contenders}
    values: dict[str, list[Any]] = {k: [] for k in contenders}
    names = list(contenders)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            wall, cpu, value = timed(contenders[name])
            walls[name].append(wall)
            cpus[name].append(cpu)
            values[name].append(value)
    return walls, cpus, values


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def peak_traced_bytes(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Peak bytes allocated by Python and NumPy during ``fn`` (tracemalloc; slows the call)."""
    gc.collect()
    tracemalloc.start()
    try:
        value = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, value


def max_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
