"""Small scenarios built in code for tests: a single queue, a tandem line."""

from __future__ import annotations

from typing import Any

from sim.config.references import check_references
from sim.config.scenario import Scenario


def validated(doc: dict[str, Any]) -> Scenario:
    scenario = Scenario.model_validate(doc)
    problems = check_references(scenario)
    assert not problems, problems
    return scenario


def one_node(
    servers: int | None,
    handling: Any,
    trains_per_hour: float,
    *,
    arrivals: str = "poisson",
    warmup_days: float = 20,
    horizon_days: float = 200,
    replications: int = 5,
    seed: int = 1,
    events: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """source -> border -> sink with zero travel time: the border is the only queue."""
    return {
        "name": "one_node",
        "run": {
            "start_date": "2024-01-01",
            "warmup_days": warmup_days,
            "horizon_days": horizon_days,
            "replications": replications,
            "seed": seed,
        },
        "nodes": {
            "source": {"kind": "terminal"},
            "border": {"kind": "border", "servers": servers, "handling_hours": handling},
            "sink": {"kind": "destination"},
        },
        "links": {
            "in": {"from": "source", "to": "border", "hours": 0},
            "out": {"from": "border", "to": "sink", "hours": 0},
        },
        "routes": {"through": {"nodes": ["source", "border", "sink"]}},
        "flows": {
            "trains": {
                "origin": "source",
                "destination": "sink",
                "routes": {"through": 1},
                "teu_per_year": trains_per_hour * 8760,
                "teu_per_train": 1,
                "arrivals": arrivals,
            }
        },
        "events": events or {},
    }
