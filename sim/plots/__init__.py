"""Figures drawn from the results store (a run directory) or a sweep directory.

One function per kind, each returning a matplotlib Figure; :func:`draw` picks the function
for a kind and checks that the directory is of the right sort.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from sim.errors import ConfigError
from sim.plots.common import save_figure
from sim.plots.network_map import map_figure
from sim.plots.series import queues_figure, throughput_figure
from sim.plots.sweep import heatmap_figure, response_figure, sensitivity_figure
from sim.plots.train_graph import train_graph_figure
from sim.plots.transit import transit_figure
from sim.plots.utilisation import utilisation_figure
from sim.store.runs import RunData
from sim.store.sweeps import SweepData, is_sweep_dir

RUN_KINDS = ("throughput", "queues", "transit", "utilisation", "train-graph", "map")
SWEEP_KINDS = ("response", "heatmap", "sensitivity")


@dataclass(frozen=True)
class PlotOptions:
    """Optional choices; each kind uses the ones that apply to it."""

    route: str | None = None  # train-graph
    replication: int = 0  # train-graph
    window_days: tuple[float, float] | None = None  # train-graph
    metric: str | None = None  # sweep kinds
    x: str | None = None  # sweep kinds: parameter on the x axis
    by: str | None = None  # sweep kinds: line levels (response) or y axis (heatmap)
    market: str | None = None  # transit: only this market's flows (sim/engine/market_kpis.py)


def run_figure(run: RunData, kind: str, opts: PlotOptions) -> Figure:
    if kind == "throughput":
        return throughput_figure(run)
    if kind == "queues":
        return queues_figure(run)
    if kind == "transit":
        return transit_figure(run, opts.market)
    if kind == "utilisation":
        return utilisation_figure(run)
    if kind == "train-graph":
        return train_graph_figure(run, opts.route, opts.replication, opts.window_days)
    if kind == "map":
        return map_figure(run)
    raise ConfigError("--kind", (), f"unknown kind '{kind}' for a run ({', '.join(RUN_KINDS)})")


def sweep_figure(path: Path, kind: str, opts: PlotOptions) -> Figure:
    if kind == "sensitivity":
        return sensitivity_figure(path)
    if kind == "response":
        return response_figure(SweepData.open(path, opts.metric), opts.x, opts.by)
    if kind == "heatmap":
        return heatmap_figure(SweepData.open(path, opts.metric), opts.x, opts.by)
    raise ConfigError("--kind", (), f"unknown kind '{kind}' for a sweep ({', '.join(SWEEP_KINDS)})")


def draw(path: Path, kind: str, opts: PlotOptions | None = None) -> Figure:
    """The figure of ``kind`` for a run or sweep directory."""
    opts = opts or PlotOptions()
    if is_sweep_dir(path):
        return sweep_figure(path, kind, opts)
    if kind in SWEEP_KINDS:
        raise ConfigError(str(path), (), f"--kind {kind} needs a sweep directory")
    return run_figure(RunData.open(path), kind, opts)


def plot(path: Path, kind: str, out: Path, opts: PlotOptions | None = None) -> Path:
    return save_figure(draw(path, kind, opts), out)


__all__ = ["RUN_KINDS", "SWEEP_KINDS", "PlotOptions", "draw", "plot", "save_figure"]
