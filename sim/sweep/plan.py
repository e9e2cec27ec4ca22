"""What a sweep runs: the request, the sampled points, the chunks and what a chunk returns.

Planning checks every point against the scenario format before anything runs, so a bad
value is an input error (exit 2), not a failed run.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from sim.choice.history_demand import YearDemand, check_history, demand_key
from sim.config.loader import (
    RawScenario,
    apply_override,
    load_raw,
    read_yaml,
    validate_raw,
    wants_new,
)
from sim.config.loader import parse_override as parse_set
from sim.config.scenario import Scenario, resolved_document
from sim.engine.replications import ReplicationOutput, run_replication
from sim.errors import ConfigError
from sim.sweep.derived import Derived
from sim.sweep.points import point_raw, point_scenario
from sim.sweep.posterior import (
    COLUMN_PREFIX,
    DRAW_INPUT,
    BorderDraws,
    border_draws,
    check_untouched,
)
from sim.sweep.spec import DEMAND_QUANTILE, Parameter, design, parse_vary, split_path
from sim.sweep.sweep_file import is_sweep_file, read_sweep_file

FORMAT = "corridor-sweep/1"


Replicate = Callable[[Scenario, int, int, bool], ReplicationOutput]
"""One replication of a chosen point scenario: (scenario, replication, root seed, with_tables)
→ its KPIs. The sweep's runs take it from the plan (:func:`run_replication`, the replication
step of :mod:`sim.workflow.lifecycle`); a test puts another module-level function there."""


def replicate_name(fn: Replicate) -> str:
    """How the manifest names the replication function (``module:function``)."""
    return f"{fn.__module__}:{fn.__qualname__}"


SEEDING = (
    "run (point p, replication r) = run_replication(scenario_p, r, root_seed): replication r "
    "of every point uses Streams(root_seed, r) (common random numbers across points); "
    "numpy SeedSequence(entropy=root_seed, spawn_key=(r, crc32(stream)))"
)


@dataclass
class SweepRequest:
    """What the user asked for: a scenario (with --vary) or a sweep YAML file, and options."""

    target: Path
    vary: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    sampler: str | None = None
    samples: int | None = None
    replications: int | None = None
    seed: int | None = None
    out: Path | None = None
    resume: bool = False
    workers: int = 1
    dask: str | None = None
    chunk_size: int | None = None
    results_root: Path = Path("results")


@dataclass
class SweepPlan:
    scenario_file: Path
    sweep_file: Path | None
    parameters: list[Parameter]
    sampler: str
    samples: int | None
    replications: int
    root_seed: int
    overrides: tuple[str, ...]
    fixed: dict[str, Any]
    base: RawScenario
    base_scenario: Scenario
    points: list[tuple[Any, ...]]
    chunk_size: int
    replicate: Replicate = run_replication
    derived: dict[str, Derived] = field(default_factory=dict)  # the sweep file's derived fields
    border: BorderDraws | None = None  # the border posterior's draws, when the file samples them
    # a history year's demand key per point (None: no history demand), and the fitted demand
    # per distinct key, filled by sim.sweep.demand before the runs (points share it)
    demand_keys: list[str | None] = field(default_factory=list, repr=False, compare=False)
    history_cache: dict[str, YearDemand] = field(default_factory=dict, repr=False, compare=False)

    @property
    def total_runs(self) -> int:
        return len(self.points) * self.replications


def _check_path_exists(base: RawScenario, p: Parameter, source: str) -> None:
    """A varied field's parent must exist, so a typo (``nodes.bresst``) cannot add a node."""
    path = split_path(p.path)
    cur: Any = base.data
    for i, part in enumerate(path[:-1]):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and -len(cur) <= part < len(cur):
            cur = cur[part]
        else:
            known = ", ".join(sorted(map(str, cur))) if isinstance(cur, dict) else ""
            hint = f" (known: {known})" if known and len(known) < 200 else ""
            raise ConfigError(source, path[: i + 1], f"is not in the scenario{hint}")


def _chooses_mode(scenario: Scenario) -> bool:
    """Whether a point's rail demand comes from the mode choice (solved per point)."""
    return scenario.mode_choice is not None and scenario.mode_choice.enabled


def default_chunk_size(total_runs: int) -> int:
    """Independent of the worker count, so 1 and N workers write the same part files."""
    return max(1, min(100, math.ceil(total_runs / 64)))


def plan_sweep(request: SweepRequest) -> SweepPlan:
    """Read, expand and validate everything; a ConfigError here means no run has started."""
    target = request.target
    doc = read_yaml(target)
    sweep_file: Path | None = None
    params: list[Parameter] = []
    fixed: dict[str, Any] = {}
    derived: dict[str, Derived] = {}
    posterior_block = None
    sampler, samples, reps, seed, chunk = "grid", None, None, None, None
    source = "--vary"
    if is_sweep_file(doc):
        sweep, params = read_sweep_file(target)
        sweep_file = target
        scenario_file = Path(os.path.normpath(target.parent / sweep.scenario))
        sampler, samples, reps, seed = sweep.sampler, sweep.samples, sweep.replications, sweep.seed
        fixed, chunk, source = dict(sweep.set), sweep.chunk_size, str(target)
        derived = dict(sweep.derived)
        posterior_block = sweep.border_posterior
    else:
        scenario_file = target
    for text in request.vary:
        new = parse_vary(text)
        params = [p for p in params if p.path != new.path] + [new]
    for p in params:
        if p.path in ("run.seed", "run.replications"):
            raise ConfigError(
                source, split_path(p.path), "is set for the whole sweep: use --seed/--replications"
            )
    seen = [p.path for p in params]
    for path in seen:
        if seen.count(path) > 1:
            raise ConfigError(source, split_path(path), "is varied twice")
    sampler = request.sampler or sampler
    samples = request.samples if request.samples is not None else samples
    base = load_raw(scenario_file)
    for text in request.overrides:
        key, value = parse_set(text)
        apply_override(base, key, value, f"--set {text}", create=wants_new(text))
    for dotted, value in fixed.items():  # "+events.x": the sweep adds an element on purpose
        key = split_path(dotted.removeprefix("+"))
        apply_override(base, key, value, f"{source}: set: {dotted}", create=wants_new(dotted))
    base_scenario = validate_raw(copy.deepcopy(base))
    replications = next(
        r for r in (request.replications, reps, base_scenario.run.replications) if r is not None
    )
    root_seed = request.seed if request.seed is not None else seed
    if root_seed is None:
        root_seed = base_scenario.run.seed
    if replications < 1:
        raise ConfigError("--replications", (), f"must be at least 1 (got {replications})")
    apply_override(base, ("run", "seed"), root_seed, "--seed")
    apply_override(base, ("run", "replications"), replications, "--replications")
    base_scenario = validate_raw(copy.deepcopy(base))
    for p in params:
        if p.written:
            _check_path_exists(base, p, source)
    for path in derived:
        _check_path_exists(base, Parameter(path, "", "list", "float"), source)
    border = None
    if posterior_block is not None:
        assert sweep_file is not None
        border = border_draws(posterior_block, sweep_file, base_scenario)
        _check_border(border, params, derived, fixed, request.overrides, source)
        params.append(
            Parameter(
                DRAW_INPUT,
                f"range(0,{border.size})",
                "range",
                "int",
                tuple(range(border.size)),
                written=False,
            )
        )
    points = design(params, sampler, samples, root_seed)
    # Every point is validated here, without solving its history demand (the demand
    # ensemble's chain of years, ~15 s of CPU per distinct history block): the demand's files
    # are read once now, and sim.sweep.demand solves the distinct blocks on the sweep's workers.
    choosing = False
    keys: list[str | None] = []
    by_quantile = any(p.path == DEMAND_QUANTILE for p in params)
    for i, values in enumerate(points):
        try:
            raw = point_raw(base, params, values, source, derived, border)
            scenario = validate_raw(raw)
            if i == 0:
                check_history(scenario, base)
            history = scenario.history
            keyed = history is not None and history.params is not None
            if not keyed and by_quantile:
                raise ConfigError(
                    source,
                    (DEMAND_QUANTILE,),
                    "needs a history year with a demand ensemble (history.params)",
                )
            keys.append(demand_key(scenario, raw) if keyed else None)
            choosing |= _chooses_mode(scenario)
        except ConfigError as exc:
            raise ConfigError(exc.source, exc.path, f"{exc.problem} (point {i})") from None
    total = len(points) * replications
    # With the mode choice on, a point's fixed point is solved once per chunk that holds it:
    # one chunk per point by default, so it is solved exactly once.
    default_chunk = replications if choosing else default_chunk_size(total)
    return SweepPlan(
        scenario_file=scenario_file,
        sweep_file=sweep_file,
        parameters=params,
        sampler=sampler,
        samples=samples,
        replications=replications,
        root_seed=root_seed,
        overrides=request.overrides,
        fixed=fixed,
        base=base,
        base_scenario=base_scenario,
        points=points,
        chunk_size=request.chunk_size or chunk or default_chunk,
        derived=derived,
        border=border,
        demand_keys=keys,
    )


def _check_border(
    border: BorderDraws,
    params: Sequence[Parameter],
    derived: Mapping[str, Derived],
    fixed: Mapping[str, Any],
    overrides: Sequence[str],
    source: str,
) -> None:
    """The draws' fields are theirs alone, and their columns' names are free."""
    varied = {p.path: "parameters" for p in params if p.written}
    varied |= {path: "derived" for path in derived}
    varied |= {path.removeprefix("+"): "set" for path in fixed}
    varied |= {".".join(map(str, parse_set(text)[0])): "--set" for text in overrides}
    check_untouched(border, varied, source)
    taken = {p.path for p in params}
    for name in (DRAW_INPUT, *(f"{COLUMN_PREFIX}{c}" for c in border.columns)):
        if name in taken:
            raise ConfigError(source, ("inputs", name), "is the border posterior's column")


def _arrow_type(p: Parameter) -> pa.DataType:
    return {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}.get(
        p.field_type, pa.string()
    )


def _cell(p: Parameter, value: Any) -> Any:
    if p.field_type in ("int", "float", "bool") or value is None:
        return value
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def param_columns(plan: SweepPlan, points: Sequence[int]) -> dict[str, pa.Array]:
    """The inputs of these points, a column each; a border draw's index is written as the
    draw's values (``border_g`` …), what scenario discovery can read."""
    out: dict[str, pa.Array] = {}
    for j, p in enumerate(plan.parameters):
        if p.path == DRAW_INPUT and plan.border is not None:
            values = plan.border.column_values([int(plan.points[i][j]) for i in points])
            out |= {name: pa.array(col, type=pa.float64()) for name, col in values.items()}
        else:
            out[p.path] = pa.array(
                [_cell(p, plan.points[i][j]) for i in points], type=_arrow_type(p)
            )
    return out


def points_table(plan: SweepPlan) -> pa.Table:
    ids = list(range(len(plan.points)))
    return pa.table({"point": pa.array(ids, type=pa.int64()), **param_columns(plan, ids)})


@dataclass(frozen=True)
class ChunkTask:
    """Runs for one worker: consecutive (point, replication) pairs and their scenarios."""

    runs: tuple[tuple[int, int], ...]
    scenarios: dict[int, Scenario]
    root_seed: int
    replicate: Replicate = run_replication


@dataclass
class ChunkResult:
    points: list[int] = field(default_factory=list)
    columns: dict[str, list[Any]] = field(default_factory=dict)
    failures: list[tuple[int, int, str]] = field(default_factory=list)
    run_seconds: float = 0.0


def chunks(plan: SweepPlan, done: set[tuple[int, int]]) -> Iterator[ChunkTask]:
    """The missing runs in (point, replication) order, grouped into tasks, built lazily."""
    batch: list[tuple[int, int]] = []
    cache: dict[int, Scenario] = {}

    def task() -> ChunkTask:
        needed = {p for p, _ in batch}
        for p in needed - cache.keys():
            cache[p] = point_scenario(
                plan.base,
                plan.parameters,
                plan.points[p],
                history_cache=plan.history_cache,
                derived=plan.derived,
                border=plan.border,
            )
        for p in list(cache):
            if p not in needed and p < min(needed):
                del cache[p]
        return ChunkTask(
            tuple(batch), {p: cache[p] for p in needed}, plan.root_seed, plan.replicate
        )

    for point in range(len(plan.points)):
        for rep in range(plan.replications):
            if (point, rep) in done:
                continue
            batch.append((point, rep))
            if len(batch) == plan.chunk_size:
                yield task()
                batch = []
    if batch:
        yield task()


def definition(plan: SweepPlan) -> dict[str, Any]:
    """The part of the manifest that must match for ``--resume`` to continue a sweep."""
    doc = {
        "parameters": [p.describe() for p in plan.parameters],
        "sampler": plan.sampler,
        "samples": plan.samples,
        "replications": plan.replications,
        "root_seed": plan.root_seed,
        "points": len(plan.points),
        **(
            {"derived": {k: v.model_dump() for k, v in plan.derived.items()}}
            if plan.derived
            else {}
        ),
        **({"border_posterior": plan.border.describe()} if plan.border else {}),
        "config": resolved_document(plan.base_scenario),
    }
    result: dict[str, Any] = json.loads(json.dumps(doc, default=str))
    return result
