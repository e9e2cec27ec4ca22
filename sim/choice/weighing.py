"""Fitting the demand ensemble: each structure's posterior, the rule that weighs them, and
the check that the intervals hold on years the fit did not see.

* **Posteriors** (:mod:`sim.choice.posterior`): one nested-sampling run per structure,
  in parallel through the one executor (:mod:`sim.executors`), each from its own seed.
* **Leave one year out.** Each draw's log-likelihood of a year's observations (total, first
  half, westbound share, rate, Middle Corridor) is summed into one value per year; Pareto-
  smoothed importance sampling (ArviZ's PSIS-LOO) then gives each structure's predictive
  density of every year as if that year had been left out of its fit. Where Pareto k says
  the approximation is unreliable (k > 0.7), the structure is refitted without the year
  (:func:`loo_job`, as ArviZ's ``reloo`` does) and that year is scored exactly.
* **Weights**, by the rule the ensemble file fixes before any prediction: Bayesian stacking
  of those leave-one-year-out densities (ArviZ's ``compare``), or pseudo-BMA, or equal.
* **Coverage**: for each year 2016–2023, the mixture of the structures' leave-one-year-out
  predictive distributions of its rail volume (each draw × exp(N(0, σ² + band² + simulation
  noise²))); how many observed years fall inside its 50 % and 90 % intervals.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.choice import kernel as K
from sim.choice.ensemble import LoadedEnsemble, Member, allocate, interval, predictive_sd
from sim.choice.history import Chain
from sim.choice.network_years import chain_of
from sim.choice.posterior import Observations, Problem, pointwise_loglik, sample
from sim.config.demand import ExactLoo, Posterior
from sim.config.history import Observed
from sim.config.history_files import load_assumptions, load_observed, load_structure

FloatArray = K.FloatArray


def _arviz() -> Any:
    """ArviZ, without its import-time notice about the coming 1.0 API (pinned below 1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import arviz

    return arviz


@dataclass(frozen=True)
class FitJob:
    """One structure's posterior, as a task for the executor (paths only: picklable)."""

    structure_file: Path
    observed_file: Path
    history: Path
    years: tuple[int, ...]
    seed: int
    nlive: int
    draws: int


def _problem(
    structure_file: Path,
    observed_file: Path,
    history: Path,
    years: tuple[int, ...],
    kept: list[int],
) -> tuple[Problem, Observed]:
    """A structure against the observations of ``kept``, on the chain up to the last of
    ``years`` (what both worker jobs read from their paths), and the observations file."""
    from sim.choice.history import DemandModel

    structure = load_structure(structure_file)
    assumptions = load_assumptions(structure_file.parent / structure.assumptions)
    chain = chain_of(history, assumptions).upto(max(years))
    observed = load_observed(observed_file)
    model = DemandModel.of(structure, assumptions)
    return Problem(structure, model, chain, Observations.of(observed, chain, kept)), observed


def fit_job(job: FitJob) -> Posterior:
    """Sample one structure against the years' observations (runs in a worker process)."""
    years = list(job.years)
    problem, _ = _problem(job.structure_file, job.observed_file, job.history, job.years, years)
    return sample(problem, job.seed, job.nlive, job.draws)


@dataclass(frozen=True)
class LooJob:
    """One structure refitted without one year (exact leave-one-year-out), as a task."""

    structure_file: Path
    observed_file: Path
    history: Path
    years: tuple[int, ...]
    leave_out: int
    pareto_k: float
    seed: int
    nlive: int
    draws: int


def loo_job(job: LooJob) -> ExactLoo:
    """Sample the structure without ``leave_out`` and score that year with the refit's draws
    (runs in a worker process)."""
    from sim.choice.history import results

    kept = [y for y in job.years if y != job.leave_out]
    problem, observed = _problem(
        job.structure_file, job.observed_file, job.history, job.years, kept
    )
    post = sample(problem, job.seed, job.nlive, job.draws)
    chain, model = problem.chain, problem.model
    held = Observations.of(observed, chain, [job.leave_out])
    k = chain.years.index(job.leave_out)
    loglik, totals = [], []
    draws = K.as_float(post.draws)
    for theta in draws:
        loglik.append(float(np.sum(pointwise_loglik(chain, model, theta, held))))
        totals.append(results(chain, model, theta)[k].total_teu)
    return ExactLoo(
        pareto_k=job.pareto_k,
        loglik=[float(f"{v:.6g}") for v in loglik],
        total_teu=[float(f"{v:.6g}") for v in totals],
        discrepancy_sd=[float(f"{v:.6g}") for v in draws[:, K.SIGMA]],
    )


def pareto_k_by_year(
    observed: Any, chain: Chain, member: Member, years: list[int]
) -> dict[int, float]:
    """PSIS's Pareto k of each year left out, from the member's posterior draws."""
    az = _arviz()
    obs = Observations.of(observed, chain, years)
    ll, groups = year_loglik(chain, member, obs)
    idata = az.from_dict(
        posterior={"theta": member.draws[None, :, 0]}, log_likelihood={"year": ll[None]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = az.loo(idata, pointwise=True)
    return {y: float(k) for y, k in zip(groups, loo.pareto_k.values, strict=True)}


@dataclass(frozen=True)
class MemberCheck:
    """One structure's leave-one-year-out figures."""

    name: str
    elpd_loo: float
    elpd_se: float
    pareto_k_max: float  # after the exact refits (0 for a year refitted)
    log_evidence: float
    loo_total: dict[int, FloatArray]  # year -> predictive sample of the total (LOO)
    loo_member: dict[int, FloatArray]  # year -> in-sample choice totals (no noise)


def year_loglik(chain: Chain, member: Member, obs: Observations) -> tuple[FloatArray, list[int]]:
    """[draws, years]: each draw's log-likelihood of each year's observations together."""
    years = sorted(set(obs.years))
    out = np.zeros((len(member.draws), len(years)))
    for i, theta in enumerate(member.draws):
        ll = pointwise_loglik(chain, member.model, theta, obs)
        for j, y in enumerate(years):
            out[i, j] = float(np.sum(ll[np.asarray(obs.years) == y]))
    return K.as_float(out), years


def _totals(chain: Chain, member: Member, years: list[int]) -> FloatArray:
    """[draws, years]: the choice's total rail TEU of each year (no noise)."""
    from sim.choice.history import results

    index = [chain.years.index(y) for y in years]
    rows = []
    for theta in member.draws:
        res = results(chain, member.model, theta)
        rows.append([res[k].total_teu for k in index])
    return K.as_float(rows)


def check_member(
    ens: LoadedEnsemble, chain: Chain, member: Member, years: list[int], seed: int
) -> tuple[MemberCheck, Any]:
    """Leave-one-year-out of one structure: PSIS from its posterior, or the exact refit the
    fit wrote for a year where PSIS is unreliable (Pareto k > 0.7); the leave-one-out data
    (for the comparison) beside the figures."""
    az = _arviz()
    obs = Observations.of(ens.observed, chain, years)
    ll, groups = year_loglik(chain, member, obs)
    idata = az.from_dict(
        posterior={"theta": member.draws[None, :, 0]}, log_likelihood={"year": ll[None]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = az.loo(idata, pointwise=True)
    post = member.structure.posterior
    exact = post.exact_loo if post is not None else {}
    totals = _totals(chain, member, groups)
    sd = predictive_sd(ens, member.draws, "rail")
    rng = np.random.default_rng(np.random.SeedSequence([seed, len(groups)]))
    loo_total: dict[int, FloatArray] = {}
    pointwise = loo["loo_i"].values.copy()
    ks = loo.pareto_k.values.copy()
    for j, y in enumerate(groups):
        if y in exact:
            e = exact[y]
            lik = K.as_float(e.loglik)
            pointwise[j] = float(np.logaddexp.reduce(lik) - math.log(len(lik)))
            ks[j] = 0.0  # exact: no importance sampling
            t = K.as_float(e.total_teu)
            s = predictive_sd(ens, _sigma_rows(K.as_float(e.discrepancy_sd)), "rail")
            pick = rng.choice(len(t), size=4000)
            loo_total[y] = K.as_float(t[pick] * np.exp(s[pick] * rng.standard_normal(4000)))
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lw, _ = az.psislw(-ll[:, j])
        w = np.exp(lw - np.max(lw))
        pick = rng.choice(len(w), size=4000, p=w / w.sum())
        loo_total[y] = K.as_float(totals[pick, j] * np.exp(sd[pick] * rng.standard_normal(4000)))
    loo["loo_i"].values[:] = pointwise
    loo.pareto_k.values[:] = ks
    loo["elpd_loo"] = float(np.sum(pointwise))
    loo["se"] = float(np.sqrt(len(pointwise) * np.var(pointwise)))
    check = MemberCheck(
        name=member.name,
        elpd_loo=float(loo["elpd_loo"]),
        elpd_se=float(loo["se"]),
        pareto_k_max=float(np.max(ks)),
        log_evidence=post.log_evidence if post is not None else math.nan,
        loo_total=loo_total,
        loo_member={y: K.as_float(totals[:, j]) for j, y in enumerate(groups)},
    )
    return check, loo


def _sigma_rows(sigma: FloatArray) -> FloatArray:
    """Parameter rows holding only σ (what :func:`predictive_sd` reads)."""
    rows = np.zeros((len(sigma), K.N_THETA))
    rows[:, K.SIGMA] = sigma
    return K.as_float(rows)


def weights_by_rule(rule: str, names: list[str], idatas: dict[str, Any]) -> dict[str, float]:
    """The ensemble's weights: stacking or pseudo-BMA of the LOO densities, or equal."""
    if rule == "equal" or len(names) == 1:
        return {n: 1.0 / len(names) for n in names}
    az = _arviz()
    method = "stacking" if rule == "stacking" else "BB-pseudo-BMA"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = az.compare(idatas, ic="loo", method=method, seed=0)
    w = {n: max(0.0, float(table.loc[n, "weight"])) for n in names}
    total = sum(w.values())
    return {n: round(v / total, 4) for n, v in w.items()}


@dataclass(frozen=True)
class Coverage:
    """How many held-out years fall inside the ensemble's LOO intervals."""

    years: tuple[int, ...]
    inside50: tuple[bool, ...]
    inside90: tuple[bool, ...]
    medians: tuple[float, ...]
    bounds90: tuple[tuple[float, float], ...]
    bounds50: tuple[tuple[float, float], ...]
    observed: tuple[float, ...]

    def summary(self) -> dict[str, float]:
        """What the ensemble file keeps: counts inside, and the median's mean error."""
        errors = [abs(m - o) / o for m, o in zip(self.medians, self.observed, strict=True)]
        return {
            "periods": float(len(self.years)),
            "inside_50": float(sum(self.inside50)),
            "inside_90": float(sum(self.inside90)),
            "mean_abs_error_of_median": round(float(np.mean(errors)), 4),
        }


def coverage(
    ens: LoadedEnsemble, checks: list[MemberCheck], weights: dict[str, float], seed: int
) -> Coverage:
    """The mixture's leave-one-year-out intervals of each year's total against Y1."""
    names = [c.name for c in checks]
    w = K.as_float([weights[n] for n in names])
    counts = allocate(w, 4000)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 50, 90]))
    years = sorted(checks[0].loo_total)
    in50, in90, med, b90, b50, obs = [], [], [], [], [], []
    for y in years:
        parts = [
            rng.choice(c.loo_total[y], size=n, replace=True)
            for c, n in zip(checks, counts, strict=True)
            if n > 0
        ]
        sample_ = K.as_float(np.concatenate(parts))
        member_of = np.concatenate([np.full(n, k) for k, n in enumerate(counts) if n > 0]).astype(
            np.int64
        )
        iv = interval(sample_, member_of, names)
        o = ens.observed.years[y].total_teu
        in50.append(iv.contains(o, 50))
        in90.append(iv.contains(o, 90))
        med.append(iv.median)
        b90.append((iv.low90, iv.high90))
        b50.append((iv.low50, iv.high50))
        obs.append(o)
    return Coverage(
        tuple(years),
        tuple(in50),
        tuple(in90),
        tuple(med),
        tuple(b90),
        tuple(b50),
        tuple(obs),
    )
