"""One point of a sweep: its document (the base with the point's values, derived fields and
border draw written in) and its scenario (validated, with a history year's demand).

Why a module of its own: planning validates every point through these, the chunks build the
scenarios the workers run through them, and :mod:`sim.sweep.demand` builds the documents whose
demand it solves; the three must write a point the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sim.choice.history_demand import YearDemand, applied, quantile_teu, year_demand
from sim.config.loader import RawScenario, apply_override, copy_document, validate_raw
from sim.config.scenario import Scenario
from sim.sweep.derived import Derived, derived_value
from sim.sweep.posterior import DRAW_INPUT, BorderDraws
from sim.sweep.spec import DEMAND_QUANTILE, Parameter, split_path


def point_raw(
    base: RawScenario,
    params: Sequence[Parameter],
    values: Sequence[Any],
    source: str = "--vary",
    derived: Mapping[str, Derived] | None = None,
    border: BorderDraws | None = None,
) -> RawScenario:
    """The document of one point: the base document with the point's values written in.

    ``source`` names where the parameters were given (``--vary`` or the sweep file), so an
    error at a point says which file to fix. Named inputs are written to no field themselves;
    ``derived`` fields are written from them and the parameters; ``border`` writes the fields
    of the point's joint draw of the border posterior (its ``border_draw`` value)."""
    raw = RawScenario(copy_document(base.data), dict(base.origin), base.main_file)
    for p, value in zip(params, values, strict=True):
        if p.written:
            apply_override(raw, split_path(p.path), value, f"{source}: {p.path}={value}")
    columns = {p.path: value for p, value in zip(params, values, strict=True)}
    for path, rule in (derived or {}).items():
        value = derived_value(rule, columns)
        apply_override(raw, split_path(path), value, f"{source}: derived: {path}={value:g}")
    if border is not None:
        k = int(columns[DRAW_INPUT])
        for path, value in border.overrides[k].items():
            apply_override(raw, split_path(path), value, f"{source}: border draw {k}: {path}")
    return raw


def point_scenario(
    base: RawScenario,
    params: Sequence[Parameter],
    values: Sequence[Any],
    source: str = "--vary",
    history_cache: dict[str, YearDemand] | None = None,
    derived: Mapping[str, Derived] | None = None,
    border: BorderDraws | None = None,
) -> Scenario:
    """The scenario of one point (:func:`point_raw`), validated, with a history year's rail
    flows set from its fitted choice, as `corridor run` sets them, so a point that varies the
    year's inputs (``history.sea.rate_usd_per_feu``) varies its demand too. ``history_cache``
    holds the demand per distinct history block (:mod:`sim.sweep.demand` fills it on the
    sweep's workers before the runs, each block as its first point; a block missing from it
    is solved here for this point). With a ``demand_quantile`` column the year's rail demand
    is that quantile of the ensemble's predictive distribution
    (:func:`sim.choice.history_demand.quantile_teu`) instead of its median choice."""
    raw = point_raw(base, params, values, source, derived, border)
    scenario = validate_raw(raw)
    demand = year_demand(scenario, raw, cache=history_cache)
    quantile = next(
        (v for p, v in zip(params, values, strict=True) if p.path == DEMAND_QUANTILE), None
    )
    if demand is not None and quantile is not None:
        demand = dataclasses.replace(demand, teu=quantile_teu(demand, float(quantile)))
    return applied(scenario, demand, raw.main_file)
