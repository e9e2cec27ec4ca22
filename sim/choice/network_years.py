"""A history year's inputs with its border from its own network (one border: the simulated
crossing's capacity per direction and the wait curve fitted to it), and the chain of years a
``--history`` names. Kept apart from :mod:`sim.choice.history`, which needs no network, so
the posterior's own imports stay short.
"""

from __future__ import annotations

from pathlib import Path

from sim.choice.border_supply import WaitCurveCache, border_supply
from sim.choice.history import Chain, YearInputs, halves_of, year_inputs
from sim.choice.year_chain import history_chain
from sim.config.demand import Assumptions
from sim.config.scenario import Scenario


def network_year_inputs(
    scenario: Scenario, a: Assumptions, cache: WaitCurveCache | None = None
) -> YearInputs:
    """A history scenario's year with its border from its own network (one border: the
    simulated crossing's capacity per direction and the wait curve fitted to it,
    :mod:`sim.choice.border_supply`), so a change to the crossing moves the chosen demand."""
    h = scenario.history
    if h is None:
        raise ValueError("not a history scenario")
    cache = cache if cache is not None else WaitCurveCache()
    caps = []
    waits = []
    for start, end in halves_of(h.year):
        b = border_supply(scenario, start, end, cache)
        caps.append((b.capacity_teu[0] / 2.0, b.capacity_teu[1] / 2.0))
        coefficients = []
        for curve in b.wait_by_direction:
            c = curve.coefficients()
            coefficients.append((c["c0"], c["c1"], c["k"], c["delta"], c["slope_over"]))
        waits.append((coefficients[0], coefficients[1]))
    return year_inputs(h, a, (caps[0], caps[1]), (waits[0], waits[1]))


def chain_of(history: Path, assumptions: Assumptions) -> Chain:
    """The chain of years a ``--history`` names, resolved with these assumptions, each year's
    border from its own network."""
    cache = WaitCurveCache()
    return Chain.of(
        [network_year_inputs(f.scenario, assumptions, cache) for f in history_chain(history)]
    )
