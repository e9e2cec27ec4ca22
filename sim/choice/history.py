"""The time-series choice: how much of the China↔EU market takes the 1520 rail route in a year.

Fast by design (microseconds per year), so that ``corridor fit-history`` can evaluate it
thousands of times; ``corridor backtest`` then simulates each year at the fitted demand.

The choice runs per half-year, with that half's sea rate (S8 readings are dated), capacity
and sanctions; the adjustment carries over from one half to the next. Per half-year,
direction d and cargo class c (value of time v_c), in USD per FEU:

    sea  = sea rate_d + v_c × (sea days + buffer + reliability_weight × (1 − on-time) × late days)
    rail = base rate_d × (1 + a × u_d^b) + constant_d + sanctions cost × sanctions share
           + v_c × (free rail days_d + border wait(u_d) + buffer)

with u_d = rail TEU_d / border capacity_d (train pairs/day × TEU/train × 365). The static
choice is a binary logit times the share of the market the services reach (a logistic
coverage trend: the CR Express build-out to more cities, which no input measures),
p* = coverage(t) × Σ_c share_c / (1 + exp((rail − sea) / scale)). Shippers adjust
partially: this year's share p = θ p* + (1 − θ) p_previous, θ = θ_up when rail gains and
θ_down when it loses (θ = 1: the static choice). The
load u depends on p and the price and wait on u, so p is a fixed point, found per direction
by bracketing (the right-hand side falls as p rises: one root).

Closures re-time and re-route demand inside the year: each half is cut into periods of
constant availability; while rail is closed its bookings split by the shares of the
assumptions (D7): some wait and ship after the reopening (they stay in the year's rail
volume), some go by the Middle Corridor as far as the Caspian crossing has room (MC2), some
rail–sea via the Baltic, and the rest by sea. Only the waiting share is 1520 transit into the
EU (what Y1 counts); the others are reported beside it (``YearResult.closure``). While Suez
is closed the sea route takes the Cape's days.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.optimize import brentq

from sim.config.history import DIRECTIONS, Assumptions, Fitted, HistoryYear, SupplyCurve

DAYS_PER_YEAR = 365.0
SATURATION_U = 0.95  # beyond this the steady-state wait formula is replaced by a fluid backlog


@dataclass(frozen=True)
class Period:
    """A stretch of a half-year with constant availability."""

    weight: float  # fraction of the half-year
    rail_open: bool
    suez_open: bool


@dataclass(frozen=True)
class Half:
    """What changes between the halves of a year: sea rate, capacity, sanctions, closures."""

    sea_rate_usd: tuple[float, float]  # westbound, eastbound
    capacity_teu: tuple[float, float]  # per direction in the half-year
    sanctions_share: float  # of the half-year under the 2022 regime
    periods: tuple[Period, ...]
    mid_year: float  # decimal year at the half's middle (the coverage trend's clock)


@dataclass(frozen=True)
class YearInputs:
    """One year's numbers, resolved from its scenario and the shared assumptions."""

    year: int
    market_teu: tuple[float, float]  # per year, westbound, eastbound
    rail_base_usd: tuple[float, float]
    sea_days: float  # Suez transit + buffer + valued lateness
    cape_extra_days: float
    halves: tuple[Half, Half]


@dataclass(frozen=True)
class ClosureSplit:
    """Where one direction's rail bookings went while rail was closed, TEU in the year."""

    booked: float = 0.0  # what rail would have carried in the closed days
    waited: float = 0.0  # shipped after the reopening (inside the year's rail TEU)
    middle_corridor: float = 0.0  # by the Caspian, within its spare room (MC2)
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
class YearResult:
    """The choice's answer for one year (two half-years)."""

    year: int
    teu: tuple[float, float]  # per direction, the year
    first_half_teu: tuple[float, float]
    state: tuple[float, float]  # share of the market in H2: where next year starts from
    static_share: tuple[float, float]  # p* of H2 at the solved load (no inertia)
    load: tuple[float, float]  # the year's mean u = TEU / capacity
    rail_rate_usd: tuple[float, float]  # the year's mean through rate
    closure: tuple[ClosureSplit, ClosureSplit] = (NO_CLOSURE, NO_CLOSURE)  # per direction

    @property
    def total_teu(self) -> float:
        return self.teu[0] + self.teu[1]

    @property
    def westbound_share(self) -> float:
        return self.teu[0] / self.total_teu if self.total_teu > 0 else 0.0


def supply_rate_usd(base_usd: float, load: float, curve: SupplyCurve) -> float:
    """Through rail rate at this load (TEU / capacity): the base rate at zero load."""
    return float(base_usd * (1.0 + curve.a * max(load, 0.0) ** curve.b))


def border_wait_days(load: float, scale_days: float) -> float:
    """Mean wait at the border: scale × u / (1 − u) below saturation (the M/M/1 shape), plus
    the mean age of a fluid backlog growing for a half-year above capacity."""
    u = min(max(load, 0.0), SATURATION_U)
    wait = scale_days * u / (1.0 - u)
    if load > 1.0:
        wait += (load - 1.0) / load * DAYS_PER_YEAR / 4.0
    return wait


def _logistic(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def coverage_share(mid_year: float, fit: Fitted) -> float:
    """The share of the market within reach of rail services at this time (1 without a
    coverage trend)."""
    c = fit.coverage
    if c is None:
        return 1.0
    return _logistic(c.rate_per_year * (mid_year - c.midpoint_year))


def static_share(
    inp: YearInputs,
    half: Half,
    d: int,
    suez_open: bool,
    load: float,
    fit: Fitted,
    a: Assumptions,
) -> float:
    """p*: the share of direction d's market choosing rail at this load, no inertia."""
    rail_rate = supply_rate_usd(inp.rail_base_usd[d], load, fit.supply)
    direction = DIRECTIONS[d]
    rail_fixed = (
        rail_rate
        + fit.constant_usd_per_feu[direction]
        + fit.sanctions_usd_per_feu * half.sanctions_share
    )
    rail_days = a.rail_free_days[direction] + border_wait_days(load, a.queue_days_scale)
    rail_days += a.rail_buffer_days
    sea_days = inp.sea_days + (0.0 if suez_open else inp.cape_extra_days)
    total = 0.0
    for cls in a.classes.values():
        v = cls.value_of_time_usd_per_feu_day
        gap = (half.sea_rate_usd[d] + v * sea_days) - (rail_fixed + v * rail_days)
        total += cls.share * _logistic(gap / fit.cost_scale_usd)
    reach = coverage_share(half.mid_year, fit)
    return reach * total * (1.0 - fit.sanctions_excluded_share * half.sanctions_share)


def adjusted_share(star: float, previous: float, fit: Fitted) -> float:
    """Partial adjustment from the last half-year's share towards this one's static choice:
    the rate when rail gains, or the one when it loses (rate 1: the static choice)."""
    theta = fit.adjustment_rate_up if star > previous else fit.adjustment_rate_down
    return theta * star + (1.0 - theta) * previous


def _half_share(
    inp: YearInputs, half: Half, d: int, fit: Fitted, a: Assumptions, previous: float | None
) -> tuple[float, float, float]:
    """(share carried, p* at the solved load, load) for direction d in one half-year;
    ``previous`` None means no inertia. The share carried counts closed periods at zero."""
    cap = half.capacity_teu[d]
    market = inp.market_teu[d] / 2.0

    def response(p: float) -> tuple[float, float]:
        load = p * market / cap
        total = 0.0
        star_mean = 0.0
        for period in half.periods:
            star = static_share(inp, half, d, period.suez_open, load, fit, a)
            star_mean += period.weight * star
            x = star if previous is None else adjusted_share(star, previous, fit)
            total += period.weight * (x if period.rail_open else a.closure_wait_share * x)
        return total, star_mean

    def gap(p: float) -> float:
        return response(p)[0] - p

    if gap(0.0) <= 0.0:
        return 0.0, response(0.0)[1], 0.0
    p = float(brentq(gap, 0.0, 1.0, xtol=1e-12, rtol=1e-10))
    return p, response(p)[1], p * market / cap


def closure_split(
    inp: YearInputs,
    half: Half,
    d: int,
    fit: Fitted,
    a: Assumptions,
    previous: float,
    load: float,
) -> ClosureSplit:
    """Where direction d's bookings of the closed periods of a half went, at the solved load:
    the shares of the assumptions, the Middle Corridor's capped by its spare room over the
    closed days (what does not fit goes to sea)."""
    market = inp.market_teu[d] / 2.0
    half_days = DAYS_PER_YEAR / 2.0
    out = NO_CLOSURE
    for period in half.periods:
        if period.rail_open:
            continue
        star = static_share(inp, half, d, period.suez_open, load, fit, a)
        booked = adjusted_share(star, previous, fit) * market * period.weight
        room = a.middle_corridor_spare_teu_per_year * period.weight * half_days / DAYS_PER_YEAR
        out = out + ClosureSplit(
            booked=booked,
            waited=a.closure_wait_share * booked,
            middle_corridor=min(a.closure_middle_corridor_share * booked, room),
            rail_sea=a.closure_rail_sea_share * booked,
        )
    return out


def solve_year(
    inp: YearInputs, fit: Fitted, a: Assumptions, previous: tuple[float, float] | None
) -> YearResult:
    """The year's rail volume per direction, half-year by half-year, given the share the
    last half-year ended with (None: the first year, which starts from ``initial_ratio`` ×
    its own static choice)."""
    teu = [0.0, 0.0]
    first = [0.0, 0.0]
    state = [0.0, 0.0]
    stars = [0.0, 0.0]
    loads = [0.0, 0.0]
    rates = [0.0, 0.0]
    closure = [NO_CLOSURE, NO_CLOSURE]
    for d in range(2):
        if previous is None:
            p_static, _, _ = _half_share(inp, inp.halves[0], d, fit, a, None)
            prev = fit.initial_ratio * p_static
        else:
            prev = previous[d]
        for h, half in enumerate(inp.halves):
            p, star, load = _half_share(inp, half, d, fit, a, prev)
            if not all(period.rail_open for period in half.periods):
                closure[d] = closure[d] + closure_split(inp, half, d, fit, a, prev, load)
            volume = p * inp.market_teu[d] / 2.0
            teu[d] += volume
            if h == 0:
                first[d] = volume
            stars[d] = star
            loads[d] += load / 2.0
            rates[d] += supply_rate_usd(inp.rail_base_usd[d], load, fit.supply) / 2.0
            prev = p
        state[d] = prev
    return YearResult(
        year=inp.year,
        teu=(teu[0], teu[1]),
        first_half_teu=(first[0], first[1]),
        state=(state[0], state[1]),
        static_share=(stars[0], stars[1]),
        load=(loads[0], loads[1]),
        rail_rate_usd=(rates[0], rates[1]),
        closure=(closure[0], closure[1]),
    )


def run_chain(years: Sequence[YearInputs], fit: Fitted, a: Assumptions) -> list[YearResult]:
    """Every year in order, each starting from the one before (partial adjustment)."""
    out: list[YearResult] = []
    previous: tuple[float, float] | None = None
    for inp in years:
        result = solve_year(inp, fit, a, previous)
        out.append(result)
        previous = result.state
    return out


# --- from scenarios to inputs ---------------------------------------------------------------


def _halves(year: int) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    mid = dt.date(year, 7, 1)
    return (dt.date(year, 1, 1), mid), (mid, dt.date(year + 1, 1, 1))


def periods_of(h: HistoryYear, span: tuple[dt.date, dt.date]) -> tuple[Period, ...]:
    """Cut a stretch of the year at every closure edge; weights are fractions of it."""
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
    out: list[Period] = []
    for a, b in itertools.pairwise(edges):
        mid = (a + b) / 2
        rail = not any(o == "rail" and s <= mid < e for o, s, e in spans)
        suez = not any(o == "suez" and s <= mid < e for o, s, e in spans)
        out.append(Period((b - a) / length, rail, suez))
    return tuple(out)


def year_inputs(h: HistoryYear, a: Assumptions) -> YearInputs:
    """Resolve a year's block: halves, eastbound rates by ratio unless given, capacity in TEU."""
    rail_w = h.rail.rate_usd_per_feu
    rail_e = h.rail.eastbound_rate_usd_per_feu
    late = a.reliability_weight * (1.0 - h.sea.on_time_share) * h.sea.late_days
    sea_rates = h.sea.half_year_rates_usd_per_feu or [h.sea.rate_usd_per_feu] * 2
    pairs = h.rail.half_year_border_train_pairs_per_day or [h.rail.border_train_pairs_per_day] * 2
    east_ratio = (
        h.sea.eastbound_rate_usd_per_feu / h.sea.rate_usd_per_feu
        if h.sea.eastbound_rate_usd_per_feu is not None and h.sea.rate_usd_per_feu > 0
        else a.eastbound_sea_rate_ratio
    )
    halves = []
    for k, span in enumerate(_halves(h.year)):
        cap = pairs[k] * a.teu_per_train * DAYS_PER_YEAR / 2.0
        sanctions = 0.0
        if h.rail.sanctions_from is not None:
            start = max(h.rail.sanctions_from, span[0])
            sanctions = max(0, (span[1] - start).days) / (span[1] - span[0]).days
        halves.append(
            Half(
                sea_rate_usd=(sea_rates[k], sea_rates[k] * east_ratio),
                capacity_teu=(cap, cap),
                sanctions_share=sanctions,
                periods=periods_of(h, span),
                mid_year=h.year + 0.25 + 0.5 * k,
            )
        )
    return YearInputs(
        year=h.year,
        market_teu=(h.market_teu_per_year["westbound"], h.market_teu_per_year["eastbound"]),
        rail_base_usd=(
            rail_w,
            rail_e if rail_e is not None else rail_w * a.eastbound_rail_rate_ratio,
        ),
        sea_days=h.sea.transit_days + a.sea_buffer_days + late,
        cape_extra_days=h.sea.cape_extra_days,
        halves=(halves[0], halves[1]),
    )
