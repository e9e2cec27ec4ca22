"""Named probability distributions for handling times, speeds and travel times.

A distribution is written in YAML as a mapping with a `dist` key (``{dist: exponential,
mean: 6}``) or as a bare number, which means a fixed value. Each model knows its mean (so
capacity in trains/day can be derived without simulating) and draws vectorised batches from
a ``numpy.random.Generator``; the simulation pops single values from a buffer filled in
batches, because one numpy call per draw costs more than the rest of a SimPy event.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

FloatArray = NDArray[np.float64]

MAX_VALUE = 1e7
"""Largest parameter of a distribution (hours, km/day): 10⁷ hours is ~1,100 years, longer
than any run. Beyond it sums and products of draws overflow the clock (a uniform handling
time up to 1e308 hours ended a run in SimPy's "Negative delay -inf")."""
MAX_CV = 1000.0
"""Largest sd/mean of a lognormal: its log-variance needs (sd/mean)² as a float."""


class _DistBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def mean(self) -> float:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        raise NotImplementedError

    def can_be_zero(self) -> bool:
        """Whether a draw of exactly 0 is possible (a speed must never be 0)."""
        return False


class Fixed(_DistBase):
    """Always the same value (deterministic handling, a timetabled run)."""

    dist: Literal["fixed"] = "fixed"
    value: float = Field(ge=0, le=MAX_VALUE)

    def mean(self) -> float:
        return self.value

    def can_be_zero(self) -> bool:
        return self.value == 0

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return np.full(size, self.value)


class Exponential(_DistBase):
    """Memoryless; with Poisson arrivals it gives the M/M/c queue that Erlang C checks."""

    dist: Literal["exponential"] = "exponential"
    mean_: float = Field(gt=0, le=MAX_VALUE, alias="mean")

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    def mean(self) -> float:
        return self.mean_

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.exponential(self.mean_, size)


class Uniform(_DistBase):
    dist: Literal["uniform"] = "uniform"
    low: float = Field(ge=0, le=MAX_VALUE)
    high: float = Field(ge=0, le=MAX_VALUE)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) is below low ({self.low})")
        return self

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def can_be_zero(self) -> bool:
        return self.low == 0

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.uniform(self.low, self.high, size)


class Triangular(_DistBase):
    """The planner's three-point estimate (best, most likely, worst)."""

    dist: Literal["triangular"] = "triangular"
    low: float = Field(ge=0, le=MAX_VALUE)
    mode: float = Field(ge=0, le=MAX_VALUE)
    high: float = Field(ge=0, le=MAX_VALUE)

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"need low <= mode <= high, got {self.low}, {self.mode}, {self.high}")
        return self

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def can_be_zero(self) -> bool:
        return self.low == 0

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        if self.low == self.high:
            return np.full(size, self.low)
        return rng.triangular(self.low, self.mode, self.high, size)


class Normal(_DistBase):
    """Normal truncated at 0 (a duration cannot be negative); negatives are redrawn."""

    dist: Literal["normal"] = "normal"
    mean_: float = Field(ge=-MAX_VALUE, le=MAX_VALUE, alias="mean")
    sd: float = Field(ge=0, le=MAX_VALUE)

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def _mass_above_zero(self) -> Normal:
        if self.mean_ <= 0 and self.sd == 0:
            raise ValueError("mean must be positive when sd is 0")
        if self.sd > 0 and self.mean_ / self.sd < -3:
            raise ValueError("almost all mass is below 0; truncation would dominate")
        return self

    def mean(self) -> float:
        if self.sd == 0:
            return self.mean_
        a = -self.mean_ / self.sd
        phi = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
        tail = 0.5 * math.erfc(a / math.sqrt(2))
        return self.mean_ + self.sd * phi / tail

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        out = rng.normal(self.mean_, self.sd, size)
        bad = out < 0
        while bad.any():
            out[bad] = rng.normal(self.mean_, self.sd, int(bad.sum()))
            bad = out < 0
        return out


class LogNormal(_DistBase):
    """Right-skewed durations; given by the mean and sd of the value itself, not of its log."""

    dist: Literal["lognormal"] = "lognormal"
    mean_: float = Field(gt=0, le=MAX_VALUE, alias="mean")
    sd: float = Field(ge=0, le=MAX_VALUE)

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def _spread(self) -> LogNormal:
        if self.sd > MAX_CV * self.mean_:
            raise ValueError(f"sd is more than {MAX_CV:g} times the mean")
        return self

    def mean(self) -> float:
        return self.mean_

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        mu = math.log(self.mean_) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)


class Gamma(_DistBase):
    """Gamma(shape, scale); integer shape k gives the Erlang-k of M/E_k/c terminal models."""

    dist: Literal["gamma"] = "gamma"
    shape: float = Field(gt=0, le=MAX_VALUE)
    scale: float = Field(gt=0, le=MAX_VALUE)

    def mean(self) -> float:
        return self.shape * self.scale

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.gamma(self.shape, self.scale, size)


class Empirical(_DistBase):
    """Resampling of observed values, optionally weighted."""

    dist: Literal["empirical"] = "empirical"
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _valid(self) -> Empirical:
        if any(not 0 <= v <= MAX_VALUE for v in self.values):
            raise ValueError(f"values must be between 0 and {MAX_VALUE:g}")
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have as many entries as values")
            if any(w < 0 for w in self.weights) or not 0 < sum(self.weights) < math.inf:
                raise ValueError("weights must be >= 0 with a positive, finite sum")
        return self

    def can_be_zero(self) -> bool:
        return min(self.values) == 0

    def _probs(self) -> FloatArray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        probs: FloatArray = w / w.sum()
        return probs

    def mean(self) -> float:
        p = self._probs()
        v = np.asarray(self.values, dtype=float)
        return float(v.mean() if p is None else (v * p).sum())

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.choice(np.asarray(self.values, dtype=float), size=size, p=self._probs())


def _number_is_fixed(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return {"dist": "fixed", "value": value}
    return value


Distribution = Annotated[
    Fixed | Exponential | Uniform | Triangular | Normal | LogNormal | Gamma | Empirical,
    Field(discriminator="dist"),
]
"""Any distribution; a bare number in YAML is read as ``{dist: fixed, value: N}``."""

DistributionField = Annotated[
    Distribution,
    BeforeValidator(_number_is_fixed, json_schema_input_type=float | Distribution),
]


class BufferedSampler:
    """Draws one value at a time from a distribution, in batches drawn with one numpy call.

    The values come from a generator that walks each batch's list, so a draw costs one
    ``next`` on it (about half a Python method call); ``draw`` is that bound ``__next__``,
    which the event loop calls directly. Values come out in the order they were drawn.
    """

    __slots__ = ("draw",)

    def __init__(
        self,
        dist: _DistBase,
        rng: np.random.Generator,
        transform: Callable[[FloatArray], FloatArray] | None = None,
        batch: int = 1024,
    ) -> None:
        self.draw: Callable[[], float] = _batches(dist, rng, transform, batch).__next__

    def __call__(self) -> float:
        return self.draw()


def _batches(
    dist: _DistBase,
    rng: np.random.Generator,
    transform: Callable[[FloatArray], FloatArray] | None,
    batch: int,
) -> Iterator[float]:
    while True:
        yield from _batch(dist, rng, transform, batch)  # only the list stays alive


def _batch(
    dist: _DistBase,
    rng: np.random.Generator,
    transform: Callable[[FloatArray], FloatArray] | None,
    batch: int,
) -> list[float]:
    draws = dist.sample(rng, batch)
    if transform is not None:
        draws = transform(draws)
    values: list[float] = draws.tolist()
    return values
