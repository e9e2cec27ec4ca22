"""A small corridor with a border closure, run once per test module for plots and reports.

xian → dostyk (border, 2 servers) → brest (border, 2 servers, gauge change) → lodz or
duisburg; brest is closed on days 15–22 of a 50-day horizon, so a queue builds there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.workflow.run import RunRequest, execute

CLOSURE = {"start": "2024-01-16", "end": "2024-01-23"}  # days 15 → 22 from start_date


def small_corridor(
    name: str = "small",
    seed: int = 3,
    replications: int = 3,
    closure: bool = True,
    brest_servers: int = 2,
) -> dict[str, Any]:
    handling = {"dist": "triangular", "low": 3, "mode": 4, "high": 7}
    return {
        "name": name,
        "description": f"Test corridor {name}: xian to lodz/duisburg through dostyk and brest",
        "run": {
            "start_date": "2024-01-01",
            "warmup_days": 5,
            "horizon_days": 50,
            "replications": replications,
            "seed": seed,
        },
        "nodes": {
            "xian": {"kind": "terminal", "lat": 34.3, "lon": 108.9},
            "dostyk": {
                "kind": "border",
                "servers": 2,
                "handling_hours": handling,
                "lat": 45.25,
                "lon": 82.48,
                "gauge_change": True,
            },
            "brest": {
                "kind": "border",
                "servers": brest_servers,
                "handling_hours": handling,
                "lat": 52.08,
                "lon": 23.7,
                "gauge_change": True,
            },
            "lodz": {"kind": "destination", "lat": 51.76, "lon": 19.46},
            "duisburg": {"kind": "destination", "lat": 51.43, "lon": 6.76},
        },
        "links": {
            "xian-dostyk": {
                "from": "xian",
                "to": "dostyk",
                "km": 2600,
                "gauge_mm": 1435,
                "speed_km_per_day": {"dist": "uniform", "low": 800, "high": 1000},
            },
            "dostyk-brest": {
                "from": "dostyk",
                "to": "brest",
                "km": 5000,
                "gauge_mm": 1520,
                "speed_km_per_day": {"dist": "uniform", "low": 800, "high": 1000},
            },
            "brest-lodz": {
                "from": "brest",
                "to": "lodz",
                "km": 400,
                "gauge_mm": 1435,
                "speed_km_per_day": 600,
            },
            "brest-duisburg": {
                "from": "brest",
                "to": "duisburg",
                "km": 1300,
                "gauge_mm": 1435,
                "speed_km_per_day": 700,
            },
        },
        "routes": {
            "xian-lodz": {"nodes": ["xian", "dostyk", "brest", "lodz"]},
            "xian-duisburg": {"nodes": ["xian", "dostyk", "brest", "duisburg"]},
        },
        "flows": {
            "xian-lodz-west": {
                "origin": "xian",
                "destination": "lodz",
                "routes": {"xian-lodz": 1},
                "teu_per_year": 365 * 3 * 80,
                "teu_per_train": 80,
            },
            "xian-duisburg-west": {
                "origin": "xian",
                "destination": "duisburg",
                "routes": {"xian-duisburg": 1},
                "teu_per_year": 365 * 2 * 80,
                "teu_per_train": 80,
            },
            "lodz-xian-east": {
                "origin": "lodz",
                "destination": "xian",
                "routes": {"xian-lodz": 1},
                "teu_per_year": 365 * 1 * 60,
                "teu_per_train": 60,
            },
        },
        "events": (
            {"brest_closed": {"targets": ["brest"], "servers": 0, **CLOSURE}} if closure else {}
        ),
    }


def run_small(folder: Path, **kwargs: Any) -> Path:
    doc = small_corridor(**kwargs)
    path = folder / f"{doc['name']}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return execute(RunRequest(scenario_file=path, out=folder / doc["name"])).run_dir


def three_paired_runs(folder: Path) -> list[Path]:
    """Baseline, the closure, and more servers at brest: same seed, so runs are paired."""
    return [
        run_small(folder, name="base", closure=False),
        run_small(folder, name="closure"),
        run_small(folder, name="more_servers", closure=False, brest_servers=3),
    ]


def overlapping_labels(fig) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Pairs of visible tick labels or annotations on the same axes whose boxes intersect."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    pairs = []
    for ax in fig.axes:
        groups = [ax.get_xticklabels(), ax.get_yticklabels(), ax.texts]
        for texts in groups:
            shown = [t for t in texts if t.get_visible() and t.get_text()]
            boxes = [t.get_window_extent(renderer) for t in shown]
            for i in range(len(shown)):
                for j in range(i + 1, len(shown)):
                    if boxes[i].overlaps(boxes[j]):
                        pairs.append((shown[i].get_text(), shown[j].get_text()))
    return pairs
