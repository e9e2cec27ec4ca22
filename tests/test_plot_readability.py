"""Figures a reader can read: co-located nodes both visible on the map, few lines in a
colour that is the node's own in every run, a year-long event not tinting the whole chart,
a busy train graph thinned, doubtful Sobol indices flagged, sweep axes in words (issue 15,
item 10)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from matplotlib.collections import LineCollection
from plot_fixtures import small_corridor

from sim.analysis.sensitivity import doubtful_parameters
from sim.plots.network_map import map_figure
from sim.plots.series import MAX_SERIES, largest, queues_figure, throughput_figure
from sim.plots.style import parameter_label, stable_colours
from sim.plots.sweep import sensitivity_figure
from sim.plots.train_graph import train_graph_figure
from sim.store.runs import RunData
from sim.workflow.run import RunRequest, execute


def _run(folder: Path, doc: dict[str, Any]) -> RunData:
    path = folder / f"{doc['name']}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return RunData.open(execute(RunRequest(scenario_file=path, out=folder / doc["name"])).run_dir)


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> RunData:
    """The small corridor at 4× demand, lodz placed 3 km from brest, and a demand event that
    lasts the whole run."""
    doc = small_corridor(name="busy", replications=2)
    for flow in doc["flows"].values():
        flow["teu_per_year"] *= 4
    doc["nodes"]["lodz"].update(lat=52.09, lon=23.72)  # on top of brest (52.08, 23.70)
    doc["events"]["boom"] = {
        "targets": ["lodz-xian-east"],
        "start": "2024-01-01",
        "end": "2024-02-20",
        "demand_factor": 1.1,
    }
    return _run(tmp_path_factory.mktemp("busy"), doc)


def test_co_located_nodes_are_both_drawn_and_labelled(busy: RunData) -> None:
    fig = map_figure(busy)
    ax = fig.axes[0]
    at = {
        str(c.get_gid()).split(":")[1]: ax.transData.transform(c.get_offsets()[0])
        for c in ax.collections
        if str(c.get_gid()).startswith("node:")
    }
    assert np.hypot(*(at["brest"] - at["lodz"])) >= 6  # points apart: neither hides the other
    shown = [t.get_text() for t in ax.texts if t.get_visible()]
    assert any("brest" in t and "lodz" in t for t in shown)  # one label for the pair


def test_lines_keep_the_colour_of_their_node_or_route(busy: RunData) -> None:
    fig = throughput_figure(busy)
    top, bottom = fig.axes[:2]
    nodes = stable_colours(busy.scenario.nodes)
    routes = stable_colours(busy.scenario.routes)
    for ax, colours in ((top, nodes), (bottom, routes)):
        drawn = {ln.get_label(): ln.get_color() for ln in ax.get_lines()}
        assert drawn and all(colours[k] == c for k, c in drawn.items() if k in colours)
    queues = queues_figure(busy)
    for ax in queues.axes:
        node = ax.get_title(loc="left").split(" (")[0]
        assert {ln.get_color() for ln in ax.get_lines()} == {nodes[node]}
    series = {f"s{i}": np.full(3, float(i)) for i in range(9)}
    assert len(largest(series, MAX_SERIES, "other")) <= 6  # 5 lines and "other"


def test_a_run_long_event_is_a_strip_not_a_shade(busy: RunData) -> None:
    fig = throughput_figure(busy)
    ax = fig.axes[0]
    (boom,) = [p for p in ax.patches if p.get_gid() == "event:boom"]
    box = boom.get_window_extent().transformed(ax.transAxes.inverted())
    assert box.height <= 0.05
    (closure,) = [p for p in ax.patches if p.get_gid() == "event:brest_closed"]
    assert closure.get_window_extent().transformed(ax.transAxes.inverted()).height > 0.9


def test_a_busy_train_graph_is_thinned_and_says_so(busy: RunData) -> None:
    fig = train_graph_figure(busy, "xian-lodz", replication=0, window=(0, 40))
    ax = fig.axes[0]
    (forward,) = [c for c in ax.collections if c.get_gid() == "trains:forward"]
    assert isinstance(forward, LineCollection)
    assert len(forward.get_segments()) <= 6 * 40
    assert re.search(r"every \d+(st|nd|rd|th) of \d+ trains", str(forward.get_label()))
    assert "thinned" in ax.get_title(loc="left")


def test_sobol_indices_outside_0_1_are_flagged(tmp_path: Path) -> None:
    doc = {
        "kpi": "corridor::throughput_teu_per_day",
        "method": "sobol",
        "parameters": {
            "nodes.brest.servers": {"S1": 1.8, "S1_conf": 2.0, "ST": -0.4, "ST_conf": 1.5},
            "flows.x.teu_per_year": {"S1": 0.3, "S1_conf": 0.05, "ST": 0.4, "ST_conf": 0.05},
        },
    }
    (tmp_path / "sensitivity.json").write_text(json.dumps(doc))
    assert doubtful_parameters(doc) == ["nodes.brest.servers"]
    title = sensitivity_figure(tmp_path).axes[0].get_title(loc="left")
    assert "WARNING" in title and "brest: servers" in title


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("nodes.brest.servers", "brest: servers"),
        ("events.sweep_demand_level.demand_factor", "sweep demand level: demand factor"),
        ("flows.trains.teu_per_year", "flow trains: TEU per year"),
        ("nodes.border.handling_hours.mean", "border: handling time (hours) mean"),
        ("mode_choice.options.sea_cape.rate_usd_per_feu", "sea cape: rate (USD/FEU)"),
        ("run.horizon_days", "horizon (days)"),
    ],
)
def test_sweep_parameters_are_labelled_in_words(path: str, label: str) -> None:
    assert parameter_label(path) == label
