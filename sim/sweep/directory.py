"""The sweep directory being written: manifest, points, part files, resume and the lock.

Every file appears whole or not at all (write to a temporary name, then rename), so a
sweep killed at any moment can be resumed with nothing lost or counted twice. Reading a
finished sweep is :mod:`sim.store.sweeps`'s job.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import ConfigError
from sim.store.outdir import clean_stale, removed_on_failure, safe_component
from sim.store.run_dir import (
    command_line,
    git_revision,
    package_versions,
    reading,
    write_json,
)
from sim.store.sweeps import read_points, read_sweep_manifest
from sim.sweep.plan import (
    FORMAT,
    SEEDING,
    ChunkResult,
    ChunkTask,
    SweepPlan,
    definition,
    param_columns,
    points_table,
    replicate_name,
)


def _write_atomic(table: pa.Table, final: Path) -> None:
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    with removed_on_failure(tmp, final):
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
            with reading(part):
                t = pq.read_table(part, columns=["point", "replication"])
            pairs = np.unique(
                np.stack([t["point"].to_numpy(), t["replication"].to_numpy().astype(np.int64)]),
                axis=1,
            )
            done.update(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True))
    return done


def _versions() -> dict[str, str]:
    out = package_versions()
    for name in ("dask", "distributed", "SALib"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


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
        "runner": replicate_name(plan.replicate),
        "command": command_line(),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
        "git_revision": git_revision(Path(__file__).resolve().parent),
        "sessions": [],
        "complete": False,
    }


def write_manifest(sweep_dir: Path, doc: dict[str, Any]) -> None:
    tmp = sweep_dir / f".manifest.json.tmp-{os.getpid()}"
    with removed_on_failure(tmp, sweep_dir / "manifest.json"):
        write_json(tmp, doc)
        os.replace(tmp, sweep_dir / "manifest.json")


def open_sweep_dir(plan: SweepPlan, sweep_dir: Path, resume: bool) -> dict[str, Any]:
    """Create a new sweep directory, or check that an existing one is this same sweep."""
    for folder in (sweep_dir, sweep_dir / "runs", sweep_dir / "failures"):
        clean_stale(folder)  # temporary files of a sweep process that was killed
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
    write_manifest(sweep_dir, manifest)  # last: its presence marks a started sweep
    return manifest


def lock_sweep_dir(sweep_dir: Path) -> IO[str]:
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


def default_sweep_dir(root: Path, name: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return root / "sweeps" / f"{safe_component(name)}-{stamp}"
