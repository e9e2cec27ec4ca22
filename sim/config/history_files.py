"""Reading the demand side's params files (observations, assumptions, structures, ensemble)
with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sim.config.demand import Assumptions, DemandStructure, Ensemble
from sim.config.history import Observed
from sim.config.loader import read_yaml
from sim.errors import ConfigError, format_path

DEFAULT_ENSEMBLE = Path("params/demand/ensemble.yaml")
DEFAULT_OBSERVED = Path("params/history_observed.yaml")
DEFAULT_HISTORY = Path("scenarios/history")

M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], data: dict[str, Any], source: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        msg = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = "unknown field"
        path = format_path(p for p in first["loc"] if not str(p).startswith("function-"))
        raise ConfigError(source, tuple(path.split(".")) if path else (), msg) from None


def load_observed(path: Path) -> Observed:
    """``params/history_observed.yaml``: the observations the fit may see."""
    return _validate(Observed, read_yaml(path), str(path))


def history_file_kind(data: dict[str, Any]) -> type[BaseModel] | None:
    """Which history params model a document is, if any (for ``corridor validate``)."""
    if "priors" in data and "exclusion" in data:
        return DemandStructure
    if "structures" in data and "rule" in data:
        return Ensemble
    if "classes" in data and "coverage_trains" in data:
        return Assumptions
    if "years" in data and "total_band" in data:
        return Observed
    return None


def load_assumptions(path: Path) -> Assumptions:
    """``params/demand/assumptions.yaml``: the demand side's shared assumptions."""
    return _validate(Assumptions, read_yaml(path), str(path))


def load_structure(path: Path) -> DemandStructure:
    """A structure file of ``params/demand/``: switches, priors and (once fitted) draws."""
    return _validate(DemandStructure, read_yaml(path), str(path))


def load_ensemble(path: Path) -> Ensemble:
    """``params/demand/ensemble.yaml``: the structures and the rule that weighs them."""
    return _validate(Ensemble, read_yaml(path), str(path))


def load_demand_file(path: Path, kind: type[BaseModel]) -> BaseModel:
    """Validate a demand file of a known kind (``corridor validate``); an ensemble also
    checks that every structure it names exists and validates."""
    model = _validate(kind, read_yaml(path), str(path))
    if isinstance(model, Ensemble):
        from sim.errors import ConfigError

        for k, rel in enumerate(model.structures):
            file = path.parent / rel
            if not file.is_file():
                raise ConfigError(str(path), ("structures", str(k)), f"no such file: {rel}")
            load_structure(file)
    return model
