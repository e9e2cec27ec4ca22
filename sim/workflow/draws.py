"""A run's draws: the scenario under N joint draws of what is uncertain, one replication each.

Why: a replication interval says how sure the simulation is of its own mean with every input
held at its point value; a planner asks how wide the answer is once the inputs are allowed
their doubt. ``corridor run SCENARIO --draws N`` runs, beside the scenario's replications,
N draws; draw i

- takes point i of a Latin hypercube (SciPy ``qmc``, seeded by the run's seed) over the
  demand ensemble's member, the demand's shock, the border posterior's draw and every input
  of ``params/uncertainty.yaml`` in its order;
- sets the scenario's fields from it (:mod:`sim.config.uncertainty`; border parameters from
  the border posterior where one is shipped, else their prior ranges);
- gives a history year the demand of that ensemble draw
  (:func:`sim.choice.history_demand.demand_draws`);
- simulates one replication with draw i's streams (replication i of a root seed derived from
  the run's, so the draws' streams are apart from the replications'), as a job of the run's
  lifecycle (:func:`sim.workflow.lifecycle.replicate`, the one executor).

Two scenarios run with the same seed get the same hypercube, the same ensemble draws and the
same streams draw by draw (common random numbers), so ``corridor compare`` pairs them. The
90 % prediction interval of a KPI is the 5th–95th percentile of its N per-draw values: where
one year's outcome may fall, given everything listed as uncertain and the simulation's noise.
It is not a confidence interval of a mean and is always labelled apart from one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import qmc

from sim.choice.history_demand import YearDemand, demand_draws, with_rail_demand, year_demand
from sim.columns import Columns
from sim.config.border_posterior import (
    PARAMETERS,
    BorderPosterior,
    load_border_posterior,
    overrides_for,
)
from sim.config.loader import RawScenario, load_scenario, with_values
from sim.config.run_limits import size_problems
from sim.config.scenario import Scenario, resolved_document
from sim.config.uncertainty import (
    UncertainInput,
    Uncertainty,
    field_values,
    find_uncertainty,
    load_uncertainty,
)
from sim.engine.replications import Job, ReplicationOutput
from sim.errors import ConfigError
from sim.kpis import lookup
from sim.stats import PREDICTION_LEVEL
from sim.workflow.lifecycle import replicate

DRAW_SEED_SALT = 0xD7A5  # the draws' root seed is SeedSequence([run seed, this])
FIXED_COLUMNS = ("demand_member", "demand_shock", "border_draw")
BORDER_POSTERIOR = "border_posterior.yaml"  # beside the catalogue, in params/
MAX_DRAWS = 100_000

FloatArray = NDArray[np.float64]


def draw_seed(seed: int) -> int:
    """The root seed of a run's draws (replication i of it is draw i)."""
    state = np.random.SeedSequence([seed, DRAW_SEED_SALT]).generate_state(1, dtype=np.uint32)
    return int(state[0])


def hypercube(n: int, columns: int, seed: int) -> FloatArray:
    """N points of a scrambled Latin hypercube in [0, 1)^columns, a function of the seed."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, DRAW_SEED_SALT, columns]))
    points: FloatArray = qmc.LatinHypercube(d=columns, seed=rng).random(n)
    return points


@dataclass(frozen=True)
class Draw:
    """One draw: its index, the drawn number of each input (value or factor) and the fields
    it set, and the history year's demand it carries (None: the scenario's own demand)."""

    index: int
    inputs: dict[str, float]
    fields: dict[str, Any]
    demand_teu: tuple[float, float] | None


@dataclass(frozen=True)
class DrawPlan:
    catalogue: Uncertainty
    catalogue_file: str
    border_posterior_file: str | None  # None: the border's prior ranges stood in
    draws: tuple[Draw, ...]
    used: tuple[str, ...]  # the inputs that set a field of this scenario
    seed: int

    def input_columns(self) -> Columns:
        """draw × input → the drawn number (a value or a factor); unused inputs left out."""
        draw: list[int] = []
        name: list[str] = []
        value: list[float] = []
        for d in self.draws:
            for k, v in d.inputs.items():
                draw.append(d.index)
                name.append(k)
                value.append(v)
        return {
            "draw": np.asarray(draw, dtype=np.int32),
            "input": name,
            "value": np.asarray(value, dtype=float),
        }


def plan_draws(
    scenario_file: Path,
    overrides: Sequence[str],
    values: dict[str, Any],
    n: int,
    seed: int,
    catalogue_file: Path | None = None,
    demand: YearDemand | None = None,
) -> tuple[DrawPlan, list[Scenario]]:
    """The N draws of a scenario and the scenario each one runs (validated like ``--set``).
    ``demand``: the year's demand as the run already solved it (None: solved here)."""
    if not 1 <= n <= MAX_DRAWS:
        raise ConfigError("--draws", (), f"{n} draws: give 1 to {MAX_DRAWS:,}")
    path = catalogue_file or find_uncertainty(scenario_file)
    if path is None:
        raise ConfigError(str(scenario_file), (), "no params/uncertainty.yaml above this file")
    catalogue = load_uncertainty(path)
    posterior_file = path.parent / BORDER_POSTERIOR
    posterior = load_border_posterior(posterior_file) if posterior_file.is_file() else None
    base, raw = load_scenario(scenario_file, overrides, values)
    if base.mode_choice is not None and base.mode_choice.enabled:
        raise ConfigError(
            str(scenario_file),
            ("mode_choice", "enabled"),
            "--draws needs a demand that is not solved per run (a history year or fixed flows);"
            " the static mode choice's fixed point per draw is not supported",
        )
    doc = resolved_document(base)
    items: tuple[UncertainInput, ...] = catalogue.inputs
    unit = hypercube(n, len(FIXED_COLUMNS) + len(items), seed)
    replaced = set(PARAMETERS) if posterior is not None else set()
    if demand is None:
        demand = year_demand(base, raw)
    member_demand = demand_draws(demand, unit[:, 0], unit[:, 1])
    draws: list[Draw] = []
    scenarios: list[Scenario] = []
    used: set[str] = set()
    for i in range(n):
        inputs: dict[str, float] = {}
        fields: dict[str, Any] = {}
        if posterior is not None:
            border = _border_fields(posterior, base, float(unit[i, 2]))
            fields |= border[1]
            inputs |= border[0]
        for j, item in enumerate(items):
            if item.posterior in replaced:
                continue  # the posterior's joint draw stands for this prior range
            u = float(unit[i, len(FIXED_COLUMNS) + j])
            set_here = field_values(doc, item, u)
            if set_here:  # the number a field took (a whole one for servers, rooms)
                whole = item.range is not None and any(
                    isinstance(v, int) and not isinstance(v, bool) for v in set_here.values()
                )
                inputs[item.id] = float(item.whole(u)) if whole else item.value(u)
                fields |= set_here
                used.add(item.id)
        teu = member_demand[i] if member_demand is not None else None
        if teu is not None:
            inputs["demand_teu"] = teu[0] + teu[1]
        draws.append(Draw(i, inputs, fields, teu))
        scenarios.append(_scenario_of(raw, fields, teu))
    order = tuple(item.id for item in items if item.id in used)
    where = str(posterior_file) if posterior is not None else None
    return DrawPlan(catalogue, str(path), where, tuple(draws), order, seed), scenarios


def _border_fields(
    posterior: BorderPosterior, scenario: Scenario, u: float
) -> tuple[dict[str, float], dict[str, Any]]:
    """The border posterior's draw at ``u`` (its draws equally likely): the parameters, named
    ``border_<name>``, and the fields they set in ``scenario`` (none where it lacks the flows
    they enter; then no parameter is listed either)."""
    k = min(int(u * posterior.size), posterior.size - 1)
    draw = posterior.draw(k)
    fields = overrides_for(draw, scenario)
    return ({f"border_{p}": v for p, v in draw.items()} if fields else {}), fields


def _scenario_of(
    raw: RawScenario, fields: dict[str, Any], teu: tuple[float, float] | None
) -> Scenario:
    """The scenario of one draw: the loaded document (``--set`` and all) with the draw's
    fields set and validated, carrying the draw's demand."""
    s = with_values(raw, fields)
    if teu is None:
        return s
    out = with_rail_demand(s, teu)
    for _, problem in size_problems(out):
        raise ConfigError(raw.main_file, ("history",), f"a draw's demand {problem}")
    return out


def run_draws(
    scenarios: Sequence[Scenario],
    seed: int,
    workers: int,
    on_done: Callable[[ReplicationOutput], None] | None = None,
) -> list[ReplicationOutput]:
    """Draw i of ``scenarios`` simulated once, with replication i's streams of the draws' root
    seed; ordered by draw (the one executor, so workers never change the numbers)."""
    root = draw_seed(seed)
    jobs: list[Job[object]] = [Job(s, i, root, with_tables=False) for i, s in enumerate(scenarios)]
    return [out for out, _ in replicate(jobs, workers, on_done)]


def _quantiles(values: list[float], scope: str, kpi: str) -> dict[str, Any] | None:
    spec = lookup(scope, kpi)
    arr = np.asarray(values, dtype=float)
    if spec is not None and spec.nan_means_zero:
        arr = np.nan_to_num(arr, nan=0.0)
    finite = arr[np.isfinite(arr)]
    if len(finite) == 0:
        return None
    tail = (1.0 - PREDICTION_LEVEL) / 2.0
    low, median, high = np.quantile(finite, [tail, 0.5, 1.0 - tail])
    out: dict[str, Any] = {
        "median": float(median),
        "low": float(low),
        "high": float(high),
        "mean": float(finite.mean()),
        "draws": len(finite),
    }
    if spec is not None:
        out["unit"] = spec.unit
    return out


def prediction_block(plan: DrawPlan, outputs: Sequence[ReplicationOutput]) -> dict[str, Any]:
    """summary.json's ``prediction`` block: per KPI the median and 90 % prediction interval
    over the draws, and what varied."""

    def block(scope: str, per: list[dict[str, float]]) -> dict[str, Any]:
        keys = [k for k in per[0] if isinstance(per[0][k], (int, float))] if per else []
        out: dict[str, Any] = {}
        for k in keys:
            q = _quantiles([p.get(k, math.nan) for p in per], scope, k)
            if q is not None:
                out[k] = q
        return out

    first = outputs[0].kpis
    catalogue = {i.id: i for i in plan.catalogue.inputs}
    return {
        "what": (
            "prediction interval: where one run's KPI may fall with the inputs below, the "
            "demand ensemble and the simulation's noise all drawn (not a confidence interval "
            "of a mean)"
        ),
        "level": PREDICTION_LEVEL,
        "draws": len(outputs),
        "seed": plan.seed,
        "draw_root_seed": draw_seed(plan.seed),
        "uncertainty_file": plan.catalogue_file,
        "border_posterior_file": plan.border_posterior_file,
        "inputs": {
            k: {
                "kind": catalogue[k].kind,
                "low": catalogue[k].low,
                "high": catalogue[k].high,
                "description": catalogue[k].description,
            }
            for k in plan.used
        },
        "demand_from_ensemble": any(d.demand_teu is not None for d in plan.draws),
        "kpis": block("corridor", [o.kpis.corridor for o in outputs]),
        "nodes": {nid: block("node", [o.kpis.nodes[nid] for o in outputs]) for nid in first.nodes},
        "markets": {
            m: block("market", [o.kpis.markets[m] for o in outputs]) for m in first.markets
        },
    }
