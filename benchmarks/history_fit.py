"""Why the demand fit uses a compiled model: one evaluation of the choice over 2016–2025
against simulating the same years once (issues 12 and 20).

Nested sampling of one structure evaluates the chain of years ~10^5 times (the likelihood
calls `corridor fit-history` prints), and the ensemble's predictions run every draw of every
structure through 2024–25. Here one evaluation of the compiled model
(:mod:`sim.choice.kernel`: logit + supply curve + border wait + partial adjustment + the
Middle Corridor, half-year by half-year, fixed point by Brent's method) is timed against one
replication of every year's simulation at the same demand (what a simulation-in-the-loop fit
would need per evaluation, before any replications for noise). Medians of alternating rounds.

    python benchmarks/history_fit.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import _common

from sim.choice.ensemble import load
from sim.choice.history import evaluate, results
from sim.choice.history_demand import with_rail_demand
from sim.choice.network_years import chain_of
from sim.choice.year_chain import history_chain
from sim.engine.replications import run_replication


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root = _common.ROOT
    ens = load(root / "params" / "demand" / "ensemble.yaml")
    member = ens.members[0]
    theta = member.draws[0]
    history = root / "scenarios" / "history"
    chain = chain_of(history, member.model.assumptions)
    files = history_chain(history)
    years = results(chain, member.model, theta)
    scenarios = [with_rail_demand(f.scenario, r.teu) for f, r in zip(files, years, strict=True)]
    evaluate(chain, member.model, theta)  # compiled (or loaded from numba's cache) once
    fast: list[float] = []
    slow: list[float] = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        for _ in range(1000):
            evaluate(chain, member.model, theta)
        fast.append((time.perf_counter() - t) / 1000)
        t = time.perf_counter()
        for scenario in scenarios:
            run_replication(scenario, 0, scenario.run.seed, with_tables=False)
        slow.append(time.perf_counter() - t)
    f, s = statistics.median(fast), statistics.median(slow)
    print(f"history fit: {_common.machine()}")
    print(f"  compiled choice, {len(chain.years)} years:    {f * 1e6:8.1f} µs per evaluation")
    print(f"  simulation, 1 replication per year: {s * 1e3:8.0f} ms per evaluation")
    print(
        f"  ratio: {s / f:,.0f}× — a posterior of ~200,000 evaluations takes {2e5 * f:.0f} s "
        f"of model time instead of {2e5 * s / 86400:.0f} days (one replication, no noise control)"
    )


if __name__ == "__main__":
    main()
