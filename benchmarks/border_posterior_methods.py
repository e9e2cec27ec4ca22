"""Which method for the border posterior (issue 22, item 1; docs/border_posterior.md): the
emulator the shipped posterior uses (a polynomial per statistic) against a Gaussian-process
emulator (scikit-learn, installed with the `discover` extra), on the same simulated design,
and the inputs of ABC-SMC's cost (benchmarks/border_abc_smc.py runs pyabc on them).

For each emulator: 5-fold cross-validated error of each statistic (log scale), fit time, and
the posterior's 5/50/95 % points (dynesty, same seed). It writes the polynomial emulator and the
targets to ``--emulator`` (npz) for the ABC-SMC run, which needs pyabc (not a dependency of the
project: ``pip install pyabc`` in a separate environment).

The design is simulated here (``--points`` × ``-r`` × the three episodes, ~4 s a simulation on
the 2-core machine) or read from ``--design`` (an npz of ``design`` and ``stats``, as
``corridor calibrate --posterior`` simulates them; written here with ``--keep``).

    python benchmarks/border_posterior_methods.py [--points 32] [-r 2] [--design FILE]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

from sim.analysis.observed import measure
from sim.config.border_posterior import PARAMETERS
from sim.workflow.border_emulator import (
    Emulator,
    cv_rmse,
    fit_emulator,
    lhs_design,
    sample_posterior,
)
from sim.workflow.border_posterior import PRIOR, episodes, likelihood_targets, simulate_design

LOW = np.array([PRIOR[p][0] for p in PARAMETERS])
HIGH = np.array([PRIOR[p][1] for p in PARAMETERS])


class GpEmulator(Emulator):
    """The GP's mean in place of the polynomial (same likelihood, same sampler)."""

    gps: list[GaussianProcessRegressor]

    def predict(self, theta: np.ndarray) -> np.ndarray:
        u = self.scaled(theta)
        return np.column_stack([gp.predict(u) for gp in self.gps])


def fit_gp(theta: np.ndarray, y: np.ndarray, seed: int) -> GpEmulator:
    shell = Emulator(LOW, HIGH, 1, np.zeros(0), np.zeros(0))
    u = shell.scaled(theta)
    gps, sds = [], []
    for j in range(y.shape[1]):
        kernel = ConstantKernel() * RBF(length_scale=[1.0] * u.shape[1]) + WhiteKernel(0.01)
        gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed).fit(u, y[:, j])
        gps.append(gp)
        sds.append(float(np.sqrt(gp.kernel_.k2.noise_level) * np.std(y[:, j])))
    em = GpEmulator(LOW, HIGH, 0, np.zeros(0), np.array(sds))
    object.__setattr__(em, "gps", gps)
    return em


def gp_cv(theta: np.ndarray, y: np.ndarray, folds: int) -> np.ndarray:
    parts = np.array_split(np.arange(len(y)), folds)
    err = np.zeros_like(y)
    for held in parts:
        kept = np.setdiff1d(np.arange(len(y)), held)
        err[held] = y[held] - fit_gp(theta[kept], y[kept], 0).predict(theta[held])
    return np.asarray(np.sqrt(np.mean(err**2, axis=0)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=32)
    ap.add_argument("-r", "--replications", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--design", type=Path, help="read the simulated design from this npz")
    ap.add_argument("--keep", type=Path, help="write the simulated design to this npz")
    ap.add_argument("--emulator", type=Path, default=Path("results/border_emulator.npz"))
    a = ap.parse_args()
    eps = episodes()
    if a.design:
        saved = np.load(a.design)
        design, stats, sim_s = saved["design"], saved["stats"], float(saved["sim_seconds"])
    else:
        t = time.perf_counter()
        design = lhs_design(LOW, HIGH, a.points, a.seed)
        stats = simulate_design(eps, design, a.replications, a.seed, measure, a.workers)
        sim_s = time.perf_counter() - t
        if a.keep:
            np.savez(a.keep, design=design, stats=stats, sim_seconds=sim_s)
    reps = len(stats) // len(design)
    theta = np.repeat(design, reps, axis=0)
    y = np.log1p(np.maximum(stats, 0.0))
    targets = likelihood_targets(eps)
    sims = len(stats) * len(eps) // len(eps)
    print(
        f"design: {len(design)} points × {reps} replications = {sims} episode sets, "
        f"{sim_s:.0f} s of simulation (wall, {a.workers} workers)"
    )
    names = [t.name for t in targets]
    results = {}
    for label in ("poly2", "poly3", "gp"):
        t0 = time.perf_counter()
        if label == "gp":
            em: Emulator = fit_gp(theta, y, a.seed)
            cv = gp_cv(theta, y, 5)
        else:
            degree = int(label[-1])
            em = fit_emulator(theta, y, LOW, HIGH, degree)
            cv = cv_rmse(theta, y, LOW, HIGH, degree, 5)
        fit_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        draws, _ = sample_posterior(em, targets, 400, a.seed)
        sample_s = time.perf_counter() - t1
        results[label] = (cv, fit_s, sample_s, np.quantile(draws, [0.05, 0.5, 0.95], axis=0))
        if label == "poly2":  # the shipped emulator
            a.emulator.parent.mkdir(parents=True, exist_ok=True)
            np.savez(
                a.emulator,
                low=LOW,
                high=HIGH,
                degree=em.degree,
                coef=em.coef,
                resid_sd=em.resid_sd,
                centre=[t.centre for t in targets],
                sd=[t.sd for t in targets],
                upper=[np.nan if t.upper is None else t.upper for t in targets],
                posterior=draws,
                sim_seconds_per_set=sim_s * a.workers / len(stats),
            )
    print("\n| statistic | " + " | ".join(f"CV RMSE (log) {k}" for k in results) + " |")
    print("|---|" + "---|" * len(results))
    for j, n in enumerate(names):
        print(f"| {n} | " + " | ".join(f"{r[0][j]:.3f}" for r in results.values()) + " |")
    print(
        "\n| emulator | fit + CV s | sampling s | "
        + " | ".join(f"{p} 5/50/95 %" for p in PARAMETERS)
        + " |"
    )
    print("|---|---|---|" + "---|" * len(PARAMETERS))
    for k, (_, fs, ss, q) in results.items():
        cells = " | ".join(f"{q[0, i]:.3f} / {q[1, i]:.3f} / {q[2, i]:.3f}" for i in range(3))
        print(f"| {k} | {fs:.1f} | {ss:.1f} | {cells} |")


if __name__ == "__main__":
    main()
