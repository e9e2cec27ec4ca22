"""``corridor fit-history`` end to end: sample every structure, weigh them by the ensemble's
rule, check the intervals leave one year out, write the files and the tables of
docs/mode_choice.md.

The order matters and is fixed: posteriors first (2016–2023 only), then the weights by the
rule written in the ensemble file, then the coverage check; the 2024–25 predictions come
last, from the weights already written, and play no part in any of the steps before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.choice.ensemble import (
    Interval,
    LoadedEnsemble,
    Member,
    YearPrediction,
    load,
    predict_year,
    run,
)
from sim.choice.network_years import chain_of
from sim.choice.weighing import (
    Coverage,
    FitJob,
    LooJob,
    MemberCheck,
    check_member,
    coverage,
    fit_job,
    loo_job,
    pareto_k_by_year,
    weights_by_rule,
)
from sim.choice.year_chain import history_chain
from sim.config.demand import ExactLoo, Posterior
from sim.config.history_write import write_ensemble, write_posterior
from sim.executors import map_ordered

PREDICTED = (2024, 2025)


PARETO_K_LIMIT = 0.7  # above it PSIS is unreliable (Vehtari et al. 2024): refit exactly


def sample_structures(
    ensemble_file: Path,
    history: Path,
    years: Sequence[int],
    nlive: int,
    workers: int,
    only: Sequence[str] = (),
    on_done: Callable[[str, Posterior, float], None] | None = None,
    loo_nlive: int = 0,
    on_refit: Callable[[str, int, float, float], None] | None = None,
) -> None:
    """Sample the posterior of every structure (or those named in ``only``) and write it into
    its file; each structure's seed is the ensemble's seed + its position in the list. With
    ``loo_nlive`` > 0, every year whose PSIS Pareto k exceeds 0.7 is then left out by an exact
    refit (that many live points), written beside the posterior."""
    ens = load(ensemble_file, require_fit=False)
    names = [m.name for m in ens.members]
    unknown = [n for n in only if n not in names]
    if unknown:
        from sim.errors import ConfigError

        raise ConfigError(str(ensemble_file), ("structures",), f"no structure '{unknown[0]}'")
    chosen = [(k, m) for k, m in enumerate(ens.members) if not only or m.name in only]
    observed_file = ensemble_file.parent / ens.ensemble.observed
    jobs = [
        FitJob(
            m.path,
            observed_file,
            history,
            tuple(years),
            ens.ensemble.seed + k,
            nlive,
            ens.ensemble.draws_per_structure,
        )
        for k, m in chosen
    ]
    started = time.perf_counter()
    for (_, m), post in zip(chosen, map_ordered(fit_job, jobs, workers), strict=True):
        write_posterior(
            m.path,
            post,
            f"corridor fit-history --years {years[0]}-{years[-1]} --nlive {nlive} "
            f"(seed {post.seed})",
        )
        if on_done is not None:
            on_done(m.name, post, time.perf_counter() - started)
    if loo_nlive > 0:
        _exact_refits(
            ensemble_file, history, years, [m.name for _, m in chosen], loo_nlive, workers, on_refit
        )


def _exact_refits(
    ensemble_file: Path,
    history: Path,
    years: Sequence[int],
    names: Sequence[str],
    nlive: int,
    workers: int,
    on_refit: Callable[[str, int, float, float], None] | None,
) -> None:
    """Refit each (structure, year) whose PSIS Pareto k exceeds the limit, without the year;
    write the refits into the structures' files."""
    ens = load(ensemble_file)
    chain = chain_of(history, ens.members[0].model.assumptions).upto(max(years))
    observed_file = ensemble_file.parent / ens.ensemble.observed
    jobs: list[tuple[Member, LooJob]] = []
    for k, m in enumerate(ens.members):
        if m.name not in names:
            continue
        ks = pareto_k_by_year(ens.observed, chain, m, list(years))
        for y, pk in sorted(ks.items()):
            if pk > PARETO_K_LIMIT:
                job = LooJob(
                    m.path,
                    observed_file,
                    history,
                    tuple(years),
                    y,
                    round(pk, 4),
                    ens.ensemble.seed + 100 * (k + 1) + (y - 2000),
                    nlive,
                    ens.ensemble.draws_per_structure,
                )
                jobs.append((m, job))
    started = time.perf_counter()
    refits: dict[str, dict[int, ExactLoo]] = {}
    done = map_ordered(loo_job, [j for _, j in jobs], workers)
    for (m, job), exact in zip(jobs, done, strict=True):
        refits.setdefault(m.name, {})[job.leave_out] = exact
        if on_refit is not None:
            on_refit(m.name, job.leave_out, job.pareto_k, time.perf_counter() - started)
    for m in ens.members:
        post = m.structure.posterior
        if m.name not in names or post is None:
            continue
        updated = post.model_copy(update={"exact_loo": refits.get(m.name, {})})
        write_posterior(
            m.path,
            updated,
            f"corridor fit-history --years {years[0]}-{years[-1]} (seed {post.seed}); exact "
            f"leave-one-year-out refits ({nlive} live points) where Pareto k > "
            f"{PARETO_K_LIMIT}",
        )


def copy_ensemble(ensemble_file: Path, folder: Path, observed: Path | None) -> Path:
    """The ensemble, its structures and their assumptions copied into a new folder (for a
    fit that must not touch the shipped one), observing ``observed`` when given; the copy's
    ensemble file. A folder that exists and is not empty is refused: nothing is overwritten."""
    import yaml

    from sim.config.history_files import load_ensemble, load_structure
    from sim.errors import ConfigError

    if folder.exists() and any(folder.iterdir()):
        raise ConfigError(str(folder), (), "exists and is not empty: give a new folder")
    ens = load_ensemble(ensemble_file)
    source = observed or ensemble_file.parent / ens.observed
    if not source.is_file():
        raise ConfigError(str(source), (), "no such file")
    folder.mkdir(parents=True, exist_ok=True)
    assumptions: set[str] = set()
    for rel in ens.structures:
        file = ensemble_file.parent / rel
        if not file.is_file():
            raise ConfigError(str(ensemble_file), ("structures",), f"no such file: {rel}")
        assumptions.add(load_structure(file).assumptions)
        if Path(rel).name != rel or any(Path(a).name != a for a in assumptions):
            raise ConfigError(
                str(ensemble_file), ("structures",), "a copy needs every file beside the ensemble"
            )
        (folder / Path(rel).name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    for rel in assumptions:
        src = ensemble_file.parent / rel
        (folder / Path(rel).name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "observed.yaml").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    doc = yaml.safe_load(ensemble_file.read_text(encoding="utf-8"))
    doc["structures"] = [Path(rel).name for rel in ens.structures]
    doc["observed"] = "observed.yaml"
    for generated in ("weights", "comparison", "leave_one_period_out"):
        doc.pop(generated, None)
    target = folder / "ensemble.yaml"
    target.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


@dataclass(frozen=True)
class Assessment:
    """What the fit says about the structures and the ensemble."""

    ensemble: LoadedEnsemble
    checks: tuple[MemberCheck, ...]
    weights: dict[str, float]
    coverage: Coverage
    member_predictions: dict[str, dict[int, YearPrediction]]
    predictions: dict[int, YearPrediction]
    in_sample: dict[int, tuple[float, float]]  # year -> (ensemble median choice, observed)


def assess(ensemble_file: Path, history: Path, years: Sequence[int], write: bool) -> Assessment:
    """Weights by the rule, leave-one-year-out coverage, then (only then) the predictions;
    ``write`` keeps the first two in the ensemble file."""
    ens = load(ensemble_file)
    seed = ens.ensemble.seed
    chain = chain_of(history, ens.members[0].model.assumptions)
    fit_chain = chain.upto(max(years))
    checks, idatas = [], {}
    for m in ens.members:
        check, idata = check_member(ens, fit_chain, m, list(years), seed)
        checks.append(check)
        idatas[m.name] = idata
    weights = weights_by_rule(ens.ensemble.rule, [m.name for m in ens.members], idatas)
    cov = coverage(ens, checks, weights, seed)
    if write:
        comparison = {
            c.name: {
                "elpd_loo": round(c.elpd_loo, 3),
                "elpd_loo_se": round(c.elpd_se, 3),
                "pareto_k_max": round(c.pareto_k_max, 3),
                "log_evidence": round(c.log_evidence, 3),
                "loo_mean_abs_error": round(_loo_error(c, ens), 4),
            }
            for c in checks
        }
        write_ensemble(
            ensemble_file,
            {
                "weights": weights,
                "comparison": comparison,
                "leave_one_period_out": cov.summary(),
            },
            f"corridor fit-history --years {years[0]}-{years[-1]}",
        )
        ens = load(ensemble_file)
    else:
        ens = LoadedEnsemble(
            ens.path,
            ens.ensemble.model_copy(update={"weights": weights}),
            ens.members,
            ens.observed,
        )
    member_predictions: dict[str, dict[int, YearPrediction]] = {}
    predicted = [y for y in PREDICTED if y in chain.years]
    for m in ens.members:
        solo = LoadedEnsemble(
            ens.path,
            ens.ensemble.model_copy(
                update={"weights": {n.name: float(n.name == m.name) for n in ens.members}}
            ),
            ens.members,
            ens.observed,
        )
        er = run(solo, chain, len(m.draws), seed)
        member_predictions[m.name] = {y: predict_year(solo, er, y, seed) for y in predicted}
    er = run(ens, chain, 2000, seed)
    predictions = {y: predict_year(ens, er, y, seed) for y in predicted}
    in_sample = {}
    for y in years:
        o = ens.observed.years.get(y)
        if o is not None:
            t = er.teu(y)
            in_sample[y] = (float(np.median(t[:, 0] + t[:, 1])), o.total_teu)
    return Assessment(ens, tuple(checks), weights, cov, member_predictions, predictions, in_sample)


def fitted_years(history: Path, last: int = 2023) -> list[int]:
    """The years of a ``--history`` the fit may see (up to 2023: later ones are predictions)."""
    return sorted(y for y in (f.history.year for f in history_chain(history)) if y <= last)


def _loo_error(c: MemberCheck, ens: LoadedEnsemble) -> float:
    """Mean |LOO predictive median / observed − 1| over the years."""
    errs = [
        abs(float(np.median(s)) / ens.observed.years[y].total_teu - 1.0)
        for y, s in c.loo_total.items()
    ]
    return float(np.mean(errs))


def _k(x: float) -> str:
    return f"{x / 1000:,.0f}k"


def _iv90(iv: Interval) -> str:
    return f"{_k(iv.median)} [{_k(iv.low90)}–{_k(iv.high90)}]"


def structure_table(a: Assessment) -> str:
    """Markdown: per structure its fit, out-of-sample error, weight and predictions."""
    lines = [
        "| structure | free parameters | log evidence | elpd (LOO) ± se | max Pareto k | "
        "mean abs. LOO error | weight | 2024 median [90 %] | 2025 median [90 %] |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c, m in zip(a.checks, a.ensemble.members, strict=True):
        preds = a.member_predictions[m.name]
        cells = [_iv90(preds[y].total) if y in preds else "—" for y in PREDICTED]
        lines.append(
            f"| {m.name} | {len(m.structure.free())} | {c.log_evidence:.1f} | "
            f"{c.elpd_loo:.1f} ± {c.elpd_se:.1f} | {c.pareto_k_max:.2f} | "
            f"{_loo_error(c, a.ensemble):.1%} | {a.weights[m.name]:.2f} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def coverage_table(a: Assessment) -> str:
    """Markdown: each year left out, the ensemble's interval of it, and whether it held."""
    cov = a.coverage
    lines = [
        "| year left out | observed (Y1) | LOO median | 50 % interval | 90 % interval | "
        "inside 50 % | inside 90 % | in-sample median | in-sample error |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k, y in enumerate(cov.years):
        med, obs = a.in_sample.get(y, (float("nan"), cov.observed[k]))
        lines.append(
            f"| {y} | {cov.observed[k]:,.0f} | {_k(cov.medians[k])} | "
            f"{_k(cov.bounds50[k][0])}–{_k(cov.bounds50[k][1])} | "
            f"{_k(cov.bounds90[k][0])}–{_k(cov.bounds90[k][1])} | "
            f"{'yes' if cov.inside50[k] else 'no'} | {'yes' if cov.inside90[k] else 'no'} | "
            f"{_k(med)} | {med / obs - 1:+.1%} |"
        )
    s = cov.summary()
    lines.append("")
    lines.append(
        f"Leave one year out: {s['inside_50']:.0f} of {s['periods']:.0f} years inside the 50 % "
        f"interval, {s['inside_90']:.0f} of {s['periods']:.0f} inside the 90 % interval "
        f"(mean |median error| {s['mean_abs_error_of_median']:.1%})."
    )
    return "\n".join(lines)


def prediction_lines(a: Assessment) -> list[str]:
    """The ensemble's 2024–25 predictions, one line per year and quantity."""
    out = []
    for y, p in a.predictions.items():
        for label, iv in p.quantities():
            out.append(
                f"{y} {label}: {iv.text()} (low end: {iv.low_driver}; high end: {iv.high_driver})"
            )
    return out
