"""Reading the two history params files (assumptions + fit, observations) with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sim.config.history import HistoryChoice, Observed
from sim.config.loader import read_yaml
from sim.errors import ConfigError, format_path

DEFAULT_PARAMS = Path("params/history_choice.yaml")
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


def load_history_params(path: Path) -> HistoryChoice:
    """``params/history_choice.yaml``: assumptions and fitted parameters."""
    return _validate(HistoryChoice, read_yaml(path), str(path))


def load_observed(path: Path) -> Observed:
    """``params/history_observed.yaml``: the observations the fit may see."""
    return _validate(Observed, read_yaml(path), str(path))


def history_file_kind(data: dict[str, Any]) -> type[BaseModel] | None:
    """Which history params model a document is, if any (for ``corridor validate``)."""
    if "assumptions" in data and "fitted" in data:
        return HistoryChoice
    if "years" in data and "total_band" in data:
        return Observed
    return None
