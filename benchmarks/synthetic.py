"""A synthetic corridor-sized scenario for benchmarks (timing only, not a model of the corridor).

It uses the shared node ids (5 Chinese terminals, 6 exits, 6 Belarus–Poland crossings, 4 EU
destinations), two alternative routes per flow, westbound and eastbound flows, seasonality,
train types with their own handling at the break of gauge, link capacities, and three
capacity events (works, a closure, a demand shock). Its size follows the CR Express scale,
about 17,000 trains a year (facts: V1, 16,145 trains in Jan–Nov 2023), so it is an upper
bound for the real scenarios, which calibrate on the 5–6× smaller ERAI series. Tracks are
sized so the busiest node runs at about 0.75 utilisation; every other figure is a
round benchmark assumption. Used until issue 3's real scenarios exist, and by the scaling
benchmark.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from sim.config.references import check_references
from sim.config.scenario import Scenario

TERMINALS = ("xian", "chongqing", "chengdu", "zhengzhou", "yiwu")
EXITS = {  # Chinese exit -> 1520 mm entry on the other side
    "alashankou": "dostyk",
    "khorgos": "altynkol",
    "manzhouli": "zabaikalsk",
}
CROSSINGS = {"brest": "malaszewicze", "grodno": "kuznica", "svislach": "siemianowka"}
DESTINATIONS = ("lodz", "warsaw", "duisburg", "hamburg")
TRAINS_PER_YEAR = 17_000  # facts: V1 (order of magnitude; both directions)
TEU_PER_TRAIN = 82  # assumption: 41 FEU (facts: B16)
TARGET_UTILISATION = 0.75  # assumption: the busiest node's load when tracks are sized


def _tri(low: float, mode: float, high: float) -> dict[str, Any]:
    return {"dist": "triangular", "low": low, "mode": mode, "high": high}


def _routes() -> dict[str, list[str]]:
    """Two routes per terminal–destination pair: main (Alashankou–Brest) and an alternative."""
    routes: dict[str, list[str]] = {}
    alternatives = [("khorgos", "grodno"), ("manzhouli", "svislach"), ("alashankou", "grodno")]
    for i, origin in enumerate(TERMINALS):
        for j, dest in enumerate(DESTINATIONS):
            exit_cn, crossing = alternatives[(i + j) % len(alternatives)]
            routes[f"{origin}-{dest}-main"] = [
                origin,
                "alashankou",
                "dostyk",
                "brest",
                "malaszewicze",
                dest,
            ]
            routes[f"{origin}-{dest}-alt"] = [
                origin,
                exit_cn,
                EXITS[exit_cn],
                crossing,
                CROSSINGS[crossing],
                dest,
            ]
    return routes


def _links(routes: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    km = {  # assumption: round distances; the 1520 mm stretch is about 5,430 km (facts: G4)
        "terminal-exit": 3_000.0,
        "exit-entry": 12.0,
        "entry-crossing": 5_430.0,
        "crossing-crossing": 10.0,
        "crossing-destination": 900.0,
    }
    kind_of = {n: "terminal" for n in TERMINALS}
    kind_of |= {n: "exit" for n in EXITS} | {n: "entry" for n in EXITS.values()}
    kind_of |= {n: "crossing" for n in (*CROSSINGS, *CROSSINGS.values())}
    kind_of |= {n: "destination" for n in DESTINATIONS}
    links: dict[str, dict[str, Any]] = {}
    for nodes in routes.values():
        for a, b in itertools.pairwise(nodes):
            lid = f"{a}-{b}"
            if lid in links:
                continue
            pair = f"{kind_of[a]}-{kind_of[b]}"
            link: dict[str, Any] = {
                "from": a,
                "to": b,
                "km": km[pair],
                "speed_km_per_day": {"dist": "uniform", "low": 700, "high": 1_100},  # G5, G8
            }
            if pair == "entry-crossing":
                link["capacity_trains"] = 400  # assumption: trains on the 1520 stretch at once
            links[lid] = link
    return links


def synthetic_corridor(horizon_days: float = 365.0, seed: int = 20230101) -> Scenario:
    """The synthetic corridor over ``horizon_days`` after a 30-day warm-up."""
    routes = _routes()
    flows: dict[str, dict[str, Any]] = {}
    pairs = [(o, d) for o in TERMINALS for d in DESTINATIONS]
    for o, d in pairs:
        for direction, share in (("west", 0.6), ("east", 0.4)):  # assumption: 60/40 split
            trains = TRAINS_PER_YEAR * share / len(pairs)
            origin, dest = (o, d) if direction == "west" else (d, o)
            flows[f"{o}-{d}-{direction}"] = {
                "origin": origin,
                "destination": dest,
                "routes": {f"{o}-{d}-main": 0.85, f"{o}-{d}-alt": 0.15},  # facts: G13
                "teu_per_year": trains * TEU_PER_TRAIN,
                "teu_per_train": TEU_PER_TRAIN,
                "seasonality": [0.9, 0.7, 1.0, 1.0, 1.1, 1.1, 1.0, 1.0, 1.0, 1.0, 1.1, 1.1],
                "train_types": {"reload": 0.3, "transfer": 0.7},
            }
    handling = {
        "terminal": _tri(4, 6, 10),
        "exit": _tri(1, 2, 4),  # facts: B11 (~2 h transshipment)
        "entry": _tri(2, 3, 6),  # facts: B12
        "crossing": _tri(4, 5, 9),  # facts: B4 (5 h without reloading)
        "destination": _tri(4, 6, 10),
    }
    visits = _trains_per_node(routes, flows)
    nodes: dict[str, dict[str, Any]] = {}
    for nid, kind in _kinds().items():
        dist = handling[kind]
        mean = (dist["low"] + dist["mode"] + dist["high"]) / 3
        per_hour = visits.get(nid, 0.0) / 8760
        node: dict[str, Any] = {
            "kind": "border" if kind in ("exit", "entry", "crossing") else kind,
            "servers": max(1, math.ceil(per_hour * mean / TARGET_UTILISATION)),
            "handling_hours": dist,
        }
        if nid in ("brest", "grodno", "svislach"):
            node["gauge_change"] = True
            node["handling_hours_by_type"] = {  # facts: B4 (8.5 h / 5 h)
                "reload": _tri(6, 8.5, 12),
                "transfer": _tri(4, 5, 9),
            }
            node["servers"] = max(1, math.ceil(per_hour * 7.0 / TARGET_UTILISATION))
        nodes[nid] = node
    doc: dict[str, Any] = {
        "name": "synthetic_corridor",
        "run": {
            "start_date": "2023-01-01",
            "warmup_days": 30,
            "horizon_days": horizon_days,
            "replications": 1,
            "seed": seed,
        },
        "nodes": nodes,
        "links": _links(routes),
        "routes": {rid: {"nodes": ns} for rid, ns in routes.items()},
        "flows": flows,
        "events": {
            "malaszewicze_works": {  # assumption: milder than 2019's 14 -> 8 (facts: B2)
                "targets": ["malaszewicze"],
                "start": 120,
                "end": 300,
                "capacity_factor": 0.85,
            },
            "border_closure": {  # facts: D1 (13-day closure of every crossing)
                "targets": [*CROSSINGS.values()],
                "start": 254,
                "end": 267,
                "servers": 0,
            },
            "demand_shock": {  # assumption: a 20 % surge for two months
                "targets": [f for f in flows if f.endswith("west")],
                "start": 30,
                "end": 90,
                "demand_factor": 1.2,
            },
        },
    }
    scenario = Scenario.model_validate(doc)
    problems = check_references(scenario)
    if problems:
        raise ValueError(problems)
    return scenario


def _kinds() -> dict[str, str]:
    kinds = {n: "terminal" for n in TERMINALS}
    kinds |= {n: "exit" for n in EXITS} | {n: "entry" for n in EXITS.values()}
    kinds |= {n: "crossing" for n in (*CROSSINGS, *CROSSINGS.values())}
    kinds |= {n: "destination" for n in DESTINATIONS}
    return kinds


def _trains_per_node(
    routes: dict[str, list[str]], flows: dict[str, dict[str, Any]]
) -> dict[str, float]:
    """Expected trains a year through each node (both directions)."""
    out: dict[str, float] = {}
    for flow in flows.values():
        trains = flow["teu_per_year"] / flow["teu_per_train"]
        for rid, share in flow["routes"].items():
            for nid in routes[rid]:
                out[nid] = out.get(nid, 0.0) + trains * share
    return out
