"""The statistics of the border posterior: a design, an emulator of each target, a likelihood
and a sampler. No simulation runs here (sim/workflow/border_posterior.py runs them).

Why an emulator: one set of the border's episodes (E2 2018, E3/E4 2021, Y1 2019 under the
works) costs about 8 s of simulation, and ABC-SMC needs thousands of such sets for three
parameters; a quadratic in the parameters, fitted by least squares to a Latin hypercube of
64 simulated sets, stands in for the simulation inside the sampler
(docs/border_posterior.md compares the options with measured costs).

The statistics are modelled on a log scale (log1p: days, trains and TEU are positive and their
noise grows with their level). Each target's likelihood is

    log1p(observed) ~ Normal(emulator mean(θ), σ_obs² + σ_res²)

with σ_obs the facts' band read as a 90 % interval (the band's log width / 3.29) and σ_res the
emulator's residual standard deviation over the design, which holds the simulation's own noise
(reality is one realisation of the episode) and the polynomial's misfit. A band that starts at
0 (B23: no day above the record by more than 10 %) is one-sided: log Φ((log1p(high) − mean) /
σ_res). The posterior is sampled with dynesty (nested sampling; already a dependency) from a
uniform prior over the facts' ranges.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import dynesty
import numpy as np
from numpy.typing import NDArray
from scipy.special import log_ndtr
from scipy.stats import qmc

FloatArray = NDArray[np.float64]

Z90 = 1.6448536269514722
"""Standard normal quantile of 0.95: a band read as a 90 % interval is 2 × Z90 σ wide."""

RESID_FLOOR = 0.02
"""Least residual sd (log scale, ~2 %): a statistic that hardly moves over the design (B23's
peak day, an integer) would otherwise make its one-sided bound a cliff."""


@dataclass(frozen=True)
class Target:
    """One observed statistic on the log1p scale: a two-sided band, or an upper bound."""

    name: str
    centre: float  # log1p(observed value)
    sd: float  # observation sd (two-sided) — unused for an upper bound
    upper: float | None  # log1p(high) for a one-sided band, else None


def target_from_band(name: str, value: float, low: float, high: float) -> Target:
    """A facts band as a likelihood term (low 0: one-sided)."""
    if low <= 0:
        return Target(name, math.log1p(value), 0.0, math.log1p(high))
    return Target(name, math.log1p(value), (math.log1p(high) - math.log1p(low)) / (2 * Z90), None)


def lhs_design(low: FloatArray, high: FloatArray, points: int, seed: int) -> FloatArray:
    """A Latin hypercube of ``points`` parameter vectors in the box [low, high] (scipy's LHS,
    optimised for spread), reproducible from ``seed``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    unit = qmc.LatinHypercube(d=len(low), optimization="random-cd", rng=rng).random(points)
    return np.asarray(qmc.scale(unit, low, high), dtype=np.float64)


def _features(u: FloatArray, degree: int) -> FloatArray:
    """Every monomial of the columns of ``u`` up to ``degree`` (1 first)."""
    cols = [np.ones(len(u))]
    for k in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(u.shape[1]), k):
            cols.append(np.prod(u[:, list(combo)], axis=1))
    return np.column_stack(cols)


@dataclass(frozen=True)
class Emulator:
    """A polynomial of each statistic (log1p scale) in the parameters scaled to [-1, 1]."""

    low: FloatArray
    high: FloatArray
    degree: int
    coef: FloatArray  # features × statistics
    resid_sd: FloatArray  # per statistic

    def scaled(self, theta: FloatArray) -> FloatArray:
        return 2 * (np.atleast_2d(theta) - self.low) / (self.high - self.low) - 1

    def predict(self, theta: FloatArray) -> FloatArray:
        """Mean of each statistic at each row of ``theta`` (rows × statistics)."""
        return _features(self.scaled(theta), self.degree) @ self.coef


def fit_emulator(
    theta: FloatArray, y: FloatArray, low: FloatArray, high: FloatArray, degree: int
) -> Emulator:
    """Least squares of each column of ``y`` (already log1p) on the polynomial features of
    ``theta`` (one row per simulated replication; replications of a point are separate rows)."""
    shell = Emulator(low, high, degree, np.zeros(0), np.zeros(0))
    x = _features(shell.scaled(theta), degree)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    dof = max(1, len(y) - x.shape[1])
    resid = y - x @ coef
    sd = np.sqrt(np.sum(resid**2, axis=0) / dof)
    return Emulator(low, high, degree, np.asarray(coef), np.asarray(sd))


def cv_rmse(
    theta: FloatArray, y: FloatArray, low: FloatArray, high: FloatArray, degree: int, folds: int
) -> FloatArray:
    """Root mean square error of held-out predictions per statistic (``folds``-fold, rows in
    order: pass the design's points grouped so a point's replications stay together)."""
    parts = np.array_split(np.arange(len(y)), folds)
    errors = np.zeros_like(y)
    for held in parts:
        kept = np.setdiff1d(np.arange(len(y)), held)
        em = fit_emulator(theta[kept], y[kept], low, high, degree)
        errors[held] = y[held] - em.predict(theta[held])
    return np.asarray(np.sqrt(np.mean(errors**2, axis=0)))


def log_likelihood(em: Emulator, targets: list[Target], theta: FloatArray) -> float:
    """The synthetic log likelihood of the observed targets at one parameter vector."""
    mean = em.predict(theta)[0]
    total = 0.0
    for i, t in enumerate(targets):
        res = max(float(em.resid_sd[i]), RESID_FLOOR)
        if t.upper is not None:
            total += float(log_ndtr((t.upper - mean[i]) / res))
        else:
            var = t.sd**2 + res**2
            total += -0.5 * ((t.centre - mean[i]) ** 2 / var + math.log(2 * math.pi * var))
    return total


def sample_posterior(
    em: Emulator, targets: list[Target], draws: int, seed: int, live_points: int = 200
) -> tuple[FloatArray, float]:
    """``draws`` equally weighted posterior draws (rows) and the log evidence, from dynesty's
    nested sampling on the emulator under the uniform prior box [em.low, em.high]."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    width = em.high - em.low

    def prior_transform(u: FloatArray) -> FloatArray:
        return np.asarray(em.low + u * width)

    def loglike(theta: FloatArray) -> float:
        return log_likelihood(em, targets, theta)

    sampler = dynesty.NestedSampler(
        loglike, prior_transform, len(em.low), nlive=live_points, rstate=rng
    )
    sampler.run_nested(dlogz=0.05, print_progress=False)
    res = sampler.results
    weights = np.exp(res.logwt - res.logz[-1])
    chosen = rng.choice(len(weights), size=draws, replace=True, p=weights / weights.sum())
    return np.asarray(res.samples[chosen]), float(res.logz[-1])
