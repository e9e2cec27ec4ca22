"""Overhead of `sim` over plain SimPy on a tandem line (the reference workload of issue 7).

Poisson trains (1 per hour) pass 8 stations in series; station i has c_i tracks and
exponential handling, and a uniform 2–4 h travel delay separates consecutive stations. The
busiest station runs at utilisation 0.70. The same workload is written twice:

* ``raw``: idiomatic SimPy — one process per train, ``simpy.Resource`` per station,
  ``with res.request()``, draws from ``random.Random``; it records only the end-to-end times
  it needs for the mean and p95.
* ``sim``: the same line as a corridor scenario (a dict validated into
  ``sim.config.scenario.Scenario``) run by
  ``sim.engine.replications.run_replication(..., with_tables=False)``: demand planning, network
  build, the model with its per-visit records and capacity machinery, and every KPI.

Both run alternately in this process (median of ``--repeats``); the printed ratio sim/raw is
the robust figure on a shared machine. The two must agree: mean and p95 end-to-end time
within 2 % of each other (they use different random streams, so they differ by sampling
noise only; the line is also a Jackson network, so the mean is checked against Erlang C).
The standard error of each estimate is printed (batch means): at 100,000 trains it is a
few tenths of a percent, so 2 % is several standard errors of the difference: two correct
implementations pass, while a systematic difference of a few percent does not.

    python benchmarks/overhead.py [--trains 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import itertools
import random
from typing import Any

import _common
import numpy as np
import simpy

from sim.analysis.queueing import mmc_mean_wait
from sim.config.references import check_references
from sim.config.scenario import Scenario
from sim.engine.replications import run_replication

ARRIVALS_PER_HOUR = 1.0
TRACKS = (2, 1, 3, 2, 4, 1, 2, 3)
UTILISATION = (0.50, 0.60, 0.55, 0.70, 0.50, 0.65, 0.60, 0.45)  # busiest: station 4, 0.70
HANDLING_MEAN_HOURS = tuple(
    rho * c / ARRIVALS_PER_HOUR for rho, c in zip(UTILISATION, TRACKS, strict=True)
)
TRAVEL_HOURS = (2.0, 4.0)  # uniform(low, high) between consecutive stations
WARMUP_HOURS = 48.0  # the line starts empty; its slowest queue relaxes in about a day


def analytic_mean_hours() -> float:
    """Mean end-to-end time of the tandem (Burke: every station sees Poisson arrivals)."""
    total = (len(TRACKS) - 1) * sum(TRAVEL_HOURS) / 2
    for c, h in zip(TRACKS, HANDLING_MEAN_HOURS, strict=True):
        total += mmc_mean_wait(ARRIVALS_PER_HOUR, 1.0 / h, c) + h
    return total


# --- plain SimPy ---------------------------------------------------------------------------


def run_raw(trains: int, seed: int) -> tuple[float, float, int]:
    """Idiomatic SimPy; returns (mean, p95, count) of end-to-end hours finished after warm-up."""
    x = raw_end_to_end(trains, seed)
    return float(x.mean()), float(np.percentile(x, 95)), len(x)


def raw_end_to_end(trains: int, seed: int) -> np.ndarray:
    """End-to-end hours of the trains that finished after the warm-up, in finishing order."""
    env = simpy.Environment()
    rng = random.Random(seed)
    stations = [simpy.Resource(env, capacity=c) for c in TRACKS]
    rates = [1.0 / h for h in HANDLING_MEAN_HOURS]
    low, high = TRAVEL_HOURS
    last = len(stations) - 1
    end_to_end: list[float] = []

    def train(env: simpy.Environment) -> Any:
        departed = env.now
        for i, station in enumerate(stations):
            with station.request() as req:
                yield req
                yield env.timeout(rng.expovariate(rates[i]))
            if i < last:
                yield env.timeout(rng.uniform(low, high))
        if env.now >= WARMUP_HOURS:
            end_to_end.append(env.now - departed)

    def source(env: simpy.Environment) -> Any:
        while True:
            yield env.timeout(rng.expovariate(ARRIVALS_PER_HOUR))
            env.process(train(env))

    env.process(source(env))
    env.run(until=trains / ARRIVALS_PER_HOUR)
    return np.asarray(end_to_end)


def batch_standard_errors(x: np.ndarray, batches: int = 50) -> tuple[float, float]:
    """Standard errors of the mean and of the p95 by batch means (the series is correlated:
    consecutive trains share queues, so the naive sd/sqrt(n) would be too small)."""
    parts = np.array_split(x, batches)
    means = np.asarray([p.mean() for p in parts])
    p95s = np.asarray([np.percentile(p, 95) for p in parts])
    # a batch p95 estimates the p95 from n/batches trains; its spread shrinks as 1/sqrt(n)
    return float(means.std(ddof=1) / np.sqrt(batches)), float(p95s.std(ddof=1) / np.sqrt(batches))


# --- the same line as a corridor scenario ----------------------------------------------------


def tandem_scenario(trains: int, seed: int) -> Scenario:
    names = [f"s{i + 1}" for i in range(len(TRACKS))]
    hours = trains / ARRIVALS_PER_HOUR
    doc: dict[str, Any] = {
        "name": "tandem",
        "run": {
            "start_date": "2024-01-01",
            "warmup_days": WARMUP_HOURS / 24,
            "horizon_days": (hours - WARMUP_HOURS) / 24,
            "replications": 1,
            "seed": seed,
        },
        "nodes": {
            n: {"servers": c, "handling_hours": {"dist": "exponential", "mean": h}}
            for n, c, h in zip(names, TRACKS, HANDLING_MEAN_HOURS, strict=True)
        },
        "links": {
            f"{a}-{b}": {
                "from": a,
                "to": b,
                "hours": {"dist": "uniform", "low": TRAVEL_HOURS[0], "high": TRAVEL_HOURS[1]},
            }
            for a, b in itertools.pairwise(names)
        },
        "routes": {"line": {"nodes": names}},
        "flows": {
            "trains": {
                "origin": names[0],
                "destination": names[-1],
                "routes": {"line": 1},
                "teu_per_year": ARRIVALS_PER_HOUR * 8760,
                "teu_per_train": 1,
            }
        },
    }
    scenario = Scenario.model_validate(doc)
    assert not check_references(scenario)
    return scenario


def run_sim(scenario: Scenario, seed: int) -> tuple[float, float, int]:
    out = run_replication(scenario, 0, seed, with_tables=False)
    k = out.kpis.corridor
    return k["transit_days_mean"] * 24, k["transit_days_p95"] * 24, int(k["trains_delivered"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trains", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    print(f"== overhead: tandem of {len(TRACKS)} stations, {args.trains:,} trains")
    print(f"machine: {_common.machine()}")
    scenario = tandem_scenario(args.trains, args.seed)
    walls, cpus, values = _common.alternate(
        {
            "raw": lambda: run_raw(args.trains, args.seed),
            "sim": lambda: run_sim(scenario, args.seed),
        },
        args.repeats,
    )
    for label, times in (("wall", walls), ("CPU", cpus)):
        raw, sim = _common.median(times["raw"]), _common.median(times["sim"])
        ratios = [s / r for s, r in zip(times["sim"], times["raw"], strict=True)]
        print(f"{label:4s} raw SimPy: median {raw:6.2f} s   runs {_fmt(times['raw'])}")
        print(f"{label:4s} sim      : median {sim:6.2f} s   runs {_fmt(times['sim'])}")
        print(
            f"{label:4s} ratio sim/raw: {sim / raw:.2f} (of medians); per round "
            + " ".join(f"{r:.2f}" for r in ratios)
            + f"; median of rounds {_common.median(ratios):.2f}"
        )

    (raw_mean, raw_p95, raw_n), (sim_mean, sim_p95, sim_n) = values["raw"][0], values["sim"][0]
    se_mean, se_p95 = batch_standard_errors(raw_end_to_end(args.trains, args.seed))
    expected = analytic_mean_hours()
    print(f"trains finished after warm-up: raw {raw_n:,}, sim {sim_n:,}")
    print(f"end-to-end mean  h: raw {raw_mean:.3f}  sim {sim_mean:.3f}  Erlang C {expected:.3f}")
    print(f"end-to-end p95   h: raw {raw_p95:.3f}  sim {sim_p95:.3f}")
    mean_gap = abs(sim_mean / raw_mean - 1)
    p95_gap = abs(sim_p95 / raw_p95 - 1)
    verdict = "agree" if max(mean_gap, p95_gap) <= 0.02 else "DISAGREE"
    print(f"difference: mean {mean_gap:.2%}, p95 {p95_gap:.2%} (tolerance 2 %): {verdict}")
    # two independent runs: the sd of their difference is sqrt(2) x one run's standard error
    print(
        f"sampling noise (batch means, one run): se(mean) {se_mean / raw_mean:.2%}, "
        f"se(p95) {se_p95 / raw_p95:.2%}; 2 % is "
        f"{0.02 / (np.sqrt(2) * se_mean / raw_mean):.0f} and "
        f"{0.02 / (np.sqrt(2) * se_p95 / raw_p95):.0f} standard errors of the difference"
    )


def _fmt(xs: list[float]) -> str:
    return " ".join(f"{x:.2f}" for x in xs)


if __name__ == "__main__":
    main()
