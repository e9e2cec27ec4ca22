"""The library API for notebooks and scripts: the handful of calls a user needs, by name.

Each function is a thin front over one stage (config, workflow, sweep, store, analysis,
report), the same code the ``corridor`` command calls, so a notebook and the CLI give the
same numbers and write the same results directories. Import it as ``import sim`` (the
package re-exports these names lazily, so ``import sim`` stays cheap; ``sim.__all__`` is the
one list of them, and the types it names are re-exported here with ``X as X``).

The package is ``sim`` while the distribution is ``corridor``: the project's layout (``sim/``
beside ``params/`` and ``scenarios/``) was fixed by its users before the name; the command
is ``corridor``. The sweep and report calls are ``run_sweep`` and ``write_html_report``
because ``sim.sweep`` and ``sim.report`` are subpackages (an attribute of the same name would
be replaced by the subpackage as soon as it is imported).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from sim.analysis.compare import Difference as Difference
from sim.analysis.compare import differences
from sim.config.loader import load_scenario as _load
from sim.config.scenario import Scenario as Scenario
from sim.errors import ConfigError as ConfigError
from sim.report.html import write_report
from sim.store.runs import RunData as RunData
from sim.store.runs import open_runs, parse_metric
from sim.store.sweeps import SweepData as SweepData
from sim.sweep.plan import SweepRequest
from sim.sweep.runner import SweepSummary as SweepSummary
from sim.sweep.runner import sweep
from sim.workflow.run import RunOutcome as RunOutcome
from sim.workflow.run import RunRequest, execute


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """A scenario file, merged (``extends``), overridden (``dotted.path=value``) and validated.

    Raises :class:`sim.errors.ConfigError` (file, field path, problem) on bad input."""
    return _load(path, overrides)[0]


def run(
    scenario_file: str | Path,
    *,
    overrides: Sequence[str] = (),
    replications: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    workers: int = 1,
    draws: int = 0,
) -> RunOutcome:
    """Run a scenario file as ``corridor run`` does and write its results directory.

    ``draws`` > 0 also runs that many joint draws of the uncertain inputs (``corridor run
    --draws``): the summary's ``prediction`` block holds each KPI's 90 % prediction interval
    beside the replication interval of ``kpis``. Returns the resolved scenario, the directory
    and the summary (KPIs with intervals)."""
    request = RunRequest(
        scenario_file=Path(scenario_file),
        overrides=tuple(overrides),
        replications=replications,
        seed=seed,
        out=Path(out) if out is not None else None,
        workers=max(1, workers),
        draws=draws,
    )
    return execute(request)


def run_sweep(
    target: str | Path,
    *,
    vary: Sequence[str] = (),
    overrides: Sequence[str] = (),
    sampler: str | None = None,
    samples: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    workers: int = 1,
    dask: str | None = None,
) -> SweepSummary:
    """Run a sweep (a scenario with ``vary`` specs, or a sweep YAML) as ``corridor sweep`` does."""
    request = SweepRequest(
        target=Path(target),
        vary=tuple(vary),
        overrides=tuple(overrides),
        sampler=sampler,
        samples=samples,
        replications=replications,
        seed=seed,
        out=Path(out) if out is not None else None,
        resume=resume,
        workers=max(1, workers),
        dask=dask,
    )
    return sweep(request)


def open_results(*paths: str | Path) -> list[RunData]:
    """Read-only views of results directories (summary, manifest, scenario, tables)."""
    return open_runs([Path(p) for p in paths])


def open_sweep(path: str | Path, metric: str | None = None) -> SweepData:
    """A sweep directory's KPI values per run with the varied parameters beside them."""
    return SweepData.open(Path(path), metric)


def compare(
    baseline: str | Path, *others: str | Path, metrics: Sequence[str] = ()
) -> list[Difference]:
    """Each run against the baseline, per metric: paired by replication when the seeds match."""
    runs = open_runs([Path(baseline), *(Path(p) for p in others)])
    chosen = [parse_metric(m) for m in (metrics or ("throughput_teu_per_day",))]
    return differences(runs, chosen)


def write_html_report(
    paths: Sequence[str | Path], out: str | Path, metrics: Sequence[str] = ()
) -> Path:
    """The self-contained HTML report of one or more results directories."""
    return write_report([Path(p) for p in paths], Path(out), list(metrics) or None)
