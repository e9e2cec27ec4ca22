"""What each run plot draws, checked against the results tables and summary.json."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pyarrow.parquet as pq
import pytest
from matplotlib.collections import LineCollection, PolyCollection, QuadMesh
from plot_fixtures import overlapping_labels, run_small
from typer.testing import CliRunner

from sim.cli.app import app
from sim.errors import ConfigError
from sim.plots import RUN_KINDS, draw, save_figure
from sim.plots.network_map import MAX_WIDTH, MIN_WIDTH, map_figure
from sim.plots.series import largest, queues_figure, throughput_figure
from sim.plots.train_graph import train_graph_figure
from sim.plots.transit import transit_figure
from sim.plots.utilisation import utilisation_figure
from sim.store.runs import RunData

CLOSED = (mdates.datestr2num("2024-01-16"), mdates.datestr2num("2024-01-23"))
HORIZON = 50


@pytest.fixture(scope="module")
def closure_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_small(tmp_path_factory.mktemp("closure"), name="closure")


def table(run: Path, name: str) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in pq.read_table(run / f"{name}.parquet").to_pydict().items()}


def daily(run: Path, node: str, field: str) -> np.ndarray:
    """(replication, day) matrix of a timeseries field inside the window, by hand."""
    ts = table(run, "timeseries")
    out = np.zeros((3, HORIZON))
    for rep, n, day, v in zip(ts["replication"], ts["node"], ts["day"], ts[field], strict=True):
        if n == node and 0 <= day < HORIZON:
            out[rep, int(day)] = v
    return out


def spans(ax) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    """x extent (date numbers) of the event shading drawn with axvspan."""
    return [
        (p.get_x(), p.get_x() + p.get_width())
        for p in ax.patches
        if str(p.get_gid()).startswith("event:")
    ]


def test_throughput_lines_are_teu_per_day_and_closure_is_shaded(closure_run: Path) -> None:
    run = RunData.open(closure_run)
    fig = throughput_figure(run, smooth_days=1)
    borders, routes = fig.axes[0], fig.axes[1]
    trains = table(closure_run, "trains")
    for line in routes.get_lines():
        mine = (trains["route"] == line.get_label()) & ~np.isnan(trains["arrive_day"])
        expected, _ = np.histogram(
            trains["arrive_day"][mine],
            np.append(np.arange(HORIZON), HORIZON + 1e-9),
            weights=trains["teu"][mine],
        )
        assert line.get_ydata() == pytest.approx(expected / 3)
    total = sum(float(np.sum(line.get_ydata())) for line in routes.get_lines())
    assert total == pytest.approx(run.summary["kpis"]["teu_delivered"]["mean"])
    (brest,) = [ln for ln in borders.get_lines() if ln.get_label() == "brest"]
    assert brest.get_ydata() == pytest.approx(daily(closure_run, "brest", "teu_out").mean(axis=0))
    assert str(brest.get_xdata()[0]).startswith("2024-01-01")  # days are dated from start_date
    for ax in (borders, routes):
        assert spans(ax) == [pytest.approx(CLOSED)]
        assert "closure: brest_closed" in ax.get_legend_handles_labels()[1]
    closed = slice(16, 22)  # whole days inside the closure: nothing passes brest
    assert np.all(brest.get_ydata()[closed] == 0)


def test_queue_median_and_band_across_replications(closure_run: Path) -> None:
    fig = queues_figure(RunData.open(closure_run))
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["brest (2 servers)", "dostyk (2 servers)"]  # busiest first
    brest_ax, dostyk_ax = fig.axes
    queue = daily(closure_run, "brest", "queue_mean")
    (median,) = brest_ax.get_lines()
    assert median.get_ydata() == pytest.approx(np.median(queue, axis=0))
    (band,) = [c for c in brest_ax.collections if isinstance(c, PolyCollection)]
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(np.percentile(queue, 5, axis=0).min())
    assert ys.max() == pytest.approx(np.percentile(queue, 95, axis=0).max())
    # the queue builds while brest is closed and is far above its pre-closure level
    assert median.get_ydata()[21] > 10 * max(1.0, median.get_ydata()[:14].mean())
    assert spans(brest_ax) == [pytest.approx(CLOSED)] and spans(dostyk_ax) == []
    assert brest_ax.get_ylabel() == "trains\nwaiting"


def test_transit_ecdfs_end_at_one_and_count_delivered_trains(closure_run: Path) -> None:
    run = RunData.open(closure_run)
    fig = transit_figure(run)
    (ax,) = fig.axes
    trains = table(closure_run, "trains")
    delivered = (trains["arrive_day"] >= 0) & (trains["arrive_day"] <= HORIZON)
    lines = ax.get_lines()
    assert len(lines) == 3  # one per flow
    for line in lines:
        flow = line.get_label().split(" ")[0]
        mine = np.sort(trains["transit_days"][delivered & (trains["flow"] == flow)])
        assert line.get_ydata()[-1] == 1.0 and np.all(np.diff(line.get_ydata()) > 0)
        assert line.get_xdata() == pytest.approx(mine)
    n = sum(len(line.get_xdata()) for line in lines)
    assert n == pytest.approx(3 * run.summary["kpis"]["trains_delivered"]["mean"])
    assert ax.get_xlabel() == "door-to-door transit time (days)"


def test_utilisation_heatmap_has_one_cell_per_node_and_week(closure_run: Path) -> None:
    run = RunData.open(closure_run)
    fig = utilisation_figure(run)
    mesh = next(c for c in fig.axes[0].collections if isinstance(c, QuadMesh))
    values = np.ma.filled(mesh.get_array(), np.nan).reshape(2, math.ceil(HORIZON / 7))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["dostyk", "brest"]
    for row, node in zip(values, labels, strict=True):
        busy, servers = (
            daily(closure_run, node, "busy_mean"),
            daily(closure_run, node, "servers_mean"),
        )
        week = np.arange(HORIZON) // 7
        expected = [busy[:, week == w].sum() / servers[:, week == w].sum() for w in range(8)]
        assert row == pytest.approx(expected)
        # the whole window pooled is the utilisation KPI of summary.json
        assert busy.sum() / servers.sum() == pytest.approx(
            run.summary["nodes"][node]["utilisation"]["mean"]
        )


def test_train_graph_draws_one_line_per_train_and_the_closure_pile(closure_run: Path) -> None:
    run = RunData.open(closure_run)
    fig = train_graph_figure(run, "xian-lodz", replication=1, window=(0, 40))
    (ax,) = fig.axes
    paths = [p for c in ax.collections if isinstance(c, LineCollection) for p in c.get_segments()]
    trains = table(closure_run, "trains")
    arrive = np.where(np.isnan(trains["arrive_day"]), np.inf, trains["arrive_day"])
    on_route = (
        (trains["replication"] == 1)
        & (trains["route"] == "xian-lodz")
        & (trains["depart_day"] <= 40)
        & (arrive >= 0)
    )
    assert len(paths) == on_route.sum()
    brest_km = 2600 + 5000
    waits = [
        p[i + 1, 0] - p[i, 0]
        for p in paths
        for i in range(len(p) - 1)
        if p[i, 1] == p[i + 1, 1] == brest_km
    ]
    # trains pile up at brest: many stand still there for days during the closure
    assert sum(w > 3 for w in waits) >= 10
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["xian (0 km)", "dostyk (2,600 km)", "brest (7,600 km)", "lodz (8,000 km)"]
    assert spans(ax) == [pytest.approx(CLOSED)]


def test_train_graph_rejects_unknown_route_and_replication(closure_run: Path) -> None:
    run = RunData.open(closure_run)
    with pytest.raises(ConfigError, match="unknown route 'nowhere'"):
        train_graph_figure(run, "nowhere")
    with pytest.raises(ConfigError, match=r"7 is not in 0\.\.2"):
        train_graph_figure(run, replication=7)


def test_map_line_widths_are_proportional_to_teu_carried(closure_run: Path) -> None:
    run = RunData.open(closure_run)
    fig = map_figure(run)
    ax = fig.axes[0]
    widths = {str(ln.get_gid())[5:]: ln.get_linewidth() for ln in ax.get_lines()}
    visits, trains = table(closure_run, "visits"), table(closure_run, "trains")
    teu = {
        (r, t): v
        for r, t, v in zip(trains["replication"], trains["train"], trains["teu"], strict=True)
    }
    legs: dict[tuple[int, int], list[tuple[int, str, float]]] = {}
    for r, t, q, n, e in zip(
        visits["replication"],
        visits["train"],
        visits["seq"],
        visits["node"],
        visits["end_day"],
        strict=True,
    ):
        legs.setdefault((r, t), []).append((q, n, e))
    carried: dict[frozenset[str], float] = {}
    for key, stops in legs.items():
        stops.sort()
        for (_, a, left), (_, b, _) in itertools.pairwise(stops):
            if 0 <= left <= HORIZON:  # counted when the train leaves the first node in the window
                carried[frozenset((a, b))] = carried.get(frozenset((a, b)), 0.0) + teu[key]
    top = max(carried.values())
    for lid, link in run.scenario.links.items():
        load = carried[frozenset((link.from_node, link.to_node))]
        assert widths[lid] == pytest.approx(MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * load / top)
    assert widths["brest-duisburg"] < widths["brest-lodz"] < widths["dostyk-brest"]
    assert ax.get_xlabel() == "longitude (°E)" and ax.get_ylabel() == "latitude (°N)"


def test_map_rings_nodes_at_or_above_the_busy_threshold(closure_run: Path) -> None:
    run = RunData.open(closure_run)
    util = {n: run.summary["nodes"][n]["utilisation"]["mean"] for n in ("brest", "dostyk")}
    threshold = (util["brest"] + util["dostyk"]) / 2  # one above, one below
    busy_node = max(util, key=lambda n: util[n])
    fig = map_figure(run, busy=threshold)
    gids = {str(c.get_gid()) for c in fig.axes[0].collections}
    assert f"node:{busy_node}:busy" in gids
    assert sum(g.endswith(":busy") for g in gids) == 1


@pytest.mark.parametrize("kind", RUN_KINDS)
def test_every_kind_is_titled_labelled_readable_and_saves_as_png_and_svg(
    closure_run: Path, kind: str, tmp_path: Path
) -> None:
    fig = draw(closure_run, kind)
    main = fig.axes[0]
    assert (fig.get_suptitle() or main.get_title(loc="left")).strip()
    assert main.get_ylabel()
    assert any(ax.get_xlabel() for ax in fig.axes)
    for ax in fig.axes:
        if ax.get_xlabel() in ("date", "week starting"):  # time axes show calendar dates
            assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    assert overlapping_labels(fig) == []
    png = save_figure(fig, tmp_path / f"{kind}.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = save_figure(fig, tmp_path / f"{kind}.svg")
    assert "<svg" in svg.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{kind}.png", f"{kind}.svg"]


def test_plot_command(closure_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "q.svg"
    ok = CliRunner().invoke(app, ["plot", str(closure_run), "--kind", "queues", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert out.exists()
    graph = tmp_path / "g.png"
    ok = CliRunner().invoke(
        app,
        ["plot", str(closure_run), "--kind", "train-graph", "--days", "10:30", "--out", str(graph)],
    )
    assert ok.exit_code == 0, ok.output
    for args, message in (
        (["--kind", "pie"], "unknown kind 'pie'"),
        (["--kind", "heatmap"], "--kind heatmap needs a sweep directory"),
        (["--kind", "map", "--out", str(tmp_path / "m.jpg")], "unknown image format '.jpg'"),
        (["--kind", "train-graph", "--days", "ten"], "'ten': use FROM:TO"),
    ):
        bad = CliRunner().invoke(app, ["plot", str(closure_run), *args])
        assert bad.exit_code == 2 and message in bad.output, bad.output


def test_small_series_are_summed_into_other_without_losing_teu() -> None:
    series = {f"r{i}": np.full(5, float(i)) for i in range(12)}
    kept = largest(series, 8, "other routes")
    assert list(kept) == [f"r{i}" for i in range(11, 3, -1)] + ["other routes (4)"]
    assert kept["other routes (4)"] == pytest.approx(np.full(5, 0 + 1 + 2 + 3.0))
    total = sum(float(v.sum()) for v in kept.values())
    assert total == pytest.approx(sum(float(v.sum()) for v in series.values()))
