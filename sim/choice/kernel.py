"""The compiled core of the time-series choice: every half-year of a chain of years, for one
parameter vector, in tens of microseconds.

Why compiled: the posterior of each structure (:mod:`sim.choice.posterior`) evaluates the
chain of 2016–2023 a few hundred thousand times, and the ensemble's predictions run every
draw of every structure through 2024–25; the same model in plain Python costs ~5 ms a chain.
The numbers it needs are packed by :mod:`sim.choice.history` into flat arrays (one row a
half-year, columns named below); this module only computes.

Per half-year h, direction d and cargo class c (value of time v_c = value per FEU × r, r the
time value in % of the goods' value per day), in USD per FEU:

    sea  = sea rate + v_c × (sea days [+ Cape days while Suez is closed])
    rail = base × (1 + a u^b) + constant_d + sanctions_d × s + v_c × (free days + wait(u) + buffer)
    mc   = Middle Corridor rate + constant_mc + v_c × (Middle Corridor days)

A multinomial logit (scale 1/μ) splits the shippers who can use every option; those the 2022
regime excludes (share e_d(t) of the market; structure ``exclusion``: permanent, decaying
with a half-life, or returning when rail's advantage outweighs a risk premium) choose between
sea and the Middle Corridor (or rail at the premium). The services reach a share cov(t) of
the market (structure ``coverage``: none, a fitted logistic, or V1's train count to a fitted
power). Rail's static share p* then adjusts partially from the last half-year's (θ_up when
rail gains, θ_down when it loses); because price and wait depend on the load u = p × market /
capacity, p is a fixed point, found by Brent's method on [0, 1] (the response falls as p
rises: one root). The Middle Corridor takes its static share, up to the Caspian's room.

Why this module is long: the compiled functions call each other and must live in one place
for numba to compile them together (a chain of years → a half-year's fixed point → the
response at a load → the logit per class), and the likelihood of the observations sits beside
them so that one compiled call scores a parameter vector; splitting them would only add
imports between a handful of tightly coupled kernels.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# --- the parameter vector (every structure uses the same one; a structure fixes some) ------
SCALE, CONST_W, CONST_E, SANCT_W, SANCT_E, EXCL_W, EXCL_E = range(7)
EXCL_HALFLIFE, EXCL_PREMIUM, THETA_UP, THETA_DOWN, INITIAL, SUPPLY_A, SUPPLY_B = range(7, 14)
COV_RATE, COV_MID, COV_POWER, TIME_VALUE, EAST_SEA, MC_CONST, MARKET, SIGMA = range(14, 22)
N_THETA = 22

# --- structure switches -------------------------------------------------------------------
EXCLUSION_PERMANENT, EXCLUSION_DECAYS, EXCLUSION_RETURNS = 0, 1, 2
COVERAGE_NONE, COVERAGE_LOGISTIC, COVERAGE_OBSERVED = 0, 1, 2

# --- one row per half-year -----------------------------------------------------------------
(
    H_SEA_W,
    H_SEA_E,  # NaN: westbound × the eastbound ratio (a parameter)
    H_RAIL_W,
    H_RAIL_E,
    H_CAP_W,  # China–EU TEU the crossing passes in the half-year, per direction
    H_CAP_E,
    H_SANCT,  # share of the half under the 2022 regime
    H_SANCT_YEARS,  # years since the regime began, at the half's middle (0 before)
    H_MID,  # decimal year at the half's middle
    H_COV_OBS,  # V1 trains at the half's middle / V1 of the reference year
    H_SEA_DAYS,  # Suez transit + buffer + valued lateness
    H_CAPE_DAYS,
    H_MARKET_W,  # TEU in the half-year, all modes
    H_MARKET_E,
    H_MC_RATE_W,
    H_MC_RATE_E,
    H_MC_CAP,  # Middle Corridor TEU in the half-year, per direction
    H_WAIT_W,  # first of the westbound wait curve's WAIT_COEFFICIENTS (c0, c1, k, δ, slope)
) = range(18)
WAIT_COEFFICIENTS = 5
H_WAIT_E = H_WAIT_W + WAIT_COEFFICIENTS
N_HALF_COLUMNS = H_WAIT_E + WAIT_COEFFICIENTS

# --- constants shared by the chain ---------------------------------------------------------
C_FREE_W, C_FREE_E, C_RAIL_BUFFER, C_WAIT_SHARE, C_MC_DAYS = range(5)
N_CONSTANTS = 5

# --- outputs per half-year and direction ---------------------------------------------------
O_SHARE, O_STAR, O_LOAD, O_RATE, O_MC_TEU, O_BOOKED, O_WAIT_DAYS = range(7)
N_OUT = 7

DAYS_PER_HALF = 365.0 / 2.0


@numba.njit(cache=True)
def _logistic(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@numba.njit(cache=True)
def _wait_days(load: float, half: FloatArray, d: int) -> float:
    """The border wait of direction d at load u (sim/choice/border_supply.py's curve):
    c0 + c1 u^k / (1 + δ − u) up to u = 1, then rising by ``slope`` a unit of load (a
    backlog growing over the half-year)."""
    i = H_WAIT_W + d * WAIT_COEFFICIENTS
    c0, c1, k, delta, slope = half[i], half[i + 1], half[i + 2], half[i + 3], half[i + 4]
    u = min(max(load, 0.0), 1.0)
    wait = c0 + c1 * u**k / (1.0 + delta - u)
    if load > 1.0:
        wait += slope * (load - 1.0)
    return float(wait)


@numba.njit(cache=True)
def _coverage(theta: FloatArray, coverage: int, half: FloatArray) -> float:
    if coverage == COVERAGE_LOGISTIC:
        return _logistic(theta[COV_RATE] * (half[H_MID] - theta[COV_MID]))
    if coverage == COVERAGE_OBSERVED:
        return float(min(1.0, half[H_COV_OBS]) ** theta[COV_POWER])
    return 1.0


@numba.njit(cache=True)
def _excluded(theta: FloatArray, exclusion: int, d: int, half: FloatArray) -> float:
    e = theta[EXCL_W + d] * half[H_SANCT]
    if exclusion == EXCLUSION_DECAYS:
        e *= math.exp(-math.log(2.0) * half[H_SANCT_YEARS] / theta[EXCL_HALFLIFE])
    return float(e)


@numba.njit(cache=True)
def _static(
    theta: FloatArray,
    flags: IntArray,
    values: FloatArray,
    shares: FloatArray,
    half: FloatArray,
    consts: FloatArray,
    d: int,
    suez_open: bool,
    load: float,
) -> tuple[float, float]:
    """(p*, Middle Corridor static share) of direction d's market at this load."""
    s = theta[SCALE]
    sea_rate = half[H_SEA_W]
    if d == 1:
        sea_rate = half[H_SEA_E] if not math.isnan(half[H_SEA_E]) else sea_rate * theta[EAST_SEA]
    sea_days = half[H_SEA_DAYS] + (0.0 if suez_open else half[H_CAPE_DAYS])
    rail_rate = half[H_RAIL_W + d] * (1.0 + theta[SUPPLY_A] * max(load, 0.0) ** theta[SUPPLY_B])
    rail_fixed = rail_rate + theta[CONST_W + d] + theta[SANCT_W + d] * half[H_SANCT]
    rail_days = consts[C_FREE_W + d] + _wait_days(load, half, d) + consts[C_RAIL_BUFFER]
    mc_fixed = half[H_MC_RATE_W + d] + theta[MC_CONST]
    excl = _excluded(theta, flags[0], d, half)
    returns = flags[0] == EXCLUSION_RETURNS
    rail_in = 0.0
    mc_in = 0.0
    rail_ex = 0.0
    mc_ex = 0.0
    for c in range(values.shape[0]):
        v = values[c] * theta[TIME_VALUE] / 100.0
        sea = sea_rate + v * sea_days
        rail = rail_fixed + v * rail_days
        mc = mc_fixed + v * consts[C_MC_DAYS]
        low = min(sea, rail, mc)
        es = math.exp(-(sea - low) / s)
        er = math.exp(-(rail - low) / s)
        em = math.exp(-(mc - low) / s)
        rail_in += shares[c] * er / (es + er + em)
        mc_in += shares[c] * em / (es + er + em)
        if returns:
            railx = rail + theta[EXCL_PREMIUM]
            low = min(sea, railx, mc)
            es = math.exp(-(sea - low) / s)
            er = math.exp(-(railx - low) / s)
            em = math.exp(-(mc - low) / s)
            rail_ex += shares[c] * er / (es + er + em)
            mc_ex += shares[c] * em / (es + er + em)
        else:
            mc_ex += shares[c] * _logistic((sea - mc) / s)
    cov = _coverage(theta, flags[1], half)
    return (
        cov * ((1.0 - excl) * rail_in + excl * rail_ex),
        cov * ((1.0 - excl) * mc_in + excl * mc_ex),
    )


@numba.njit(cache=True)
def _adjusted(theta: FloatArray, star: float, previous: float) -> float:
    if previous < 0.0:  # no inertia
        return star
    rate = theta[THETA_UP] if star > previous else theta[THETA_DOWN]
    return float(rate * star + (1.0 - rate) * previous)


@numba.njit(cache=True)
def _response(
    theta: FloatArray,
    flags: IntArray,
    values: FloatArray,
    shares: FloatArray,
    half: FloatArray,
    periods: FloatArray,
    consts: FloatArray,
    d: int,
    previous: float,
    p: float,
) -> float:
    """The share carried in the half-year if the load were p × market / capacity (closed
    periods carry only the bookings that wait)."""
    market = half[H_MARKET_W + d] * theta[MARKET]
    load = p * market / half[H_CAP_W + d]
    total = 0.0
    for k in range(periods.shape[0]):
        w = periods[k, 0]
        if w <= 0.0:
            continue
        star, _ = _static(theta, flags, values, shares, half, consts, d, periods[k, 2] > 0.5, load)
        x = _adjusted(theta, star, previous)
        total += w * (x if periods[k, 1] > 0.5 else consts[C_WAIT_SHARE] * x)
    return total


@numba.njit(cache=True)
def _gap(
    theta: FloatArray,
    flags: IntArray,
    values: FloatArray,
    shares: FloatArray,
    half: FloatArray,
    periods: FloatArray,
    consts: FloatArray,
    d: int,
    previous: float,
    p: float,
) -> float:
    return _response(theta, flags, values, shares, half, periods, consts, d, previous, p) - p


@numba.njit(cache=True)
def _solve(
    theta: FloatArray,
    flags: IntArray,
    values: FloatArray,
    shares: FloatArray,
    half: FloatArray,
    periods: FloatArray,
    consts: FloatArray,
    d: int,
    previous: float,
) -> float:
    """The root of response(p) − p on [0, 1] by Brent's method (as scipy's brentq, whose
    steps it follows: inverse quadratic interpolation guarded by bisection); the gap falls
    as p rises, so the root is the only one."""
    xpre = 0.0
    fpre = _gap(theta, flags, values, shares, half, periods, consts, d, previous, xpre)
    if fpre <= 0.0:
        return 0.0
    xcur = 1.0
    fcur = _gap(theta, flags, values, shares, half, periods, consts, d, previous, xcur)
    if fcur >= 0.0:
        return 1.0
    xblk = 0.0
    fblk = 0.0
    spre = 0.0
    scur = 0.0
    for _ in range(100):
        if fpre != 0.0 and fcur != 0.0 and (fpre < 0.0) != (fcur < 0.0):
            xblk = xpre
            fblk = fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = 0.5 * (1e-12 + 1e-12 * abs(xcur))
        sbis = 0.5 * (xblk - xcur)
        if fcur == 0.0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2.0 * abs(stry) < min(abs(spre), 3.0 * abs(sbis) - delta):
                spre = scur
                scur = stry
            else:
                spre = sbis
                scur = sbis
        else:
            spre = sbis
            scur = sbis
        xpre = xcur
        fpre = fcur
        if abs(scur) > delta:
            xcur += scur
        else:
            xcur += delta if sbis > 0.0 else -delta
        fcur = _gap(theta, flags, values, shares, half, periods, consts, d, previous, xcur)
    return xcur


@numba.njit(cache=True)
def _chain(
    theta: FloatArray,
    flags: IntArray,
    values: FloatArray,
    shares: FloatArray,
    halves: FloatArray,
    periods: FloatArray,
    consts: FloatArray,
) -> FloatArray:
    n = halves.shape[0]
    out = np.zeros((n, 2, N_OUT))
    for d in range(2):
        previous = -1.0
        for h in range(n):
            half = halves[h]
            per = periods[h]
            if h == 0:
                p0 = _solve(theta, flags, values, shares, half, per, consts, d, -1.0)
                previous = theta[INITIAL] * p0
            p = _solve(theta, flags, values, shares, half, per, consts, d, previous)
            market = half[H_MARKET_W + d] * theta[MARKET]
            load = p * market / half[H_CAP_W + d]
            star_mean = 0.0
            mc_teu = 0.0
            booked = 0.0
            for k in range(per.shape[0]):
                w = per[k, 0]
                if w <= 0.0:
                    continue
                star, mc = _static(
                    theta, flags, values, shares, half, consts, d, per[k, 2] > 0.5, load
                )
                star_mean += w * star
                mc_teu += w * min(mc * market, half[H_MC_CAP])
                if per[k, 1] < 0.5:
                    booked += w * _adjusted(theta, star, previous) * market
            out[h, d, O_SHARE] = p
            out[h, d, O_STAR] = star_mean
            out[h, d, O_LOAD] = load
            out[h, d, O_RATE] = half[H_RAIL_W + d] * (
                1.0 + theta[SUPPLY_A] * max(load, 0.0) ** theta[SUPPLY_B]
            )
            out[h, d, O_MC_TEU] = mc_teu
            out[h, d, O_BOOKED] = booked
            out[h, d, O_WAIT_DAYS] = _wait_days(load, half, d)
            previous = p
    return out


# --- observations: kinds, and their log-likelihood ----------------------------------------
OBS_TOTAL, OBS_FIRST_HALF, OBS_WEST_SHARE, OBS_PRICE, OBS_MIDDLE_CORRIDOR = range(5)


@numba.njit(cache=True)
def _predict(
    out: FloatArray, halves: FloatArray, theta: FloatArray, kind: IntArray, year: IntArray
) -> FloatArray:
    pred = np.empty(kind.shape[0])
    tiny = 1e-9
    for i in range(kind.shape[0]):
        h1 = 2 * year[i]
        h2 = h1 + 1
        w1 = out[h1, 0, O_SHARE] * halves[h1, H_MARKET_W] * theta[MARKET]
        e1 = out[h1, 1, O_SHARE] * halves[h1, H_MARKET_E] * theta[MARKET]
        w2 = out[h2, 0, O_SHARE] * halves[h2, H_MARKET_W] * theta[MARKET]
        e2 = out[h2, 1, O_SHARE] * halves[h2, H_MARKET_E] * theta[MARKET]
        k = kind[i]
        if k == OBS_TOTAL:
            pred[i] = math.log(max(w1 + e1 + w2 + e2, tiny))
        elif k == OBS_FIRST_HALF:
            pred[i] = math.log(max(w1 + e1, tiny))
        elif k == OBS_WEST_SHARE:
            total = w1 + e1 + w2 + e2
            pred[i] = (w1 + w2) / total if total > 0.0 else 0.0
        elif k == OBS_PRICE:
            pred[i] = math.log(max(0.5 * (out[h1, 0, O_RATE] + out[h2, 0, O_RATE]), tiny))
        else:
            mc = out[h1, 0, O_MC_TEU] + out[h1, 1, O_MC_TEU]
            mc += out[h2, 0, O_MC_TEU] + out[h2, 1, O_MC_TEU]
            pred[i] = math.log(max(mc, tiny))
    return pred


@numba.njit(cache=True)
def _loglik(
    theta: FloatArray,
    flags: IntArray,
    values: FloatArray,
    shares: FloatArray,
    halves: FloatArray,
    periods: FloatArray,
    consts: FloatArray,
    kind: IntArray,
    year: IntArray,
    value: FloatArray,
    band: FloatArray,
) -> FloatArray:
    out = _chain(theta, flags, values, shares, halves, periods, consts)
    pred = _predict(out, halves, theta, kind, year)
    ll = np.empty(kind.shape[0])
    sigma2 = theta[SIGMA] * theta[SIGMA]
    for i in range(kind.shape[0]):
        var = band[i] * band[i]
        if kind[i] != OBS_WEST_SHARE and kind[i] != OBS_PRICE:
            var += sigma2
        r = value[i] - pred[i]
        ll[i] = -0.5 * (r * r / var + math.log(2.0 * math.pi * var))
    return ll


def predict_observations(
    out: FloatArray, halves: FloatArray, theta: FloatArray, kind: IntArray, year: IntArray
) -> FloatArray:
    """The model's value of each observation (log for volumes and prices, a share else)."""
    return _predict(out, halves, theta, kind, year)


def loglik_points(
    theta: FloatArray,
    flags: IntArray,
    values: FloatArray,
    shares: FloatArray,
    halves: FloatArray,
    periods: FloatArray,
    consts: FloatArray,
    observations: tuple[IntArray, IntArray, FloatArray, FloatArray],
) -> FloatArray:
    """log p(observation | θ) of each observation: normal in log volume (band² + σ²), in
    share points (band²) and in log price (band²)."""
    kind, year, value, band = observations
    return _loglik(theta, flags, values, shares, halves, periods, consts, kind, year, value, band)


def run_kernel(
    theta: FloatArray,
    flags: IntArray,
    values: FloatArray,
    shares: FloatArray,
    halves: FloatArray,
    periods: FloatArray,
    consts: FloatArray,
) -> FloatArray:
    """Outputs [half-year, direction, O_*] of the chain for one parameter vector."""
    return _chain(theta, flags, values, shares, halves, periods, consts)


def as_float(x: Any) -> FloatArray:
    """A contiguous float64 array (what the compiled code expects)."""
    return np.ascontiguousarray(x, dtype=np.float64)
