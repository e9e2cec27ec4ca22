"""What `corridor validate` checks: any YAML file the project reads, by what it is.

A whole scenario (it has nodes once merged) is validated fully; a params fragment section by
section; a sweep file by planning the sweep, which validates every point it would run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.choice.border_supply import is_curves_file, read_curves
from sim.choice.history_demand import check_history
from sim.config.border_posterior import is_border_posterior_file, load_border_posterior
from sim.config.checks import scenario_warnings
from sim.config.history_files import history_file_kind, load_demand_file
from sim.config.loader import load_raw, load_scenario, validate_fragment
from sim.config.uncertainty import is_uncertainty_file, load_uncertainty
from sim.errors import ConfigError
from sim.sweep.plan import SweepRequest, plan_sweep
from sim.sweep.sweep_file import is_sweep_file

SCENARIO_KEYS = frozenset({"name", "extends", "run", "events"})
"""Top-level keys that only a scenario has (params files hold sections of the corridor)."""


def check_file(path: Path, on_warning: Callable[[ConfigError], None] | None = None) -> str:
    """Raise ConfigError on the first problem; return what the file is. Warnings (see
    :mod:`sim.config.checks`) go to ``on_warning``, or are raised when it is None."""
    raw = load_raw(path)
    if is_sweep_file(raw.data):
        plan = plan_sweep(SweepRequest(target=path))
        return f"sweep, {len(plan.points)} point(s)"
    if "nodes" in raw.data or SCENARIO_KEYS & raw.own_keys:
        # a scenario cut short must fail here, not only at `run`
        scenario, merged = load_scenario(path)
        # a history year's demand comes from files it names: read them now, not at `run`
        check_history(scenario, merged)
        for warning in scenario_warnings(scenario, merged):
            if on_warning is None:
                raise warning
            on_warning(warning)
        return "scenario"
    if is_curves_file(raw.data):  # the border wait curves (sim/choice/border_supply.py)
        read_curves(path)
        return "border wait curves"
    if is_border_posterior_file(raw.data):  # corridor calibrate --posterior
        load_border_posterior(path)
        return "border posterior"
    if is_uncertainty_file(raw.data):  # what a run's --draws varies
        load_uncertainty(path)
        return "uncertain inputs"
    kind = history_file_kind(raw.data)
    if kind is not None:  # the demand's files: observations, assumptions, structures, ensemble
        load_demand_file(path, kind)
        return "demand params"
    validate_fragment(raw)
    return "params"
