"""How much the 2024 prediction depends on the unsourced assumptions (Morris screening).

Three assumptions have no source and matter a priori: the size of the China↔EU market, the
value of time, and how much cheaper eastbound sea freight is. Each point of a Morris design
(elementary effects on a 4-level grid, seeded trajectories) changes them, **refits** the
choice to 2016–2023 (so every point reproduces history as well as it can, the way a user
holding that assumption would) and records the predicted rail TEU of the predicted years.
μ* (mean absolute elementary effect, in TEU per whole range) ranks the assumptions; σ says
whether the effect depends on the others (interaction or non-linearity).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from sim.choice.fit_history import fit
from sim.choice.history import run_chain, year_inputs
from sim.choice.year_chain import HistoryYearFile
from sim.config.history import Assumptions, CargoShare, Observed

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Factor:
    """An assumption and its plausible range (the ends of the Morris grid)."""

    name: str
    low: float
    high: float
    shipped: float


FACTORS = (
    Factor("market size × (15 M TEU/yr)", 2 / 3, 4 / 3, 1.0),
    Factor("value of time ×", 0.5, 2.0, 1.0),
    Factor("eastbound sea rate ratio", 0.3, 0.7, 0.5),
)


def _assumptions(a: Assumptions, vot: float, east: float) -> Assumptions:
    classes = {
        k: CargoShare(
            share=c.share, value_of_time_usd_per_feu_day=c.value_of_time_usd_per_feu_day * vot
        )
        for k, c in a.classes.items()
    }
    return a.model_copy(update={"classes": classes, "eastbound_sea_rate_ratio": east})


def predict(
    files: Sequence[HistoryYearFile],
    a: Assumptions,
    observed: Observed,
    fit_years: Sequence[int],
    values: Sequence[float],
    seed: int,
    starts: int,
    fixed: Mapping[str, float] | None = None,
) -> dict[int, float]:
    """Refit at these assumption values; the predicted total TEU of every unobserved year."""
    market, vot, east = values
    a2 = _assumptions(a, vot, east)
    inputs = []
    for f in files:
        inp = year_inputs(f.history, a2)
        inputs.append(
            replace(inp, market_teu=(inp.market_teu[0] * market, inp.market_teu[1] * market))
        )
    res = fit(inputs, a2, observed, fit_years, seed, starts, fixed)
    return {
        r.year: r.total_teu
        for r in run_chain(inputs, res.fitted, a2)
        if r.year not in observed.years
    }


@dataclass(frozen=True)
class MorrisResult:
    """Per factor and predicted year: μ*, σ of the elementary effects; the range seen."""

    mu_star: dict[str, dict[int, float]]
    sigma: dict[str, dict[int, float]]
    low: dict[int, float]
    high: dict[int, float]
    shipped: dict[int, float]
    points: int


def morris(
    files: Sequence[HistoryYearFile],
    a: Assumptions,
    observed: Observed,
    fit_years: Sequence[int],
    trajectories: int,
    seed: int,
    starts: int = 3,
    fixed: Mapping[str, float] | None = None,
) -> MorrisResult:
    """Morris elementary effects (levels 4, Δ = 2/3 of each range) over ``FACTORS``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    k = len(FACTORS)
    delta = 2.0 / 3.0
    levels = np.asarray([0.0, 1.0 / 3.0])  # start levels from which +Δ stays on the grid

    def values(unit: FloatArray) -> list[float]:
        return [f.low + u * (f.high - f.low) for f, u in zip(FACTORS, unit, strict=True)]

    effects: dict[str, dict[int, list[float]]] = {f.name: {} for f in FACTORS}
    seen: dict[int, list[float]] = {}
    points = 0
    for _ in range(trajectories):
        x = rng.choice(levels, size=k)
        flip = rng.random(k) < 0.5  # walk down from the top half instead of up
        x = np.where(flip, x + delta, x)
        y = predict(files, a, observed, fit_years, values(x), seed, starts, fixed)
        points += 1
        for i in rng.permutation(k):
            step = -delta if flip[i] else delta
            x2 = x.copy()
            x2[i] += step
            y2 = predict(files, a, observed, fit_years, values(x2), seed, starts, fixed)
            points += 1
            for year in y:
                effects[FACTORS[i].name].setdefault(year, []).append((y2[year] - y[year]) / step)
                seen.setdefault(year, []).extend([y[year], y2[year]])
            x, y = x2, y2
    shipped = predict(
        files, a, observed, fit_years, [f.shipped for f in FACTORS], seed, starts, fixed
    )
    return MorrisResult(
        mu_star={
            n: {yr: float(np.mean(np.abs(v))) for yr, v in per.items()}
            for n, per in effects.items()
        },
        sigma={
            n: {yr: float(np.std(v, ddof=1)) for yr, v in per.items()} for n, per in effects.items()
        },
        low={yr: min(v) for yr, v in seen.items()},
        high={yr: max(v) for yr, v in seen.items()},
        shipped=shipped,
        points=points + 1,
    )


def markdown(result: MorrisResult) -> str:
    """μ* and σ per assumption for each predicted year, with the range of the predictions."""
    years = sorted(result.shipped)
    head = "| assumption | range | " + " | ".join(f"{y} μ* TEU | {y} σ TEU" for y in years) + " |"
    lines = [head, "|---|---|" + "---|---|" * len(years)]
    for f in FACTORS:
        cells = " | ".join(
            f"{result.mu_star[f.name][y]:,.0f} | {result.sigma[f.name][y]:,.0f}" for y in years
        )
        lines.append(f"| {f.name} | {f.low:.2g}–{f.high:.2g} | {cells} |")
    lines.append("")
    for y in years:
        lines.append(
            f"{y}: predicted rail TEU {result.shipped[y] / 1000:,.0f}k at the shipped assumptions; "
            f"{result.low[y] / 1000:,.0f}k–{result.high[y] / 1000:,.0f}k over the "
            f"{result.points} refits of the design"
        )
    return "\n".join(lines)
