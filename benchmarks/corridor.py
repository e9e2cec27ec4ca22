"""One simulated year of full corridor scenarios: wall time by phase, events/s, peak memory.

For each scenario (a YAML path, or ``synthetic`` for the corridor-sized stand-in of
``benchmarks/synthetic.py``) the horizon is set to 365 days (the scenario's own warm-up is
kept) and replication 0 runs ``--repeats`` times; medians are printed. Phases are the
ones ``sim.engine.replications.run_replication`` strings together: build (network, train
plan, model with its preallocated records), run (the SimPy event loop), KPIs, tables (the
flat columns written to Parquet by ``corridor run``).

Events are the SimPy events the run scheduled (timeouts, resource requests and releases,
process starts), read from the environment's event counter after the run; events/s divides
them by the run phase alone. Peak memory is the tracemalloc peak of a separate, un-timed
replication including tables (Python objects and NumPy buffers), also given per train visit
recorded; the process's max RSS is printed for reference.

    python benchmarks/corridor.py [SCENARIO.yaml|synthetic ...] [--busiest] [--repeats 3]

With no scenario: ``scenarios/baseline_2023.yaml`` and the busiest shipped scenario (most
planned train visits in a year) when they exist, else ``synthetic``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import _common
import numpy as np

from sim.config.loader import load_scenario
from sim.config.scenario import Scenario
from sim.engine.demand import plan_trains
from sim.engine.metrics import replication_kpis
from sim.engine.model import CorridorModel
from sim.engine.network import build_network
from sim.engine.streams import Streams
from sim.engine.tables import timeseries_columns, train_columns, visit_columns

SCENARIOS = _common.ROOT / "scenarios"


@dataclass
class Phases:
    build: float
    run: float
    kpis: float
    tables: float
    events: int
    trains: int
    visits: int  # visits recorded (a train reached the node) by the end of the run

    @property
    def total(self) -> float:
        return self.build + self.run + self.kpis + self.tables


def one_replication(scenario: Scenario, seed: int, tables: bool = True) -> Phases:
    """Replication 0 as ``run_replication`` does it, timing each phase."""
    clock = time.perf_counter
    t0 = clock()
    net = build_network(scenario)
    streams = Streams(root_seed=seed, replication=0)
    plan = plan_trains(scenario, net, streams)
    model = CorridorModel(net, plan, streams)
    t1 = clock()
    rec = model.run()
    t2 = clock()
    replication_kpis(net, rec)
    t3 = clock()
    if tables:
        train_columns(net, rec, 0)
        visit_columns(net, rec, 0)
        timeseries_columns(net, rec, 0)
    t4 = clock()
    events = next(model.env._eid)  # SimPy's running event id: events scheduled so far
    visits = int(np.count_nonzero(~np.isnan(rec.visit_arrive)))
    return Phases(t1 - t0, t2 - t1, t3 - t2, t4 - t3, events, len(plan), visits)


def load(spec: str, horizon_days: float = 365.0) -> Scenario:
    if spec == "synthetic":
        import synthetic

        return synthetic.synthetic_corridor(horizon_days=horizon_days)
    scenario, _ = load_scenario(spec, values={"run.horizon_days": horizon_days})
    return scenario


def busiest_shipped() -> Path | None:
    """The shipped scenario with the most planned train visits in one year (replication 0)."""
    sizes: list[tuple[int, Path]] = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        scenario = load(str(path))
        net = build_network(scenario)
        plan = plan_trains(scenario, net, Streams(scenario.run.seed, 0))
        lengths = np.asarray([len(p.nodes) for p in net.paths])
        sizes.append((int(lengths[plan.path].sum()) if len(plan) else 0, path))
    if not sizes:
        return None
    sizes.sort(reverse=True)
    print("planned visits in one year: " + ", ".join(f"{p.stem} {v:,}" for v, p in sizes))
    return sizes[0][1]


def report(spec: str, repeats: int) -> None:
    scenario = load(spec)
    seed = scenario.run.seed
    runs = [one_replication(scenario, seed) for _ in range(repeats)]
    med = {k: _common.median([getattr(r, k) for r in runs]) for k in ("build", "run", "kpis")}
    med["tables"] = _common.median([r.tables for r in runs])
    total = _common.median([r.total for r in runs])
    first = runs[0]
    peak, _ = _common.peak_traced_bytes(lambda: one_replication(scenario, seed))
    print(f"-- {spec}  ({scenario.name}; warm-up {scenario.run.warmup_days:g} d + 365 d)")
    print(
        f"   trains {first.trains:,}   visits recorded {first.visits:,}   "
        f"SimPy events {first.events:,}"
    )
    print(
        f"   wall {total:.3f} s (median of {repeats}): build {med['build']:.3f}, "
        f"run {med['run']:.3f}, KPIs {med['kpis']:.3f}, tables {med['tables']:.3f}"
    )
    print(
        f"   events/s {first.events / med['run']:,.0f} (run phase)   "
        f"visits/s {first.visits / total:,.0f} (whole replication)"
    )
    print(
        f"   peak memory {peak / 2**20:.1f} MiB traced = {peak / max(first.visits, 1):.0f} B "
        f"per visit recorded   (process max RSS so far {_common.max_rss_mb():.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help="YAML files or 'synthetic'")
    parser.add_argument("--busiest", action="store_true", help="add the busiest shipped one")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    specs = list(args.scenarios)
    baseline = SCENARIOS / "baseline_2023.yaml"
    if not specs:
        if baseline.exists():
            specs = [str(baseline)]
            args.busiest = True
        else:
            specs = ["synthetic"]
    print("== full corridor: one simulated year, one replication")
    print(f"machine: {_common.machine()}")
    if args.busiest:
        busiest = busiest_shipped()  # ties: the alphabetically last (it has the events)
        if busiest is not None and str(busiest) not in specs:
            specs.append(str(busiest))
    for spec in specs:
        report(spec, args.repeats)


if __name__ == "__main__":
    main()
