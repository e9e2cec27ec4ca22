"""The chain of history years a run or a fit reads: a year's scenario file and, following
``history.previous``, every year before it (each link relative to the file that sets it, so a
scenario extending a year's file keeps its chain). Kept apart from the choice itself
(:mod:`sim.choice.history`), which only sees resolved numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.config.history import HistoryYear
from sim.config.loader import load_raw, validate_raw
from sim.config.scenario import Scenario
from sim.errors import ConfigError


@dataclass(frozen=True)
class HistoryYearFile:
    """A year's scenario with the file it came from."""

    path: Path
    scenario: Scenario

    @property
    def history(self) -> HistoryYear:
        assert self.scenario.history is not None
        return self.scenario.history


def load_chain(path: Path) -> list[HistoryYearFile]:
    """The scenario and every year before it, oldest first, following ``history.previous``
    (relative to the file that sets it, so a scenario extending a year's file keeps its chain)."""
    chain: list[HistoryYearFile] = []
    seen: set[Path] = set()
    current: Path | None = path
    while current is not None:
        if current.resolve() in seen:
            raise ConfigError(str(path), ("history", "previous"), "the years form a cycle")
        seen.add(current.resolve())
        raw = load_raw(current)
        scenario = validate_raw(raw)
        if scenario.history is None:
            raise ConfigError(str(current), ("history",), "missing: not a history scenario")
        if chain and scenario.history.year != chain[-1].history.year - 1:
            raise ConfigError(
                str(current),
                ("history", "year"),
                f"expected {chain[-1].history.year - 1} (the year before "
                f"{chain[-1].path.name}), got {scenario.history.year}",
            )
        chain.append(HistoryYearFile(current, scenario))
        prev = scenario.history.previous
        if prev is None:
            current = None
        else:
            origin = Path(raw.source_of(("history", "previous")) or str(current))
            current = origin.parent / prev
            if not current.exists():
                raise ConfigError(str(origin), ("history", "previous"), f"no such file: {prev}")
    return chain[::-1]


def latest_year_file(folder: Path) -> Path:
    """The newest year's scenario in a history folder (its chain reaches back to the first)."""
    files = sorted(p for p in folder.glob("*.yaml") if p.stem.isdigit())
    if not files:
        raise ConfigError(str(folder), (), "no year files (e.g. 2016.yaml) in this folder")
    return files[-1]


def history_chain(history: Path) -> list[HistoryYearFile]:
    """The chain of years that ``--history`` names: a folder's newest year, or one year's file,
    with every year before it (what fit-history and backtest read)."""
    return load_chain(latest_year_file(history) if history.is_dir() else history)
