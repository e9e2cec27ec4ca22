"""From a scenario file to a results directory: load → simulate → summarise → store.

The one place that strings the stages together, so the CLI stays a thin shell and other
front ends (notebooks, the sweep, the mode-choice loop) can call the same steps.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.choice.fixed_point import Iteration, run_final, solve
from sim.choice.history_demand import YearDemand, applied, year_demand
from sim.choice.summary import iteration_columns, summary_block
from sim.config.checks import scenario_warnings
from sim.config.loader import RawScenario, load_scenario
from sim.config.scenario import Scenario, resolved_document
from sim.engine.replications import (
    ReplicationOutput,
    draw_rows,
    replication_rows,
    run_replications,
    summarise,
)
from sim.errors import ConfigError
from sim.store.outdir import check_out
from sim.store.run_dir import (
    TABLES,
    TableSink,
    atomic_dir,
    command_line,
    concat_columns,
    default_run_dir,
    finish_run,
    git_revision,
    package_versions,
)
from sim.workflow.draws import DrawPlan, plan_draws, prediction_block, run_draws

STREAMED = ("trains", "visits", "timeseries")
"""The per-train tables, written replication by replication."""


@dataclass
class RunRequest:
    scenario_file: Path
    overrides: tuple[str, ...] = ()
    replications: int | None = None
    seed: int | None = None
    out: Path | None = None
    results_root: Path = Path("results")
    workers: int = 1
    strict: bool = False  # refuse a scenario with warnings (see sim.config.checks)
    force: bool = False
    """Replace --out when it holds a previous corridor run (nothing else is ever replaced)."""
    draws: int = 0
    """Also run this many joint draws of the uncertain inputs (sim.workflow.draws)."""


@dataclass
class RunOutcome:
    scenario: Scenario
    run_dir: Path
    summary: dict[str, Any]
    wall_seconds: float


def _load(request: RunRequest) -> tuple[Scenario, RawScenario, YearDemand | None]:
    """Load and validate, with --replications/--seed applied as overrides (validated too);
    a history year's demand from the fit, not yet applied."""
    extra: dict[str, Any] = {}
    if request.replications is not None:
        extra["run.replications"] = request.replications
    if request.seed is not None:
        extra["run.seed"] = request.seed
    scenario, raw = load_scenario(request.scenario_file, request.overrides, extra)
    return scenario, raw, year_demand(scenario, raw)


def prepare(request: RunRequest) -> tuple[Scenario, RawScenario]:
    """The scenario as it will run (a history year with its fitted demand), and its document."""
    scenario, raw, demand = _load(request)
    return applied(scenario, demand, raw.main_file), raw


def execute(
    request: RunRequest,
    on_done: Callable[[ReplicationOutput], None] | None = None,
    on_iteration: Callable[[Iteration], None] | None = None,
    on_warning: Callable[[ConfigError], None] | None = None,
    on_draw: Callable[[ReplicationOutput], None] | None = None,
) -> RunOutcome:
    """Load, check the destination, simulate while streaming tables to staging, then store.

    Everything that can be known before the simulation (bad input, an --out that would be
    overwritten, an unwritable destination) fails before it starts.
    """
    loaded, raw, demand = _load(request)
    scenario = applied(loaded, demand, raw.main_file)  # a history year: the ensemble's demand
    for warning in scenario_warnings(scenario, raw):
        if request.strict:
            raise warning
        if on_warning is not None:
            on_warning(warning)
    run_dir = request.out or default_run_dir(request.results_root, scenario.name)
    check_out(run_dir, request.force)
    planned = _plan_draws(request, scenario) if request.draws > 0 else None
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with atomic_dir(run_dir, replace=request.force) as staging:
        sink = TableSink(staging)
        try:
            summary, outputs, manifest_extra, wall = _simulate(
                scenario, request.workers, sink, on_done, on_iteration
            )
            sink.append_table("replications", concat_columns([replication_rows(outputs)]))
            if planned is not None:
                plan, scenarios = planned
                drawn = run_draws(scenarios, plan.seed, request.workers, on_draw)
                summary["prediction"] = prediction_block(plan, drawn)
                sink.append("draws", draw_rows(drawn))
                sink.append("draw_inputs", plan.input_columns())
        finally:
            sink.close(TABLES)
        if demand is not None:
            summary["history_demand"] = demand.summary()
        sources = demand.sources if demand is not None else ()
        manifest = build_manifest(request, scenario, raw, sources, outputs, created, wall)
        manifest |= manifest_extra
        resolved = yaml.safe_dump(resolved_document(scenario), sort_keys=False, allow_unicode=True)
        finish_run(staging, manifest, summary, resolved)
    return RunOutcome(scenario, run_dir, summary, wall)


def _plan_draws(request: RunRequest, scenario: Scenario) -> tuple[DrawPlan, list[Scenario]]:
    """The run's draws, planned before anything is simulated (a bad catalogue fails first)."""
    values: dict[str, Any] = {}
    if request.replications is not None:
        values["run.replications"] = request.replications
    if request.seed is not None:
        values["run.seed"] = request.seed
    return plan_draws(
        request.scenario_file, request.overrides, values, request.draws, scenario.run.seed
    )


def _simulate(
    scenario: Scenario,
    workers: int,
    sink: TableSink,
    on_done: Callable[[ReplicationOutput], None] | None,
    on_iteration: Callable[[Iteration], None] | None,
) -> tuple[dict[str, Any], list[ReplicationOutput], dict[str, Any], float]:
    """Replications (with the mode choice when on); each one's tables go to ``sink`` as it
    finishes and are dropped from memory, so only KPIs accumulate."""
    started = time.perf_counter()

    def done(out: ReplicationOutput) -> None:
        for name in STREAMED:
            sink.append(name, out.tables.get(name, {}))
        out.tables = {}
        if on_done:
            on_done(out)

    extra_manifest: dict[str, Any] = {}
    if scenario.mode_choice is not None and scenario.mode_choice.enabled:
        outputs, summary, extra_tables, extra_manifest = run_with_choice(
            scenario, workers, done, on_iteration
        )
        for name, table in extra_tables.items():
            sink.append_table(name, table)
    else:
        seed = scenario.run.seed
        outputs = run_replications(
            scenario, scenario.run.replications, seed, workers=workers, on_done=done
        )
        summary = summarise(scenario, outputs, seed)
    return summary, outputs, extra_manifest, time.perf_counter() - started


def run_with_choice(
    scenario: Scenario,
    workers: int,
    on_done: Callable[[ReplicationOutput], None] | None,
    on_iteration: Callable[[Iteration], None] | None,
) -> tuple[list[ReplicationOutput], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Mode choice on: fixed point, then the full run at the converged demand. Returns the
    outputs, the summary, the extra tables and extra manifest fields (timings stay out of
    the summary, so the same seed gives the same summary)."""
    seed = scenario.run.seed
    solution = solve(scenario, seed, workers, on_iteration)
    solved, outputs, measures = run_final(
        solution, scenario, scenario.run.replications, seed, workers, on_done
    )
    summary = summarise(solved, outputs, seed)
    summary["mode_choice"] = summary_block(solution, scenario, measures)
    tables = {"mode_choice_iterations": concat_columns([iteration_columns(solution)])}
    timing = {
        "mode_choice_iteration_wall_seconds": [
            round(i.wall_seconds, 3) for i in solution.iterations
        ]
    }
    return outputs, summary, tables, timing


def build_manifest(
    request: RunRequest,
    scenario: Scenario,
    raw: RawScenario,
    demand_sources: Iterable[str],
    outputs: Iterable[ReplicationOutput],
    created: str,
    wall_seconds: float,
) -> dict[str, Any]:
    outputs = list(outputs)
    files = {s for s in raw.origin.values() if s and os.path.isfile(s)}  # not --set, -r
    files |= set(demand_sources)  # a history year's demand reads these too
    sources = sorted({os.path.normpath(f) for f in files})
    return {
        "format": "corridor-run/1",
        "scenario": scenario.name,
        "scenario_file": str(request.scenario_file),
        "source_files": sources,
        "overrides": list(request.overrides),
        "command": command_line(),
        "created_utc": created,
        "root_seed": scenario.run.seed,
        "replications": len(outputs),
        "seeding": "numpy SeedSequence(entropy=root_seed, spawn_key=(replication, crc32(stream)))",
        "workers": request.workers,
        "wall_seconds": round(wall_seconds, 3),
        "replication_wall_seconds": [round(o.wall_seconds, 4) for o in outputs],
        "trains_simulated": [o.trains for o in outputs],
        "versions": package_versions(),
        "git_revision": git_revision(Path(__file__).resolve().parent),
        "config": resolved_document(scenario),
    }
