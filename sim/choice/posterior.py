"""The posterior of one demand structure, from the observations of 2016–2023 only.

What the likelihood sees (``params/history_observed.yaml``), each observation with its own
band and the structure's fitted discrepancy σ on top (volumes in log units, so a 10 % band is
0.1):

* each year's rail volume (Y1), and its first half where Y2/Y5 give one;
* the westbound share where Y2 has it (points, ``share_band``);
* the through rail rate at the model's own 2020 and 2021 load (C9, log, ``price_band``);
* the Middle Corridor's volume (MC1, log, ``middle_corridor_band`` + σ).

The sampler is dynesty's nested sampling (docs/mode_choice.md says why it, and not emcee):
it explores the whole prior box, so the two optima the least-squares fit could not tell
apart are both in the posterior with the weight the data give them, and its evidence comes
for free. Every draw is a full parameter vector (fixed ones at their value), equally
weighted, thinned to ``draws``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.choice import kernel as K
from sim.choice.history import Chain, DemandModel, evaluate
from sim.config.demand import PARAMETERS, DemandStructure, Posterior
from sim.config.history import Observed

FloatArray = K.FloatArray
TOTAL, FIRST_HALF, WEST_SHARE, PRICE, MIDDLE_CORRIDOR = (
    K.OBS_TOTAL,
    K.OBS_FIRST_HALF,
    K.OBS_WEST_SHARE,
    K.OBS_PRICE,
    K.OBS_MIDDLE_CORRIDOR,
)
KIND_NAMES = ("total", "first half", "westbound share", "rail rate", "Middle Corridor")


class FitInputError(ValueError):
    """A fit that cannot be done (e.g. a year without observations or inputs)."""


@dataclass(frozen=True)
class Observations:
    """The observations of some years as flat arrays (one entry an observation)."""

    kind: K.IntArray
    year_index: K.IntArray  # position of the year in the chain
    value: FloatArray  # in log for volumes and prices, as a share for shares
    band: FloatArray
    years: tuple[int, ...]  # the calendar year of each observation

    @classmethod
    def of(cls, observed: Observed, chain: Chain, years: list[int]) -> Observations:
        missing = [y for y in years if y not in chain.years]
        if missing:
            raise FitInputError(f"no scenario for year {missing[0]}")
        rows: list[tuple[int, int, float, float, int]] = []
        for y in years:
            k = chain.years.index(y)
            o = observed.years.get(y)
            if o is not None:
                rows.append((TOTAL, k, math.log(o.total_teu), observed.total_band, y))
                if o.first_half_teu is not None:
                    rows.append((FIRST_HALF, k, math.log(o.first_half_teu), observed.total_band, y))
                if o.westbound_share is not None:
                    rows.append((WEST_SHARE, k, o.westbound_share, observed.share_band, y))
            price = observed.rail_price.get(y)
            if price is not None:
                rows.append((PRICE, k, math.log(price.usd_per_feu), observed.price_band, y))
            mc = observed.middle_corridor.get(y)
            if mc is not None:
                rows.append(
                    (MIDDLE_CORRIDOR, k, math.log(mc.teu), observed.middle_corridor_band, y)
                )
        if not rows:
            raise FitInputError("no observations in the years to fit")
        kind, idx, value, band, yr = zip(*rows, strict=True)
        return cls(
            np.asarray(kind, dtype=np.int64),
            np.asarray(idx, dtype=np.int64),
            K.as_float(value),
            K.as_float(band),
            tuple(yr),
        )


def pointwise_loglik(
    chain: Chain, model: DemandModel, theta: FloatArray, obs: Observations
) -> FloatArray:
    """log p(observation | θ) of every observation (:func:`sim.choice.kernel.loglik_points`)."""
    return K.loglik_points(
        theta,
        model.flags,
        model.values_usd_per_feu,
        model.shares,
        chain.halves,
        chain.periods,
        model.constants,
        (obs.kind, obs.year_index, obs.value, obs.band),
    )


def predictions(
    chain: Chain, model: DemandModel, theta: FloatArray, obs: Observations
) -> FloatArray:
    """The model's value of every observation (log for volumes and prices)."""
    out = evaluate(chain, model, theta)
    return K.predict_observations(out, chain.halves, theta, obs.kind, obs.year_index)


def prior_transform(structure: DemandStructure) -> Callable[[FloatArray], FloatArray]:
    """The unit cube → the free parameters (dynesty's prior transform)."""
    free = structure.free()
    priors = [structure.priors[n] for n in free]

    def transform(u: FloatArray) -> FloatArray:
        x = np.empty(len(priors))
        for i, p in enumerate(priors):
            if p.dist == "uniform":
                assert p.low is not None and p.high is not None
                x[i] = p.low + u[i] * (p.high - p.low)
            elif p.dist == "loguniform":
                assert p.low is not None and p.high is not None
                x[i] = math.exp(math.log(p.low) + u[i] * math.log(p.high / p.low))
            else:  # halfnormal
                assert p.scale is not None
                x[i] = p.scale * float(stats.norm.ppf(0.5 + 0.5 * min(u[i], 1 - 1e-12)))
        return x

    return transform


def full_vector(structure: DemandStructure) -> tuple[FloatArray, K.IntArray]:
    """The parameter vector with the fixed values in place, and the free positions."""
    base = np.zeros(len(PARAMETERS))
    free = []
    for i, name in enumerate(PARAMETERS):
        p = structure.priors[name]
        if p.dist == "fixed":
            assert p.value is not None
            base[i] = p.value
        else:
            free.append(i)
    return base, np.asarray(free, dtype=np.int64)


@dataclass(frozen=True)
class Problem:
    """A structure against some years' observations: what the sampler evaluates."""

    structure: DemandStructure
    model: DemandModel
    chain: Chain
    obs: Observations

    def vector(self, z: FloatArray) -> FloatArray:
        """The full parameter vector with the free ones set to ``z``."""
        base, free = full_vector(self.structure)
        base[free] = z
        return base

    def loglike_function(self) -> Callable[[FloatArray], float]:
        """log-likelihood of the free parameters (the fixed ones resolved once)."""
        base, free = full_vector(self.structure)
        m, c, o = self.model, self.chain, self.obs
        args = (m.flags, m.values_usd_per_feu, m.shares, c.halves, c.periods, m.constants)
        points = (o.kind, o.year_index, o.value, o.band)

        def loglike(z: FloatArray) -> float:
            theta = base.copy()
            theta[free] = z
            ll = float(np.sum(K.loglik_points(theta, *args, points)))
            return ll if math.isfinite(ll) else -1e300

        return loglike


def sample(problem: Problem, seed: int, nlive: int, draws: int, dlogz: float = 0.5) -> Posterior:
    """Nested sampling of one structure; ``draws`` equally weighted draws of the full vector."""
    import dynesty  # the fit's dependency only: a run never samples

    structure = problem.structure
    ndim = len(structure.free())
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    sampler = dynesty.NestedSampler(
        problem.loglike_function(),
        prior_transform(structure),
        ndim,
        nlive=nlive,
        bound="multi",
        sample="rwalk",
        rstate=rng,
    )
    sampler.run_nested(dlogz=dlogz, print_progress=False)
    res = sampler.results
    equal = res.samples_equal(rstate=rng)
    pick = rng.choice(len(equal), size=min(draws, len(equal)), replace=False)
    base, free = full_vector(structure)
    rows = np.tile(base, (len(pick), 1))
    rows[:, free] = equal[np.sort(pick)]
    return Posterior(
        sampler=f"dynesty {dynesty.__version__} (rwalk, multi-ellipsoid, nlive {nlive})",
        seed=seed,
        log_evidence=float(res["logz"][-1]),
        log_evidence_error=float(res["logzerr"][-1]),
        likelihood_calls=int(np.sum(res["ncall"])),
        names=list(PARAMETERS),
        draws=[[float(f"{v:.6g}") for v in row] for row in rows],
    )
