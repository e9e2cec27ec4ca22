"""What a year of history looks like as input, and what the fitted time-series choice needs.

Two documents, kept apart on purpose:

* the ``history`` block of a scenario (``scenarios/history/2016.yaml`` … ``2025.yaml``): the
  inputs of one year only — sea rate and reliability, rail rate, border capacity in force,
  sanctions regime, closures, and the market. The rail demand of the year is an output;
* ``params/history_choice.yaml``: the assumptions shared by every year (cargo classes,
  eastbound rate ratios, free-flow rail days, …) and the parameters ``corridor fit-history``
  fits to 2016–2023 jointly (scale, constants, sanctions cost, adjustment rate, supply curve).

Validation lives here so that a bad year or a supply curve that falls with load ends with
exit 2 and one line, like any other input problem.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Direction = Literal["westbound", "eastbound"]
DIRECTIONS: tuple[Direction, Direction] = ("westbound", "eastbound")


def _both_directions(value: dict[Direction, float]) -> dict[Direction, float]:
    """A per-direction figure must give both directions (the choice reads each)."""
    missing = [d for d in DIRECTIONS if d not in value]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    return value


PerDirection = Annotated[dict[Direction, float], AfterValidator(_both_directions)]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False
    )  # as scenario.py: inf and NaN refused


class SeaYear(_Strict):
    """The sea route's inputs in one year (Shanghai→Rotterdam; eastbound by a ratio)."""

    rate_usd_per_feu: float = Field(ge=0, description="westbound annual mean (S8)")
    half_year_rates_usd_per_feu: list[Annotated[float, Field(ge=0)]] | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="westbound means of H1 and H2 (S8 readings of each half); absent: the annual",
    )
    eastbound_rate_usd_per_feu: float | None = Field(
        default=None, ge=0, description="absent: westbound × eastbound_sea_rate_ratio"
    )
    on_time_share: float = Field(gt=0, le=1, description="schedule reliability (S10)")
    late_days: float = Field(ge=0, description="average delay of a late vessel (S10)")
    transit_days: float = Field(default=35.0, gt=0, description="via Suez (S2)")
    cape_extra_days: float = Field(default=10.0, ge=0, description="via the Cape (S3)")


class RailYear(_Strict):
    """The 1520 through route's inputs in one year."""

    rate_usd_per_feu: float = Field(
        ge=0, description="westbound through rate at low load (C8 + Chinese/EU legs)"
    )
    eastbound_rate_usd_per_feu: float | None = Field(
        default=None, ge=0, description="absent: westbound × eastbound_rail_rate_ratio"
    )
    border_train_pairs_per_day: float = Field(
        gt=0, description="Belarus–Poland broad-gauge handling in force, averaged over the year"
    )
    half_year_border_train_pairs_per_day: list[Annotated[float, Field(gt=0)]] | None = Field(
        default=None, min_length=2, max_length=2, description="H1, H2; absent: the annual"
    )
    sanctions_from: dt.date | None = Field(
        default=None, description="start of the 2022 sanctions regime (D3); null: none"
    )


class HistoryClosure(_Strict):
    """A stretch of the year when an option cannot be chosen (rail) or is re-routed (suez)."""

    option: Literal["rail", "suez"]
    start: dt.date
    end: dt.date | None = Field(default=None, description="null: to the end of the year")
    enabled: bool = Field(
        default=True, description="false: the year without it (a counterfactual baseline)"
    )
    description: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> HistoryClosure:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class HistoryYear(_Strict):
    """One year's inputs for the fitted time-series choice (a scenario's ``history`` block)."""

    year: int = Field(ge=1990, le=2100)
    previous: str | None = Field(
        default=None,
        description="the year before (a scenario file, relative to the file that sets this): "
        "where the adjustment starts from; null for the first year",
    )
    params: str | None = Field(
        default=None,
        description="the fitted choice (params/history_choice.yaml, relative to the file that "
        "sets this); when given, `corridor run` sets the rail flows from it",
    )
    market_teu_per_year: PerDirection = Field(
        description="China↔EU container trade by direction (all modes)"
    )
    sea: SeaYear
    rail: RailYear
    closures: dict[str, HistoryClosure] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> HistoryYear:
        if any(v <= 0 for v in self.market_teu_per_year.values()):
            raise ValueError("market_teu_per_year must be > 0 in both directions")
        return self


class CargoShare(_Strict):
    """Shippers with one value of time and their share of the market."""

    share: float = Field(gt=0, le=1)
    value_of_time_usd_per_feu_day: float = Field(ge=0)


class SupplyCurve(_Strict):
    """Through rail rate against load: rate = base × (1 + a × load^b), load = TEU / capacity.

    At zero load it is the base rate; a >= 0 and b >= 1 make it rise with load (a curve that
    falls with load is refused)."""

    a: float = Field(description="surcharge at full load, as a fraction of the base rate")
    b: float = Field(description="steepness: the surcharge is small until load nears 1")

    @model_validator(mode="after")
    def _rises(self) -> SupplyCurve:
        if self.a < 0:
            raise ValueError("a must be >= 0 (a supply curve may not fall with load)")
        if self.b < 1:
            raise ValueError("b must be >= 1 (a supply curve may not fall with load)")
        return self


class Coverage(_Strict):
    """The services' spread to more cities and shippers (the CR Express build-out, which no
    input measures): a logistic share 1 / (1 + exp(−rate × (t − midpoint))) of the static
    choice that is within reach of rail at time t (decimal year)."""

    rate_per_year: float = Field(gt=0, description="logistic steepness, per year")
    midpoint_year: float = Field(description="decimal year when half the market is in reach")


class Fitted(_Strict):
    """The parameters ``corridor fit-history`` fits, one set for every year."""

    cost_scale_usd: float = Field(gt=0, description="logit scale 1/mu, USD/FEU")
    constant_usd_per_feu: PerDirection
    sanctions_usd_per_feu: float = Field(ge=0, description="cost of the 2022 regime (D3)")
    sanctions_excluded_share: float = Field(
        ge=0,
        le=1,
        description="share of shippers for whom the 2022 regime takes rail off the table (D3: "
        "compliance bans), the availability side of sanctions",
    )
    adjustment_rate_up: float = Field(
        gt=0,
        le=1,
        description="share of the gap to this half-year's choice closed in the half-year, "
        "when rail gains (new contracts, new services: slow)",
    )
    adjustment_rate_down: float = Field(
        gt=0, le=1, description="the same when rail loses (bookings lapse: may be faster)"
    )
    initial_ratio: float = Field(
        gt=0, description="rail volume entering the first year / that year's static choice"
    )
    supply: SupplyCurve
    coverage: Coverage | None = Field(
        default=None, description="the services' build-out; none: all of the market in reach"
    )


class Assumptions(_Strict):
    """Inputs with no source, shared by every year (each has a range in docs/mode_choice.md)."""

    classes: dict[str, CargoShare] = Field(min_length=1)
    eastbound_sea_rate_ratio: float = Field(gt=0, le=2)
    eastbound_rail_rate_ratio: float = Field(gt=0, le=2)
    reliability_weight: float = Field(ge=0, description="expected late days valued × this")
    sea_buffer_days: float = Field(ge=0)
    rail_buffer_days: float = Field(ge=0)
    rail_free_days: PerDirection
    queue_days_scale: float = Field(ge=0, description="border wait = scale × u / (1 - u)")
    teu_per_train: float = Field(gt=0)
    closure_wait_share: float = Field(
        ge=0, le=1, description="of rail bookings during a closure, the share that waits"
    )
    closure_middle_corridor_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="of rail bookings during a closure, the share sent by the Middle Corridor "
        "(D7), as far as the Caspian crossing has room (middle_corridor_spare_teu_per_year)",
    )
    closure_rail_sea_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="of rail bookings during a closure, the share sent rail–sea via the "
        "Baltic (D7: St Petersburg)",
    )
    middle_corridor_spare_teu_per_year: float = Field(
        default=0.0,
        ge=0,
        description="room left on the Caspian crossing per direction (MC2 less MC1's use)",
    )

    @model_validator(mode="after")
    def _shares(self) -> Assumptions:
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
        return self


class HistoryChoice(_Strict):
    """``params/history_choice.yaml``: assumptions plus fitted parameters."""

    assumptions: Assumptions
    fitted: Fitted
    fit_seed: int = 2016
    fit_years: list[int] = Field(default_factory=list)
    leave_one_out: dict[int, Fitted] = Field(
        default_factory=dict, description="the refit without each year (fit uncertainty)"
    )


class ObservedYear(_Strict):
    """One year's observed rail volume (Y1) and direction split (Y2), with bands."""

    total_teu: float = Field(gt=0)
    first_half_teu: float | None = Field(default=None, gt=0, description="H1 volume (Y2)")
    westbound_share: float | None = Field(default=None, gt=0, lt=1)
    facts: str


class ObservedPrice(_Strict):
    """An observed through rail rate (C9), for the supply curve."""

    usd_per_feu: float = Field(gt=0)
    facts: str


class Observed(_Strict):
    """``params/history_observed.yaml``: what the fit may see (Y1, Y2, C9 to 2023)."""

    total_band: float = Field(gt=0, description="relative error counted as one sigma")
    share_band: float = Field(gt=0, description="westbound-share points counted as one sigma")
    price_band: float = Field(gt=0)
    years: dict[int, ObservedYear]
    rail_price: dict[int, ObservedPrice] = Field(default_factory=dict)
