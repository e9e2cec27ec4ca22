"""``corridor calibrate``: the scenarios run, then read against their targets.

Each runs through the workflow's one lifecycle (:mod:`sim.workflow.lifecycle`, the path of
``corridor run``) and hands the outcomes to analysis, which only reads: analysis may not
run a simulation (tests/test_architecture.py), and the workflow sits below analysis, so
the two meet here, above both. Nothing here prints; the command does. (The headline's
runs are :mod:`sim.workflow.headline`'s, read by :func:`sim.analysis.headline.headline_of`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.analysis.targets import (
    Report,
    Row,
    rail_share_row,
    rows_of,
    share_choice,
    target_probe,
)
from sim.choice.fixed_point import Iteration
from sim.engine.replications import ReplicationOutput
from sim.progress import Step
from sim.workflow.lifecycle import choose, prepare, run_scenario, run_values


def calibrate_scenario(
    path: Path,
    replications: int,
    seed: int | None = None,
    horizon_days: float | None = None,
    on_step: Step | None = None,
) -> list[Row]:
    """Run one scenario ``replications`` times as ``corridor run`` would (a history year
    with its fitted demand, the mode choice when on) and estimate each of its targets; a
    baseline with an observed rail volume adds its rail share at the fixed point.
    ``on_step`` hears of each replication and each mode-choice iteration."""
    step = on_step or (lambda note: None)
    prepared = prepare(path, values=run_values(horizon_days=horizon_days))
    scenario = prepared.scenario
    root = scenario.run.seed if seed is None else seed

    def done(out: ReplicationOutput) -> None:
        step(f"{scenario.name}: replication {out.replication}")

    def iteration(it: Iteration) -> None:
        step(f"{scenario.name}: mode choice iteration {it.iteration}, gap {it.gap:.3f}")

    probe = target_probe(path, prepared.loaded)
    outcome = run_scenario(
        prepared,
        replications=replications,
        seed=root,
        with_tables=False,
        probes=[probe],
        on_done=done,
        on_iteration=iteration,
    )
    rows = rows_of(scenario, probe, [probed[0] for probed in outcome.probes])
    mc = share_choice(scenario)
    if mc is None:
        return rows
    solution = choose(scenario, root, on_iteration=iteration, mode_choice=mc).solution
    assert solution is not None  # switched on
    return [*rows, rail_share_row(scenario, solution)]


def calibrate(
    files: Sequence[Path],
    replications: int,
    seed: int | None = None,
    horizon_days: float | None = None,
    on_step: Step | None = None,
) -> Report:
    """Every file's targets (``corridor calibrate``)."""
    report = Report(replications=replications, seed=seed or 0, horizon_days=horizon_days or 0)
    for path in files:
        report.rows.extend(calibrate_scenario(path, replications, seed, horizon_days, on_step))
    return report
