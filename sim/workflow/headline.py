"""The headline's runs: each scenario of the registry next to its aligned baseline.

Which scenarios, against which baselines and at which node, is data: the registry
``params/headline/registry.yaml`` (sim/config/registry.py). Each scenario is run next to its
baseline with the scenario's own calendar, horizon and root seed, so both share common
random numbers wherever they share elements (same flows, nodes, links): the differences
are paired and their intervals tight. Both go through the one lifecycle
(:mod:`sim.workflow.lifecycle`); the scenario's replications carry the disruption probe
(:mod:`sim.engine.disruption`) at the node it acts on. :mod:`sim.analysis.headline` reads
the two outcomes into the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.choice.fixed_point import Iteration
from sim.choice.history_demand import DemandChange, demand_change
from sim.config.registry import load_headline_registry
from sim.engine.disruption import DisruptionProbe
from sim.engine.reduction import reduction_windows
from sim.engine.replications import ReplicationOutput
from sim.errors import ConfigError
from sim.progress import Step
from sim.workflow.draws import plan_draws, run_draws
from sim.workflow.lifecycle import Outcome, Prepared, choose, prepare, run_batch


@dataclass(frozen=True)
class PairRun:
    """A scenario and its aligned baseline, run; the scenario's probes are the disruption
    figures at ``node`` per replication."""

    node: str
    scenario: Outcome[dict[str, float]]
    baseline: Outcome[Any]
    rail_demand: DemandChange | None = None  # the demand ensemble's change, history years
    draws: tuple[list[ReplicationOutput], list[ReplicationOutput]] | None = None
    """Scenario's and baseline's draws (``--draws``), draw i of each with the same inputs,
    demand draw and streams; None without draws or where the mode choice is on."""


def _alignment(prepared: Prepared) -> dict[str, object]:
    """The scenario's run settings (calendar, horizon, warm-up, seed) for its baseline."""
    run = prepared.scenario.run
    return {
        "run.start_date": run.start_date.isoformat(),
        "run.warmup_days": run.warmup_days,
        "run.horizon_days": run.horizon_days,
        "run.seed": run.seed,
        "run.replications": run.replications,
    }


def _aligned(prepared: Prepared, baseline_file: Path, history_params: Path | None) -> Prepared:
    """The baseline with the scenario's run settings (calendar, horizon, warm-up, seed)."""
    return prepare(baseline_file, values=_alignment(prepared), history_params=history_params)


def _paired_draws(
    scenario_file: Path,
    baseline_file: Path,
    values: dict[str, object],
    prepared: Prepared,
    n: int,
    workers: int,
) -> tuple[list[ReplicationOutput], list[ReplicationOutput]] | None:
    """N draws of the scenario and of its aligned baseline on one seed (common inputs and
    streams draw by draw: :mod:`sim.workflow.draws`); None where a mode choice is on (a
    fixed point per draw is not supported)."""
    if any(
        p.mode_choice is not None and p.mode_choice.enabled
        for p in (prepared.scenario, prepared.loaded)
    ):
        return None
    seed = prepared.scenario.run.seed
    plan, scenarios = plan_draws(scenario_file, (), values, n, seed)
    try:
        base_plan, base_scenarios = plan_draws(baseline_file, (), _alignment(prepared), n, seed)
    except ConfigError:
        return None  # the baseline solves a mode choice: no paired draws for this row
    return (
        run_draws(scenarios, plan.seed, workers),
        run_draws(base_scenarios, base_plan.seed, workers),
    )


def run_pair(
    scenario_file: Path,
    baseline_file: Path,
    node_id: str,
    replications: int,
    horizon_days: float | None = None,
    workers: int = 1,
    on_step: Step | None = None,
    history_params: Path | None = None,
    draws: int = 0,
) -> PairRun:
    """Run a scenario and its aligned baseline. ``on_step`` hears of each mode-choice
    iteration and each of the two runs; a history year takes its demand from
    ``history_params`` when given (else from its own ``history.params``). ``draws`` > 0 also
    runs that many paired draws of both (:mod:`sim.workflow.draws`)."""
    step = on_step or (lambda note: None)

    def iteration(it: Iteration) -> None:
        step(f"{scenario_file.stem}: mode choice iteration {it.iteration}, gap {it.gap:.3f}")

    values: dict[str, object] = {"run.replications": replications}
    if horizon_days is not None:
        values["run.horizon_days"] = horizon_days
    prepared = prepare(scenario_file, values=values, history_params=history_params)
    base = _aligned(prepared, baseline_file, history_params)
    assert prepared.raw is not None and base.raw is not None  # both from files
    # the ensemble's interval of the change in rail demand (history years of one ensemble)
    rail_demand = demand_change(
        prepared.loaded, prepared.raw, base.loaded, base.raw, history_params
    )
    chosen = choose(prepared.scenario, workers=workers, on_iteration=iteration)
    base_chosen = choose(base.scenario, workers=workers, on_iteration=iteration)
    seed = prepared.scenario.run.seed
    windows = tuple(reduction_windows(chosen.scenario, node_id, base_chosen.scenario))
    (scenario,) = run_batch(
        [(prepared, chosen)],
        replications=replications,
        seed=seed,
        workers=workers,
        with_tables=False,
        probes=[DisruptionProbe(node_id, windows)],
    )
    step(f"{scenario.scenario.name}: {replications} replications")
    baseline: Outcome[Any]
    (baseline,) = run_batch(
        [(base, base_chosen)],
        replications=replications,
        seed=seed,
        workers=workers,
        with_tables=False,
    )
    step(f"{baseline.scenario.name}: {replications} replications")
    paired = None
    if draws > 0:
        paired = _paired_draws(scenario_file, baseline_file, values, prepared, draws, workers)
        step(f"{scenario.scenario.name}: {draws} paired draws" + ("" if paired else " skipped"))
    return PairRun(node_id, scenario, baseline, rail_demand, paired)


def run_pairs(
    folder: Path,
    replications: int,
    horizon_days: float | None = None,
    workers: int = 1,
    only: Sequence[str] = (),
    on_step: Step | None = None,
    history_params: Path | None = None,
    draws: int = 0,
) -> list[PairRun]:
    """Every pair of the headline registry (``params/headline/registry.yaml`` of the project
    that holds ``folder``; or ``only`` those scenarios), by file name under ``folder``;
    ``on_step`` and ``history_params`` as in :func:`run_pair`."""
    pairs = [p for p in load_headline_registry(folder) if not only or p.scenario in only]
    return [
        run_pair(
            folder / f"{p.scenario}.yaml",
            folder / f"{p.baseline}.yaml",
            p.node,
            replications,
            horizon_days,
            workers,
            on_step,
            history_params,
            draws,
        )
        for p in pairs
    ]
