"""Calibrating the mode choice to an observed rail share, and value-of-time sensitivity.

The unknown the data pins down is how much shippers dislike rail beyond its rate and time
(risk, paperwork, sanctions checks, capacity to book): one constant added to every rail
option's ``constant_usd_per_feu`` (their differences are kept). Procedure, repeated until
the simulated fixed point reproduces the target:

1. solve the congestion fixed point with the current constants (rail times simulated);
2. holding those times, find the shift that makes the logit's rail share equal the target
   ``observed_rail_teu_per_year / total demand`` (a 1-D root: the share falls monotonically
   as rail gets dearer);
3. apply the shift and solve again; stop when the simulated share is within a quarter of
   the tolerance of the target (rail times barely move with demand below capacity, so this
   takes one or two rounds).

Value-of-time sensitivity re-solves the fixed point with every class's value of time scaled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from scipy.optimize import brentq

from sim.assignment import Solution, solve
from sim.choice_config import ModeChoice
from sim.config import Scenario
from sim.loader import ConfigError


@dataclass
class Round:
    shift_usd_per_feu: float  # added to every rail constant in this round
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


def _target(s: Scenario) -> tuple[ModeChoice, float]:
    mc = s.mode_choice
    if mc is None or mc.observed_rail_teu_per_year is None:
        raise ConfigError(
            s.name, ("mode_choice", "observed_rail_teu_per_year"), "needed to calibrate"
        )
    total = sum(sum(c.teu_per_year.values()) for c in mc.classes.values())
    return mc, mc.observed_rail_teu_per_year / total


def calibrate(
    s: Scenario,
    seed: int,
    workers: int = 1,
    max_rounds: int = 4,
    on_round: Callable[[Round], None] | None = None,
) -> Calibration:
    mc, target = _target(s)
    solution = solve(s, seed, workers)
    rounds: list[Round] = []
    share = solution.model.rail_share(solution.shares)
    for _ in range(max_rounds):
        if abs(share - target) <= 0.25 * mc.calibration_tolerance * target:
            break
        shift = _shift_to_target(solution, mc, target)
        mc = shifted(mc, shift)
        solution = solve(s, seed, workers, mc=mc)
        share = solution.model.rail_share(solution.shares)
        entry = Round(shift, share, len(solution.iterations), solution.converged)
        rounds.append(entry)
        if on_round:
            on_round(entry)
    constants = {oid: o.constant_usd_per_feu for oid, o in mc.options.items() if o.mode == "rail"}
    within = abs(share - target) <= mc.calibration_tolerance * target
    return Calibration(target, constants, share, within, rounds)


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
