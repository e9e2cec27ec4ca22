"""Choices that every figure should make the same way: a node's (or route's, or flow's)
colour, readable names for YAML paths, which nodes sit on top of each other on a map.

A reader who compares two runs' throughput charts must find Brest in the same colour in both,
whatever else changed, so colours come from the element's name among all the scenario's
names of that kind (the shipped scenarios share one network, so they agree), not from the
order a plot happens to draw lines in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from sim.kpis import lookup

# matplotlib's tab20 with the dark shades first: 10 well-separated colours, then 10 lighter
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip
OTHER_COLOUR = "#555555"


def stable_colours(names: Iterable[str]) -> dict[str, str]:
    """A colour per name from its rank among ``names`` (sorted): the same name gets the same
    colour in every figure drawn for the same set of names."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(set(names)))}


FIELD_WORDS = {
    "teu_per_year": "TEU per year",
    "teu_per_train": "TEU per train",
    "rate_usd_per_feu": "rate (USD/FEU)",
    "constant_usd_per_feu": "constant (USD/FEU)",
    "speed_km_per_day": "speed (km/day)",
    "handling_hours": "handling time (hours)",
    "horizon_days": "horizon (days)",
}
GROUPS = {"nodes": "", "links": "link ", "routes": "route ", "flows": "flow ", "events": ""}


def parameter_label(path: str) -> str:
    """A swept YAML path as an axis label: ``nodes.brest.servers`` → ``brest: servers``,
    ``events.sweep_demand_level.demand_factor`` → ``sweep demand level: demand factor``."""
    parts = path.removeprefix("+").split(".")
    if len(parts) >= 3 and parts[0] in GROUPS:
        where = GROUPS[parts[0]] + parts[1].replace("_", " ")
        field = ".".join(parts[2:])
    elif parts[0] == "mode_choice" and len(parts) >= 4 and parts[1] == "options":
        where, field = parts[2].replace("_", " "), ".".join(parts[3:])
    else:  # run.horizon_days, mode_choice.cost_scale_usd: the field name says it
        where, field = "", parts[-1]
    leaf = field.split(".")[-1]
    words = FIELD_WORDS.get(leaf, leaf.replace("_", " "))
    if "." in field:  # e.g. handling_hours.mean
        words = f"{FIELD_WORDS.get(field.split('.')[0], field.split('.')[0])} {leaf}"
    return f"{where}: {words}" if where else words


def metric_axis_label(scope: str, name: str, kpi: str) -> str:
    """``node:brest:utilisation`` → ``brest: utilisation``, with its unit when it has one."""
    info = lookup(scope, kpi)
    label = info.label if info else kpi.replace("_", " ")
    unit = f" ({info.unit})" if info and info.unit != "fraction" else ""
    return f"{name}: {label}{unit}" if name else f"{label}{unit}"


def co_located(where: Mapping[str, tuple[float, float]], within: float) -> list[list[str]]:
    """Groups of nodes closer than ``within`` (in the map's units) to another of the group,
    each group in name order; single nodes are groups of one."""
    names = sorted(where)
    group_of = {n: i for i, n in enumerate(names)}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            (xa, ya), (xb, yb) = where[a], where[b]
            if math.hypot(xa - xb, ya - yb) < within and group_of[a] != group_of[b]:
                old, new = group_of[b], group_of[a]
                for n, g in group_of.items():
                    if g == old:
                        group_of[n] = new
    groups: dict[int, list[str]] = {}
    for n in names:
        groups.setdefault(group_of[n], []).append(n)
    return list(groups.values())


def spread(
    group: list[str], where: Mapping[str, tuple[float, float]], radius: float
) -> dict[str, tuple[float, float]]:
    """Positions for a group drawn side by side: on a small circle around its centre, so no
    marker hides another (a group of one stays where it is)."""
    if len(group) == 1:
        return {group[0]: where[group[0]]}
    cx = sum(where[n][0] for n in group) / len(group)
    cy = sum(where[n][1] for n in group) / len(group)
    out = {}
    for k, n in enumerate(group):
        angle = math.pi / 2 + 2 * math.pi * k / len(group)
        out[n] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    return out
