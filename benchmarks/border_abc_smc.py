"""ABC-SMC (pyabc) on the border posterior's task, to count the simulations it needs
(docs/border_posterior.md). Not part of the project's environment: run it where pyabc is
installed (``pip install pyabc numpy``), on the emulator file that
benchmarks/border_posterior_methods.py writes.

Running pyabc on the simulation itself would cost a day on the 2-core machine, so the
simulator here is a stand-in with the same statistics: the polynomial emulator's mean plus
noise of the emulator's residual sd (the simulation's own noise), and the observation drawn
with the facts' band widths. The count of stand-in simulations ABC-SMC needs to reach a
posterior as narrow as the emulator's (its 90 % intervals within 25 % of their width) times
the measured seconds of one set of episodes is what the method would cost on the simulation.

    python benchmarks/border_abc_smc.py results/border_emulator.npz [--population 500]
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time

import numpy as np
import pyabc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("emulator")
    ap.add_argument("--population", type=int, default=500)
    ap.add_argument("--generations", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    e = np.load(a.emulator)
    low, high, coef, res = e["low"], e["high"], e["coef"], np.maximum(e["resid_sd"], 0.02)
    centre, sd, upper = e["centre"], e["sd"], e["upper"]
    ref = np.quantile(e["posterior"], [0.05, 0.95], axis=0)
    names = ["g", "lam", "h"]
    degree = int(e["degree"])
    rng = np.random.default_rng(a.seed)
    np.random.seed(a.seed)  # pyabc's samplers draw from numpy's global generator

    def mean(theta: np.ndarray) -> np.ndarray:
        u = 2 * (theta - low) / (high - low) - 1
        cols = [1.0]
        for k in range(1, degree + 1):
            for c in itertools.combinations_with_replacement(range(3), k):
                cols.append(float(np.prod(u[list(c)])))
        return np.asarray(np.array(cols) @ coef)

    two = np.isnan(upper)
    scale = np.where(two, np.sqrt(sd**2 + res**2), res)

    def model(p: dict[str, float]) -> dict[str, np.ndarray]:
        m = mean(np.array([p[n] for n in names]))
        x = m + rng.normal(0, res) + np.where(two, rng.normal(0, 1, len(m)) * sd, 0)
        return {"x": x}

    def distance(x: dict[str, np.ndarray], y: dict[str, np.ndarray]) -> float:
        d = np.where(two, (x["x"] - y["x"]) / scale, np.maximum(0, x["x"] - upper) / scale)
        return float(np.sqrt(np.sum(d**2)))

    prior = pyabc.Distribution(
        **{n: pyabc.RV("uniform", low[i], high[i] - low[i]) for i, n in enumerate(names)}
    )
    abc = pyabc.ABCSMC(
        model,
        prior,
        distance,
        population_size=a.population,
        sampler=pyabc.sampler.SingleCoreSampler(),
    )
    db = os.path.join(tempfile.mkdtemp(), "abc.db")
    abc.new("sqlite:///" + db, {"x": np.where(two, centre, upper)})
    t = time.perf_counter()
    hist = abc.run(max_nr_populations=a.generations)
    wall = time.perf_counter() - t
    pops = hist.get_all_populations()
    per_set = float(e["sim_seconds_per_set"])
    print(f"stand-in wall {wall:.0f} s; one set of episodes {per_set:.1f} s on one core")
    print(
        "| generation | epsilon | simulations so far | simulation days on 2 cores | "
        + " | ".join(f"{n} 90 % / emulator's" for n in names)
        + " |"
    )
    total = 0
    for g in range(hist.max_t + 1):
        df, w = hist.get_distribution(t=g)
        total = int(pops[pops.t <= g].samples.sum()) if "samples" in pops else total
        ratio = []
        for i, n in enumerate(names):
            order = np.argsort(df[n].to_numpy())
            cw = np.cumsum(w[order]) / np.sum(w)
            v = df[n].to_numpy()[order]
            q05, q95 = v[np.searchsorted(cw, 0.05)], v[np.searchsorted(cw, 0.95)]
            ratio.append((q95 - q05) / (ref[1, i] - ref[0, i]))
        eps = float(pops[pops.t == g].epsilon.iloc[0])
        days = total * per_set / 2 / 86400
        print(
            f"| {g} | {eps:.2f} | {total} | {days:.1f} | "
            + " | ".join(f"{r:.2f}" for r in ratio)
            + " |"
        )


if __name__ == "__main__":
    main()
