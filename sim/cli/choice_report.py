"""Text report of ``corridor calibrate-choice``: rounds, constants to paste, VOT table."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from sim.choice.fit import Round, calibrate, vot_sensitivity
from sim.config.scenario import Scenario
from sim.errors import ConfigError


def parse_factors(text: str) -> list[float]:
    try:
        factors = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError("--vot-factors", (), f"'{text}' is not a list of numbers") from None
    if not factors or any(f < 0 for f in factors):
        raise ConfigError("--vot-factors", (), "needs numbers >= 0, e.g. 0.5,1,2")
    return factors


def calibration_report(
    s: Scenario, source: str, factors: Sequence[float], workers: int, log: Console
) -> str:
    mc = s.mode_choice
    if mc is None or mc.observed_rail_teu_per_year is None:
        raise ConfigError(
            source, ("mode_choice", "observed_rail_teu_per_year"), "needed to calibrate"
        )
    seed = s.run.seed

    def show(r: Round) -> None:
        log.print(
            f"  round: rail constants moved up to {r.change_usd_per_feu:,.0f} USD/FEU -> rail "
            f"share {r.model_share:.3%} ({r.iterations} iteration(s), "
            f"{'converged' if r.converged else 'NOT converged'})",
            highlight=False,
        )

    result = calibrate(s, seed, workers, on_round=show)
    lines = [
        f"{s.name}: target rail share {result.target_share:.3%} "
        f"({mc.observed_rail_teu_per_year:,.0f} TEU of "
        f"{sum(sum(c.teu_per_year.values()) for c in mc.classes.values()):,.0f})",
        f"simulated rail share {result.model_share:.3%}: "
        f"{result.model_share / result.target_share - 1:+.1%} "
        f"({'within' if result.within_tolerance else 'OUTSIDE'} "
        f"±{mc.calibration_tolerance:.0%})",
        f"re-simulation rounds after the free-flow fit: {len(result.rounds)}; the fixed point "
        f"uses {mc.replications_per_iteration} replication(s) per iteration, seed {seed}",
        "calibrated constants (paste under mode_choice.options):",
    ]
    lines += [f"  {oid}: {{constant_usd_per_feu: {v:.0f}}}" for oid, v in result.constants.items()]
    options = {
        oid: o.model_copy(update={"constant_usd_per_feu": result.constants[oid]})
        if oid in result.constants
        else o
        for oid, o in mc.options.items()
    }
    calibrated = s.model_copy(update={"mode_choice": mc.model_copy(update={"options": options})})
    lines.append("value-of-time sensitivity at these constants (fixed point re-solved):")
    lines.append(f"  {'VOT factor':>10}  {'rail share':>10}  {'rail TEU/year':>13}  iterations")
    for factor, sol in vot_sensitivity(calibrated, factors, seed, workers):
        lines.append(
            f"  {factor:>10g}  {sol.model.rail_share(sol.shares):>10.3%}  "
            f"{sol.model.rail_teu(sol.shares):>13,.0f}  {len(sol.iterations)}"
        )
    return "\n".join(lines)
