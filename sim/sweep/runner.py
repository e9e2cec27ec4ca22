"""A sweep: many (point, replication) runs of one scenario, streamed to a resumable directory.

Flow: the request (CLI flags or a sweep YAML) → a :class:`SweepPlan` (parameters, points, the
resolved base scenario; every point validated before any run) → chunks of runs handed to an
executor → one Parquet part file per finished chunk under ``runs/`` (and ``failures/``).

Reproducibility: run (point p, replication r) is ``run_replication(scenario_p, r, root_seed)``,
i.e. replication r of every point draws from the same streams ``Streams(root_seed, r)``, so
points share common random numbers, and no result depends on which worker ran it or when.

Resumability: a part file is written under a hidden temporary name and renamed into place,
so it is complete or absent; it is named after its first run, which is unique because a run
is written at most once. ``--resume`` reads back which (point, replication) pairs are in
``runs/`` or ``failures/`` and runs only the rest: after Ctrl-C or ``kill -9`` nothing is
lost (beyond the chunks in flight) and nothing is duplicated. Delete ``failures/`` and resume
to retry failed runs.
"""

from __future__ import annotations

import copy
import datetime as dt
import fcntl
import hashlib
import importlib
import json
import math
import os
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.choice.fixed_point import with_chosen_demand
from sim.config.loader import RawScenario, apply_override, load_raw, read_yaml, validate_raw
from sim.config.loader import parse_override as parse_set
from sim.config.scenario import Scenario
from sim.engine.replications import ReplicationOutput, replication_rows
from sim.errors import ConfigError
from sim.executors import Executor, Lost, make_executor
from sim.store.run_dir import command_line, git_revision, package_versions, write_json
from sim.sweep.spec import (
    Parameter,
    design,
    is_sweep_file,
    parse_vary,
    read_sweep_file,
    split_path,
)
from sim.workflow.run import resolved_document

FORMAT = "corridor-sweep/1"
DEFAULT_RUNNER = "sim.engine.replications:run_replication"
SEEDING = (
    "run (point p, replication r) = run_replication(scenario_p, r, root_seed): replication r "
    "of every point uses Streams(root_seed, r) (common random numbers across points); "
    "numpy SeedSequence(entropy=root_seed, spawn_key=(r, crc32(stream)))"
)
RUN_KEYS = ("point", "replication", "scope", "name", "kpi")


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
    runner: str = DEFAULT_RUNNER  # module:function with run_replication's signature (tests)


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
    runner: str = DEFAULT_RUNNER

    @property
    def total_runs(self) -> int:
        return len(self.points) * self.replications


# ---------------------------------------------------------------------------- planning


def point_scenario(
    base: RawScenario, params: Sequence[Parameter], values: Sequence[Any], source: str = "--vary"
) -> Scenario:
    """The scenario of one point: the base document with the point's values, validated.

    ``source`` names where the parameters were given (``--vary`` or the sweep file), so an
    error at a point says which file to fix."""
    raw = RawScenario(copy.deepcopy(base.data), dict(base.origin), base.main_file)
    for p, value in zip(params, values, strict=True):
        apply_override(raw, split_path(p.path), value, f"{source}: {p.path}={value}")
    return validate_raw(raw)


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
    sampler, samples, reps, seed, chunk = "grid", None, None, None, None
    source = "--vary"
    if is_sweep_file(doc):
        sweep, params = read_sweep_file(target)
        sweep_file = target
        scenario_file = Path(os.path.normpath(target.parent / sweep.scenario))
        sampler, samples, reps, seed = sweep.sampler, sweep.samples, sweep.replications, sweep.seed
        fixed, chunk, source = dict(sweep.set), sweep.chunk_size, str(target)
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
        apply_override(base, key, value, f"--set {text}")
    for dotted, value in fixed.items():
        apply_override(base, split_path(dotted), value, f"{source}: set: {dotted}")
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
        _check_path_exists(base, p, source)
    points = design(params, sampler, samples, root_seed)
    choosing = False
    for i, values in enumerate(points):
        try:
            choosing |= _chooses_mode(point_scenario(base, params, values, source))
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
        runner=request.runner,
    )


# ---------------------------------------------------------------------------- tables


def _arrow_type(p: Parameter) -> pa.DataType:
    return {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}.get(
        p.field_type, pa.string()
    )


def _cell(p: Parameter, value: Any) -> Any:
    if p.field_type in ("int", "float", "bool") or value is None:
        return value
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def param_columns(plan: SweepPlan, points: Sequence[int]) -> dict[str, pa.Array]:
    return {
        p.path: pa.array([_cell(p, plan.points[i][j]) for i in points], type=_arrow_type(p))
        for j, p in enumerate(plan.parameters)
    }


def points_table(plan: SweepPlan) -> pa.Table:
    ids = list(range(len(plan.points)))
    return pa.table({"point": pa.array(ids, type=pa.int64()), **param_columns(plan, ids)})


# ---------------------------------------------------------------------------- running


@dataclass(frozen=True)
class ChunkTask:
    """Runs for one worker: consecutive (point, replication) pairs and their scenarios."""

    runs: tuple[tuple[int, int], ...]
    scenarios: dict[int, Scenario]
    root_seed: int
    runner: str = DEFAULT_RUNNER


@dataclass
class ChunkResult:
    points: list[int] = field(default_factory=list)
    columns: dict[str, list[Any]] = field(default_factory=dict)
    failures: list[tuple[int, int, str]] = field(default_factory=list)
    run_seconds: float = 0.0


def _runner(name: str) -> Callable[..., ReplicationOutput]:
    module, _, func = name.partition(":")
    fn: Callable[..., ReplicationOutput] = getattr(importlib.import_module(module), func)
    return fn


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Worker side: run each pair; a run that raises is recorded with its error, not raised."""
    run = _runner(task.runner)
    result = ChunkResult(columns={k: [] for k in ("replication", "scope", "name", "kpi", "value")})
    started = time.perf_counter()
    chosen: dict[int, Scenario] = {}  # each point's demand after its mode choice, if any
    for point, rep in task.runs:
        try:
            if point not in chosen:
                # deterministic (seeded by the point's run.seed), so any worker gets the same
                chosen[point] = with_chosen_demand(task.scenarios[point])
            out = run(chosen[point], rep, task.root_seed, with_tables=False)
        except Exception as exc:
            last = traceback.extract_tb(exc.__traceback__)[-1]
            where = f" ({Path(last.filename).name}:{last.lineno})"
            result.failures.append((point, rep, f"{type(exc).__name__}: {exc}{where}"))
            continue
        rows = replication_rows([out])
        n = len(rows["kpi"])
        result.points.extend([point] * n)
        for key, col in result.columns.items():
            values = rows[key]
            col.extend(values.tolist() if isinstance(values, np.ndarray) else values)
    result.run_seconds = time.perf_counter() - started
    return result


def chunks(plan: SweepPlan, done: set[tuple[int, int]]) -> Iterator[ChunkTask]:
    """The missing runs in (point, replication) order, grouped into tasks, built lazily."""
    batch: list[tuple[int, int]] = []
    cache: dict[int, Scenario] = {}

    def task() -> ChunkTask:
        needed = {p for p, _ in batch}
        for p in needed - cache.keys():
            cache[p] = point_scenario(plan.base, plan.parameters, plan.points[p])
        for p in list(cache):
            if p not in needed and p < min(needed):
                del cache[p]
        return ChunkTask(tuple(batch), {p: cache[p] for p in needed}, plan.root_seed, plan.runner)

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


def _write_atomic(table: pa.Table, final: Path) -> None:
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, final)


def _part_name(first: tuple[int, int]) -> str:
    return f"part-p{first[0]:08d}-r{first[1]:06d}.parquet"


def write_chunk(sweep_dir: Path, plan: SweepPlan, task: ChunkTask, result: ChunkResult) -> None:
    """Failures first, then runs; each file appears whole (rename) or not at all."""
    name = _part_name(task.runs[0])
    if result.failures:
        pts = [p for p, _, _ in result.failures]
        table = pa.table(
            {
                "point": pa.array(pts, type=pa.int64()),
                "replication": pa.array([r for _, r, _ in result.failures], type=pa.int32()),
                "error": pa.array([e for _, _, e in result.failures], type=pa.string()),
                **param_columns(plan, pts),
            }
        )
        _write_atomic(table, sweep_dir / "failures" / name)
    if result.points:
        c = result.columns
        table = pa.table(
            {
                "point": pa.array(result.points, type=pa.int64()),
                "replication": pa.array(c["replication"], type=pa.int32()),
                "scope": pa.array(c["scope"], type=pa.string()),
                "name": pa.array(c["name"], type=pa.string()),
                "kpi": pa.array(c["kpi"], type=pa.string()),
                "value": pa.array(c["value"], type=pa.float64()),
                **param_columns(plan, result.points),
            }
        )
        _write_atomic(table, sweep_dir / "runs" / name)


def done_runs(sweep_dir: Path) -> set[tuple[int, int]]:
    """(point, replication) pairs already recorded in runs/ or failures/ (one file at a time)."""
    done: set[tuple[int, int]] = set()
    for folder in ("runs", "failures"):
        for part in sorted((sweep_dir / folder).glob("part-*.parquet")):
            t = pq.read_table(part, columns=["point", "replication"])
            pairs = np.unique(
                np.stack([t["point"].to_numpy(), t["replication"].to_numpy().astype(np.int64)]),
                axis=1,
            )
            done.update(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True))
    return done


def _read_parts(folder: Path, keys: Sequence[str]) -> pa.Table:
    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        return pa.table({"point": pa.array([], type=pa.int64())})
    table = pa.concat_tables([pq.read_table(p) for p in parts])
    return table.sort_by([(k, "ascending") for k in keys]).combine_chunks()


def read_runs(sweep_dir: Path) -> pa.Table:
    """All KPI rows, sorted by (point, replication, scope, name, kpi): the same bytes whatever
    the workers, executor, chunking or interruptions."""
    return _read_parts(Path(sweep_dir) / "runs", RUN_KEYS)


def table_digest(table: pa.Table) -> str:
    """SHA-256 of a table's Arrow IPC bytes: equal digests mean bit-identical values (NaN
    included, which ``Table.equals`` treats as unequal to itself)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def read_failures(sweep_dir: Path) -> pa.Table:
    return _read_parts(Path(sweep_dir) / "failures", ("point", "replication"))


def read_points(sweep_dir: Path) -> pa.Table:
    return pq.read_table(Path(sweep_dir) / "points.parquet")


def read_sweep_manifest(sweep_dir: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((Path(sweep_dir) / "manifest.json").read_text())
    return doc


# ---------------------------------------------------------------------------- the directory


def _versions() -> dict[str, str]:
    out = package_versions()
    for name in ("dask", "distributed", "SALib"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def definition(plan: SweepPlan) -> dict[str, Any]:
    """The part of the manifest that must match for ``--resume`` to continue a sweep."""
    doc = {
        "parameters": [p.describe() for p in plan.parameters],
        "sampler": plan.sampler,
        "samples": plan.samples,
        "replications": plan.replications,
        "root_seed": plan.root_seed,
        "points": len(plan.points),
        "config": resolved_document(plan.base_scenario),
    }
    result: dict[str, Any] = json.loads(json.dumps(doc, default=str))
    return result


def build_manifest(plan: SweepPlan) -> dict[str, Any]:
    design_note = {
        "grid": "full factorial, first parameter varying slowest",
        "lhs": "scipy.stats.qmc.LatinHypercube, seeded from root_seed",
        "sobol": "Saltelli design on scipy.stats.qmc.Sobol (scrambled, seeded from root_seed): "
        "per base row A, AB_1..AB_D, B (SALib layout, calc_second_order=False)",
    }[plan.sampler]
    return {
        "format": FORMAT,
        "name": plan.base_scenario.name,
        "scenario_file": str(plan.scenario_file),
        "sweep_file": str(plan.sweep_file) if plan.sweep_file else None,
        **definition(plan),
        "design": design_note,
        "runs": plan.total_runs,
        "seeding": SEEDING,
        "overrides": list(plan.overrides),
        "set": plan.fixed,
        "chunk_size": plan.chunk_size,
        "runner": plan.runner,
        "command": command_line(),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
        "git_revision": git_revision(Path(__file__).resolve().parent),
        "sessions": [],
        "complete": False,
    }


def _write_manifest(sweep_dir: Path, doc: dict[str, Any]) -> None:
    tmp = sweep_dir / f".manifest.json.tmp-{os.getpid()}"
    write_json(tmp, doc)
    os.replace(tmp, sweep_dir / "manifest.json")


def open_sweep_dir(plan: SweepPlan, sweep_dir: Path, resume: bool) -> dict[str, Any]:
    """Create a new sweep directory, or check that an existing one is this same sweep."""
    manifest_path = sweep_dir / "manifest.json"
    if manifest_path.exists():
        if not resume:
            raise ConfigError(
                str(sweep_dir), (), "already holds a sweep: add --resume, or choose another --out"
            )
        manifest = read_sweep_manifest(sweep_dir)
        fresh = definition(plan)
        for key, value in fresh.items():
            if manifest.get(key) != value:
                raise ConfigError(
                    str(sweep_dir),
                    (key,),
                    "differs from the sweep being resumed (same scenario, --vary, --set, "
                    "--sampler, --samples, --replications and --seed are needed)",
                )
        if not read_points(sweep_dir).equals(points_table(plan)):
            raise ConfigError(str(sweep_dir), ("points",), "the sampled points differ")
        for tmp in sweep_dir.glob("*/.part-*.tmp-*"):
            tmp.unlink(missing_ok=True)  # a part that was being written when killed
        return manifest
    if sweep_dir.exists() and any((sweep_dir / "runs").glob("*.parquet")):
        raise ConfigError(str(sweep_dir), (), "has run files but no manifest.json")
    if sweep_dir.exists() and any(
        p.name not in ("runs", "failures", "points.parquet") and not p.name.startswith(".")
        for p in sweep_dir.iterdir()
    ):
        raise ConfigError(str(sweep_dir), (), "exists and is not a sweep directory")
    for sub in ("runs", "failures"):
        (sweep_dir / sub).mkdir(parents=True, exist_ok=True)
    _write_atomic(points_table(plan), sweep_dir / "points.parquet")
    manifest = build_manifest(plan)
    _write_manifest(sweep_dir, manifest)  # last: its presence marks a started sweep
    return manifest


# ---------------------------------------------------------------------------- orchestration


def _lock(sweep_dir: Path) -> IO[str]:
    """One sweep process per directory (two would run, and write, the same runs). The lock
    is the kernel's: it goes away with the process, even after ``kill -9``."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    handle = (sweep_dir / ".lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ConfigError(str(sweep_dir), (), "is in use by another running sweep") from None
    return handle


class Reporter(Protocol):
    def start(self, total: int, done_before: int, description: str) -> None: ...

    def advance(self, runs: int, failed: int) -> None: ...


@dataclass
class SweepSummary:
    sweep_dir: Path
    points: int
    replications: int
    runs_total: int
    runs_before: int
    runs_this_session: int
    failures_this_session: int
    failures_total: int
    workers: int
    executor: str
    wall_seconds: float
    workers_replaced: int = 0

    @property
    def runs_per_second(self) -> float:
        return self.runs_this_session / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "replications": self.replications,
            "runs_total": self.runs_total,
            "runs_before": self.runs_before,
            "runs_this_session": self.runs_this_session,
            "failures_this_session": self.failures_this_session,
            "failures_total": self.failures_total,
            "workers": self.workers,
            "executor": self.executor,
            "wall_seconds": round(self.wall_seconds, 3),
            "runs_per_second": round(self.runs_per_second, 4),
            "runs_per_second_per_worker": round(self.runs_per_second / max(1, self.workers), 4),
            "workers_replaced": self.workers_replaced,
        }


class SweepInterrupted(Exception):
    """Ctrl-C or SIGTERM during a sweep; what is on disk is complete and resumable."""


def default_sweep_dir(root: Path, name: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return root / "sweeps" / f"{name}-{stamp}"


def run_sweep(
    plan: SweepPlan,
    sweep_dir: Path,
    executor: Executor,
    resume: bool = False,
    reporter: Reporter | None = None,
) -> SweepSummary:
    """Run every missing (point, replication) of ``plan``; write parts as chunks finish."""
    runs = failed = before = 0
    lock: IO[str] | None = None
    try:
        lock = _lock(sweep_dir)
        manifest = open_sweep_dir(plan, sweep_dir, resume)
        done = done_runs(sweep_dir)
        before = len(done)
        started = time.perf_counter()
        created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if reporter:
            reporter.start(plan.total_runs, before, executor.description)
        for task, result in executor.map_unordered(run_chunk, chunks(plan, done)):
            if isinstance(result, Lost):
                result = ChunkResult(
                    failures=[(p, r, f"lost: {result.reason}") for p, r in task.runs]
                )
            write_chunk(sweep_dir, plan, task, result)
            runs += len(task.runs)
            failed += len(result.failures)
            if reporter:
                reporter.advance(len(task.runs), len(result.failures))
        executor.close()
        summary = SweepSummary(
            sweep_dir=sweep_dir,
            points=len(plan.points),
            replications=plan.replications,
            runs_total=plan.total_runs,
            runs_before=before,
            runs_this_session=runs,
            failures_this_session=failed,
            failures_total=read_failures(sweep_dir).num_rows,
            workers=executor.workers,
            executor=executor.description,
            wall_seconds=time.perf_counter() - started,
            workers_replaced=int(getattr(executor, "replaced", 0)),
        )
        manifest["sessions"] = [
            *manifest.get("sessions", []),
            {"started_utc": created, "command": command_line(), **summary.as_dict()},
        ]
        manifest["complete"] = before + runs == plan.total_runs
        _write_manifest(sweep_dir, manifest)
        return summary
    except KeyboardInterrupt:
        raise SweepInterrupted(
            f"interrupted: {before + runs} of {plan.total_runs} runs are saved in {sweep_dir}; "
            "run the same command with --resume to finish"
        ) from None
    finally:
        executor.close()
        if lock is not None:
            lock.close()


def sweep(request: SweepRequest, reporter: Reporter | None = None) -> SweepSummary:
    """Plan (validating every point), then run on the chosen executor."""
    if request.resume and request.out is None:
        raise ConfigError("--resume", (), "needs --out DIR, the sweep directory to continue")
    plan = plan_sweep(request)
    sweep_dir = request.out or default_sweep_dir(request.results_root, plan.base_scenario.name)
    executor = make_executor(request.workers, request.dask)
    return run_sweep(plan, sweep_dir, executor, request.resume, reporter)
