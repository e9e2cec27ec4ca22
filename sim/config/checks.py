"""Warnings about a valid scenario that probably does not do what its author meant.

Validation refuses what cannot run; these are things that run but change nothing, such as a
2025 closure in a 2023 scenario: it validates, runs, and the results look exactly like the
baseline, with no word. ``corridor run`` and ``corridor validate`` print each warning as one
line in the error format; with ``--strict`` they refuse the scenario (exit 2).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sim.config.loader import RawScenario
from sim.config.scenario import Scenario, event_hours
from sim.errors import ConfigError


def _date(start: dt.date, warmup_days: float, hours: float) -> str:
    origin = dt.datetime.combine(start, dt.time()) - dt.timedelta(days=warmup_days)
    return (origin + dt.timedelta(hours=hours)).date().isoformat()


def _own(source: str, main_file: str) -> bool:
    """Whether a field was set by the scenario file itself or on the command line."""
    if not Path(source).is_file():
        return True  # --set, or a value with no file behind it
    return Path(source).resolve() == Path(main_file).resolve()


def scenario_warnings(scenario: Scenario, raw: RawScenario) -> list[ConfigError]:
    """One entry per enabled event that does not overlap the measurement window, among the
    events this scenario file (or ``--set``) defines. Events inherited from a shared params
    file are a multi-year schedule by design (``params/border.yaml`` holds B1's 14 pairs until
    December 2021 for every year's scenario), so they are not warned about."""
    run = scenario.run
    w0 = run.warmup_days * 24.0
    w1 = w0 + run.horizon_days * 24.0
    window = (
        f"{_date(run.start_date, run.warmup_days, w0)} → "
        f"{_date(run.start_date, run.warmup_days, w1)}"
    )
    found = []
    for eid, event in scenario.events.items():
        if not event.enabled:
            continue
        start = event_hours(event.start, run.start_date, run.warmup_days)
        end = event_hours(event.end, run.start_date, run.warmup_days)
        if end > w0 and start < w1:
            continue
        when = (
            f"{_date(run.start_date, run.warmup_days, start)} → "
            f"{_date(run.start_date, run.warmup_days, end)}"
        )
        path: tuple[str | int, ...] = ("events", eid)
        source = raw.source_of((*path, "start"))
        if not _own(source, raw.main_file):
            continue
        found.append(
            ConfigError(
                source,
                path,
                f"runs {when}, outside the measured window {window}: it changes nothing "
                "(move it, or set run.start_date)",
            )
        )
    return found
