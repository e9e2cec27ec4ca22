"""The time-series choice: how much of the China↔EU market takes the 1520 rail route (and the
Middle Corridor) in each half-year, from that half's inputs and one parameter vector.

This module turns years of history (their scenario's ``history`` block and the shared
assumptions) into the flat arrays the compiled core (:mod:`sim.choice.kernel`, where the
equations are written out) runs, and its outputs back into per-year results. A year is two
half-years, each cut at closure edges into periods of constant availability; the adjustment
carries from one half-year to the next, so years run as a chain.

Closures re-time and re-route demand inside the year: while rail is closed its bookings
split by the shares of the assumptions (D7): some wait and ship after the reopening (they
stay in the year's rail volume), some go by the Middle Corridor as far as the Caspian
crossing has room (MC2), some rail–sea via the Baltic, and the rest by sea. Only the waiting
share is 1520 transit into the EU (what Y1 counts); the others are reported beside it
(``YearResult.closure``). While Suez is closed the sea route takes the Cape's days.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.choice import kernel as K
from sim.config.demand import Assumptions, DemandStructure
from sim.config.history import HistoryYear

DAYS_PER_YEAR = 365.0
UNBOUNDED_TEU = 1e12  # a crossing that never binds (a year given without its network)
MAX_PERIODS = 9  # periods in one half-year: at most 4 closures (HistoryYear refuses more)
FloatArray = K.FloatArray


@dataclass(frozen=True)
class ClosureSplit:
    """Where one direction's rail bookings went while rail was closed, TEU in the year."""

    booked: float = 0.0  # what rail would have carried in the closed days
    waited: float = 0.0  # shipped after the reopening (inside the year's rail TEU)
    middle_corridor: float = 0.0  # by the Caspian, within its spare room (MC2 less its own use)
    rail_sea: float = 0.0  # rail to St Petersburg, then sea (D7)

    @property
    def sea(self) -> float:
        return self.booked - self.waited - self.middle_corridor - self.rail_sea

    def describe(self) -> str:
        """One line for the backtest and a run's printout: where the bookings went."""

        def teu(x: float) -> str:
            return f"{x:,.0f} TEU"

        return (
            f"rail closed: of {teu(self.booked)} booked for the closed days, "
            f"{teu(self.waited)} waited and shipped after it (in the year's rail TEU), "
            f"{teu(self.middle_corridor)} went by the Middle Corridor, "
            f"{teu(self.rail_sea)} rail–sea via the Baltic and {teu(self.sea)} by sea"
        )

    def __add__(self, other: ClosureSplit) -> ClosureSplit:
        return ClosureSplit(
            self.booked + other.booked,
            self.waited + other.waited,
            self.middle_corridor + other.middle_corridor,
            self.rail_sea + other.rail_sea,
        )


NO_CLOSURE = ClosureSplit()


@dataclass(frozen=True)
class YearInputs:
    """One year's numbers, resolved: two rows of the kernel's half-year table and their
    periods (weight, rail open, Suez open)."""

    year: int
    halves: FloatArray  # [2, N_HALF_COLUMNS]
    periods: FloatArray  # [2, MAX_PERIODS, 3]


@dataclass(frozen=True)
class YearResult:
    """The choice's answer for one year (two half-years)."""

    year: int
    teu: tuple[float, float]  # 1520 rail per direction, the year
    first_half_teu: tuple[float, float]
    state: tuple[float, float]  # share of the market in H2: where next year starts from
    static_share: tuple[float, float]  # p* of H2 at the solved load (no inertia)
    load: tuple[float, float]  # the year's mean u = TEU / capacity
    rail_rate_usd: tuple[float, float]  # the year's mean through rate
    middle_corridor_teu: tuple[float, float] = (0.0, 0.0)
    border_wait_days: tuple[float, float] = (0.0, 0.0)  # the year's mean wait at the choice's load
    closure: tuple[ClosureSplit, ClosureSplit] = (NO_CLOSURE, NO_CLOSURE)  # per direction

    @property
    def total_teu(self) -> float:
        return self.teu[0] + self.teu[1]

    @property
    def westbound_share(self) -> float:
        return self.teu[0] / self.total_teu if self.total_teu > 0 else 0.0


@dataclass(frozen=True)
class DemandModel:
    """A structure's switches and the assumptions as the kernel takes them."""

    flags: K.IntArray
    values_usd_per_feu: FloatArray
    shares: FloatArray
    constants: FloatArray
    assumptions: Assumptions

    @classmethod
    def of(cls, structure: DemandStructure, a: Assumptions) -> DemandModel:
        exclusion = {"permanent": 0, "decays": 1, "returns": 2}[structure.exclusion]
        coverage = {"none": 0, "logistic": 1, "observed": 2}[structure.coverage]
        consts = np.zeros(K.N_CONSTANTS)
        consts[K.C_FREE_W] = a.rail_free_days["westbound"]
        consts[K.C_FREE_E] = a.rail_free_days["eastbound"]
        consts[K.C_RAIL_BUFFER] = a.rail_buffer_days
        consts[K.C_WAIT_SHARE] = a.closure_wait_share
        consts[K.C_MC_DAYS] = a.middle_corridor.days
        return cls(
            flags=np.asarray([exclusion, coverage], dtype=np.int64),
            values_usd_per_feu=K.as_float([2.0 * c.value_usd_per_teu for c in a.classes.values()]),
            shares=K.as_float([c.share for c in a.classes.values()]),
            constants=consts,
            assumptions=a,
        )


@dataclass(frozen=True)
class Chain:
    """Years stacked for the kernel."""

    years: tuple[int, ...]
    halves: FloatArray  # [2 × years, N_HALF_COLUMNS]
    periods: FloatArray  # [2 × years, MAX_PERIODS, 3]

    @classmethod
    def of(cls, inputs: Sequence[YearInputs]) -> Chain:
        return cls(
            years=tuple(i.year for i in inputs),
            halves=K.as_float(np.concatenate([i.halves for i in inputs])),
            periods=K.as_float(np.concatenate([i.periods for i in inputs])),
        )

    def upto(self, year: int) -> Chain:
        """The chain cut after ``year``."""
        n = sum(1 for y in self.years if y <= year)
        return Chain(self.years[:n], self.halves[: 2 * n], self.periods[: 2 * n])


def evaluate(chain: Chain, model: DemandModel, theta: FloatArray) -> FloatArray:
    """The kernel's outputs [half-year, direction, O_*] for one parameter vector."""
    return K.run_kernel(
        theta,
        model.flags,
        model.values_usd_per_feu,
        model.shares,
        chain.halves,
        chain.periods,
        model.constants,
    )


def results(chain: Chain, model: DemandModel, theta: FloatArray) -> list[YearResult]:
    """Every year of the chain, each starting from the one before (partial adjustment)."""
    out = evaluate(chain, model, theta)
    a = model.assumptions
    years = []
    for k, year in enumerate(chain.years):
        h1, h2 = 2 * k, 2 * k + 1
        market = chain.halves[h1 : h2 + 1, K.H_MARKET_W : K.H_MARKET_E + 1] * theta[K.MARKET]
        teu = (out[h1, :, K.O_SHARE] * market[0]) + (out[h2, :, K.O_SHARE] * market[1])
        first = out[h1, :, K.O_SHARE] * market[0]
        closure = [NO_CLOSURE, NO_CLOSURE]
        for d in range(2):
            for h in (h1, h2):
                booked = float(out[h, d, K.O_BOOKED])
                if booked > 0.0:
                    # the Caspian's room over the closed days: its capacity (MC2) less what
                    # the Middle Corridor carries anyway in the half (its own choice)
                    closed = float(np.sum(chain.periods[h, :, 0] * (chain.periods[h, :, 1] < 0.5)))
                    spare = chain.halves[h, K.H_MC_CAP] - float(out[h, d, K.O_MC_TEU])
                    room = max(0.0, spare) * closed
                    closure[d] = closure[d] + ClosureSplit(
                        booked=booked,
                        waited=a.closure_wait_share * booked,
                        middle_corridor=min(a.closure_middle_corridor_share * booked, room),
                        rail_sea=a.closure_rail_sea_share * booked,
                    )

        def pair(x: FloatArray) -> tuple[float, float]:
            return float(x[0]), float(x[1])

        years.append(
            YearResult(
                year=year,
                teu=pair(teu),
                first_half_teu=pair(first),
                state=pair(out[h2, :, K.O_SHARE]),
                static_share=pair(out[h2, :, K.O_STAR]),
                load=pair(0.5 * (out[h1, :, K.O_LOAD] + out[h2, :, K.O_LOAD])),
                rail_rate_usd=pair(0.5 * (out[h1, :, K.O_RATE] + out[h2, :, K.O_RATE])),
                middle_corridor_teu=pair(out[h1, :, K.O_MC_TEU] + out[h2, :, K.O_MC_TEU]),
                border_wait_days=pair(
                    0.5 * (out[h1, :, K.O_WAIT_DAYS] + out[h2, :, K.O_WAIT_DAYS])
                ),
                closure=(closure[0], closure[1]),
            )
        )
    return years


# --- from scenarios to inputs ---------------------------------------------------------------


def halves_of(year: int) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    mid = dt.date(year, 7, 1)
    return (dt.date(year, 1, 1), mid), (mid, dt.date(year + 1, 1, 1))


def periods_of(h: HistoryYear, span: tuple[dt.date, dt.date]) -> FloatArray:
    """Cut a stretch of the year at every closure edge: rows of (weight, rail open, Suez
    open), weights fractions of the stretch, padded with zero-weight rows."""
    y0, y1 = span
    length = (y1 - y0).days
    spans = []
    cuts = {0, length}
    for c in h.closures.values():
        if not c.enabled:
            continue
        a = max(0, (c.start - y0).days)
        b = length if c.end is None else min(length, (c.end - y0).days)
        if b > a:
            spans.append((c.option, a, b))
            cuts.update((a, b))
    edges = sorted(cuts)
    out = np.zeros((MAX_PERIODS, 3))
    for k, (a, b) in enumerate(itertools.pairwise(edges)):
        mid = (a + b) / 2
        rail = not any(o == "rail" and s <= mid < e for o, s, e in spans)
        suez = not any(o == "suez" and s <= mid < e for o, s, e in spans)
        out[k] = ((b - a) / length, float(rail), float(suez))
    return out


def decimal_year(d: dt.date) -> float:
    """The date as a decimal year (1 Jul 2022 → 2022.5)."""
    start = dt.date(d.year, 1, 1)
    return d.year + (d - start).days / (dt.date(d.year + 1, 1, 1) - start).days


def coverage_observed(t: float, a: Assumptions) -> float:
    """V1's trains at time t (log-linear between years' middles, held beyond the ends and
    after the reference year) over the reference year's."""
    points = sorted((y + 0.5, math.log(v)) for y, v in a.coverage_trains.items())
    ref = math.log(a.coverage_trains[a.coverage_reference_year])
    t = min(t, a.coverage_reference_year + 0.5)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return math.exp(float(np.interp(t, xs, ys)) - ref)


Capacity = tuple[tuple[float, float], tuple[float, float]]  # per half, per direction, TEU/half
WaitCoefficients = tuple[float, float, float, float, float]  # c0, c1, k, δ, slope
Waits = tuple[
    tuple[WaitCoefficients, WaitCoefficients], tuple[WaitCoefficients, WaitCoefficients]
]  # per half, per direction


def year_inputs(
    h: HistoryYear,
    a: Assumptions,
    capacity_teu: Capacity | None = None,
    waits: Waits | None = None,
) -> YearInputs:
    """Resolve a year's block into the kernel's two half-year rows. The border's capacity and
    wait curve per half and direction come from the network
    (:func:`sim.choice.network_years.network_year_inputs`);
    without them (a toy year, a test) the crossing is unbounded and the wait the assumptions'
    fallback shape."""
    w = a.border_wait
    default = (w.base_days, w.scale_days, w.power, w.delta, w.slope_over_days)
    late = a.reliability_weight * (1.0 - h.sea.on_time_share) * h.sea.late_days
    sea_rates = h.sea.half_year_rates_usd_per_feu or [h.sea.rate_usd_per_feu] * 2
    east_ratio = (
        h.sea.eastbound_rate_usd_per_feu / h.sea.rate_usd_per_feu
        if h.sea.eastbound_rate_usd_per_feu is not None and h.sea.rate_usd_per_feu > 0
        else math.nan
    )
    rail_w = h.rail.rate_usd_per_feu
    rail_e = h.rail.eastbound_rate_usd_per_feu
    rail_e = rail_w * a.eastbound_rail_rate_ratio if rail_e is None else rail_e
    sanctions_start = None if h.rail.sanctions_from is None else h.rail.sanctions_from
    rows = np.zeros((2, K.N_HALF_COLUMNS))
    periods = np.zeros((2, MAX_PERIODS, 3))
    for k, span in enumerate(halves_of(h.year)):
        row = rows[k]
        mid = h.year + 0.25 + 0.5 * k
        row[K.H_SEA_W] = sea_rates[k]
        row[K.H_SEA_E] = sea_rates[k] * east_ratio
        row[K.H_RAIL_W] = rail_w
        row[K.H_RAIL_E] = rail_e
        if capacity_teu is None:
            row[K.H_CAP_W] = row[K.H_CAP_E] = UNBOUNDED_TEU
        else:
            row[K.H_CAP_W], row[K.H_CAP_E] = capacity_teu[k]
        if sanctions_start is not None:
            start = max(sanctions_start, span[0])
            row[K.H_SANCT] = max(0, (span[1] - start).days) / (span[1] - span[0]).days
            row[K.H_SANCT_YEARS] = max(0.0, mid - decimal_year(sanctions_start))
        row[K.H_MID] = mid
        row[K.H_COV_OBS] = coverage_observed(mid, a)
        row[K.H_SEA_DAYS] = h.sea.transit_days + a.sea_buffer_days + late
        row[K.H_CAPE_DAYS] = h.sea.cape_extra_days
        row[K.H_MARKET_W] = h.market_teu_per_year["westbound"] / 2.0
        row[K.H_MARKET_E] = h.market_teu_per_year["eastbound"] / 2.0
        for d in range(2):
            i = K.H_WAIT_W + d * K.WAIT_COEFFICIENTS
            row[i : i + K.WAIT_COEFFICIENTS] = waits[k][d] if waits is not None else default
        row[K.H_MC_RATE_W] = rail_w + a.middle_corridor.rate_premium_usd_per_feu
        row[K.H_MC_RATE_E] = rail_e + a.middle_corridor.rate_premium_usd_per_feu
        row[K.H_MC_CAP] = a.middle_corridor.capacity_teu_per_year / 2.0
        periods[k] = periods_of(h, span)
    return YearInputs(h.year, K.as_float(rows), K.as_float(periods))
