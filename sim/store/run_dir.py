"""The results store: one self-describing run directory, written atomically.

Everything is written into a hidden sibling directory first and renamed into place at the
end, so a crash, Ctrl-C or ``kill`` leaves either the complete directory or none under the
final name. Plots, comparisons and reports read only from here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.columns import Columns

TABLES = ("replications", "trains", "visits", "timeseries")
PACKAGES = ("corridor", "simpy", "numpy", "scipy", "pydantic", "pyarrow", "typer")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_revision(where: Path) -> str | None:
    """The commit of the code that produced a run, with ``-dirty`` for local changes."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5
        )
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def default_run_dir(root: Path, scenario: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = root / scenario / stamp
    n = 1
    while path.exists():
        n += 1
        path = root / scenario / f"{stamp}-{n}"
    return path


def concat_columns(parts: list[Columns]) -> pa.Table:
    """One Arrow table from per-replication column dicts (same keys in each)."""
    tables = [pa.table({k: pa.array(v) for k, v in p.items()}) for p in parts if p]
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables)


@contextlib.contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a staging directory that becomes ``final`` only if the block completes."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.partial-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        yield staging
        old = None
        if final.exists():
            old = final.parent / f".{final.name}.old-{os.getpid()}"
            final.rename(old)
        staging.rename(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_json(path: Path, doc: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2, default=str, allow_nan=False) + "\n")


def write_run(
    final: Path,
    manifest: Mapping[str, Any],
    summary: Mapping[str, Any],
    tables: Mapping[str, pa.Table],
    resolved_yaml: str,
) -> Path:
    """Write a complete run directory atomically and return its path."""
    with atomic_dir(final) as tmp:
        for name, table in tables.items():
            pq.write_table(table, tmp / f"{name}.parquet", compression="zstd")
        write_json(tmp / "summary.json", summary)
        (tmp / "scenario.yaml").write_text(resolved_yaml)
        write_json(tmp / "manifest.json", manifest)  # last: its presence marks completeness
    return final


def read_summary(run_dir: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return result


def read_manifest(run_dir: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((run_dir / "manifest.json").read_text())
    return result


def read_table(run_dir: Path, name: str) -> pa.Table:
    return pq.read_table(run_dir / f"{name}.parquet")


def is_run_dir(path: Path) -> bool:
    return (path / "manifest.json").is_file() and (path / "summary.json").is_file()


def command_line() -> list[str]:
    return list(sys.argv)
