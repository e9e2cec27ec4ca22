"""What a sweep varies: ``--vary PATH=SPEC`` specs, the sweep YAML file, and the samplers.

A SPEC is a list (``8,12,16``; each item is read as YAML, so ``true,false`` are booleans), a
range (``range(8,24,4)``, Python semantics, integers) or an interval (``8:24``, for LHS and
Sobol). The type of the scenario field at PATH decides how values are coerced: an integer
field (``servers``) always receives ints — sampled intervals are mapped to whole numbers, each
integer in ``[low, high]`` equally likely — and a float field always receives floats, so the
Parquet columns have one type and the model never sees ``12.7`` tracks.

Samplers (SciPy ``stats.qmc``): ``grid`` is the full factorial of discrete specs; ``lhs`` is a
Latin hypercube of ``samples`` points; ``sobol`` is the Saltelli design for Sobol indices built
on a scrambled Sobol sequence: ``samples`` base rows (a power of 2), each expanded to
``A, AB_1 … AB_D, B`` (D + 2 points), the row layout SALib's ``sobol.analyze`` expects with
``calc_second_order=False``. Discrete specs inside LHS/Sobol pick a value by position.

The sweep YAML file, with its named inputs, derived fields and posterior draws, is read by
:mod:`sim.sweep.sweep_file`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
import types
import typing
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel
from scipy.stats import qmc

from sim.config.safe_yaml import InputProblem, load_value
from sim.config.scenario import Scenario
from sim.errors import ConfigError

SAMPLERS = ("grid", "lhs", "sobol")
Sampler = Literal["grid", "lhs", "sobol"]
DEMAND_QUANTILE = "demand_quantile"
"""The named input of a sweep file's ``demand_quantile:`` (history_demand.quantile_teu)."""
FieldType = Literal["int", "float", "bool", "str", "other"]

_RANGE = re.compile(r"^range\((.*)\)$")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
INTERVAL = re.compile(rf"^({_NUMBER})\s*:\s*({_NUMBER})$")


@dataclass(frozen=True)
class Parameter:
    """One varied field: its dotted path, the spec as written, and what it expands to."""

    path: str
    spec: str
    kind: Literal["list", "range", "interval"]
    field_type: FieldType
    values: tuple[Any, ...] = ()  # list and range
    low: float = 0.0  # interval
    high: float = 0.0
    written: bool = True  # False: a named input (a column of the design, no scenario field)

    @property
    def discrete(self) -> bool:
        return self.kind != "interval"

    def from_unit(self, u: float) -> Any:
        """Map a point of [0, 1) to a value: by position for lists, scaled for intervals."""
        if self.discrete:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.field_type == "int":
            span = int(self.high) - int(self.low)
            return int(self.low) + min(int(u * (span + 1)), span)
        return float(self.low + u * (self.high - self.low))

    def describe(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "path": self.path,
            "spec": self.spec,
            "kind": self.kind,
            "type": self.field_type,
        }
        if not self.written:
            doc["named_input"] = True
        if self.discrete:
            doc["values"] = list(self.values)
        else:
            doc["low"], doc["high"] = self.low, self.high
            if self.field_type == "int":
                doc["integer_sampling"] = (
                    "value = low + floor(u * (high - low + 1)): every integer in [low, high] "
                    "equally likely"
                )
        return doc


# ---------------------------------------------------------------------------- field types


def _members(ann: Any) -> list[Any]:
    """The alternatives of an annotation, with Annotated and Optional unwrapped."""
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _members(typing.get_args(ann)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [m for a in typing.get_args(ann) for m in _members(a) if m is not type(None)]
    return [ann]


def _step(ann: Any, part: str | int) -> Any:
    for member in _members(ann):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for name, info in member.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation
        origin = typing.get_origin(member)
        if origin is dict:
            return typing.get_args(member)[1]
        if origin is list and isinstance(part, int):
            return typing.get_args(member)[0]
    return None


def field_type(path: Sequence[str | int]) -> FieldType | None:
    """The type of the scenario field at ``path`` (None: no such field in the format)."""
    ann: Any = Scenario
    for part in path:
        ann = _step(ann, part)
        if ann is None:
            return None
    members = _members(ann)
    if bool in members:
        return "bool"
    if float in members:
        return "float"
    if int in members:
        return "int"
    if members == [str]:
        return "str"
    return "other"


def split_path(dotted: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for part in dotted.strip().split("."):
        if not part:
            raise ConfigError("--vary", (), f"'{dotted}' has an empty path segment")
        parts.append(int(part) if part.lstrip("-").isdigit() else part)
    return tuple(parts)


# ---------------------------------------------------------------------------- specs


def _coerce(value: Any, ftype: FieldType, source: str, path: tuple[str | int, ...]) -> Any:
    if value is None:
        return None
    if ftype in ("int", "float") and isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)  # YAML 1.1 reads 2e3 as text
    if ftype == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(source, path, f"is an integer field; {value!r} is not an integer")
    if ftype == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(source, path, f"is a number field; {value!r} is not a number")
        return float(value)
    if ftype == "bool" and not isinstance(value, bool):
        raise ConfigError(source, path, f"is a true/false field; {value!r} is not true or false")
    return value


def parse_spec(dotted: str, spec: str | Sequence[Any], source: str = "--vary") -> Parameter:
    """One parameter from its path and spec; a bad spec is a ConfigError (exit 2)."""
    path = split_path(dotted)
    ftype = field_type(path)
    if ftype is None:
        raise ConfigError(source, path, "is not a field of the scenario format")
    if not isinstance(spec, str):
        values = tuple(_coerce(v, ftype, source, path) for v in spec)
        if not values:
            raise ConfigError(source, path, "the list of values is empty")
        return Parameter(dotted, json.dumps(list(spec), default=str), "list", ftype, values)
    text = spec.strip()
    if match := _RANGE.match(text):
        try:
            args = [int(a) for a in match.group(1).split(",")]
            values = tuple(range(*args))
        except (ValueError, TypeError):
            raise ConfigError(
                source, path, f"'{text}' is not range(start, stop[, step]) of integers"
            ) from None
        if not values:
            raise ConfigError(source, path, f"'{text}' is empty")
        return Parameter(
            dotted, text, "range", ftype, tuple(_coerce(v, ftype, source, path) for v in values)
        )
    if match := INTERVAL.match(text):
        low, high = float(match.group(1)), float(match.group(2))
        if ftype not in ("int", "float"):
            raise ConfigError(source, path, f"an interval needs a number field, not a {ftype}")
        if not low < high:
            raise ConfigError(source, path, f"interval '{text}' needs low < high")
        if ftype == "int" and not (low.is_integer() and high.is_integer()):
            raise ConfigError(source, path, f"is an integer field; '{text}' has fractional ends")
        return Parameter(dotted, text, "interval", ftype, low=low, high=high)
    items = [i.strip() for i in text.split(",")]
    if not text or any(not i for i in items):
        raise ConfigError(
            source, path, f"'{text}' is not a list (8,12,16), range(8,24,4) or interval (8:24)"
        )
    try:
        parsed = [load_value(i) for i in items]
    except InputProblem as exc:  # a syntax error, or an impossible date such as 0000-01-01
        raise ConfigError(source, path, f"cannot read the values in '{text}': {exc}") from None
    values = tuple(_coerce(v, ftype, source, path) for v in parsed)
    return Parameter(dotted, text, "list", ftype, values)


def parse_vary(text: str) -> Parameter:
    """``nodes.border.servers=3,4,5`` → a Parameter."""
    key, sep, spec = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError("--vary", (), f"'{text}' is not of the form dotted.path=SPEC")
    return parse_spec(key.strip(), spec)


# ---------------------------------------------------------------------------- samplers


def design_rng(root_seed: int) -> np.random.Generator:
    """The sampler's own stream, a named child of the root seed (not a simulation stream)."""
    seq = np.random.SeedSequence(root_seed, spawn_key=(zlib.crc32(b"sweep-design"),))
    return np.random.Generator(np.random.PCG64(seq))


def sobol_rows(samples: int) -> int:
    if samples < 2 or samples & (samples - 1):
        up = 1 << max(1, math.ceil(math.log2(max(samples, 2))))
        raise ConfigError(
            "--samples", (), f"the Sobol design needs a power of 2 (got {samples}; try {up})"
        )
    return samples


def design(
    params: Sequence[Parameter], sampler: str, samples: int | None, root_seed: int
) -> list[tuple[Any, ...]]:
    """The points of the sweep, in order: one tuple of values (parameter order) per point."""
    if sampler not in SAMPLERS:
        raise ConfigError("--sampler", (), f"'{sampler}' is not one of {', '.join(SAMPLERS)}")
    if not params:
        raise ConfigError("--vary", (), "nothing to vary: give at least one --vary PATH=SPEC")
    if sampler == "grid":
        for p in params:
            if not p.discrete:
                raise ConfigError(
                    "--vary",
                    split_path(p.path),
                    f"interval '{p.spec}' needs --sampler lhs or sobol (grid takes lists/ranges)",
                )
        if samples is not None:
            raise ConfigError("--samples", (), "applies to --sampler lhs or sobol, not grid")
        return list(itertools.product(*(p.values for p in params)))
    if samples is None:
        raise ConfigError("--samples", (), f"--sampler {sampler} needs --samples N")
    if samples < 1:
        raise ConfigError("--samples", (), f"must be at least 1 (got {samples})")
    d = len(params)
    if sampler == "lhs":
        unit = qmc.LatinHypercube(d=d, rng=design_rng(root_seed)).random(samples)
    else:
        base = qmc.Sobol(d=2 * d, scramble=True, rng=design_rng(root_seed))
        ab = base.random_base2(int(math.log2(sobol_rows(samples))))
        rows = []
        for a_row, b_row in zip(ab[:, :d], ab[:, d:], strict=True):
            rows.append(a_row)
            for k in range(d):
                mixed = a_row.copy()
                mixed[k] = b_row[k]
                rows.append(mixed)
            rows.append(b_row)
        unit = np.asarray(rows)
    return [tuple(p.from_unit(float(u)) for p, u in zip(params, row, strict=True)) for row in unit]
