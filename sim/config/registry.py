"""The headline registry and the calibration targets of the baselines, as data.

Two small YAML files kinds under ``params/`` (in folders of their own, so that nothing takes
them for a scenario or a params fragment):

- ``params/headline/registry.yaml``: the scenarios ``corridor headline`` runs, each with the
  baseline it is measured against and the node it acts on, in the table's order;
- ``params/targets/<baseline>.yaml``: the sourced figures ``corridor calibrate`` checks a
  shipped baseline against, each with its facts rows (``corridor_facts.md``), the measure that
  computes it from a replication (:mod:`sim.analysis.measures`) and its band (null: reported,
  not checked). Scenario-specific targets stay in the scenarios' ``observed:`` blocks.

One reader (:func:`read_model`) validates either with pydantic and turns the first problem
into a one-line ``ConfigError`` (file, field path, problem: exit code 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.config.loader import read_yaml
from sim.errors import ConfigError

HEADLINE_REGISTRY = Path("params/headline/registry.yaml")
"""Where the registry lives, relative to the project root (the folder above ``scenarios/``)."""
TARGETS_FOLDER = Path("params/targets")
"""Where a baseline's targets live, relative to the project root: ``<scenario name>.yaml``."""


class HeadlinePair(BaseModel):
    """One row of the headline table: a scenario file, its baseline file (names under
    ``scenarios/`` without ``.yaml``) and the node the scenario acts on."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1)
    baseline: str = Field(min_length=1)
    node: str = Field(min_length=1)
    why: str = ""


class HeadlineRegistry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pairs: list[HeadlinePair] = Field(min_length=1)


TargetMeasure = Literal[
    "segment_days",
    "transit_days",
    "handling_hours",
    "dwell_hours",
    "node_utilisation",
    "pooled_utilisation",
    "line_use",
    "teu_per_year",
]
_NEEDS: dict[str, tuple[str, ...]] = {
    "segment_days": ("from_nodes", "to_nodes"),
    "transit_days": ("origins", "destinations"),
    "handling_hours": ("nodes",),
    "dwell_hours": ("nodes",),
    "node_utilisation": ("nodes",),
    "pooled_utilisation": ("nodes",),
    "line_use": ("nodes", "capacity_trains_per_day"),
    "teu_per_year": (),
}
"""The fields each measure reads (the others must be left out)."""
_ONE_NODE = ("handling_hours", "dwell_hours", "node_utilisation", "line_use")


class TargetSpec(BaseModel):
    """A sourced figure and the band the simulated mean must fall in (null: report only)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    source: str = Field(min_length=1, description="as printed: facts rows and their figures")
    facts: list[str] = Field(min_length=1, description="row ids in corridor_facts.md")
    measure: TargetMeasure
    band: tuple[float, float] | None
    unit: Literal["days", "hours", "fraction", "TEU"]
    nodes: list[str] | None = None
    from_nodes: list[str] | None = None
    to_nodes: list[str] | None = None
    origins: list[str] | None = Field(default=None, description="country codes")
    destinations: list[str] | None = Field(default=None, description="country codes")
    via_port: bool = False
    capacity_trains_per_day: float | None = Field(default=None, gt=0)

    @field_validator("band")
    @classmethod
    def _ordered(cls, band: tuple[float, float] | None) -> tuple[float, float] | None:
        if band is not None and band[0] > band[1]:
            raise ValueError(f"[{band[0]:g}, {band[1]:g}] has low above high")
        return band

    @model_validator(mode="after")
    def _sound(self) -> TargetSpec:
        needs = _NEEDS[self.measure]
        for name in ("nodes", "from_nodes", "to_nodes", "origins", "destinations"):
            given = getattr(self, name)
            if name in needs and not given:
                raise ValueError(f"measure '{self.measure}' needs {name}")
            if name not in needs and given is not None:
                raise ValueError(f"measure '{self.measure}' takes no {name}")
        if ("capacity_trains_per_day" in needs) != (self.capacity_trains_per_day is not None):
            raise ValueError("capacity_trains_per_day goes with measure 'line_use' only")
        if self.measure in _ONE_NODE and self.nodes is not None and len(self.nodes) != 1:
            raise ValueError(f"measure '{self.measure}' needs exactly one node")
        return self


class BaselineTargets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1, description="the baseline's scenario name")
    targets: list[TargetSpec] = Field(min_length=1)


M = TypeVar("M", bound=BaseModel)


def read_model(model: type[M], path: Path) -> M:
    """A YAML file validated as ``model``, or a one-line ConfigError (file, field, problem)."""
    data = read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        msg = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = "unknown field"
        loc = tuple(p for p in first["loc"] if not str(p).startswith("function-"))
        raise ConfigError(str(path), loc, msg) from None


def project_file(start: Path, relative: Path) -> Path | None:
    """``relative`` in the nearest folder at or above ``start`` that has it (the project root
    of a scenario file or folder, wherever the command runs from)."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / relative).is_file():
            return folder / relative
    return None


def load_headline_registry(scenarios_folder: Path) -> list[HeadlinePair]:
    """The registry of the project that holds ``scenarios_folder``."""
    path = project_file(scenarios_folder, HEADLINE_REGISTRY)
    if path is None:
        raise ConfigError(str(scenarios_folder), (), f"no {HEADLINE_REGISTRY} above this folder")
    pairs = read_model(HeadlineRegistry, path).pairs
    names = [p.scenario for p in pairs]
    for i, name in enumerate(names):
        if name in names[:i]:  # one row per scenario: --only picks rows by it
            raise ConfigError(str(path), ("pairs", i, "scenario"), f"'{name}' is listed twice")
    return pairs


def load_targets(scenario_file: Path, scenario_name: str) -> list[TargetSpec]:
    """The targets of a shipped baseline (``params/targets/<name>.yaml`` of the project that
    holds the scenario file), or none for any other scenario."""
    path = project_file(scenario_file.parent, TARGETS_FOLDER / f"{scenario_name}.yaml")
    if path is None:
        return []
    found = read_model(BaselineTargets, path)
    if found.scenario != scenario_name:
        problem = f"holds the targets of '{found.scenario}', not of '{scenario_name}'"
        raise ConfigError(str(path), ("scenario",), problem)
    return found.targets
