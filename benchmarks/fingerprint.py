"""A hash of everything a replication records, to show an optimisation left results unchanged.

Prints one SHA-256 per case (records of every train and visit, KPIs and tables) for a few
seeds of the tandem line, the synthetic corridor (closures, capacity factors, train types,
link capacities), a small fixed-headway line with a closure (exact ties in time) and three
shipped scenarios. Run it
before and after a change to the engine and compare the output: equal hashes mean
bit-identical results.

    python benchmarks/fingerprint.py
"""

from __future__ import annotations

import hashlib
from typing import Any

import _common  # puts the project on sys.path
import numpy as np
import overhead
import synthetic

from sim.config.loader import load_scenario
from sim.config.scenario import Scenario
from sim.engine.replications import run_replication, simulate


def _tie_line() -> Scenario:
    """Fixed headway 1 h and fixed handling: arrivals and departures coincide exactly."""
    doc: dict[str, Any] = {
        "run": {"start_date": "2024-01-01", "warmup_days": 2, "horizon_days": 40},
        "nodes": {
            "a": {"servers": 1, "handling_hours": 0},
            "b": {"servers": 2, "handling_hours": 2},
            "c": {"servers": 1, "handling_hours": {"dist": "exponential", "mean": 0.5}},
        },
        "links": {
            "ab": {"from": "a", "to": "b", "hours": 0},
            "bc": {"from": "b", "to": "c", "hours": 1},
        },
        "routes": {"abc": {"nodes": ["a", "b", "c"]}},
        "flows": {
            "f": {
                "origin": "a",
                "destination": "c",
                "routes": {"abc": 1},
                "teu_per_year": 8760,
                "teu_per_train": 1,
                "arrivals": "fixed",
            }
        },
        "events": {"shut": {"targets": ["b", "bc"], "start": 5, "end": 7, "servers": 0}},
    }
    return Scenario.model_validate(doc)


def fingerprint(scenario: Scenario, seed: int) -> str:
    digest = hashlib.sha256()
    _, rec = simulate(scenario, 0, seed)
    for name in (
        "delivered_hours",
        "visit_offset",
        "visit_train",
        "visit_node",
        "visit_seq",
        "visit_arrive",
        "visit_start",
        "visit_end",
    ):
        digest.update(np.ascontiguousarray(getattr(rec, name)).tobytes())
    out = run_replication(scenario, 0, seed, with_tables=True)
    # the KPI values, not the dataclass's repr: a KPI block a run does not have (markets,
    # when there is one market) must not change the hash of a run that did not change
    k = out.kpis
    markets = getattr(k, "markets", None)  # (absent before KPIs by market existed)
    blocks = [k.corridor, k.nodes, k.flows] + ([markets] if markets else [])
    digest.update(repr(blocks).encode())
    for table, columns in sorted(out.tables.items()):
        for column, values in sorted(columns.items()):
            digest.update(f"{table}.{column}".encode())
            digest.update(
                np.asarray(values).tobytes()
                if not isinstance(values, list)
                else "\0".join(values).encode()
            )
    return digest.hexdigest()[:16]


def main() -> None:
    cases = {
        "tandem 5k": overhead.tandem_scenario(5_000, 1),
        "synthetic corridor": synthetic.synthetic_corridor(),
        "fixed-headway ties": _tie_line(),
    }
    for shipped in ("baseline_2023", "poland_closure_2025", "red_sea_2024"):
        path = _common.ROOT / "scenarios" / f"{shipped}.yaml"
        if path.exists():
            cases[shipped] = load_scenario(path)[0]
    for name, scenario in cases.items():
        for seed in (1, 2):
            print(f"{name:20s} seed {seed}: {fingerprint(scenario, seed)}")


if __name__ == "__main__":
    main()
