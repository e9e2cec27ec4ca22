"""The ``mode_choice`` block of ``summary.json`` and the iteration log table.

Shares are the converged demand (deterministic given the fixed point). Their confidence
intervals are across the replications of the final run: each replication's simulated rail
times give the shares the logit would choose for it, and the interval is over those. Rail
TEU delivered and the capacity shortfall (demand choosing rail minus what the network
delivered, per year; signed, so below capacity its interval straddles 0 with the Poisson
noise of the demand, and a real shortfall shows as an interval above 0) are per
replication of the final run too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.choice.fixed_point import ChoiceModel, Measures, Solution
from sim.columns import Columns
from sim.config.scenario import Scenario
from sim.stats import estimate

METHOD = (
    "nested logit on generalised cost (rate + constant + reliability penalty + value of time x "
    "(transit + access + buffer days)); rail times from the simulation, iterated to a fixed point"
)
CI_NOTE = (
    "share CIs: across replications of the final run, of the shares the logit chooses for "
    "each replication's simulated rail times"
)


def _est(values: list[float], conf: float, unit: str, floor: float | None = 0.0) -> dict[str, Any]:
    return estimate(values, conf, floor).as_dict(unit)


def _direction_share(model: ChoiceModel, shares: np.ndarray) -> np.ndarray:
    """[d, o] share within each direction, and (appended) [o] over all directions."""
    teu = model.option_teu(shares)
    per_dir = teu / np.maximum(model.demand_teu.sum(axis=1, keepdims=True), 1e-300)
    total = teu.sum(axis=0) / max(float(model.demand_teu.sum()), 1e-300)
    result: np.ndarray = np.vstack([per_dir, total])
    return result


def summary_block(solution: Solution, scenario: Scenario, final: list[Measures]) -> dict[str, Any]:
    model = solution.model
    mc = model.mc
    conf = scenario.run.confidence
    horizon = scenario.run.horizon_days
    per_rep = [model.shares(model.days_from([m])) for m in final]
    split = _direction_share(model, solution.shares)
    split_reps = [_direction_share(model, y) for y in per_rep]
    days_reps = [model.days_from([m]) for m in final]
    labels = [*model.directions, "all"]
    modal_split: dict[str, Any] = {}
    teu = model.option_teu(solution.shares)
    for d, label in enumerate(labels):
        row: dict[str, Any] = {}
        for o, oid in enumerate(model.options):
            est = _est([float(s[d, o]) for s in split_reps], conf, "fraction")
            est["mean"] = float(split[d, o])
            teu_do = float(teu[:, o].sum()) if label == "all" else float(teu[d, o])
            row[oid] = {"share": est, "teu_per_year": teu_do}
        modal_split[label] = row
    chosen_rail = model.rail_teu(solution.shares)
    rail_share = _est([model.rail_share(y) for y in per_rep], conf, "fraction")
    rail_share["mean"] = model.rail_share(solution.shares)
    input_rail = float(model.input_teu.sum())
    options: dict[str, Any] = {}
    costs = model.costs(solution.days)
    for o, oid in enumerate(model.options):
        opt = mc.options[oid]
        days: dict[str, Any] = {}
        cost: dict[str, Any] = {}
        for d, direction in enumerate(model.directions):
            if not model.serves[d, o]:
                continue
            if model.simulated[o]:
                days[direction] = _est([float(x[d, o]) for x in days_reps], conf, "days")
                days[direction]["mean"] = float(solution.days[d, o])
            else:
                days[direction] = {"mean": float(solution.days[d, o]), "unit": "days"}
            cost[direction] = {c: float(costs[d, k, o]) for k, c in enumerate(model.classes)}
        options[oid] = {
            "mode": opt.mode,
            "simulated": bool(model.simulated[o]),
            "available_fraction": float(model.window_share[o]),
            "rate_usd_per_feu": opt.rate_usd_per_feu,
            "constant_usd_per_feu": opt.constant_usd_per_feu,
            "access_days": opt.access_days,
            "transit_days": days,
            "generalised_cost_usd_per_feu": cost,
        }
    capacity: dict[str, Any] = {}
    demand_do = model.option_teu(solution.shares)
    for (d, o), _ in sorted(model.flows.items()):
        delivered = [float(model.delivered_teu_per_year(m, horizon)[d, o]) for m in final]
        shortfall = [float(demand_do[d, o]) - v for v in delivered]
        unfinished = [float(model.unfinished_trains(m)[d, o]) for m in final]
        capacity.setdefault(model.options[o], {})[model.directions[d]] = {
            "demand_teu_per_year": float(demand_do[d, o]),
            "delivered_teu_per_year": _est(delivered, conf, "TEU/year"),
            "shortfall_teu_per_year": _est(shortfall, conf, "TEU/year", floor=None),
            "trains_unfinished_end": _est(unfinished, conf, "trains"),
        }
    delivered_all = [float(model.delivered_teu_per_year(m, horizon).sum()) for m in final]
    block: dict[str, Any] = {
        "method": METHOD,
        "ci": CI_NOTE,
        "converged": solution.converged,
        "iterations": len(solution.iterations),
        "gap": solution.iterations[-1].gap if solution.iterations else 0.0,
        "tolerance": mc.tolerance,
        "replications_per_iteration": mc.replications_per_iteration,
        "step": mc.step,
        "damping": mc.damping,
        "rail_share": rail_share,
        "rail_teu_per_year": {
            "chosen": chosen_rail,
            "input": input_rail,
            "shifted_to_rail": chosen_rail - input_rail,
            "delivered": _est(delivered_all, conf, "TEU/year"),
            "shortfall": _est(
                [_simulated_rail(model, solution) - v for v in delivered_all],
                conf,
                "TEU/year",
                floor=None,
            ),
        },
        "modal_split": modal_split,
        "options": options,
        "rail_capacity": capacity,
        "iteration_log": [
            {
                "iteration": it.iteration,
                "gap": it.gap,
                "step": it.step,
                "max_share_change": it.step * it.gap,  # of the next iteration's shares
                "rail_share": model.rail_share(it.shares),
                "rail_share_response": model.rail_share(it.response),
                "rail_teu_per_year": model.rail_teu(it.shares),
                "transit_days": _sim_days(model, it.days),
            }
            for it in solution.iterations
        ],
    }
    if mc.observed_rail_teu_per_year is not None:
        target = mc.observed_rail_teu_per_year / float(model.demand_teu.sum())
        achieved = model.rail_share(solution.shares)
        block["calibration"] = {
            "observed_rail_teu_per_year": mc.observed_rail_teu_per_year,
            "target_rail_share": target,
            "model_rail_share": achieved,
            "relative_error": achieved / target - 1 if target > 0 else None,
            "tolerance": mc.calibration_tolerance,
            "within_tolerance": bool(abs(achieved - target) <= mc.calibration_tolerance * target),
        }
    return block


def _simulated_rail(model: ChoiceModel, solution: Solution) -> float:
    """Chosen TEU per year of the options the simulation carries."""
    return float(model.option_teu(solution.shares)[:, model.simulated].sum())


def _sim_days(model: ChoiceModel, days: np.ndarray) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for (d, o), _ in sorted(model.flows.items()):
        out.setdefault(model.options[o], {})[model.directions[d]] = float(days[d, o])
    return out


def iteration_columns(solution: Solution) -> Columns:
    """One row per (iteration, direction, class, option) for mode_choice_iterations.parquet."""
    model = solution.model
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "iteration",
            "direction",
            "cargo_class",
            "option",
            "share",
            "response",
            "transit_days",
            "cost_usd_per_feu",
            "teu_per_year",
            "gap",
        )
    }
    for it in solution.iterations:
        costs = model.costs(it.days)
        for d, direction in enumerate(model.directions):
            for c, cls in enumerate(model.classes):
                for o, oid in enumerate(model.options):
                    cols["iteration"].append(it.iteration)
                    cols["direction"].append(direction)
                    cols["cargo_class"].append(cls)
                    cols["option"].append(oid)
                    cols["share"].append(float(it.shares[d, c, o]))
                    cols["response"].append(float(it.response[d, c, o]))
                    cols["transit_days"].append(float(it.days[d, o]))
                    cols["cost_usd_per_feu"].append(float(costs[d, c, o]))
                    cols["teu_per_year"].append(float(model.demand_teu[d, c] * it.shares[d, c, o]))
                    cols["gap"].append(it.gap)
    out: Columns = {}
    for k, v in cols.items():
        if k in ("direction", "cargo_class", "option"):
            out[k] = [str(x) for x in v]
        elif k == "iteration":
            out[k] = np.asarray(v, dtype=np.int32)
        else:
            out[k] = np.asarray(v, dtype=float)
    return out
