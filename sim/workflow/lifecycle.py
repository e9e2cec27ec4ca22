"""The one path of a run: scenario → history demand → mode choice → replications → results.

Every front end that simulates a scenario goes through here, so they cannot drift apart
(they did: the calibration skipped a history year's demand and ran serially, the headline
and the sweep each solved the mode choice their own way):

1. :func:`prepare`: the scenario file with ``--set`` overrides and typed values (or a
   scenario already in memory), validated; a history year's rail demand from the demand
   ensemble (:mod:`sim.choice.history_demand`) applied. A scenario given in memory runs with
   the demand it carries: the history demand needs its file's document, and callers that
   pass a scenario (the backtest, ensemble draws) set its demand themselves.
2. :func:`choose`: with the mode choice on, the congestion fixed point
   (:func:`sim.choice.fixed_point.solve`) and the scenario at the chosen demand; otherwise
   the prepared scenario unchanged.
3. :func:`replicate`: the replications as :class:`sim.engine.replications.Job` s on the
   executor, each with the probes its caller reads from the records (the choice's rail
   times, calibration targets, disruption figures), ordered by index. Results never depend
   on ``workers`` or on how runs are batched: each job carries its seed.
4. :func:`run_scenario` strings the three together and summarises (``summary.json``'s
   document, with the mode-choice and history-demand blocks) into an :class:`Outcome` in
   memory; :func:`run_batch` does steps 3 and 4 for scenarios already chosen, several in one
   batch; :func:`sim.workflow.run.execute` streams the same outcome's tables into a results
   directory instead.

Analysis (``sim/analysis``) never calls this: it receives outcomes or reads the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from sim.choice.fixed_point import Iteration, Solution, solve
from sim.choice.history_demand import YearDemand, applied, year_demand
from sim.choice.rail_times import flow_times_probe
from sim.choice.summary import iteration_columns, summary_block
from sim.columns import Columns
from sim.config.loader import RawScenario, load_scenario, with_values
from sim.config.mode_choice import ModeChoice
from sim.config.scenario import Scenario, resolved_document
from sim.engine.replications import Job, Probe, ReplicationOutput, run_job, summarise
from sim.executors import map_ordered

T = TypeVar("T")


@dataclass(frozen=True)
class Prepared:
    """A scenario as it will run before its mode choice: validated, a history year's demand
    applied; the document it came from when it came from a file."""

    scenario: Scenario
    loaded: Scenario  # as loaded, before the history demand
    raw: RawScenario | None = None  # None: given in memory
    demand: YearDemand | None = None  # a history year's rail demand from the ensemble


@dataclass(frozen=True)
class Chosen:
    """The scenario the replications run: at the mode choice's fixed point when it is on."""

    scenario: Scenario
    solution: Solution | None = None


@dataclass
class Outcome(Generic[T]):
    """A run in memory: the scenario as simulated, each replication's KPIs (and tables when
    kept) with the probes read from its records, and the ``summary.json`` document."""

    prepared: Prepared
    chosen: Chosen
    seed: int
    outputs: list[ReplicationOutput]
    probes: list[tuple[T, ...]]
    summary: dict[str, Any]
    tables: dict[str, Columns] = field(default_factory=dict)  # the mode choice's iterations
    wall_seconds: float = 0.0

    @property
    def scenario(self) -> Scenario:
        return self.chosen.scenario


def run_values(
    replications: int | None = None,
    seed: int | None = None,
    horizon_days: float | None = None,
) -> dict[str, object]:
    """The run settings a command's options set, as typed overrides (validated as any)."""
    values: dict[str, object] = {}
    if replications is not None:
        values["run.replications"] = replications
    if seed is not None:
        values["run.seed"] = seed
    if horizon_days is not None:
        values["run.horizon_days"] = horizon_days
    return values


def prepare(
    source: Path | Scenario,
    overrides: Sequence[str] = (),
    values: Mapping[str, object] | None = None,
    history_params: Path | None = None,
    history_cache: dict[str, YearDemand] | None = None,
) -> Prepared:
    """Step 1: load (or take) the scenario with its overrides; a history year's demand from
    the ensemble (``history_params`` replaces the year's own ``history.params``)."""
    if isinstance(source, Scenario):
        scenario = _overridden(source, overrides, values or {})
        return Prepared(scenario, scenario)
    loaded, raw = load_scenario(source, overrides, values)
    return with_history(loaded, raw, history_params, history_cache)


def with_history(
    loaded: Scenario,
    raw: RawScenario,
    history_params: Path | None = None,
    history_cache: dict[str, YearDemand] | None = None,
) -> Prepared:
    """A validated scenario and its document with a history year's demand applied (the
    sweep's points come here from their own documents)."""
    demand = year_demand(loaded, raw, history_params, history_cache)
    return Prepared(applied(loaded, demand, raw.main_file), loaded, raw, demand)


def _overridden(
    scenario: Scenario, overrides: Sequence[str], values: Mapping[str, object]
) -> Scenario:
    """A scenario in memory with ``dotted.path=value`` overrides, validated again."""
    if not overrides and not values:
        return scenario
    return with_values(
        RawScenario(resolved_document(scenario), {}, scenario.name), values, overrides
    )


def choose(
    scenario: Scenario,
    seed: int | None = None,
    workers: int = 1,
    on_iteration: Callable[[Iteration], None] | None = None,
    mode_choice: ModeChoice | None = None,
) -> Chosen:
    """Step 2: the congestion fixed point when the mode choice is on (``mode_choice``
    replaces the scenario's, e.g. switched on to calibrate); ``seed`` defaults to the
    scenario's. Deterministic, so any worker that solves it gets the same demand."""
    if mode_choice is not None:
        scenario = scenario.model_copy(update={"mode_choice": mode_choice})
    mc = scenario.mode_choice
    if mc is None or not mc.enabled:
        return Chosen(scenario)
    solution = solve(scenario, scenario.run.seed if seed is None else seed, workers, on_iteration)
    return Chosen(solution.model.scenario_with(scenario, solution.shares), solution)


def replicate(
    jobs: Sequence[Job[T]],
    workers: int = 1,
    on_done: Callable[[ReplicationOutput], None] | None = None,
) -> list[tuple[ReplicationOutput, tuple[T, ...]]]:
    """Step 3: the jobs (of one scenario or several: a batch keeps every worker busy), in a
    process pool when ``workers`` > 1, in job order."""
    done: list[tuple[ReplicationOutput, tuple[T, ...]]] = []
    for out, probed in map_ordered(run_job, list(jobs), workers):
        done.append((out, probed))
        if on_done is not None:
            on_done(out)
    return done


def run_scenario(
    source: Path | Scenario | Prepared,
    *,
    overrides: Sequence[str] = (),
    values: Mapping[str, object] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    with_tables: bool = True,
    probes: Sequence[Probe[T]] = (),
    history_params: Path | None = None,
    on_done: Callable[[ReplicationOutput], None] | None = None,
    on_iteration: Callable[[Iteration], None] | None = None,
) -> Outcome[T]:
    """A scenario through the whole lifecycle, in memory (see the module docstring).

    ``replications`` and ``seed`` default to the scenario's ``run`` block (from a file they
    are set in it, validated); ``with_tables`` keeps each replication's trains, visits and
    time-series tables (``on_done`` may take them away as they come, as the results
    directory's writer does); ``probes`` are read from each replication's records where it
    ran (module-level functions or picklable objects when ``workers`` > 1)."""
    started = time.perf_counter()
    if isinstance(source, Prepared):
        prepared = source
    elif isinstance(source, Scenario):  # in memory: the count and seed need no validation
        prepared = prepare(source, overrides, values)
    else:  # from a file, the count and seed are set in the scenario (and validated)
        settings = {**(values or {}), **run_values(replications, seed)}
        prepared = prepare(source, overrides, settings, history_params)
    root = prepared.scenario.run.seed if seed is None else seed
    chosen = choose(prepared.scenario, root, workers, on_iteration)
    return run_batch(
        [(prepared, chosen)],
        replications=replications,
        seed=root,
        workers=workers,
        with_tables=with_tables,
        probes=probes,
        on_done=on_done,
        started=started,
    )[0]


def run_batch(
    runs: Sequence[tuple[Prepared, Chosen]],
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    with_tables: bool = True,
    probes: Sequence[Probe[T]] = (),
    on_done: Callable[[ReplicationOutput], None] | None = None,
    started: float | None = None,
) -> list[Outcome[T]]:
    """Steps 3 and 4 for scenarios already prepared and chosen (a caller that needs the
    chosen scenario before the replications: the headline takes its reduction windows from
    it), several at once with their replications in one batch on the executor (many short
    runs keep every worker busy: the backtest's ensemble draws); each scenario's seed is its
    own ``run.seed`` unless ``seed`` is given; other arguments as :func:`run_scenario`. One
    outcome per scenario, in order."""
    started = time.perf_counter() if started is None else started
    jobs: list[Job[Any]] = []
    settings: list[tuple[int, int, int]] = []  # root seed, replications, probes of our own
    for prepared, chosen in runs:
        s = prepared.scenario
        root = s.run.seed if seed is None else seed
        count = s.run.replications if replications is None else replications
        own: tuple[Probe[Any], ...] = (flow_times_probe,) if chosen.solution is not None else ()
        jobs += [
            Job(chosen.scenario, r, root, with_tables, own + tuple(probes)) for r in range(count)
        ]
        settings.append((root, count, len(own)))
    done = iter(replicate(jobs, workers, on_done))
    outcomes: list[Outcome[T]] = []
    for (prepared, chosen), (root, count, n_own) in zip(runs, settings, strict=True):
        s = prepared.scenario
        mine = [next(done) for _ in range(count)]
        outputs = [out for out, _ in mine]
        summary = summarise(chosen.scenario, outputs, root)
        tables: dict[str, Columns] = {}
        if chosen.solution is not None:
            measures = [probed[0] for _, probed in mine]
            summary["mode_choice"] = summary_block(chosen.solution, s, measures)
            tables["mode_choice_iterations"] = iteration_columns(chosen.solution)
        if prepared.demand is not None:
            summary["history_demand"] = prepared.demand.summary()
        outcomes.append(
            Outcome(
                prepared=prepared,
                chosen=chosen,
                seed=root,
                outputs=outputs,
                probes=[probed[n_own:] for _, probed in mine],
                summary=summary,
                tables=tables,
                wall_seconds=time.perf_counter() - started,
            )
        )
    return outcomes
