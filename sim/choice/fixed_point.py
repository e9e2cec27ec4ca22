"""Congestion feedback: demand chooses, the simulation answers with times, demand re-chooses.

The fixed point of "shares given times" and "times given shares":

1. shares x from the logit at free-flow (or given) rail times;
2. simulate the scenario with the rail flows carrying x (a few replications, common random
   numbers: the same seed in every iteration), measure each rail option's transit time
   including the trains still queued at the end (:mod:`sim.choice.rail_times`);
3. the logit's response y to those times; the gap max|y - x| over every direction, class
   and option; stop when it is below the tolerance (x is then consistent with the times it
   produces);
4. otherwise damp, x += step × (y - x), and go to 2. The step is adaptive by default: it
   starts at ``damping``, halves whenever the response overshoots (the gap y - x points
   against the previous one: the fixed point lies between), and grows back by 1.5 up to
   ``damping`` while it does not. Near a saturating line the response is steep (a little
   more demand, a much longer queue), where a constant step oscillates and the method of
   successive averages (step damping/k, also offered) crawls; halving on overshoot
   brackets the fixed point like a bisection.

A route that saturates cannot hide: its queued trains make the measured time grow, its cost
rises and demand moves to the other options until the times and the shares agree. The
final run (full replications, with tables) simulates the converged demand: it is the run's
lifecycle's (:mod:`sim.workflow.lifecycle`), like every other run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sim.choice.logit import Regime, class_shares, generalised_cost_usd, regimes
from sim.choice.rail_times import FlowTimes, flow_times, nominal_transit_days
from sim.config.mode_choice import ModeChoice, When, carriers
from sim.config.scenario import Scenario, event_hours
from sim.engine.network import build_network
from sim.engine.replications import simulate
from sim.executors import map_ordered

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Measures = dict[tuple[str, str], FlowTimes]
Carrier = tuple[str, str, float]  # (flow, route, weight within its option and direction)


@dataclass(frozen=True)
class ChoiceModel:
    """A scenario's ``mode_choice`` resolved into arrays indexed [direction, class, option]."""

    mc: ModeChoice
    directions: list[str]
    classes: list[str]
    options: list[str]
    demand_teu: FloatArray  # [d, c] TEU per year
    vot: FloatArray  # [c] USD per FEU-day
    simulated: BoolArray  # [o] transit measured by the simulation
    serves: BoolArray  # [d, o] the option exists in this direction
    flows: dict[tuple[int, int], list[Carrier]]  # (d, o) -> flows and routes carrying it
    input_teu: FloatArray  # [d, o] TEU per year the scenario's flows carry as written
    free_days: FloatArray  # [d, o] free-flow (simulated) or fixed transit days
    start_days: FloatArray  # [d, o] the first guess: given transit_days, else free_days
    periods: list[Regime]
    window_share: FloatArray  # [o] fraction of the window the option is available

    @classmethod
    def build(cls, s: Scenario) -> ChoiceModel:
        mc = s.mode_choice
        assert mc is not None
        directions = mc.directions()
        classes = list(mc.classes)
        options = list(mc.options)
        demand = np.asarray(
            [[mc.classes[c].teu_per_year.get(d, 0.0) for c in classes] for d in directions]
        )
        net = build_network(s)
        n_d, n_o = len(directions), len(options)
        simulated = np.asarray([bool(mc.options[o].flows) for o in options])
        serves = np.ones((n_d, n_o), dtype=bool)
        flows: dict[tuple[int, int], list[Carrier]] = {}
        flow_routes = {fid: f.routes for fid, f in s.flows.items()}
        route_nodes = {rid: r.nodes for rid, r in s.routes.items()}
        input_teu = np.zeros((n_d, n_o))
        free = np.zeros((n_d, n_o))
        start = np.zeros((n_d, n_o))
        for o, oid in enumerate(options):
            opt = mc.options[oid]
            for d, direction in enumerate(directions):
                if not opt.flows:
                    assert opt.transit_days is not None
                    free[d, o] = start[d, o] = opt.transit_days
                    continue
                pairs = carriers(opt, direction, flow_routes, route_nodes)
                if not pairs:
                    serves[d, o] = False
                    continue
                written = np.asarray([_written_teu(s, f, r) for f, r in pairs])
                input_teu[d, o] = float(written.sum())
                weights = written if written.sum() > 0 else np.ones(len(pairs))
                weights = weights / weights.sum()
                flows[(d, o)] = [(f, r, float(w)) for (f, r), w in zip(pairs, weights, strict=True)]
                free[d, o] = sum(
                    w * nominal_transit_days(s, net, f, r) for f, r, w in flows[(d, o)]
                )
                start[d, o] = free[d, o] if opt.transit_days is None else opt.transit_days
        w0 = s.run.warmup_days * 24.0
        window = (w0, w0 + s.run.horizon_days * 24.0)

        def to_hours(when: When) -> float:
            return event_hours(when, s.run.start_date, s.run.warmup_days)

        periods = regimes(mc, window, to_hours)
        window_share = sum((p.weight * p.available.astype(float) for p in periods), np.zeros(n_o))
        return cls(
            mc=mc,
            directions=directions,
            classes=classes,
            options=options,
            demand_teu=demand,
            vot=np.asarray([mc.classes[c].value_of_time_usd_per_feu_day for c in classes]),
            simulated=simulated,
            serves=serves,
            flows=flows,
            input_teu=input_teu,
            free_days=free,
            start_days=start,
            periods=periods,
            window_share=np.asarray(window_share, dtype=float),
        )

    # --- the choice -------------------------------------------------------------------

    def shares(self, days: FloatArray, mc: ModeChoice | None = None) -> FloatArray:
        """[d, c, o] shares for transit days [d, o]; ``mc`` overrides rates, constants and
        values of time (same classes and options; availability and demand stay the model's)."""
        mc = mc or self.mc
        vot = [mc.classes[c].value_of_time_usd_per_feu_day for c in self.classes]
        out = np.zeros((len(self.directions), len(self.classes), len(self.options)))
        for d in range(len(self.directions)):
            periods = [Regime(p.weight, p.available & self.serves[d]) for p in self.periods]
            for c in range(len(self.classes)):
                out[d, c] = class_shares(mc, days[d].tolist(), vot[c], periods)
        return out

    def costs(self, days: FloatArray) -> FloatArray:
        """[d, c, o] generalised cost in USD per FEU."""
        opts = [self.mc.options[o] for o in self.options]
        return np.asarray(
            [
                [
                    [
                        generalised_cost_usd(opt, float(days[d, o]), float(v))
                        for o, opt in enumerate(opts)
                    ]
                    for v in self.vot
                ]
                for d in range(len(self.directions))
            ]
        )

    def option_teu(self, shares: FloatArray) -> FloatArray:
        """[d, o] TEU per year choosing each option."""
        result: FloatArray = np.einsum("dc,dco->do", self.demand_teu, shares)
        return result

    def rail_share(self, shares: FloatArray) -> float:
        rail = np.asarray([self.mc.options[o].mode == "rail" for o in self.options])
        total = float(self.demand_teu.sum())
        return float(self.option_teu(shares)[:, rail].sum()) / total if total > 0 else math.nan

    def rail_teu(self, shares: FloatArray) -> float:
        rail = np.asarray([self.mc.options[o].mode == "rail" for o in self.options])
        return float(self.option_teu(shares)[:, rail].sum())

    # --- to and from the simulation ---------------------------------------------------

    def scenario_with(self, s: Scenario, shares: FloatArray) -> Scenario:
        """A copy of the scenario whose option flows carry the chosen TEU per year: each
        flow's total is what its options put on it, its route shares follow."""
        teu = self.option_teu(shares)
        per_route: dict[str, dict[str, float]] = {}
        for (d, o), members in self.flows.items():
            for fid, rid, weight in members:
                routes = per_route.setdefault(fid, {})
                routes[rid] = routes.get(rid, 0.0) + float(teu[d, o] * weight)
        flows = dict(s.flows)
        for fid, routes in per_route.items():
            total = sum(routes.values())
            update: dict[str, object] = {"teu_per_year": total}
            if total > 0:
                update["routes"] = {rid: v / total for rid, v in routes.items() if v > 0}
            flows[fid] = flows[fid].model_copy(update=update)
        return s.model_copy(update={"flows": flows})

    def days_from(self, measures: list[Measures]) -> FloatArray:
        """[d, o] transit days: TEU-weighted over the option's flows and the replications;
        free-flow days where no train of the option departed."""
        days = self.free_days.copy()
        for (d, o), members in self.flows.items():
            got = [m[(f, r)] for m in measures for f, r, _ in members if (f, r) in m]
            teu = sum(t.teu_departed for t in got)
            if teu > 0:
                days[d, o] = sum(t.teu_transit_days for t in got) / teu
        return days

    def delivered_teu_per_year(self, measures: Measures, horizon_days: float) -> FloatArray:
        out = np.zeros((len(self.directions), len(self.options)))
        for (d, o), members in self.flows.items():
            teu = sum(measures[(f, r)].teu_delivered for f, r, _ in members if (f, r) in measures)
            out[d, o] = teu * 365.0 / horizon_days
        return out

    def unfinished_trains(self, measures: Measures) -> FloatArray:
        out = np.zeros((len(self.directions), len(self.options)))
        for (d, o), members in self.flows.items():
            out[d, o] = sum(
                measures[(f, r)].trains_unfinished for f, r, _ in members if (f, r) in measures
            )
        return out


def _written_teu(s: Scenario, fid: str, rid: str) -> float:
    """TEU per year a flow puts on a route as the scenario is written."""
    flow = s.flows[fid]
    return (flow.teu_per_year or 0.0) * flow.routes[rid] / sum(flow.routes.values())


# --- simulating ---------------------------------------------------------------------------


def _measure_one(args: tuple[Scenario, int, int]) -> Measures:
    scenario, replication, seed = args
    net, rec = simulate(scenario, replication, seed)
    return flow_times(net, rec)


def measure(scenario: Scenario, replications: int, seed: int, workers: int = 1) -> list[Measures]:
    """Rail times per flow of replications 0..n-1 (no KPIs, no tables)."""
    jobs = [(scenario, r, seed) for r in range(replications)]
    return list(map_ordered(_measure_one, jobs, workers))


# --- the fixed point ------------------------------------------------------------------------


@dataclass
class Iteration:
    iteration: int
    step: float  # damping applied after this iteration (0 when it stopped here)
    gap: float  # max |response - shares|
    shares: FloatArray  # [d, c, o] simulated demand
    response: FloatArray  # [d, c, o] the logit's answer to the measured times
    days: FloatArray  # [d, o] measured transit days
    wall_seconds: float
    rail_share: float  # of all demand, at ``shares``
    rail_response: float  # of all demand, at ``response``


@dataclass
class Solution:
    model: ChoiceModel
    shares: FloatArray  # [d, c, o] the demand of the final run
    days: FloatArray  # [d, o] times measured at those shares
    converged: bool
    iterations: list[Iteration] = field(default_factory=list)


def solve(
    scenario: Scenario,
    seed: int,
    workers: int = 1,
    on_iteration: Callable[[Iteration], None] | None = None,
    mc: ModeChoice | None = None,
) -> Solution:
    """Iterate choice and simulation to the fixed point (see the module docstring).

    ``mc`` replaces the scenario's ``mode_choice`` (the calibration varies constants).
    """
    if mc is not None:
        scenario = scenario.model_copy(update={"mode_choice": mc})
    model = ChoiceModel.build(scenario)
    mc = model.mc
    x = model.shares(model.start_days)
    days = model.start_days
    log: list[Iteration] = []
    converged = False
    step = mc.damping
    previous: FloatArray | None = None
    if not model.simulated.any():  # nothing to feed back: the first choice is final
        return Solution(model, x, days, True, log)
    for k in range(1, mc.max_iterations + 1):
        started = time.perf_counter()
        measures = measure(
            model.scenario_with(scenario, x), mc.replications_per_iteration, seed, workers
        )
        days = model.days_from(measures)
        y = model.shares(days)
        gap = float(np.abs(y - x).max())
        converged = gap < mc.tolerance
        step = 0.0 if converged else _step(mc, k, step, y - x, previous)
        previous = y - x
        wall = time.perf_counter() - started
        entry = Iteration(k, step, gap, x, y, days, wall, model.rail_share(x), model.rail_share(y))
        log.append(entry)
        if on_iteration:
            on_iteration(entry)
        if converged:
            break
        x = x + step * (y - x)
    return Solution(model, x, days, converged, log)


def _step(
    mc: ModeChoice, k: int, last: float, gap: FloatArray, previous: FloatArray | None
) -> float:
    if mc.step == "msa":
        return mc.damping / k
    if mc.step == "fixed" or previous is None:
        return mc.damping
    if float((gap * previous).sum()) < 0:  # overshot: the fixed point is behind us
        return last / 2
    return min(mc.damping, last * 1.5)
