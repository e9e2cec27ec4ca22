"""How time and memory grow with demand and with horizon (target: linear, exponent ≤ 1.1).

One replication (build, run, KPIs and tables) of a corridor scenario (default
``scenarios/baseline_2023.yaml``, else the synthetic corridor) at 1×, 4× and 16× its
demand over one year, and at 1× over one and four years. Scaling demand also scales every
capacity (node servers, link capacities, event ``servers``) by the same factor, so the
corridor stays at the same utilisation: otherwise 16× demand is a pile-up at the first
bottleneck, which measures a backlog, not the engine. Wall time is the median of
``--repeats``; memory is the tracemalloc peak of a separate replication. The exponent is
the least-squares slope of log(CPU time) and log(memory) against log(trains): 1 is linear
(CPU time, because wall time on a shared machine jitters more than the effect measured).

    python benchmarks/scaling.py [SCENARIO.yaml|synthetic] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import functools
import math
from typing import Any

import _common
import numpy as np
from corridor import load, one_replication

from sim.config.scenario import Scenario


def scaled(scenario: Scenario, factor: float) -> Scenario:
    """Demand × ``factor`` with capacities × ``factor`` (whole servers, at least 1 if > 0)."""
    doc: dict[str, Any] = scenario.model_dump(by_alias=True)

    def more(servers: int | None) -> int | None:
        if servers is None or servers == 0:
            return servers  # unlimited stays unlimited, closed stays closed
        return max(1, round(servers * factor))

    for flow in doc["flows"].values():
        flow["teu_per_year"] *= factor
    for node in doc["nodes"].values():
        node["servers"] = more(node["servers"])
    for link in doc["links"].values():
        link["capacity_trains"] = more(link["capacity_trains"])
    for event in doc["events"].values():
        event["servers"] = more(event["servers"])
    return Scenario.model_validate(doc)


def slope(xs: list[float], ys: list[float]) -> float:
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = _common.ROOT / "scenarios" / "baseline_2023.yaml"
    parser.add_argument(
        "scenario", nargs="?", default=str(default) if default.exists() else "synthetic"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1×, 2×, 4× and 1, 2 years")
    args = parser.parse_args()
    demands = (1.0, 2.0, 4.0) if args.quick else (1.0, 4.0, 16.0)
    years = (1.0, 2.0) if args.quick else (1.0, 4.0)
    print(f"== scaling: {args.scenario}, demand × {demands} (1 year), years {years} (1×)")
    print(f"machine: {_common.machine()}")
    points = [(d, 1.0) for d in demands] + [(1.0, y) for y in years if y != 1.0]
    trains: list[float] = []
    visits: list[float] = []
    seconds: list[float] = []
    peaks: list[float] = []
    print(
        f"{'demand':>7} {'years':>5} {'trains':>9} {'visits':>10} {'wall s':>8} {'CPU s':>8} "
        f"{'CPU µs/v':>9} {'peak MiB':>9} {'B/visit':>8}"
    )
    for demand, horizon in points:
        scenario = scaled(load(args.scenario, horizon_days=365.0 * horizon), demand)
        seed = scenario.run.seed
        replicate = functools.partial(one_replication, scenario, seed)
        timed = [_common.timed(replicate) for _ in range(args.repeats)]
        runs = [r for _, _, r in timed]
        wall = _common.median([w for w, _, _ in timed])
        cpu = _common.median([c for _, c, _ in timed])
        peak, _ = _common.peak_traced_bytes(replicate)
        n, v = runs[0].trains, runs[0].visits
        trains.append(n)
        visits.append(v)
        seconds.append(cpu)
        peaks.append(peak)
        print(
            f"{demand:>6g}× {horizon:>5g} {n:>9,} {v:>10,} {wall:>8.2f} {cpu:>8.2f} "
            f"{cpu / v * 1e6:>9.2f} {peak / 2**20:>9.1f} {peak / v:>8.0f}"
        )
    k = len(demands)
    print(
        f"exponent (log-log slope vs trains): time {slope(trains, seconds):.3f} overall, "
        f"{slope(trains[:k], seconds[:k]):.3f} over demand, "
        f"{slope([trains[0], *trains[k:]], [seconds[0], *seconds[k:]]):.3f} over horizon"
    )
    print(
        f"                                    memory {slope(trains, peaks):.3f} overall, "
        f"{slope(trains[:k], peaks[:k]):.3f} over demand, "
        f"{slope([trains[0], *trains[k:]], [peaks[0], *peaks[k:]]):.3f} over horizon"
    )
    k_max = int(np.argmax(visits))
    print(
        f"marginal cost per extra visit (1x -> largest run): "
        f"{(seconds[k_max] - seconds[0]) / (visits[k_max] - visits[0]) * 1e6:.2f} µs, "
        f"{(peaks[k_max] - peaks[0]) / (visits[k_max] - visits[0]):.0f} B"
    )
    verdict = max(slope(trains, seconds), slope(trains, peaks)) <= 1.1
    print(f"target linear (≤ 1.1): {'met' if verdict else 'NOT met'}")
    assert math.isfinite(seconds[0])


if __name__ == "__main__":
    main()
