"""Cost of the border as it really works (issue 11): all traffic, finite room, blocking.

Times one replication (tables included, as ``corridor run`` writes them) of

* ``e3_2021``: a 2021 year on the border overlay (the China–EU boom volume plus the other
  traffic through the crossing, finite room everywhere it is set, the blocking engine);
* ``baseline_2023``: the shipped baseline (border overlay, 2023 demand);
* ``plain_2023``: the same 2023 demand on ``params/network.yaml`` alone: the engine without
  room, directions or other traffic, i.e. the baseline as it ran before the overlay;

and prints wall and CPU time (median of ``--repeats``, the three alternating) and the cost per
simulated train (every train of every market that the run planned). Targets (issue 11): the
2021 year in at most 1 s, and at most 3× the plain baseline's cost per train.

    python benchmarks/border.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import _common

from sim.config.loader import load_scenario
from sim.config.scenario import Scenario
from sim.engine.replications import run_replication

ROOT = _common.ROOT


def _plain_2023(folder: Path) -> Scenario:
    """baseline_2023's run and demand on the network file alone (no border overlay)."""
    path = folder / "plain_2023.yaml"
    path.write_text(
        "name: plain_2023\n"
        f"extends: [{ROOT / 'params/network.yaml'}, {ROOT / 'params/demand_2023.yaml'}]\n"
        "run: {start_date: 2023-01-01, warmup_days: 45, horizon_days: 365, seed: 2023}\n"
        "nodes: {altynkol: {servers: 4}}\n",
        encoding="utf-8",
    )
    return load_scenario(path)[0]


def _one(scenario: Scenario) -> tuple[float, float, int]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    out = run_replication(scenario, 0, scenario.run.seed, with_tables=True)
    return time.perf_counter() - wall0, time.process_time() - cpu0, out.trains


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("== the border as it really works: one simulated year, one replication")
    print(f"machine: {_common.machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "e3_2021": load_scenario(ROOT / "scenarios/episodes/e3_2021.yaml")[0],
            "baseline_2023": load_scenario(ROOT / "scenarios/baseline_2023.yaml")[0],
            "plain_2023": _plain_2023(Path(tmp)),
        }
        runs: dict[str, list[tuple[float, float, int]]] = {k: [] for k in cases}
        for _ in range(args.repeats):
            for name, scenario in cases.items():
                runs[name].append(_one(scenario))
    per_train = {}
    for name, rows in runs.items():
        wall = _common.median([r[0] for r in rows])
        cpu = _common.median([r[1] for r in rows])
        trains = rows[0][2]
        per_train[name] = cpu / trains
        print(
            f"{name:14s} trains {trains:6,}  wall {wall:.3f} s  CPU {cpu:.3f} s  "
            f"CPU per train {1e6 * cpu / trains:.0f} µs  (median of {args.repeats})"
        )
    ratio = per_train["e3_2021"] / per_train["plain_2023"]
    print(f"cost per train, e3_2021 / plain_2023: {ratio:.2f} (target ≤ 3)")


if __name__ == "__main__":
    main()
