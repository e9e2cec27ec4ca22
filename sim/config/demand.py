"""The demand side's files: shared assumptions, one file per model structure (its switches,
a prior for every parameter with its source, and the posterior draws the fit wrote), and the
ensemble that weighs the structures by a rule fixed before any prediction.

    params/demand/assumptions.yaml       cargo classes, rates ratios, Middle Corridor, V1 …
    params/demand/<structure>.yaml       structure + priors (+ posterior, written by the fit)
    params/demand/ensemble.yaml          the structures, the rule, the weights (written)

Validation lives here so that a structure file that names an unknown parameter, leaves one
without a prior, or frees a parameter its structure never uses ends with exit 2 and one line.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.config.history import PerDirection

# The parameter vector, in the order of sim.choice.kernel's indices (a test keeps them equal).
PARAMETERS: tuple[str, ...] = (
    "cost_scale_usd",
    "constant_westbound_usd",
    "constant_eastbound_usd",
    "sanctions_westbound_usd",
    "sanctions_eastbound_usd",
    "excluded_westbound",
    "excluded_eastbound",
    "exclusion_halflife_years",
    "excluded_premium_usd",
    "adjustment_rate_up",
    "adjustment_rate_down",
    "initial_ratio",
    "supply_a",
    "supply_b",
    "coverage_rate_per_year",
    "coverage_midpoint_year",
    "coverage_power",
    "time_value_pct_per_day",
    "eastbound_sea_rate_ratio",
    "middle_corridor_constant_usd",
    "market_factor",
    "discrepancy_sd",
)

# Which parameters each switch value uses: a structure must fix the ones it does not use.
USED_BY: dict[str, dict[str, tuple[str, ...]]] = {
    "exclusion": {
        "permanent": (),
        "decays": ("exclusion_halflife_years",),
        "returns": ("excluded_premium_usd",),
    },
    "coverage": {
        "none": (),
        "logistic": ("coverage_rate_per_year", "coverage_midpoint_year"),
        "observed": ("coverage_power",),
    },
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class CargoClass(_Strict):
    """Shippers of one value density: their share of the market's TEU and the value a TEU
    carries (the value of time is this value × the fitted time value per day)."""

    share: float = Field(gt=0, le=1)
    value_usd_per_teu: float = Field(gt=0, le=5e6)


class MiddleCorridor(_Strict):
    """The Trans-Caspian route as a third option of the time series."""

    rate_premium_usd_per_feu: float = Field(
        ge=0, le=50000, description="over the 1520 route's base rate (no sourced rate)"
    )
    days: float = Field(gt=0, le=120, description="China → Europe, terminal to terminal (G12)")
    capacity_teu_per_year: float = Field(gt=0, le=1e7, description="the Caspian crossing (MC2)")


class WaitShape(_Strict):
    """Border wait against load u when no network gives one: c0 + c1 u^k / (1 + δ − u) days
    up to u = 1, then + slope × (u − 1) (the form of sim/choice/border_supply.py)."""

    base_days: float = Field(ge=0, le=30)
    scale_days: float = Field(ge=0, le=30)
    power: float = Field(ge=0.1, le=10)
    delta: float = Field(gt=0, le=10)
    slope_over_days: float = Field(ge=0, le=1000)


class Assumptions(_Strict):
    """Inputs with no fitted value, shared by every year and structure (each has a source or
    a range in docs/mode_choice.md)."""

    classes: dict[str, CargoClass] = Field(min_length=1)
    eastbound_rail_rate_ratio: float = Field(gt=0, le=2)
    reliability_weight: float = Field(ge=0, le=10)
    sea_buffer_days: float = Field(ge=0, le=60)
    rail_buffer_days: float = Field(ge=0, le=60)
    rail_free_days: PerDirection
    border_wait: WaitShape
    closure_wait_share: float = Field(ge=0, le=1)
    closure_middle_corridor_share: float = Field(default=0.0, ge=0, le=1)
    closure_rail_sea_share: float = Field(default=0.0, ge=0, le=1)
    middle_corridor: MiddleCorridor
    coverage_trains: dict[int, float] = Field(
        min_length=2, description="V1 CR Express trains a year (the observed coverage series)"
    )
    coverage_reference_year: int = Field(description="coverage 1 at this year's V1 and after")

    @model_validator(mode="after")
    def _consistent(self) -> Assumptions:
        total = sum(c.share for c in self.classes.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"classes: shares must sum to 1 (got {total:g})")
        closure = (
            self.closure_wait_share
            + self.closure_middle_corridor_share
            + self.closure_rail_sea_share
        )
        if closure > 1.0 + 1e-9:
            raise ValueError(
                "closure_wait_share + closure_middle_corridor_share + closure_rail_sea_share "
                f"must not exceed 1 (got {closure:g}); the rest goes to sea"
            )
        if any(v <= 0 for v in self.coverage_trains.values()):
            raise ValueError("coverage_trains: every year's trains must be > 0")
        if self.coverage_reference_year not in self.coverage_trains:
            raise ValueError(
                f"coverage_reference_year {self.coverage_reference_year} has no coverage_trains"
            )
        return self


class Prior(_Strict):
    """A parameter's prior (or its fixed value), with where the range comes from."""

    dist: Literal["uniform", "loguniform", "halfnormal", "fixed"]
    low: float | None = None
    high: float | None = None
    scale: float | None = Field(default=None, gt=0)
    value: float | None = None
    source: str = Field(min_length=1, description="facts row, derivation or 'assumption: …'")

    @model_validator(mode="after")
    def _complete(self) -> Prior:
        if self.dist == "fixed":
            if self.value is None:
                raise ValueError("a fixed prior needs value")
        elif self.dist == "halfnormal":
            if self.scale is None:
                raise ValueError("a halfnormal prior needs scale")
        else:
            if self.low is None or self.high is None:
                raise ValueError(f"a {self.dist} prior needs low and high")
            if not self.low < self.high:
                raise ValueError("low must be below high")
            if self.dist == "loguniform" and self.low <= 0:
                raise ValueError("a loguniform prior needs low > 0")
        return self


class ExactLoo(_Strict):
    """A year left out by an exact refit (where importance sampling is unreliable, Pareto
    k > 0.7): per draw of the refit, the log-likelihood of that year's observations, the
    choice's total rail TEU of the year and the draw's discrepancy σ."""

    pareto_k: float
    loglik: list[float] = Field(min_length=1)
    total_teu: list[float] = Field(min_length=1)
    discrepancy_sd: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> ExactLoo:
        if not len(self.loglik) == len(self.total_teu) == len(self.discrepancy_sd):
            raise ValueError("loglik, total_teu and discrepancy_sd must have one value a draw")
        return self


class Posterior(_Strict):
    """What the fit wrote: equally weighted draws of every parameter, and its diagnostics;
    and the exact leave-one-year-out refits of the years importance sampling could not
    handle."""

    sampler: str
    seed: int
    log_evidence: float
    log_evidence_error: float
    likelihood_calls: int
    names: list[str]
    draws: list[list[float]] = Field(min_length=1)
    exact_loo: dict[int, ExactLoo] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shape(self) -> Posterior:
        if list(self.names) != list(PARAMETERS):
            raise ValueError("names must list every parameter in order")
        if any(len(row) != len(self.names) for row in self.draws):
            raise ValueError("every draw must give one value per name")
        return self


class DemandStructure(_Strict):
    """One model form of the demand: its switches, its priors and (once fitted) its draws."""

    name: str = Field(min_length=1)
    description: str = ""
    exclusion: Literal["permanent", "decays", "returns"]
    coverage: Literal["none", "logistic", "observed"]
    assumptions: str = Field(description="the shared assumptions file, relative to this one")
    priors: dict[str, Prior]
    posterior: Posterior | None = None

    @model_validator(mode="after")
    def _priors(self) -> DemandStructure:
        unknown = [n for n in self.priors if n not in PARAMETERS]
        if unknown:
            raise ValueError(f"priors: unknown parameter '{unknown[0]}'")
        missing = [n for n in PARAMETERS if n not in self.priors]
        if missing:
            raise ValueError(f"priors: no prior for '{missing[0]}'")
        unused = set().union(*(set(v) for v in USED_BY["exclusion"].values()))
        unused |= set().union(*(set(v) for v in USED_BY["coverage"].values()))
        unused -= set(USED_BY["exclusion"][self.exclusion]) | set(
            USED_BY["coverage"][self.coverage]
        )
        for name in sorted(unused):
            if self.priors[name].dist != "fixed":
                raise ValueError(
                    f"priors: '{name}' is not used with exclusion {self.exclusion} and "
                    f"coverage {self.coverage}; give it dist: fixed"
                )
        return self

    def free(self) -> list[str]:
        """The parameters the fit samples, in the vector's order."""
        return [n for n in PARAMETERS if self.priors[n].dist != "fixed"]


class Ensemble(_Strict):
    """The structures the history cannot tell apart, and how their predictions are weighed."""

    structures: list[str] = Field(min_length=1, description="structure files, relative to this")
    observed: str = Field(description="the observations file, relative to this one")
    rule: Literal["stacking", "pseudo_bma", "equal"] = Field(
        description="how the structures are weighed (fixed before any prediction is printed)"
    )
    seed: int = 2016
    draws_per_structure: int = Field(default=400, ge=20, le=100000)
    simulation_noise_sd: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="the simulated year's spread around its demand (log units), added to the "
        "predictive intervals",
    )
    weights: dict[str, float] | None = None  # written by the fit
    comparison: dict[str, dict[str, float]] | None = None  # written: per structure
    leave_one_period_out: dict[str, float] | None = None  # written: coverage of the intervals

    @model_validator(mode="after")
    def _weights(self) -> Ensemble:
        if self.weights is not None:
            if any(w < 0 for w in self.weights.values()):
                raise ValueError("weights: must be >= 0")
            if abs(sum(self.weights.values()) - 1.0) > 1e-3:
                raise ValueError("weights: must sum to 1")
        return self
