"""What a year of history looks like as input, and what the fitted time-series choice needs.

Two documents, kept apart on purpose:

* the ``history`` block of a scenario (``scenarios/history/2016.yaml`` … ``2025.yaml``): the
  inputs of one year only — sea rate and reliability, rail rate, border capacity in force,
  sanctions regime, closures, and the market. The rail demand of the year is an output;
* ``params/history_observed.yaml``: what the fit may see (2016–2023 only). The demand
  model's own files (assumptions, structures, ensemble) are in :mod:`sim.config.demand`.

Validation lives here so that a bad year or a supply curve that falls with load ends with
exit 2 and one line, like any other input problem.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from sim.config.dates import Day

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

    rate_usd_per_feu: float = Field(ge=0, le=1e6, description="westbound annual mean (S8)")
    half_year_rates_usd_per_feu: list[Annotated[float, Field(ge=0, le=1e6)]] | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="westbound means of H1 and H2 (S8 readings of each half); absent: the annual",
    )
    eastbound_rate_usd_per_feu: float | None = Field(
        default=None, ge=0, le=1e6, description="absent: westbound × eastbound_sea_rate_ratio"
    )
    on_time_share: float = Field(gt=0, le=1, description="schedule reliability (S10)")
    late_days: float = Field(ge=0, le=365, description="average delay of a late vessel (S10)")
    transit_days: float = Field(default=35.0, gt=0, le=365, description="via Suez (S2)")
    cape_extra_days: float = Field(default=10.0, ge=0, le=365, description="via the Cape (S3)")


class RailYear(_Strict):
    """The 1520 through route's inputs in one year."""

    rate_usd_per_feu: float = Field(
        ge=0, le=1e6, description="westbound through rate at low load (C8 + Chinese/EU legs)"
    )
    eastbound_rate_usd_per_feu: float | None = Field(
        default=None, ge=0, le=1e6, description="absent: westbound × eastbound_rail_rate_ratio"
    )
    sanctions_from: Day | None = Field(
        default=None, description="start of the 2022 sanctions regime (D3); null: none"
    )


class HistoryClosure(_Strict):
    """A stretch of the year when an option cannot be chosen (rail) or is re-routed (suez)."""

    option: Literal["rail", "suez"]
    start: Day
    end: Day | None = Field(default=None, description="null: to the end of the year")
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
        description="the demand ensemble (params/demand/ensemble.yaml, relative to the file "
        "that sets this); when given, `corridor run` sets the rail flows from it",
    )
    market_teu_per_year: PerDirection = Field(
        description="China↔EU container trade by direction (all modes)"
    )
    sea: SeaYear
    rail: RailYear
    closures: dict[str, HistoryClosure] = Field(
        default_factory=dict, max_length=4, description="at most 4 in a year"
    )

    @model_validator(mode="after")
    def _complete(self) -> HistoryYear:
        if any(not 0 < v <= 1e9 for v in self.market_teu_per_year.values()):
            raise ValueError("market_teu_per_year must be > 0 and at most 1e9 in both directions")
        return self


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


class ObservedMiddleCorridor(_Strict):
    """Middle Corridor container volume in a year (MC1), both directions."""

    teu: float = Field(gt=0)
    facts: str


class Observed(_Strict):
    """``params/history_observed.yaml``: what the fit may see (Y, C9, MC1 to 2023)."""

    volume_definition: str = Field(
        default="Y1", description="the annual series the volumes are on (Y1, or Y6's UTLC)"
    )
    total_band: float = Field(gt=0, le=1, description="relative error counted as one sigma")
    share_band: float = Field(gt=0, le=1, description="westbound-share points as one sigma")
    price_band: float = Field(gt=0, le=5)
    middle_corridor_band: float = Field(default=0.3, gt=0, le=5)
    years: dict[int, ObservedYear]
    rail_price: dict[int, ObservedPrice] = Field(default_factory=dict)
    middle_corridor: dict[int, ObservedMiddleCorridor] = Field(default_factory=dict)
