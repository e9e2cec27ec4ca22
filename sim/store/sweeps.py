"""The reader of a sweep directory (``corridor-sweep/1``): KPI values per run, with the
varied parameters' values beside them. Plots, tables and analysis all read sweeps through it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.errors import ConfigError
from sim.store.run_dir import (
    read_json,
    reading,
)
from sim.store.runs import FloatArray, Metric, column, parse_metric


def is_sweep_dir(path: Path) -> bool:
    manifest = path / "manifest.json"
    if not manifest.is_file():
        return False
    doc = read_json(manifest)
    return str(doc.get("format", "")).startswith("corridor-sweep/")


@dataclass
class SweepData:
    path: Path
    manifest: dict[str, Any]
    parameters: list[str]
    values: dict[str, FloatArray]  # parameter -> value per run row
    kpi: FloatArray
    metric: Metric

    @classmethod
    def open(cls, path: Path, metric: str | None = None) -> SweepData:
        if not is_sweep_dir(path):
            raise ConfigError(str(path), (), "not a sweep directory (no corridor-sweep manifest)")
        manifest = read_json(path / "manifest.json")
        with reading(path / "manifest.json"):
            parameters = [str(p["path"]) for p in manifest.get("parameters", [])]
        if metric is None:
            sens = path / "sensitivity.json"
            with reading(sens):
                metric = str(read_json(sens)["kpi"]) if sens.is_file() else "throughput_teu_per_day"
        m = parse_metric(metric)
        with reading(path / "runs"):
            runs = pq.read_table(path / "runs")
        mask = pc.and_(
            pc.and_(pc.equal(runs["scope"], m.scope), pc.equal(runs["name"], m.name)),
            pc.equal(runs["kpi"], m.kpi),
        )
        rows = runs.filter(mask)
        if rows.num_rows == 0:
            raise ConfigError(str(path / "runs"), (), f"no rows for KPI '{m.key}'")
        with reading(path / "points.parquet"):
            points = pq.read_table(path / "points.parquet")
            point_of = {int(p): i for i, p in enumerate(points["point"].to_pylist())}
            idx = np.asarray([point_of[int(p)] for p in rows["point"].to_pylist()], dtype=int)
            values = {p: column(points, p)[idx] for p in parameters}
        return cls(path, manifest, parameters, values, column(rows, "value"), m)

    def parameter(self, name: str | None, position: int) -> str:
        if name is None:
            if len(self.parameters) <= position:
                raise ConfigError(
                    str(self.path),
                    ("parameters",),
                    f"needs at least {position + 1} varied parameter(s), "
                    f"has {len(self.parameters)}",
                )
            return self.parameters[position]
        if name not in self.parameters:
            raise ConfigError(
                str(self.path),
                ("parameters",),
                f"'{name}' was not varied (varied: {', '.join(self.parameters)})",
            )
        return name


RUN_KEYS = ("point", "replication", "scope", "name", "kpi")


def _read_parts(folder: Path, keys: Sequence[str]) -> pa.Table:
    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        return pa.table({"point": pa.array([], type=pa.int64())})
    with reading(folder):
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
    path = Path(sweep_dir) / "points.parquet"
    with reading(path):
        return pq.read_table(path)


def read_sweep_manifest(sweep_dir: Path) -> dict[str, Any]:
    return read_json(Path(sweep_dir) / "manifest.json")
