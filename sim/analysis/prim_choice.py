"""Which box of a PRIM trajectory a command reports, and which of its restrictions it keeps.

PRIM leaves both choices to the analyst (Bryant & Lempert 2010); ``corridor discover`` and
``corridor study-report`` must make them the same way every time, so the rules live here:
the step with the highest coverage among those dense enough (:func:`choose_step`), then its
restrictions that a binomial test cannot tell from chance dropped (:func:`pruned`). The
objects are EMA Workbench's ``PrimBox`` and its trajectory frame (used, not re-implemented).
"""

from __future__ import annotations

from typing import Any


def choose_step(trajectory: Any, min_density: float) -> int | None:
    """Highest coverage among the steps dense enough; ties: fewer inputs, then denser."""
    best: tuple[float, int, float] | None = None
    chosen: int | None = None
    for i in range(len(trajectory)):
        row = trajectory.iloc[i]
        density, coverage = float(row["density"]), float(row["coverage"])
        if density + 1e-12 < min_density or int(row["res_dim"]) == 0:
            continue  # not dense enough, or the whole space: not a finding
        key = (coverage, -int(row["res_dim"]), density)
        if best is None or key > best:
            best, chosen = key, i
    return chosen


QP_ALPHA = 0.05
"""A box's restriction on an input is kept only if its quasi-p-value (EMA Workbench's binomial
test of the box against the box without it) is at most this on some restricted side."""


def weakest_restriction(qp: dict[str, Any]) -> str | None:
    """The restricted input whose restriction is least significant, if none of its sides
    reaches ``QP_ALPHA`` (EMA writes -1 for an unrestricted side)."""
    weakest: tuple[float, str] | None = None
    for name, values in qp.items():
        sides = [float(v) for v in values if v is not None and float(v) >= 0]
        if sides and min(sides) > QP_ALPHA and (weakest is None or min(sides) > weakest[0]):
            weakest = (min(sides), name)
    return None if weakest is None else weakest[1]


def pruned(found: Any, chosen: int, min_density: float) -> int:
    """The chosen box with its insignificant restrictions dropped one by one, weakest first,
    while the box stays dense enough (Bryant & Lempert 2010: a restriction that a binomial
    test cannot tell from chance is noise a reader would take for a condition; PRIM peels
    them when a few points tip a step). Returns the trajectory index of the box kept."""
    current = chosen
    while (name := weakest_restriction(found.qp[current])) is not None:
        found.drop_restriction(name, current)
        dropped = len(found.peeling_trajectory) - 1
        if float(found.peeling_trajectory.iloc[dropped]["density"]) + 1e-12 < min_density:
            found.select(current)  # dropping it would make the box too thin: keep it
            break
        current = dropped
    return current
