"""Calibrating the mode choice to the observed rail volumes, and value-of-time sensitivity.

The unknown the data pins down is how much shippers dislike each rail option beyond its
rate and time (risk, paperwork, sanctions checks, booking): its ``constant_usd_per_feu``.
Targets: ``observed_rail_teu_per_year`` in total, split over the rail options as the
scenario's flows carry it as written (the baselines' route shares); when some rail option
has no written TEU, one common shift of every rail constant fits the total only.

Procedure, repeated until the simulated fixed point reproduces the targets:

1. solve the congestion fixed point with the current constants (rail times simulated);
   (the first time with constants fitted at free-flow times, which costs no simulation);
2. holding those times, adjust the constants until the logit gives the targets (the
   classic update: constant += cost scale × nest lambda × ln(model / target), iterated;
   for the common shift a 1-D root, the share falling monotonically as rail gets dearer);
3. solve again with the new constants; stop when the simulated rail share is within a
   quarter of the tolerance of the target (rail times barely move with demand below
   capacity, so this takes one or two rounds).

Value-of-time sensitivity re-solves the fixed point with every class's value of time scaled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq

from sim.choice.fixed_point import ChoiceModel, FloatArray, Solution, solve
from sim.config.mode_choice import ModeChoice
from sim.config.scenario import Scenario
from sim.errors import ConfigError


@dataclass
class Round:
    change_usd_per_feu: float  # largest change of a rail constant in this round
    model_share: float  # simulated fixed point's rail share after the shift
    iterations: int
    converged: bool


@dataclass
class Calibration:
    target_share: float
    constants: dict[str, float]  # rail option -> calibrated constant_usd_per_feu
    model_share: float
    within_tolerance: bool
    rounds: list[Round] = field(default_factory=list)


def shifted(mc: ModeChoice, shift_usd: float) -> ModeChoice:
    """The mode choice with ``shift_usd`` added to every rail option's constant."""
    options = {
        oid: opt.model_copy(update={"constant_usd_per_feu": opt.constant_usd_per_feu + shift_usd})
        if opt.mode == "rail"
        else opt
        for oid, opt in mc.options.items()
    }
    return mc.model_copy(update={"options": options})


def observed_rail_share(s: Scenario) -> tuple[ModeChoice, float]:
    """The mode choice and the rail share it must reproduce: observed rail TEU over the market."""
    mc = s.mode_choice
    if mc is None or mc.observed_rail_teu_per_year is None:
        raise ConfigError(
            s.name, ("mode_choice", "observed_rail_teu_per_year"), "needed to calibrate"
        )
    share = mc.observed_rail_share()
    assert share is not None
    return mc, share


def calibrate(
    s: Scenario,
    seed: int,
    workers: int = 1,
    max_rounds: int = 4,
    on_round: Callable[[Round], None] | None = None,
) -> Calibration:
    mc, target = observed_rail_share(s)
    # First guess without simulating: fit at free-flow rail times (cheap, and it keeps the
    # first simulated fixed point away from a swamped network when the constants start at 0).
    model = ChoiceModel.build(s)
    targets = _option_targets(model, mc)
    free = Solution(model, model.shares(model.free_days), model.free_days, True)
    if targets is None:
        mc = shifted(mc, _shift_to_target(free, mc, target))
    else:
        mc = _fit_constants(free, mc, targets)
    solution = solve(s, seed, workers, mc=mc)
    rounds: list[Round] = []
    share = solution.model.rail_share(solution.shares)
    for _ in range(max_rounds):
        if abs(share - target) <= 0.25 * mc.calibration_tolerance * target and (
            targets is None or _option_error(solution, targets) <= 0.5 * mc.calibration_tolerance
        ):
            break
        before = {oid: o.constant_usd_per_feu for oid, o in mc.options.items()}
        if targets is None:
            mc = shifted(mc, _shift_to_target(solution, mc, target))
        else:
            mc = _fit_constants(solution, mc, targets)
        change = max(abs(o.constant_usd_per_feu - before[oid]) for oid, o in mc.options.items())
        solution = solve(s, seed, workers, mc=mc)
        share = solution.model.rail_share(solution.shares)
        entry = Round(change, share, len(solution.iterations), solution.converged)
        rounds.append(entry)
        if on_round:
            on_round(entry)
    constants = {oid: o.constant_usd_per_feu for oid, o in mc.options.items() if o.mode == "rail"}
    within = abs(share - target) <= mc.calibration_tolerance * target
    return Calibration(target, constants, share, within, rounds)


def _rail(model: ChoiceModel, mc: ModeChoice) -> NDArray[np.bool_]:
    return np.asarray([mc.options[o].mode == "rail" for o in model.options])


def _option_targets(model: ChoiceModel, mc: ModeChoice) -> FloatArray | None:
    """TEU per year per option the calibration aims at (rail entries only), or None."""
    rail = _rail(model, mc)
    written = model.input_teu.sum(axis=0)
    if not (model.simulated[rail].all() and (written[rail] > 0).all()):
        return None
    assert mc.observed_rail_teu_per_year is not None
    result: FloatArray = np.where(
        rail, written * mc.observed_rail_teu_per_year / written[rail].sum(), np.nan
    )
    return result


def _option_error(solution: Solution, targets: FloatArray) -> float:
    """Largest relative error of a rail option's chosen TEU against its target."""
    teu = solution.model.option_teu(solution.shares).sum(axis=0)
    rail = ~np.isnan(targets)
    return float(np.abs(teu[rail] / targets[rail] - 1).max())


def _fit_constants(solution: Solution, mc: ModeChoice, targets: FloatArray) -> ModeChoice:
    """Rail constants giving the target TEU per option at the solution's rail times."""
    model, days = solution.model, solution.days
    rail = ~np.isnan(targets)
    lam = np.asarray([mc.nests[o.nest] if o.nest is not None else 1.0 for o in mc.options.values()])
    constants = np.asarray([o.constant_usd_per_feu for o in mc.options.values()])
    for _ in range(500):
        trial = _with_constants(mc, constants)
        teu = model.option_teu(model.shares(days, trial)).sum(axis=0)
        error = np.log(np.maximum(teu[rail], 1e-300) / targets[rail])
        if float(np.abs(error).max()) < 1e-5:
            break
        constants[rail] += mc.cost_scale_usd * lam[rail] * error
    return _with_constants(mc, constants)


def _with_constants(mc: ModeChoice, constants: FloatArray) -> ModeChoice:
    options = {
        oid: opt.model_copy(update={"constant_usd_per_feu": float(c)})
        for (oid, opt), c in zip(mc.options.items(), constants, strict=True)
    }
    return mc.model_copy(update={"options": options})


def _shift_to_target(solution: Solution, mc: ModeChoice, target: float) -> float:
    """The rail constant shift that gives the target share at the solution's rail times."""
    model, days = solution.model, solution.days

    def gap(shift: float) -> float:
        return model.rail_share(model.shares(days, shifted(mc, shift))) - target

    return float(brentq(gap, -1e5, 1e5, xtol=0.01))


def vot_sensitivity(
    s: Scenario, factors: Sequence[float], seed: int, workers: int = 1
) -> list[tuple[float, Solution]]:
    """The fixed point with every class's value of time multiplied by each factor."""
    mc = s.mode_choice
    assert mc is not None
    out = []
    for factor in factors:
        classes = {
            cid: c.model_copy(
                update={"value_of_time_usd_per_feu_day": c.value_of_time_usd_per_feu_day * factor}
            )
            for cid, c in mc.classes.items()
        }
        scaled = mc.model_copy(update={"classes": classes})
        out.append((factor, solve(s, seed, workers, mc=scaled)))
    return out
