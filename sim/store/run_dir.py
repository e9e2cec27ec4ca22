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
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.columns import Columns
from sim.errors import ConfigError
from sim.store.outdir import check_out, clean_stale, is_corridor_run, safe_component

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
    """``root/NAME/TIMESTAMP``; the name is made one safe component (``../x`` stays inside)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = root / safe_component(scenario)
    path = folder / stamp
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{stamp}-{n}"
    return path


def concat_columns(parts: list[Columns]) -> pa.Table:
    """One Arrow table from per-replication column dicts (same keys in each)."""
    tables = [pa.table({k: pa.array(v) for k, v in p.items()}) for p in parts if p]
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables)


def output_error(path: Path, exc: OSError) -> ConfigError:
    """A write that failed (unwritable, disk full) as the usual one line naming the path."""
    return ConfigError(str(path), (), f"cannot write results: {exc.strerror or exc}")


@contextlib.contextmanager
def atomic_dir(final: Path, replace: bool = False) -> Iterator[Path]:
    """Yield a staging directory that becomes ``final`` only if the block completes.

    The staging directory is made at once, so an unwritable destination fails before the
    simulation. ``final`` may exist only empty, or (with ``replace``) as a previous corridor
    run; anything else is left untouched and the write refused.
    """
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(final.parent)
        staging = final.parent / f".{final.name}.partial-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
    except OSError as exc:
        raise output_error(final, exc) from None
    try:
        try:
            yield staging
            _move_into_place(staging, final, replace)
        except OSError as exc:
            raise output_error(final, exc) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _move_into_place(staging: Path, final: Path, replace: bool) -> None:
    old = None
    if final.is_symlink() or final.exists():
        if final.is_dir() and not final.is_symlink() and not any(final.iterdir()):
            final.rmdir()
        elif replace and is_corridor_run(final):
            old = final.parent / f".{final.name}.old-{os.getpid()}"
            final.rename(old)
        else:
            check_out(final, replace)  # says why in the usual words
            raise ConfigError(str(final), (), "exists; nothing was replaced")
    staging.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_json(path: Path, doc: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2, default=str, allow_nan=False) + "\n")


class TableSink:
    """Parquet tables of a run, appended one replication at a time.

    Each replication's rows become a row group as soon as it finishes and are then dropped,
    so a run's memory is bounded by one replication however many there are.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._writers: dict[str, pq.ParquetWriter] = {}

    def append(self, name: str, columns: Columns) -> None:
        if columns:
            self.append_table(name, pa.table({k: pa.array(v) for k, v in columns.items()}))

    def append_table(self, name: str, table: pa.Table) -> None:
        writer = self._writers.get(name)
        if writer is None:
            path = self.folder / f"{name}.parquet"
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            self._writers[name] = writer
        elif not table.schema.equals(writer.schema):
            table = table.cast(writer.schema)
        writer.write_table(table)

    def close(self, expected: Iterable[str] = ()) -> None:
        """Finish every file; a table that never had a row is written empty."""
        for writer in self._writers.values():
            writer.close()
        for name in expected:
            if name not in self._writers:
                pq.write_table(pa.table({}), self.folder / f"{name}.parquet")
        self._writers = {}


def write_run(
    final: Path,
    manifest: Mapping[str, Any],
    summary: Mapping[str, Any],
    tables: Mapping[str, pa.Table],
    resolved_yaml: str,
    replace: bool = False,
) -> Path:
    """Write a complete run directory atomically and return its path."""
    with atomic_dir(final, replace) as tmp:
        for name, table in tables.items():
            pq.write_table(table, tmp / f"{name}.parquet", compression="zstd")
        finish_run(tmp, manifest, summary, resolved_yaml)
    return final


def finish_run(
    staging: Path, manifest: Mapping[str, Any], summary: Mapping[str, Any], resolved_yaml: str
) -> None:
    """The small files of a run; the manifest last, as its presence marks completeness."""
    write_json(staging / "summary.json", summary)
    (staging / "scenario.yaml").write_text(resolved_yaml)
    write_json(staging / "manifest.json", manifest)


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """Reading a results file: a missing, truncated or garbled one is the usual one line
    naming it (exit 2), not an internal error from JSON, Arrow or a missing key."""
    try:
        yield
    except ConfigError:
        raise
    except FileNotFoundError:
        raise ConfigError(str(path), (), "missing from the results directory") from None
    except (OSError, ValueError, KeyError, TypeError, IndexError, pa.ArrowException) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        reason = reason.rsplit("': ", 1)[-1]  # pyarrow repeats the path before the reason
        raise ConfigError(str(path), (), f"damaged results file ({reason[:100]})") from None


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a results directory (anything else is a damaged file)."""
    with reading(path):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            raise ValueError(f"expected a JSON object, got {type(doc).__name__}")
    return doc


def read_summary(run_dir: Path) -> dict[str, Any]:
    return read_json(run_dir / "summary.json")


def read_manifest(run_dir: Path) -> dict[str, Any]:
    return read_json(run_dir / "manifest.json")


def read_table(run_dir: Path, name: str) -> pa.Table:
    path = run_dir / f"{name}.parquet"
    with reading(path):
        return pq.read_table(path)


def is_run_dir(path: Path) -> bool:
    return (path / "manifest.json").is_file() and (path / "summary.json").is_file()


def command_line() -> list[str]:
    return list(sys.argv)
