"""The uncertain inputs a run's draws vary (``params/uncertainty.yaml``), and what a value of
each does to a scenario's document.

Why data and not code: the assumption rows of docs/model.md each give a range to sweep; a
prediction interval is only as honest as the list of what it let vary, so that list is a file
a reviewer reads next to the docs, with the row id on every entry, and a user can widen,
narrow or add to it without touching the program.

An input sets every field its ``paths`` match (``*`` and other shell wildcards match within
one dotted segment). With ``range`` the field takes the drawn value; with ``factor`` the
field's own value is multiplied, every number of a distribution (``{dist: uniform, low: 150,
high: 250}`` × 2 = ``uniform(300, 500)``) or of a mapping of them (a node's
``handling_hours_by_type``). Integer fields are rounded (at least 1). Unset fields (``None``:
a node without a room limit) are left alone, so an input never adds a mechanism a scenario
does not have.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.config.registry import project_file, read_model

UNCERTAINTY_FILE = Path("params/uncertainty.yaml")


class UncertainInput(BaseModel):
    """One assumption row's range, as the draws use it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=40)
    description: str = ""
    paths: tuple[str, ...] = Field(min_length=1, max_length=100)
    range: tuple[float, float] | None = None
    factor: tuple[float, float] | None = None
    posterior: str | None = None
    """The border posterior's parameter that replaces this input where a posterior is shipped
    (``lambda`` for A34's λ): its prior range is used only until then."""

    @field_validator("paths")
    @classmethod
    def _paths(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        for p in paths:
            parts = p.split(".")
            if len(parts) < 2 or any(not s for s in parts):
                raise ValueError(f"'{p}' is not a dotted path like nodes.brest.room_trains")
        return paths

    @model_validator(mode="after")
    def _one_kind(self) -> UncertainInput:
        bounds = self.range if self.factor is None else self.factor
        if (self.range is None) == (self.factor is None):
            raise ValueError("give exactly one of range: [low, high] or factor: [low, high]")
        assert bounds is not None
        low, high = bounds
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise ValueError(f"[{low}, {high}] is not an interval (low ≤ high, finite)")
        if self.factor is not None and low < 0:
            raise ValueError("a factor is ≥ 0")
        if max(abs(low), abs(high)) > 1e9:
            raise ValueError("values beyond ±1e9 are not inputs any field takes")
        return self

    @property
    def low(self) -> float:
        return (self.range or self.factor or (0.0, 0.0))[0]

    @property
    def high(self) -> float:
        return (self.range or self.factor or (0.0, 0.0))[1]

    @property
    def kind(self) -> str:
        return "range" if self.range is not None else "factor"

    def value(self, u: float) -> float:
        """The drawn number (a value or a factor) at the point ``u`` of [0, 1)."""
        return self.low + u * (self.high - self.low)

    def whole(self, u: float) -> int:
        """A ``range`` drawn for an integer field: each whole number of [low, high] equally
        likely (as a sweep's interval on an integer field), at least 1."""
        low, span = math.ceil(self.low), math.floor(self.high) - math.ceil(self.low)
        return max(1, low + min(int(u * (span + 1)), max(span, 0)))


class Uncertainty(BaseModel):
    """The whole catalogue: inputs in the order the draws' hypercube takes them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inputs: tuple[UncertainInput, ...] = Field(max_length=200)

    @field_validator("inputs")
    @classmethod
    def _unique(cls, inputs: tuple[UncertainInput, ...]) -> tuple[UncertainInput, ...]:
        seen: set[str] = set()
        for i in inputs:
            if i.id in seen:
                raise ValueError(f"input '{i.id}' is listed twice")
            seen.add(i.id)
        return inputs


def is_uncertainty_file(doc: dict[str, Any]) -> bool:
    """Is this document the catalogue (its one key, ``inputs``, a list; ``name`` is the
    loader's)?"""
    return set(doc) - {"name"} == {"inputs"} and isinstance(doc["inputs"], list)


def find_uncertainty(start: Path) -> Path | None:
    """``params/uncertainty.yaml`` of the project that holds ``start`` (a scenario file)."""
    return project_file(start.parent if start.suffix else start, UNCERTAINTY_FILE)


def load_uncertainty(path: Path) -> Uncertainty:
    """The catalogue, or a one-line ConfigError (file, field path, problem)."""
    return read_model(Uncertainty, path)


def _matches(doc: Any, parts: list[str], prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """The concrete paths of ``doc`` that the wildcard path ``parts`` matches."""
    if not parts:
        yield prefix
        return
    if not isinstance(doc, dict):
        return
    head, rest = parts[0], parts[1:]
    keys = [k for k in doc if fnmatch.fnmatchcase(str(k), head)] if _wild(head) else [head]
    for k in keys:
        if k in doc:
            yield from _matches(doc[k], rest, (*prefix, str(k)))


def _wild(segment: str) -> bool:
    return any(c in segment for c in "*?[")


def _get(doc: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _scaled(value: Any, factor: float) -> Any:
    """``value`` × ``factor``: numbers scaled, a distribution's or mapping's numbers too."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return max(1, round(value * factor))
    if isinstance(value, float):
        return value * factor
    if isinstance(value, dict):
        return {k: (v if k == "dist" else _scaled(v, factor)) for k, v in value.items()}
    return value


def _set_to(current: Any, item: UncertainInput, u: float) -> Any:
    """A ``range`` input's value in the field's own type."""
    if isinstance(current, bool):
        return current
    if isinstance(current, int):
        return item.whole(u)
    return item.value(u)


def field_values(doc: dict[str, Any], item: UncertainInput, u: float) -> dict[str, Any]:
    """The scenario fields (dotted path → new value) that ``item`` at the point ``u`` of
    [0, 1) sets in the resolved document ``doc``; empty when the scenario has none of its
    fields set."""
    out: dict[str, Any] = {}
    for pattern in item.paths:
        for path in _matches(doc, pattern.split("."), ()):
            current = _get(doc, path)
            if current is None or isinstance(current, (str, list)):
                continue
            if item.factor is not None:
                new = _scaled(current, item.value(u))
            else:
                new = _set_to(current, item, u)
            out[".".join(path)] = new
    return out
