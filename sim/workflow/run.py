"""From a scenario file to a results directory: the run's lifecycle, stored.

The lifecycle (load → history demand → mode choice → replications → summary) is
:mod:`sim.workflow.lifecycle`; this module adds what a results directory needs around it:
warnings, a destination checked before anything runs, tables streamed to staging, the
manifest, and the atomic rename (``corridor run``, ``sim.run``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.choice.fixed_point import Iteration
from sim.config.checks import scenario_warnings
from sim.config.loader import RawScenario
from sim.config.scenario import Scenario, resolved_document
from sim.engine.replications import ReplicationOutput, draw_rows, replication_rows
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
from sim.workflow.lifecycle import Outcome, Prepared, prepare, run_scenario, run_values

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


def execute(
    request: RunRequest,
    on_done: Callable[[ReplicationOutput], None] | None = None,
    on_iteration: Callable[[Iteration], None] | None = None,
    on_warning: Callable[[ConfigError], None] | None = None,
    on_draw: Callable[[ReplicationOutput], None] | None = None,
) -> RunOutcome:
    """Load, check the destination, simulate while streaming tables to staging, then store.

    Everything that can be known before the simulation (bad input, an --out that would be
    overwritten, an unwritable destination) fails before it starts. The run itself is
    :func:`sim.workflow.lifecycle.run_scenario`, the one path every front end takes.
    """
    prepared = prepare(
        request.scenario_file,
        request.overrides,
        run_values(request.replications, request.seed),
    )
    scenario = prepared.scenario  # a history year: the ensemble's demand
    assert prepared.raw is not None  # loaded from its file
    raw = prepared.raw
    for warning in scenario_warnings(scenario, raw):
        if request.strict:
            raise warning
        if on_warning is not None:
            on_warning(warning)
    run_dir = request.out or default_run_dir(request.results_root, scenario.name)
    check_out(run_dir, request.force)
    planned = _plan_draws(request, prepared) if request.draws > 0 else None
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with atomic_dir(run_dir, replace=request.force) as staging:
        sink = TableSink(staging)

        def done(out: ReplicationOutput) -> None:
            """Each replication's tables go to staging as it finishes and are dropped from
            memory, so only KPIs accumulate."""
            for name in STREAMED:
                sink.append(name, out.tables.get(name, {}))
            out.tables = {}
            if on_done:
                on_done(out)

        try:
            outcome: Outcome[object] = run_scenario(
                prepared, workers=request.workers, on_done=done, on_iteration=on_iteration
            )
            for name, table in outcome.tables.items():
                sink.append_table(name, concat_columns([table]))
            sink.append_table("replications", concat_columns([replication_rows(outcome.outputs)]))
            if planned is not None:
                plan, scenarios = planned
                drawn = run_draws(scenarios, plan.seed, request.workers, on_draw)
                outcome.summary["prediction"] = prediction_block(plan, drawn)
                sink.append("draws", draw_rows(drawn))
                sink.append("draw_inputs", plan.input_columns())
        finally:
            sink.close(TABLES)
        sources = prepared.demand.sources if prepared.demand is not None else ()
        manifest = build_manifest(
            request, scenario, raw, sources, outcome.outputs, created, outcome.wall_seconds
        )
        solution = outcome.chosen.solution
        if solution is not None:  # timings stay out of the summary: same seed, same summary
            manifest["mode_choice_iteration_wall_seconds"] = [
                round(i.wall_seconds, 3) for i in solution.iterations
            ]
        resolved = yaml.safe_dump(resolved_document(scenario), sort_keys=False, allow_unicode=True)
        finish_run(staging, manifest, outcome.summary, resolved)
    return RunOutcome(scenario, run_dir, outcome.summary, outcome.wall_seconds)


def _plan_draws(request: RunRequest, prepared: Prepared) -> tuple[DrawPlan, list[Scenario]]:
    """The run's draws, planned before anything is simulated (a bad catalogue fails first),
    from the year's demand the run has already solved."""
    return plan_draws(
        request.scenario_file,
        request.overrides,
        run_values(request.replications, request.seed),
        request.draws,
        prepared.scenario.run.seed,
        demand=prepared.demand,
    )


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
