"""The choice itself: generalised cost per FEU and (nested) logit shares with availability.

Pure functions of numbers, no simulation: the feedback loop (:mod:`sim.choice.fixed_point`) feeds
them measured transit times. Cost is in USD per FEU:

    cost = rate + constant + reliability penalty
           + value of time × (transit days + access days + reliability buffer days)

Shares follow a nested logit with scale ``mu = 1 / cost_scale_usd``: options in one nest
(e.g. Suez and the Cape, both sea) are closer substitutes than options in different nests,
so closing Suez moves most of its traffic to the Cape rather than spreading it in
proportion over every option (the independence-of-irrelevant-alternatives trap of a plain
multinomial logit). With every nest's lambda = 1 it is the plain multinomial logit. An
unavailable option gets exactly zero share. Availability may change during the run; the
shares are then averaged over the periods with constant availability, weighted by length.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.config.mode_choice import ChoiceOption, ModeChoice, When

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def generalised_cost_usd(
    opt: ChoiceOption, transit_days: float, value_of_time_usd_per_feu_day: float
) -> float:
    """USD per FEU of one option for shippers with the given value of time."""
    days = transit_days + opt.access_days + opt.reliability_buffer_days
    return (
        opt.rate_usd_per_feu
        + opt.constant_usd_per_feu
        + opt.reliability_penalty_usd_per_feu
        + value_of_time_usd_per_feu_day * days
    )


def logit_shares(
    costs_usd: FloatArray,
    available: BoolArray,
    cost_scale_usd: float,
    nest_of: Sequence[int] | None = None,
    nest_lambda: Sequence[float] = (),
) -> FloatArray:
    """Choice probabilities of options with these costs (nested logit; MNL without nests).

    ``nest_of[i]`` is the nest index of option i, or -1 for an option in a nest of its own;
    ``nest_lambda[n]`` is the dissimilarity of nest n, in (0, 1]. Probabilities sum to 1
    over the available options; unavailable ones get 0. With none available, all are 0.
    """
    costs = np.asarray(costs_usd, dtype=float)
    avail = np.asarray(available, dtype=bool)
    shares = np.zeros(len(costs))
    if not avail.any():
        return shares
    nests = np.full(len(costs), -1) if nest_of is None else np.asarray(nest_of)
    utility = -costs / cost_scale_usd
    # Each group is a nest, or a lone option; lone options act as nests with lambda 1.
    groups: list[tuple[NDArray[np.intp], float]] = []
    for n in sorted(set(nests[avail].tolist())):
        if n < 0:
            groups += [(np.asarray([i]), 1.0) for i in np.flatnonzero(avail & (nests < 0))]
        else:
            groups.append((np.flatnonzero(avail & (nests == n)), float(nest_lambda[n])))
    inclusive = np.empty(len(groups))
    within: list[FloatArray] = []
    for g, (members, lam) in enumerate(groups):
        scaled = utility[members] / lam
        top = float(scaled.max())
        weights = np.exp(scaled - top)
        total = float(weights.sum())
        within.append(weights / total)
        inclusive[g] = lam * (top + np.log(total))
    upper = np.exp(inclusive - inclusive.max())
    upper /= upper.sum()
    for g, (members, _) in enumerate(groups):
        shares[members] = upper[g] * within[g]
    return shares


@dataclass(frozen=True)
class Regime:
    """A stretch of the measurement window with constant availability."""

    weight: float  # fraction of the window
    available: BoolArray


def regimes(
    mc: ModeChoice, window_hours: tuple[float, float], to_hours: Callable[[When], float]
) -> list[Regime]:
    """Availability over the window, as periods with their share of its length."""
    w0, w1 = window_hours
    closed: list[list[tuple[float, float]]] = []
    cuts = {w0, w1}
    for opt in mc.options.values():
        spans = []
        for closure in opt.closures.values():
            a = max(w0, to_hours(closure.start))
            b = w1 if closure.end is None else min(w1, to_hours(closure.end))
            if b > a:
                spans.append((a, b))
                cuts.update((a, b))
        closed.append(spans)
    edges = sorted(cuts)
    out: list[Regime] = []
    for a, b in itertools.pairwise(edges):
        mid = (a + b) / 2
        avail = np.asarray(
            [
                opt.available and not any(s <= mid < e for s, e in spans)
                for opt, spans in zip(mc.options.values(), closed, strict=True)
            ],
            dtype=bool,
        )
        if out and np.array_equal(out[-1].available, avail):
            out[-1] = Regime(out[-1].weight + (b - a) / (w1 - w0), avail)
        else:
            out.append(Regime((b - a) / (w1 - w0), avail))
    return out


def class_shares(
    mc: ModeChoice,
    transit_days: Sequence[float],
    value_of_time_usd_per_feu_day: float,
    periods: Sequence[Regime],
) -> FloatArray:
    """Shares over options for one class, averaged over availability periods."""
    opts = list(mc.options.values())
    costs = np.asarray(
        [
            generalised_cost_usd(o, t, value_of_time_usd_per_feu_day)
            for o, t in zip(opts, transit_days, strict=True)
        ]
    )
    nest_names = list(mc.nests)
    nest_of = [nest_names.index(o.nest) if o.nest is not None else -1 for o in opts]
    lambdas = [mc.nests[n] for n in nest_names]
    total = np.zeros(len(opts))
    for period in periods:
        total += period.weight * logit_shares(
            costs, period.available, mc.cost_scale_usd, nest_of, lambdas
        )
    return total
