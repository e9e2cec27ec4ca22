"""The sweep YAML file: what a sweep written down for long or repeated use holds.

Besides parameters (:mod:`sim.sweep.spec` specs) a sweep file may sample *named inputs*
(``inputs:``), numbers that are no scenario field (a closure's length in days), and write
scenario fields *derived* from the sampled values (``derived:``, a scale times a sum: a
closure's end = its start + its length). They exist because a design samples independent
uncertainties while the scenario format spells some of them as two linked fields; a named
input is a column of the sweep's points like any parameter, so scenario discovery peels it.
It may also sample the border posterior's joint draws (``border_posterior:``,
:mod:`sim.sweep.posterior`) and a history year's demand across the demand ensemble's
predictive distribution (``demand_quantile:``, an interval of quantiles).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.config.loader import read_yaml
from sim.config.safe_yaml import InputProblem, load_value
from sim.errors import ConfigError, format_path
from sim.sweep.derived import Derived
from sim.sweep.posterior import PosteriorInput
from sim.sweep.spec import (
    DEMAND_QUANTILE,
    INTERVAL,
    Parameter,
    Sampler,
    field_type,
    parse_spec,
    split_path,
)
from sim.sweep.study import StudyBlock


class SweepFile(BaseModel):
    """A sweep written down for long or repeated use (paths relative to the file)."""

    model_config = ConfigDict(extra="forbid")

    scenario: str
    description: str = ""
    parameters: dict[str, str | int | float | list[Any]] = Field(min_length=1)
    sampler: Sampler = "grid"
    samples: int | None = Field(default=None, ge=1)
    replications: int | None = Field(default=None, ge=1)
    seed: int | None = Field(default=None, ge=0)
    set: dict[str, Any] = Field(default_factory=dict, description="fixed overrides: path: value")
    chunk_size: int | None = Field(default=None, ge=1)
    inputs: dict[str, str | list[Any]] = Field(
        default_factory=dict, description="named inputs: sampled numbers written to no field"
    )
    derived: dict[str, Derived] = Field(
        default_factory=dict, description="scenario path: scale × the sum of sampled values"
    )
    demand_quantile: str | None = Field(
        default=None,
        description="an interval inside (0, 1): each point's rail demand at that quantile of "
        "the demand ensemble's predictive distribution (a history year's sweep)",
    )
    border_posterior: PosteriorInput | None = Field(
        default=None, description="sample the border posterior's joint draws (sim.sweep.posterior)"
    )
    study: StudyBlock | None = Field(
        default=None, description="questions and labels for corridor study-report (not run)"
    )


def is_sweep_file(data: Mapping[str, Any]) -> bool:
    return "scenario" in data and "parameters" in data


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_input(name: str, spec: str | Sequence[Any], source: str) -> Parameter:
    """A named input: an interval (``3:21``) or a list of numbers, sampled like a float field."""
    if not _NAME.match(name):
        raise ConfigError(source, ("inputs", name), "a named input is lower_snake_case, no dots")
    if isinstance(spec, str) and (match := INTERVAL.match(spec.strip())):
        low, high = float(match.group(1)), float(match.group(2))
        if not low < high:
            raise ConfigError(source, ("inputs", name), f"interval '{spec}' needs low < high")
        return Parameter(name, spec.strip(), "interval", "float", low=low, high=high, written=False)
    items = list(spec) if not isinstance(spec, str) else [i.strip() for i in spec.split(",")]
    try:
        values = tuple(float(load_value(v) if isinstance(v, str) else v) for v in items)
    except (InputProblem, TypeError, ValueError):
        raise ConfigError(
            source, ("inputs", name), f"'{spec}' is not an interval (3:21) or a list of numbers"
        ) from None
    if not values:
        raise ConfigError(source, ("inputs", name), "the list of values is empty")
    return Parameter(name, json.dumps(list(values)), "list", "float", values, written=False)


def _check_derived(sweep: SweepFile, params: Sequence[Parameter], source: str) -> None:
    names = {p.path: p for p in params}
    for path, rule in sweep.derived.items():
        where = ("derived", path)
        if field_type(split_path(path)) not in ("int", "float", "other"):
            raise ConfigError(source, where, "is not a number field of the scenario format")
        if path in names:
            raise ConfigError(source, where, "is varied as a parameter: it cannot also be derived")
        for name in rule.of:
            if name not in names:
                raise ConfigError(source, where, f"'{name}' is not a parameter or named input")
            if names[name].field_type not in ("int", "float"):
                raise ConfigError(source, where, f"'{name}' is not a number: it cannot be summed")


def read_sweep_file(path: Path) -> tuple[SweepFile, list[Parameter]]:
    data = read_yaml(path)
    try:
        sweep = SweepFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and "[" in p))
        raise ConfigError(str(path), loc, str(first["msg"])) from None
    params = []
    for dotted, spec in sweep.parameters.items():
        given: str | list[Any] = spec if isinstance(spec, str | list) else str(spec)
        try:
            params.append(parse_spec(dotted, given, source=str(path)))
        except ConfigError as exc:
            raise ConfigError(
                str(path), ("parameters", format_path(exc.path)), exc.problem
            ) from None
    for name, spec in sweep.inputs.items():
        if name in sweep.parameters:
            raise ConfigError(str(path), ("inputs", name), "is also a parameter")
        if name == DEMAND_QUANTILE:
            raise ConfigError(str(path), ("inputs", name), "is the demand_quantile: field's name")
        params.append(parse_input(name, spec, str(path)))
    if sweep.demand_quantile is not None:
        try:
            quantile = parse_input(DEMAND_QUANTILE, sweep.demand_quantile, str(path))
        except ConfigError as exc:
            raise ConfigError(str(path), (DEMAND_QUANTILE,), exc.problem) from None
        if quantile.kind != "interval" or not 0.0 < quantile.low < quantile.high < 1.0:
            raise ConfigError(
                str(path), (DEMAND_QUANTILE,), "needs an interval inside (0, 1), such as 0.05:0.95"
            )
        params.append(quantile)
    _check_derived(sweep, params, str(path))
    return sweep, params
