"""``corridor calibrate --posterior``: the border parameters' posterior from the episodes.

What runs: each episode scenario the border parameters were fitted to (``EPISODES``: E2 2018,
E3/E4 2021, Y1 2019 under the Małaszewicze works) at each point of a Latin hypercube over the
priors (g, λ, h; sim/config/border_posterior.py says where each enters), a few replications
each, every point on streams of its own (not common random numbers: the emulator's residual
must hold the simulation's noise, which a single observed episode also carries; with common
streams the recovery test's h intervals held the truth in only 6–7 of 10 seeds). Every
banded target of the episodes' ``observed:`` blocks is measured, plus Y1 2019 on the works
scenario (``works_2019_target``; the 2019 run has no ``observed:`` block of its own). E1's
queue and E3's wagon count are reported, not targets (``band: null``), and stay out.

Then sim/workflow/border_emulator.py fits a polynomial per statistic and samples the posterior
on it. The result is a :class:`~sim.config.border_posterior.BorderPosterior` with the hash of
the episodes' scenarios (the network, flows and loads at the shipped values) and of the
targets, so a posterior is known to be stale when either changes; it is a pure function of the
seed and the settings (tasks carry their seeds; the worker count does not matter).

The measure of a statistic lives in sim/analysis/observed.py, a layer above this one: it is
passed in (``measure``) by the caller (the CLI, the tests).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.config.border_posterior import (
    PARAMETERS,
    SHIPPED,
    BorderPosterior,
    Marginal,
    overrides_for,
)
from sim.config.loader import load_scenario
from sim.config.observed import Observed
from sim.config.scenario import Scenario
from sim.engine.metrics import ReplicationKpis, replication_kpis
from sim.engine.network import Network
from sim.engine.records import Records
from sim.engine.replications import simulate
from sim.executors import map_ordered
from sim.progress import Step
from sim.workflow.border_emulator import (
    FloatArray,
    Target,
    cv_rmse,
    fit_emulator,
    lhs_design,
    sample_posterior,
    target_from_band,
)

Measure = Callable[[Observed, Scenario, Network, Records, ReplicationKpis], float]

EPISODES = (
    Path("scenarios/episodes/e2_2018.yaml"),
    Path("scenarios/episodes/e3_2021.yaml"),
    Path("scenarios/malaszewicze_works_2019.yaml"),
)

PRIOR: dict[str, tuple[float, float]] = {"g": (0.45, 0.6), "lambda": (0.6, 1.0), "h": (1.6, 1.9)}
"""The facts' ranges (docs/border_posterior.md): g and h as docs/model.md's A34 and A37; λ
widened from A34's 0.8–1 to 0.6–1, which B19 still allows (the crossing's total grows by
(1 − λ) × 12.7 trains a day from 2016 to 2021: 5 at λ = 0.6, inside "~50/day" read as ± 10 %),
because the posterior reached 0.8. h stays under 1.9: h × 8.5 + 8.5 = 24.7 trains a day in +
out on an average day, already above B24's 2023 peak day (24)."""

METHOD = "quadratic emulator (least squares on an LHS design) + dynesty nested sampling"


def works_2019_target() -> Observed:
    """Y1 2019 (333,000 TEU, ± 10 % as V3's target) delivered through the E20 works (A36)."""
    return Observed(
        measure="teu_per_year",
        value=333000,
        band=(299700, 366300),
        facts="Y1",
        unit="TEU",
        description="China↔EU TEU delivered in 2019 under the E20 works",
    )


@dataclass(frozen=True)
class Episode:
    """An episode scenario, its banded targets (id → entry) and the root seed of its runs."""

    path: Path
    targets: dict[str, Observed]
    values: dict[str, Any]  # overrides applied to every run (a shorter horizon in the tests)


@dataclass(frozen=True)
class Settings:
    design_points: int = 32
    replications: int = 2
    draws: int = 200
    degree: int = 2
    live_points: int = 200
    workers: int = 1

    def document(self) -> dict[str, Any]:
        return {
            "design_points": self.design_points,
            "replications": self.replications,
            "draws": self.draws,
            "emulator_degree": self.degree,
            "live_points": self.live_points,
            "prior": {k: list(v) for k, v in PRIOR.items()},
        }


def episodes(
    paths: Sequence[Path] = EPISODES,
    values: Mapping[str, dict[str, Any]] | None = None,
    root: Path = Path("."),
) -> list[Episode]:
    """The episodes with their banded targets; ``values`` (by file stem) are overrides applied
    to every run of that episode (the recovery test's shorter runs)."""
    out = []
    for rel in paths:
        extra = dict((values or {}).get(rel.stem, {}))
        scenario, _ = load_scenario(root / rel, values=extra)
        banded = {k: e for k, e in scenario.observed.items() if e.band is not None}
        if rel.stem == "malaszewicze_works_2019":
            banded["y1_2019_teu_under_works"] = works_2019_target()
        out.append(Episode(root / rel, banded, extra))
    return out


def _hash(doc: object) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:20]


def hashes(eps: Sequence[Episode]) -> tuple[str, str]:
    """(network hash, targets hash): the episodes' scenarios as run at the shipped values
    (observed blocks, names and seeds left out) and their targets."""
    nets, targets = [], []
    for ep in eps:
        scenario, _ = load_scenario(ep.path, values=ep.values)
        doc = scenario.model_dump(
            mode="json", by_alias=True, exclude={"extends", "name", "observed"}
        )
        doc["run"].pop("seed", None)
        nets.append(doc)
        targets.append({k: e.model_dump(mode="json") for k, e in sorted(ep.targets.items())})
    return _hash(nets), _hash(targets)


Task = tuple[Path, dict[str, Any], dict[str, float], int, int, dict[str, Observed], Measure]


def _run_one(task: Task) -> list[float]:
    """One replication of one episode at one parameter vector: its targets' values."""
    path, values, draw, replication, seed, targets, measure = task
    base, _ = load_scenario(path, values=values)
    scenario, _ = load_scenario(path, values={**values, **overrides_for(draw, base)})
    net, rec = simulate(scenario, replication, seed)
    kpis = replication_kpis(net, rec)
    return [measure(entry, scenario, net, rec, kpis) for entry in targets.values()]


def simulate_design(
    eps: Sequence[Episode],
    design: FloatArray,
    replications: int,
    seed: int,
    measure: Measure,
    workers: int = 1,
    on_step: Step | None = None,
) -> FloatArray:
    """Rows: design point × replication (point-major); columns: every episode's targets."""
    tasks: list[Task] = []
    for i in range(len(design)):
        draw = dict(zip(PARAMETERS, (float(v) for v in design[i]), strict=True))
        for r in range(replications):
            for e, ep in enumerate(eps):
                root = int(np.random.SeedSequence([seed, 2, e, i]).generate_state(1)[0])
                tasks.append((ep.path, ep.values, draw, r, root, ep.targets, measure))
    rows: list[float] = []
    for k, values in enumerate(map_ordered(_run_one, tasks, workers)):
        rows.extend(values)
        if on_step is not None:
            on_step(f"border posterior: simulation {k + 1} of {len(tasks)}")
    width = sum(len(ep.targets) for ep in eps)
    return np.asarray(rows, dtype=np.float64).reshape(len(design) * replications, width)


def likelihood_targets(eps: Sequence[Episode], observed: FloatArray | None = None) -> list[Target]:
    """Each banded target as a likelihood term; ``observed`` (one value per target) replaces
    the facts' values (the recovery test's synthetic episodes), keeping the facts' band widths."""
    out = []
    k = 0
    for ep in eps:
        for name, entry in ep.targets.items():
            assert entry.band is not None
            value = entry.value if observed is None else float(observed[k])
            low, high = entry.band
            if low > 0 and observed is not None:  # same relative band around the new value
                low, high = value * low / entry.value, value * high / entry.value
            out.append(target_from_band(f"{ep.path.stem}.{name}", value, low, high))
            k += 1
    return out


def fit(
    eps: Sequence[Episode],
    design: FloatArray,
    stats: FloatArray,
    replications: int,
    settings: Settings,
    seed: int,
    observed: FloatArray | None = None,
) -> tuple[FloatArray, dict[str, float]]:
    """Posterior draws (rows) from a simulated design, and the emulator's fit figures."""
    low = np.array([PRIOR[p][0] for p in PARAMETERS])
    high = np.array([PRIOR[p][1] for p in PARAMETERS])
    theta = np.repeat(design, replications, axis=0)
    y = np.log1p(np.maximum(stats, 0.0))
    em = fit_emulator(theta, y, low, high, settings.degree)
    targets = likelihood_targets(eps, observed)
    draws, logz = sample_posterior(em, targets, settings.draws, seed, settings.live_points)
    cv = cv_rmse(theta, y, low, high, settings.degree, folds=5)
    figures = {"log_evidence": logz}
    figures |= {f"cv_rmse_log.{t.name}": float(v) for t, v in zip(targets, cv, strict=True)}
    figures |= {
        f"resid_sd_log.{t.name}": float(v) for t, v in zip(targets, em.resid_sd, strict=True)
    }
    return draws, figures


def posterior(
    measure: Measure,
    settings: Settings,
    seed: int,
    root: Path = Path("."),
    on_step: Step | None = None,
    on_design: Callable[[FloatArray, FloatArray], None] | None = None,
) -> BorderPosterior:
    """Simulate the design, fit, sample: the posterior document (``on_design`` hears the
    design and its statistics, rows as :func:`simulate_design`'s: for comparing methods)."""
    eps = episodes(root=root)
    low = np.array([PRIOR[p][0] for p in PARAMETERS])
    high = np.array([PRIOR[p][1] for p in PARAMETERS])
    design = lhs_design(low, high, settings.design_points, seed)
    stats = simulate_design(
        eps, design, settings.replications, seed, measure, settings.workers, on_step
    )
    if on_design is not None:
        on_design(design, stats)
    draws, figures = fit(eps, design, stats, settings.replications, settings, seed)
    network, targets = hashes(eps)
    marginals = {
        p: Marginal(
            prior=PRIOR[p],
            shipped=SHIPPED[p],
            median=round(float(np.median(draws[:, j])), 4),
            q05=round(float(np.quantile(draws[:, j], 0.05)), 4),
            q95=round(float(np.quantile(draws[:, j], 0.95)), 4),
        )
        for j, p in enumerate(PARAMETERS)
    }
    return BorderPosterior(
        method=METHOD,
        seed=seed,
        settings={**settings.document(), "fit": {k: round(v, 4) for k, v in figures.items()}},
        network_hash=network,
        targets_hash=targets,
        marginals=marginals,
        draws={p: [round(float(v), 5) for v in draws[:, j]] for j, p in enumerate(PARAMETERS)},
    )


def write(post: BorderPosterior, path: Path, command: str) -> None:
    """The posterior as YAML, with a header that says how it was made."""
    header = (
        "# Posterior of the border parameters (docs/border_posterior.md): joint draws of g, λ\n"
        "# (A34) and h (A37) from the episodes E2, E3, E4, B23 and Y1 2019 under the works.\n"
        "# derived: generated, do not edit; remake with\n"
        f"#   {command}\n"
        "# network_hash/targets_hash: of the episodes' scenarios and targets it was fitted to.\n"
    )
    text = yaml.safe_dump(post.model_dump(mode="json"), sort_keys=False, width=100)
    path.write_text(header + text, encoding="utf-8")
