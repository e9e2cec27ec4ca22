"""The demand ensemble: every structure's posterior draws, weighed by the ensemble's rule, run
through a chain of years.

A prediction is the mixture over structures (each with its weight) and over each structure's
draws; its *predictive* interval adds what the model cannot know about one year: the
structure's fitted discrepancy σ, the observation series' own band (what the intervals were
checked against, leave one year out) and the simulation's spread around its demand. The
median of the choice itself (no noise) is what a run simulates.

Reading only: the fit that writes the draws and the weights is :mod:`sim.choice.weighing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.choice import kernel as K
from sim.choice.history import Chain, ClosureSplit, DemandModel, YearResult, results
from sim.config.demand import DemandStructure, Ensemble
from sim.config.history import Observed
from sim.config.history_files import load_assumptions, load_ensemble, load_observed, load_structure
from sim.errors import ConfigError

FloatArray = K.FloatArray
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class Member:
    """One structure of the ensemble with its draws."""

    name: str
    path: Path
    structure: DemandStructure
    model: DemandModel
    draws: FloatArray  # [draws, parameters]; empty before the structure is fitted


@dataclass(frozen=True)
class LoadedEnsemble:
    """The ensemble file, its structures and observations, resolved."""

    path: Path
    ensemble: Ensemble
    members: tuple[Member, ...]
    observed: Observed

    def weights(self) -> FloatArray:
        """The rule's weights in member order (equal until the fit has written them)."""
        w = self.ensemble.weights
        if w is None:
            return K.as_float(np.full(len(self.members), 1.0 / len(self.members)))
        return K.as_float([w.get(m.name, 0.0) for m in self.members])

    def fitted(self) -> bool:
        return all(len(m.draws) > 0 for m in self.members)


def load(path: Path, require_fit: bool = True) -> LoadedEnsemble:
    """Read the ensemble and every structure it names (each relative to the ensemble file)."""
    ensemble = load_ensemble(path)
    members = []
    for k, rel in enumerate(ensemble.structures):
        file = path.parent / rel
        if not file.is_file():
            raise ConfigError(str(path), ("structures", str(k)), f"no such file: {rel}")
        structure = load_structure(file)
        assumptions_file = file.parent / structure.assumptions
        if not assumptions_file.is_file():
            raise ConfigError(str(file), ("assumptions",), f"no such file: {structure.assumptions}")
        model = DemandModel.of(structure, load_assumptions(assumptions_file))
        post = structure.posterior
        if post is None and require_fit:
            raise ConfigError(
                str(file), ("posterior",), "not fitted yet: run `corridor fit-history`"
            )
        draws = K.as_float(post.draws) if post is not None else np.zeros((0, K.N_THETA))
        members.append(Member(structure.name, file, structure, model, K.as_float(draws)))
    names = [m.name for m in members]
    if len(set(names)) != len(names):
        raise ConfigError(str(path), ("structures",), "two structures share a name")
    if ensemble.weights is not None and set(ensemble.weights) != set(names):
        raise ConfigError(str(path), ("weights",), "must name exactly the structures listed")
    observed_file = path.parent / ensemble.observed
    if not observed_file.is_file():
        raise ConfigError(str(path), ("observed",), f"no such file: {ensemble.observed}")
    return LoadedEnsemble(path, ensemble, tuple(members), load_observed(observed_file))


def allocate(weights: FloatArray, total: int) -> list[int]:
    """Draws per member ∝ weight, summing to ``total`` (largest remainders)."""
    raw = weights / weights.sum() * total
    counts = np.floor(raw).astype(int)
    for k in np.argsort(-(raw - counts), kind="stable")[: total - int(counts.sum())]:
        counts[k] += 1
    return [int(c) for c in counts]


@dataclass(frozen=True)
class EnsembleRun:
    """Every ensemble draw run through a chain: its member and each year's result."""

    members: tuple[Member, ...]
    member_of_draw: K.IntArray
    thetas: FloatArray  # [draws, parameters]
    years: tuple[int, ...]
    results: tuple[tuple[YearResult, ...], ...]  # [draw][year]

    def year(self, year: int) -> list[YearResult]:
        k = self.years.index(year)
        return [r[k] for r in self.results]

    def closure(self, year: int) -> ClosureSplit:
        """Where a rail closure's bookings went: the median over the draws of each part."""
        splits = [r.closure[0] + r.closure[1] for r in self.year(year)]

        def med(values: list[float]) -> float:
            return float(np.median(values)) if values else 0.0

        return ClosureSplit(
            booked=med([c.booked for c in splits]),
            waited=med([c.waited for c in splits]),
            middle_corridor=med([c.middle_corridor for c in splits]),
            rail_sea=med([c.rail_sea for c in splits]),
        )

    def teu(self, year: int) -> FloatArray:
        """[draws, 3]: westbound, eastbound, Middle Corridor TEU the choice gives (no noise)."""
        rows = [(r.teu[0], r.teu[1], sum(r.middle_corridor_teu)) for r in self.year(year)]
        return K.as_float(rows)


def run(ens: LoadedEnsemble, chain: Chain, draws: int, seed: int) -> EnsembleRun:
    """``draws`` draws of the mixture (members ∝ weight, each member's draws in a seeded
    order) through the chain."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    member_of: list[int] = []
    thetas: list[FloatArray] = []
    out: list[tuple[YearResult, ...]] = []
    for k, (m, n) in enumerate(zip(ens.members, allocate(ens.weights(), draws), strict=True)):
        if n == 0 or len(m.draws) == 0:
            continue
        order = rng.permutation(len(m.draws))
        picks = [order[i % len(order)] for i in range(n)]
        for i in picks:
            theta = m.draws[i]
            member_of.append(k)
            thetas.append(theta)
            out.append(tuple(results(chain, m.model, theta)))
    return EnsembleRun(
        ens.members,
        np.asarray(member_of, dtype=np.int64),
        K.as_float(thetas),
        chain.years,
        tuple(out),
    )


@dataclass(frozen=True)
class Interval:
    """Median with 50 % and 90 % intervals, and the structures that drive each end."""

    median: float
    low50: float
    high50: float
    low90: float
    high90: float
    low_driver: str  # the structure with most draws below the 5 % point
    high_driver: str  # … above the 95 % point

    def text(self, scale: float = 1000.0, unit: str = "k") -> str:
        def f(x: float) -> str:
            return f"{x / scale:,.0f}{unit}"

        return (
            f"{f(self.median)} [50 %: {f(self.low50)}–{f(self.high50)}; "
            f"90 %: {f(self.low90)}–{f(self.high90)}]"
        )

    def contains(self, x: float, level: int) -> bool:
        lo, hi = (self.low50, self.high50) if level == 50 else (self.low90, self.high90)
        return lo <= x <= hi


def interval(values: FloatArray, member_of: K.IntArray, names: Sequence[str]) -> Interval:
    """Quantiles of a mixture sample and the structures behind its tails."""
    q = np.quantile(values, QUANTILES)

    def driver(mask: K.IntArray) -> str:
        if not np.any(mask):
            return "—"
        counts = np.bincount(member_of[mask], minlength=len(names))
        return names[int(np.argmax(counts))]

    return Interval(
        median=float(q[2]),
        low50=float(q[1]),
        high50=float(q[3]),
        low90=float(q[0]),
        high90=float(q[4]),
        low_driver=driver(values <= q[0]),
        high_driver=driver(values >= q[4]),
    )


def predictive(
    values: FloatArray, sd: FloatArray, seed: int, copies: int = 10
) -> tuple[FloatArray, K.IntArray]:
    """Each value × exp(N(0, sd²)), ``copies`` times over (seeded); and each copy's source
    index, to keep track of its structure."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    eps = rng.standard_normal((copies, len(values)))
    noisy = values[None, :] * np.exp(eps * sd[None, :])
    index = np.tile(np.arange(len(values)), copies)
    return K.as_float(noisy.ravel()), index


def predictive_sd(ens: LoadedEnsemble, thetas: FloatArray, kind: str) -> FloatArray:
    """The spread a year's value has around the choice: σ of each draw, the observation's
    band and the simulation's noise (log units)."""
    band = (
        ens.observed.middle_corridor_band if kind == "middle_corridor" else ens.observed.total_band
    )
    sigma = thetas[:, K.SIGMA]
    return K.as_float(np.sqrt(sigma**2 + band**2 + ens.ensemble.simulation_noise_sd**2))


@dataclass(frozen=True)
class YearPrediction:
    """A year's ensemble prediction of rail TEU: the choice's median (what runs simulate)
    and predictive intervals in total, per direction and for the Middle Corridor."""

    year: int
    demand_teu: tuple[float, float]  # the median choice, westbound and eastbound
    total: Interval
    westbound: Interval
    eastbound: Interval
    middle_corridor: Interval

    def quantities(self) -> tuple[tuple[str, Interval], ...]:
        """The intervals with the labels every table and line prints them under."""
        return (
            ("total", self.total),
            ("westbound", self.westbound),
            ("eastbound", self.eastbound),
            ("Middle Corridor", self.middle_corridor),
        )


def predict_year(ens: LoadedEnsemble, er: EnsembleRun, year: int, seed: int) -> YearPrediction:
    """The year's prediction from an ensemble run."""
    teu = er.teu(year)
    names = [m.name for m in ens.members]
    sd = predictive_sd(ens, er.thetas, "rail")
    sd_mc = predictive_sd(ens, er.thetas, "middle_corridor")

    def spread(values: FloatArray, s: FloatArray, offset: int) -> Interval:
        noisy, index = predictive(values, s, seed + offset)
        return interval(noisy, er.member_of_draw[index], names)

    return YearPrediction(
        year=year,
        demand_teu=(float(np.median(teu[:, 0])), float(np.median(teu[:, 1]))),
        total=spread(teu[:, 0] + teu[:, 1], sd, 0),
        westbound=spread(teu[:, 0], sd, 1),
        eastbound=spread(teu[:, 1], sd, 2),
        middle_corridor=spread(teu[:, 2], sd_mc, 3),
    )
