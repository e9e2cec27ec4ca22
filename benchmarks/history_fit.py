"""Why the history fit uses a fast rail model: one evaluation of the choice over 2016–2025
against simulating the same years once (issue 12).

The optimiser of ``corridor fit-history`` evaluates the choice over the whole chain of years
a few thousand times (least squares, several starts, leave-one-year-out refits). Here one
evaluation of the fast model (:mod:`sim.choice.history`: logit + supply curve + border wait
+ partial adjustment, half-year by half-year, fixed point by bracketing) is timed against one
replication of every year's simulation at the same demand (what a simulation-in-the-loop fit
would need per evaluation, before any replications for noise). Medians of alternating rounds.

    python benchmarks/history_fit.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import _common

from sim.choice.backtest import _delivered_1520
from sim.choice.history import run_chain, year_inputs
from sim.choice.history_demand import with_rail_demand
from sim.choice.year_chain import history_chain
from sim.config.history_files import load_history_params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root = _common.ROOT
    params = load_history_params(root / "params" / "history_choice.yaml")
    files = history_chain(root / "scenarios" / "history")
    inputs = [year_inputs(f.history, params.assumptions) for f in files]
    results = run_chain(inputs, params.fitted, params.assumptions)
    scenarios = [with_rail_demand(f.scenario, r.teu) for f, r in zip(files, results, strict=True)]
    fast: list[float] = []
    slow: list[float] = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        for _ in range(100):
            run_chain(inputs, params.fitted, params.assumptions)
        fast.append((time.perf_counter() - t) / 100)
        t = time.perf_counter()
        for scenario in scenarios:
            _delivered_1520((scenario, 0, scenario.run.seed))
        slow.append(time.perf_counter() - t)
    f, s = statistics.median(fast), statistics.median(slow)
    print(f"history fit: {_common.machine()}")
    print(f"  fast choice, {len(inputs)} years:        {f * 1e3:8.2f} ms per evaluation")
    print(f"  simulation, 1 replication per year: {s * 1e3:8.0f} ms per evaluation")
    print(
        f"  ratio: {s / f:,.0f}× — a fit of ~5,000 evaluations takes {5000 * f:.0f} s "
        f"instead of {5000 * s / 3600:.1f} h (one replication, no noise control)"
    )


if __name__ == "__main__":
    main()
