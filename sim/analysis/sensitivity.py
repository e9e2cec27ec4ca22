"""Sobol sensitivity indices of a sweep KPI to its varied parameters, via SALib (optional).

The sweep must use ``--sampler sobol``: its points are the Saltelli design (per base row
``A, AB_1 … AB_D, B``), which is what SALib's ``sobol.analyze`` reads with
``calc_second_order=False``. Each point's output is the KPI averaged over its replications;
because replication r of every point shares the same random streams, that averaging is
common-random-number noise reduction, not a different noise draw per point.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
from numpy.typing import NDArray

from sim.errors import ConfigError
from sim.store.run_dir import write_json
from sim.store.sweeps import read_runs, read_sweep_manifest

FloatArray = NDArray[np.float64]


def sobol_indices(
    names: Sequence[str],
    y: FloatArray,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """S1, ST and their CI half-widths from outputs ``y`` in Saltelli-design order."""
    try:
        from SALib.analyze import sobol
    except ImportError:
        raise ConfigError(
            "sensitivity", (), "SALib is not installed: pip install 'corridor[sensitivity]'"
        ) from None
    d = len(names)
    if len(y) % (d + 2) or len(y) == 0:
        raise ConfigError(
            "sensitivity", (), f"{len(y)} outputs do not form a Saltelli design of {d} parameters"
        )
    problem = {"num_vars": d, "names": list(names), "bounds": [[0.0, 1.0]] * d}
    res: Any = sobol.analyze(
        problem,
        np.asarray(y, dtype=float),
        calc_second_order=False,
        num_resamples=resamples,
        conf_level=confidence,
        seed=seed,
    )
    return {
        name: {k: float(res[k][i]) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        for i, name in enumerate(names)
    }


def parse_kpi(text: str) -> tuple[str, str, str]:
    """``node:brest:wait_hours_mean`` → (node, brest, wait_hours_mean); a bare KPI is corridor."""
    parts = text.split(":")
    if len(parts) == 1:
        return "corridor", "", parts[0]
    if len(parts) == 2 and parts[0] == "corridor":
        return "corridor", "", parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    raise ConfigError("--kpi", (), f"'{text}' is not scope:name:kpi (e.g. node:brest:utilisation)")


def kpi_by_point(sweep_dir: Path, scope: str, name: str, kpi: str, points: int) -> FloatArray:
    """The KPI's mean over replications, one value per point (NaN where a point has none)."""
    runs = read_runs(sweep_dir)
    if runs.num_rows == 0:
        raise ConfigError(str(sweep_dir), ("runs",), "has no results")
    mask = pc.and_(
        pc.and_(pc.equal(runs["scope"], scope), pc.equal(runs["name"], name)),
        pc.equal(runs["kpi"], kpi),
    )
    rows = runs.filter(mask)
    if rows.num_rows == 0:
        known = sorted(set(runs["kpi"].to_pylist()))
        raise ConfigError(
            "--kpi", (), f"no rows for {scope}:{name}:{kpi} (KPIs: {', '.join(known)})"
        )
    point = rows["point"].to_numpy()
    value = rows["value"].to_numpy(zero_copy_only=False)
    total = np.bincount(point, weights=np.nan_to_num(value), minlength=points)
    count = np.bincount(point, weights=~np.isnan(value), minlength=points)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = total / count
    return result


def analyse_sweep(
    sweep_dir: Path, kpi: str, resamples: int = 1000, confidence: float = 0.95
) -> dict[str, Any]:
    """Compute the indices of one KPI and write ``sensitivity.json`` into the sweep."""
    manifest = read_sweep_manifest(sweep_dir)
    if manifest.get("sampler") != "sobol":
        raise ConfigError(
            str(sweep_dir), ("sampler",), "Sobol indices need a sweep run with --sampler sobol"
        )
    scope, name, key = parse_kpi(kpi)
    y = kpi_by_point(sweep_dir, scope, name, key, manifest["points"])
    missing = np.flatnonzero(np.isnan(y))
    if len(missing):
        raise ConfigError(
            str(sweep_dir),
            ("runs",),
            f"{len(missing)} point(s) have no value of {kpi} (first: point {missing[0]}); "
            "finish the sweep with --resume, or pick a KPI defined at every point",
        )
    names = [p["path"] for p in manifest["parameters"]]
    indices = sobol_indices(names, y, resamples, confidence, seed=int(manifest["root_seed"]))
    doc = {
        "kpi": f"{scope}:{name}:{key}",
        "method": "sobol",
        "estimator": "SALib sobol.analyze, calc_second_order=False; CIs by bootstrap",
        "confidence": confidence,
        "resamples": resamples,
        "samples": manifest["samples"],
        "points": manifest["points"],
        "replications": manifest["replications"],
        # how far the KPI moves over the whole design (point means): what the indices apportion
        "spread": {
            "p5": float(np.percentile(y, 5)),
            "median": float(np.median(y)),
            "p95": float(np.percentile(y, 95)),
        },
        "parameters": indices,
    }
    tmp = sweep_dir / f".sensitivity.json.tmp-{os.getpid()}"
    write_json(tmp, doc)
    os.replace(tmp, sweep_dir / "sensitivity.json")
    return doc


SOBOL_SLACK = 0.1  # estimates this far outside [0, 1] are more than sampling noise
WIDE_CI = 0.5  # a total-index interval half-width beyond this apportions nothing


def doubtful_parameters(doc: dict[str, Any]) -> list[str]:
    """Parameters whose indices cannot be trusted: Sobol indices are shares of variance, in
    [0, 1], and estimates well outside it, or intervals wider than the range, mean the sample
    is too small to apportion the variance (Saltelli's estimators are unbiased but noisy)."""
    params = doc.get("parameters")
    if not isinstance(params, dict):
        return []
    found = {
        p
        for p, ix in params.items()
        if any(not -SOBOL_SLACK <= float(ix[k]) <= 1 + SOBOL_SLACK for k in ("S1", "ST"))
        or float(ix.get("ST_conf", 0.0)) > WIDE_CI
    }
    return sorted(found)
