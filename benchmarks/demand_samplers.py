"""Which sampler for the demand posteriors: dynesty's nested sampling against emcee's
ensemble MCMC on the `reference` structure (issue 20: compare two maintained samplers on the
task and write down why one was chosen; docs/mode_choice.md).

For each: wall time, likelihood calls, effective draws (dynesty: its equally weighted draws;
emcee: walkers × steps after burn-in over the integrated autocorrelation time, where emcee
can estimate it) and the 5/50/95 % points of the choice's 2024 rail TEU and of the log
likelihood across draws, which show whether both optima the history allows are found. emcee
runs twice: walkers started in a small ball around the best point dynesty found (as one
would start from a least-squares fit) and walkers drawn from the prior.

    python benchmarks/demand_samplers.py [--nlive 150] [--steps 3000] [--walkers 48]
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any

import _common
import numpy as np

from sim.choice.history import DemandModel, results
from sim.choice.network_years import chain_of
from sim.choice.posterior import Observations, Problem, full_vector, prior_transform, sample
from sim.config.history_files import load_assumptions, load_observed, load_structure


def _summary(name: str, wall: float, calls: int, eff: float, teu: Any, ll: Any) -> None:
    q = np.quantile(teu, [0.05, 0.5, 0.95]) / 1000
    lq = np.quantile(ll, [0.05, 0.5, 0.95])
    print(
        f"  {name:34s} {wall:7.0f} s {calls:>10,} calls  eff. draws {eff:7.0f}  "
        f"2024 {q[0]:5.0f}k / {q[1]:5.0f}k / {q[2]:5.0f}k  log L {lq[0]:6.1f} / {lq[1]:6.1f} / "
        f"{lq[2]:6.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nlive", type=int, default=150)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--walkers", type=int, default=48)
    args = parser.parse_args()
    import emcee

    root = _common.ROOT
    structure = load_structure(root / "params" / "demand" / "reference.yaml")
    a = load_assumptions(root / "params" / "demand" / "assumptions.yaml")
    model = DemandModel.of(structure, a)
    full = chain_of(root / "scenarios" / "history" / "2024.yaml", a)
    fit = full.upto(2023)
    obs = Observations.of(
        load_observed(root / "params" / "history_observed.yaml"), fit, list(range(2016, 2024))
    )
    problem = Problem(structure, model, fit, obs)
    loglike = problem.loglike_function()
    transform = prior_transform(structure)
    base, free = full_vector(structure)

    def teu_2024(theta: Any) -> float:
        return results(full, model, theta)[-1].total_teu

    print(f"demand samplers: {_common.machine()}")
    t = time.perf_counter()
    post = sample(problem, 1, args.nlive, 1000)
    wall = time.perf_counter() - t
    draws = np.asarray(post.draws)
    lls = np.asarray([loglike(d[free]) for d in draws])
    _summary(
        f"dynesty (nlive {args.nlive})",
        wall,
        post.likelihood_calls,
        len(draws),
        [teu_2024(d) for d in draws],
        lls,
    )
    best = draws[int(np.argmax(lls))][free]
    ndim = len(free)
    rng = np.random.default_rng(1)

    def log_prob(z: Any) -> float:
        u = _inverse(z)
        if u is None:
            return -np.inf
        return loglike(z) + _log_prior_density(z)

    # emcee needs a prior density: the priors' own, through the unit cube (uniform in u
    # means the density is the Jacobian of the inverse transform); numerically, by finite
    # differences of the transform per dimension (the transform is separable)
    grid = np.linspace(1e-6, 1 - 1e-6, 20001)
    table = np.stack([transform(np.full(ndim, g)) for g in grid])  # [grid, ndim]

    def _inverse(z: Any) -> Any:
        u = np.empty(ndim)
        for i in range(ndim):
            col = table[:, i]
            if not (col[0] <= z[i] <= col[-1]):
                return None
            u[i] = np.interp(z[i], col, grid)
        return u

    def _log_prior_density(z: Any) -> float:
        total = 0.0
        for i in range(ndim):
            col = table[:, i]
            k = int(np.clip(np.searchsorted(col, z[i]), 1, len(col) - 1))
            dz = col[k] - col[k - 1]
            total += -np.log(max(dz / (grid[k] - grid[k - 1]), 1e-300))
        return total

    for label, start in (
        (
            "emcee, ball around dynesty's best",
            best + 1e-3 * np.abs(best) * rng.standard_normal((args.walkers, ndim)),
        ),
        (
            "emcee, walkers from the prior",
            np.stack([transform(rng.random(ndim)) for _ in range(args.walkers)]),
        ),
    ):
        sampler = emcee.EnsembleSampler(args.walkers, ndim, log_prob)
        t = time.perf_counter()
        sampler.run_mcmc(start, args.steps, progress=False)
        wall = time.perf_counter() - t
        chain = sampler.get_chain(discard=args.steps // 2, flat=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tau = float(np.max(sampler.get_autocorr_time(discard=args.steps // 2, quiet=True)))
        eff = len(chain) / max(tau, 1.0)
        pick = chain[rng.choice(len(chain), size=min(1000, len(chain)), replace=False)]
        thetas = np.tile(base, (len(pick), 1))
        thetas[:, free] = pick
        _summary(
            label,
            wall,
            args.walkers * args.steps,
            eff,
            [teu_2024(th) for th in thetas],
            [loglike(p) for p in pick],
        )
        print(f"    acceptance {np.mean(sampler.acceptance_fraction):.2f}, max τ {tau:.0f} steps")


if __name__ == "__main__":
    main()
