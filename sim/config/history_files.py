"""Reading the demand side's params files (observations, assumptions, structures, ensemble)
with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.config.demand import Assumptions, DemandStructure, Ensemble
from sim.config.history import Observed
from sim.config.registry import read_model

DEFAULT_ENSEMBLE = Path("params/demand/ensemble.yaml")
DEFAULT_OBSERVED = Path("params/history_observed.yaml")
DEFAULT_HISTORY = Path("scenarios/history")


def load_observed(path: Path) -> Observed:
    """``params/history_observed.yaml``: the observations the fit may see."""
    return read_model(Observed, path)


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
    return read_model(Assumptions, path)


def load_structure(path: Path) -> DemandStructure:
    """A structure file of ``params/demand/``: switches, priors and (once fitted) draws."""
    return read_model(DemandStructure, path)


def load_ensemble(path: Path) -> Ensemble:
    """``params/demand/ensemble.yaml``: the structures and the rule that weighs them."""
    return read_model(Ensemble, path)


def load_demand_file(path: Path, kind: type[BaseModel]) -> BaseModel:
    """Validate a demand file of a known kind (``corridor validate``); an ensemble also
    checks that every structure it names exists and validates."""
    model = read_model(kind, path)
    if isinstance(model, Ensemble):
        from sim.errors import ConfigError

        for k, rel in enumerate(model.structures):
            file = path.parent / rel
            if not file.is_file():
                raise ConfigError(str(path), ("structures", str(k)), f"no such file: {rel}")
            load_structure(file)
    return model
