"""The one path of a run (sim/workflow/lifecycle.py): every front end gets the same numbers.

Issue 21, item 2: load → history demand → choice → simulate was assembled in five places
that had drifted apart. These tests hold the one path to what a user relies on: a run in
memory is the run on disk, a batch of scenarios gives each what it gets alone, a scenario
handed over in memory runs as its file would, and a probe reads the replication it ran in.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from builders import one_node

from sim.config.loader import load_scenario
from sim.config.scenario import Scenario
from sim.engine.metrics import ReplicationKpis
from sim.engine.network import Network
from sim.engine.records import Records
from sim.engine.replications import simulate
from sim.workflow.lifecycle import Prepared, choose, prepare, run_batch, run_scenario
from sim.workflow.run import RunRequest, execute

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    """A single queue at 80 % load (one server, 1 h exponential handling, 0.8 trains/h)."""
    path = tmp_path / "queue.yaml"
    doc = one_node(1, {"dist": "exponential", "mean": 1.0}, 0.8, horizon_days=30, warmup_days=5)
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_run_in_memory_is_the_run_on_disk(scenario_file: Path, tmp_path: Path) -> None:
    """`corridor run` writes what the lifecycle returns: the same summary, KPI for KPI."""
    stored = execute(RunRequest(scenario_file, replications=3, seed=7, out=tmp_path / "r"))
    in_memory = run_scenario(scenario_file, replications=3, seed=7, with_tables=False)
    on_disk = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(in_memory.summary))
    assert stored.summary == in_memory.summary
    assert [o.replication for o in in_memory.outputs] == [0, 1, 2]


def test_a_batch_gives_each_scenario_what_it_gets_alone(scenario_file: Path) -> None:
    """Replications carry their seeds: batching two scenarios, in two processes, changes no
    number (the backtest's ensemble draws run this way)."""
    slow = prepare(scenario_file, ("nodes.border.handling_hours.mean=1.1",))
    fast = prepare(scenario_file)
    alone = [run_scenario(p, replications=2, with_tables=False).outputs for p in (slow, fast)]
    together = run_batch(
        [(p, choose(p.scenario)) for p in (slow, fast)],
        replications=2,
        workers=2,
        with_tables=False,
    )
    for outcome, single in zip(together, alone, strict=True):
        assert [o.kpis.corridor for o in outcome.outputs] == [o.kpis.corridor for o in single]
    # and the two differ: a slower server waits longer (M/M/1, ρ 0.8 → 0.88)
    wait = [
        np.mean([o.kpis.nodes["border"]["wait_hours_mean"] for o in outcome.outputs])
        for outcome in together
    ]
    assert wait[0] > wait[1]


def test_a_scenario_in_memory_takes_overrides_as_its_file_does(scenario_file: Path) -> None:
    """The draws of an ensemble hand the lifecycle a scenario, not a file: its ``--set``
    overrides are validated the same way and give the same scenario."""
    loaded, _ = load_scenario(scenario_file)
    setting = ("nodes.border.servers=2", "run.horizon_days=12")
    from_memory = prepare(loaded, setting).scenario
    from_file = prepare(scenario_file, setting).scenario
    assert from_memory == from_file
    assert from_memory.nodes["border"].servers == 2


def trains_delivered(scenario: Scenario, net: Network, rec: Records, kpis: ReplicationKpis) -> int:
    """A probe: the trains delivered in the measurement window, counted from the records."""
    done = rec.delivered_hours
    return int(((done >= rec.warmup_hours) & (done <= rec.end_hours)).sum())


def test_a_probe_reads_the_replication_it_ran_in(scenario_file: Path) -> None:
    """A probe sees the records of its own replication, as simulating it again would."""
    outcome = run_scenario(
        scenario_file, replications=2, seed=3, with_tables=False, probes=[trains_delivered]
    )
    scenario = outcome.scenario
    for r, (count,) in enumerate(outcome.probes):
        net, rec = simulate(scenario, r, 3)
        assert count == trains_delivered(scenario, net, rec, outcome.outputs[r].kpis)
        assert count > 0.8 * 24 * 30 * 0.8  # about 0.8 trains an hour for 30 days came out


class _Stop(Exception):
    """Raised by a stand-in for the run, once the scenario it was given is seen."""


def test_calibrate_runs_a_history_year_at_its_fitted_demand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`corridor calibrate` once simulated a history year's flows as written, while `corridor
    run` simulates the demand ensemble's: both now take the lifecycle's prepared scenario."""
    from sim.choice.history_demand import china_eu_flows, is_westbound, share_1520
    from sim.cli import studies

    seen: list[object] = []

    def stand_in(source: object, **_: object) -> None:
        seen.append(source)
        raise _Stop

    monkeypatch.setattr(studies, "run_scenario", stand_in)
    with pytest.raises(_Stop):
        studies.calibrate_scenario(ROOT / "scenarios/history/2021.yaml", 1, horizon_days=10)
    (prepared,) = seen
    assert isinstance(prepared, Prepared) and prepared.demand is not None
    s = prepared.scenario
    carried = [0.0, 0.0]
    for fid, teu in china_eu_flows(s).items():
        carried[0 if is_westbound(s, fid) else 1] += teu * share_1520(s, fid)
    assert carried == pytest.approx(list(prepared.demand.teu), rel=1e-4)
    written = china_eu_flows(prepared.loaded)
    assert sum(china_eu_flows(s).values()) != pytest.approx(sum(written.values()), rel=1e-3)
