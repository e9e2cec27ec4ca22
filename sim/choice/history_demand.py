"""A history year's rail demand from the fitted choice, for ``corridor run`` and friends.

A scenario with a ``history`` block runs with its rail flows carrying what the fitted
time-series choice gives for that year: the earlier years come from the files the
``previous`` links name (each relative to the file that set it), this year from the
scenario as loaded (so ``--set history.sea.rate_usd_per_feu=...`` changes the demand), and
the parameters from ``history.params``. Without a ``history`` block nothing changes.
"""

from __future__ import annotations

from pathlib import Path

from sim.choice.backtest import with_rail_demand
from sim.choice.history import load_chain, run_chain, year_inputs
from sim.config.history_files import load_history_params
from sim.config.loader import RawScenario
from sim.config.scenario import Scenario
from sim.errors import ConfigError


def _relative(raw: RawScenario, field: str, value: str) -> Path:
    origin = Path(raw.source_of(("history", field)) or raw.main_file)
    path = origin.parent / value
    if not path.exists():
        raise ConfigError(str(origin), ("history", field), f"no such file: {value}")
    return path


def history_teu(scenario: Scenario, raw: RawScenario) -> tuple[float, float] | None:
    """Rail TEU per year (westbound, eastbound) the fitted choice gives this year, or None."""
    h = scenario.history
    if h is None or h.params is None:
        return None
    params = load_history_params(_relative(raw, "params", h.params))
    earlier = [] if h.previous is None else load_chain(_relative(raw, "previous", h.previous))
    if earlier and earlier[-1].history.year != h.year - 1:
        raise ConfigError(
            raw.source_of(("history", "year")) or raw.main_file,
            ("history", "year"),
            f"expected {earlier[-1].history.year + 1} (the year after its 'previous')",
        )
    a = params.assumptions
    inputs = [year_inputs(f.history, a) for f in earlier] + [year_inputs(h, a)]
    return run_chain(inputs, params.fitted, a)[-1].teu


def with_history_demand(scenario: Scenario, raw: RawScenario) -> Scenario:
    """The scenario with its rail flows set by the fitted choice (unchanged without one)."""
    teu = history_teu(scenario, raw)
    return scenario if teu is None else with_rail_demand(scenario, teu)
