"""Running replications: one replication is a pure function of (scenario, seed, index).

Replication r draws from streams keyed by (root seed, r, purpose), so the results of a
replication do not depend on which process ran it or in which order: one worker and many
workers give identical numbers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

import numpy as np

from sim.columns import Columns
from sim.config.scenario import Scenario
from sim.engine.demand import plan_trains
from sim.engine.market_kpis import MARKET_UNITS, market_kpis
from sim.engine.metrics import ReplicationKpis, replication_kpis
from sim.engine.model import CorridorModel
from sim.engine.network import Network, build_network
from sim.engine.records import Records
from sim.engine.streams import Streams
from sim.engine.tables import timeseries_columns, train_columns, visit_columns
from sim.executors import map_ordered
from sim.kpis import (
    CORRIDOR_UNITS,
    FLOW_UNITS,
    HELD_CORRIDOR_UNITS,
    HELD_NODE_UNITS,
    MARKET_NODE_UNITS,
    NODE_UNITS,
    REROUTED_CORRIDOR_UNITS,
)
from sim.stats import estimate

T = TypeVar("T")


@dataclass
class ReplicationOutput:
    replication: int
    kpis: ReplicationKpis
    tables: dict[str, Columns] = field(default_factory=dict)
    wall_seconds: float = 0.0
    trains: int = 0


def simulate(scenario: Scenario, replication: int, seed: int) -> tuple[Network, Records]:
    """Build and run one replication; returns the raw records (no metrics, no files)."""
    net = build_network(scenario)
    streams = Streams(root_seed=seed, replication=replication)
    plan = plan_trains(scenario, net, streams)
    return net, CorridorModel(net, plan, streams).run()


Probe = Callable[[Scenario, Network, Records, ReplicationKpis], T]
"""A reading of one replication's records taken where it ran (in the worker), beside its KPIs:
what a caller needs of the records that the KPIs do not hold (the rail times of the mode
choice, the calibration targets, the disruption figures). Module-level functions or
picklable objects when replications run in processes."""


@dataclass(frozen=True)
class Job(Generic[T]):
    """One replication to run: pure data, so a worker anywhere gives the same answer."""

    scenario: Scenario
    replication: int
    seed: int
    with_tables: bool = True
    probes: tuple[Probe[T], ...] = ()


def run_job(job: Job[T]) -> tuple[ReplicationOutput, tuple[T, ...]]:
    """One replication from scenario to KPIs (and, optionally, the flat tables), with the
    job's probes read from its records (their time is not counted in ``wall_seconds``)."""
    started = time.perf_counter()
    net, rec = simulate(job.scenario, job.replication, job.seed)
    kpis = replication_kpis(net, rec)
    kpis = replace(kpis, markets=market_kpis(job.scenario, rec))
    out = ReplicationOutput(job.replication, kpis, trains=len(rec.plan))
    if job.with_tables:
        out.tables = {
            "trains": train_columns(net, rec, job.replication),
            "visits": visit_columns(net, rec, job.replication),
            "timeseries": timeseries_columns(net, rec, job.replication),
        }
    out.wall_seconds = time.perf_counter() - started
    return out, tuple(probe(job.scenario, net, rec, kpis) for probe in job.probes)


def run_replication(
    scenario: Scenario, replication: int, seed: int, with_tables: bool = True
) -> ReplicationOutput:
    """One replication from scenario to KPIs (and, optionally, the flat tables)."""
    job: Job[object] = Job(scenario, replication, seed, with_tables)
    return run_job(job)[0]


def run_replications(
    scenario: Scenario,
    replications: int,
    seed: int,
    workers: int = 1,
    with_tables: bool = True,
    on_done: Callable[[ReplicationOutput], None] | None = None,
) -> list[ReplicationOutput]:
    """Replications 0..n-1, in a process pool when ``workers`` > 1; ordered by index."""
    jobs: list[Job[object]] = [Job(scenario, r, seed, with_tables) for r in range(replications)]
    outputs: list[ReplicationOutput] = []
    for out, _ in map_ordered(run_job, jobs, workers):
        outputs.append(out)
        if on_done:
            on_done(out)
    return outputs


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1))


def summarise(scenario: Scenario, outputs: list[ReplicationOutput], seed: int) -> dict[str, object]:
    """The ``summary.json`` document: every KPI as mean and CI across replications."""
    conf = scenario.run.confidence

    def block(values: dict[str, list[float]], units: dict[str, str]) -> dict[str, object]:
        return {k: estimate(v, conf).as_dict(units[k]) for k, v in values.items()}

    # KPIs of finite room, of other markets and of re-routing exist only in scenarios that
    # have them
    corridor_units = _present(
        {**CORRIDOR_UNITS, **HELD_CORRIDOR_UNITS, **REROUTED_CORRIDOR_UNITS},
        outputs[0].kpis.corridor,
    )
    corridor = {k: [o.kpis.corridor[k] for o in outputs] for k in corridor_units}
    first_node = next(iter(outputs[0].kpis.nodes.values()), {})
    node_units = _present({**NODE_UNITS, **HELD_NODE_UNITS, **MARKET_NODE_UNITS}, first_node)
    nodes = {
        nid: block({k: [o.kpis.nodes[nid][k] for o in outputs] for k in node_units}, node_units)
        for nid in scenario.nodes
    }
    flows = {
        fid: block({k: [o.kpis.flows[fid][k] for o in outputs] for k in FLOW_UNITS}, FLOW_UNITS)
        for fid in scenario.flows
    }
    markets = {
        m: block({k: [o.kpis.markets[m][k] for o in outputs] for k in MARKET_UNITS}, MARKET_UNITS)
        for m in outputs[0].kpis.markets
    }
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "replications": len(outputs),
        "seed": seed,
        "confidence": conf,
        "start_date": scenario.run.start_date.isoformat(),
        "warmup_days": scenario.run.warmup_days,
        "horizon_days": scenario.run.horizon_days,
        "kpis": block(corridor, corridor_units),
        "nodes": nodes,
        "flows": flows,
        **({"markets": markets} if markets else {}),
    }


def _present(units: dict[str, str], values: dict[str, float]) -> dict[str, str]:
    return {k: u for k, u in units.items() if k in values}


def draw_rows(outputs: list[ReplicationOutput]) -> Columns:
    """``draws.parquet``: the replications table's layout with the draw's index as ``draw``."""
    rows = replication_rows(outputs)
    rows["draw"] = rows.pop("replication")
    return {"draw": rows["draw"], **{k: v for k, v in rows.items() if k != "draw"}}


def replication_rows(outputs: list[ReplicationOutput]) -> Columns:
    """Long table: one row per (replication, scope, KPI) for ``replications.parquet``."""
    rep: list[int] = []
    scope: list[str] = []
    name: list[str] = []
    kpi: list[str] = []
    value: list[float] = []
    for o in outputs:
        groups = [("corridor", "", o.kpis.corridor)]
        groups += [("node", nid, v) for nid, v in o.kpis.nodes.items()]
        groups += [("flow", fid, v) for fid, v in o.kpis.flows.items()]
        groups += [("market", m, v) for m, v in o.kpis.markets.items()]
        for sc, nm, values in groups:
            for k, v in values.items():
                rep.append(o.replication)
                scope.append(sc)
                name.append(nm)
                kpi.append(k)
                value.append(v)
    return {
        "replication": np.asarray(rep, dtype=np.int32),
        "scope": scope,
        "name": name,
        "kpi": kpi,
        "value": np.asarray(value, dtype=float),
    }
