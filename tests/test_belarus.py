"""Belarus ↔ China traffic (issue 13): the new flows touch China–EU results only through shared
capacity, the demand files add up to their sources, the K3 services run as K3 says, and the
new inputs fail in one line."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from builders import validated
from typer.testing import CliRunner

from sim.cli.app import app
from sim.config.loader import load_scenario, read_yaml
from sim.config.scenario import MARKET_CHINA_EU, Scenario
from sim.engine.demand import plan_trains
from sim.engine.market_kpis import market_groups, market_kpis, train_wait_hours
from sim.engine.metrics import ReplicationKpis, replication_kpis
from sim.engine.network import build_network
from sim.engine.replications import simulate
from sim.engine.streams import Streams

ROOT = Path(__file__).resolve().parent.parent
CAPACITY_2025 = ROOT / "scenarios/belarus_corridor_capacity.yaml"
SHORT = {"run.horizon_days": 90, "run.warmup_days": 20}


def _belarus_flows(s: Scenario) -> list[str]:
    return [fid for fid, f in s.flows.items() if f.market == "belarus_china"]


def _zero_belarus(path: Path) -> dict[str, Any]:
    """Values that set every Belarus–China flow of a scenario to zero trains."""
    scenario, _ = load_scenario(path, values=SHORT)
    values: dict[str, Any] = dict(SHORT)
    for fid in _belarus_flows(scenario):
        flow = scenario.flows[fid]
        if flow.load is None:
            values[f"flows.{fid}.teu_per_year"] = 0
        else:
            for i in range(len(flow.load)):
                values[f"flows.{fid}.load.{i}.trains_per_day"] = 0
    return values


def _without_belarus(path: Path, tmp_path: Path) -> Path:
    """The same scenario on the border model and the China–EU demand alone: no Belarus
    overlay, no Belarus flows (its own run, nodes and events kept)."""
    doc = read_yaml(path)
    doc["extends"] = [str(ROOT / "params/border.yaml"), str(ROOT / "params/demand_2023.yaml")]
    doc.pop("observed", None)  # the K3 targets name Belarus-only nodes
    doc["name"] = path.stem
    out = tmp_path / path.name
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


def _same(a: dict[str, float], b: dict[str, float]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key] or (math.isnan(a[key]) and math.isnan(b[key])), key


def _assert_china_eu_equal(with_zero: ReplicationKpis, without: ReplicationKpis) -> None:
    _same(with_zero.corridor, without.corridor)
    for fid, kpis in without.flows.items():
        _same(with_zero.flows[fid], kpis)
    for nid, kpis in without.nodes.items():
        _same(with_zero.nodes[nid], kpis)


def test_zero_belarus_demand_leaves_china_eu_results_bit_for_bit(tmp_path: Path) -> None:
    """The issue's key test: with Belarus–China demand at zero, the 2025 capacity scenario's
    China–EU results are those of the same scenario without the Belarus overlay and flows,
    exactly, with the same seed — the overlay adds nodes and streams by name only."""
    zero, _ = load_scenario(CAPACITY_2025, values=_zero_belarus(CAPACITY_2025))
    bare, _ = load_scenario(_without_belarus(CAPACITY_2025, tmp_path), values=SHORT)
    assert _belarus_flows(zero) and not _belarus_flows(bare)
    assert set(bare.nodes) < set(zero.nodes)
    for replication in (0, 1):
        net_z, rec_z = simulate(zero, replication, zero.run.seed)
        net_b, rec_b = simulate(bare, replication, bare.run.seed)
        assert len(rec_z.plan) == len(rec_b.plan) > 0
        np.testing.assert_array_equal(rec_z.delivered_hours, rec_b.delivered_hours)
        _assert_china_eu_equal(replication_kpis(net_z, rec_z), replication_kpis(net_b, rec_b))


def test_belarus_trains_load_the_exits_but_are_not_counted_as_china_eu() -> None:
    scenario, _ = load_scenario(CAPACITY_2025, values=SHORT)
    net, rec = simulate(scenario, 0, scenario.run.seed)
    kpis = replication_kpis(net, rec)
    china_eu = [fid for fid, f in scenario.flows.items() if f.market == MARKET_CHINA_EU]
    assert kpis.corridor["trains_delivered"] == sum(
        kpis.flows[fid]["trains_delivered"] for fid in china_eu
    )
    belarus = sum(kpis.flows[fid]["trains_delivered"] for fid in _belarus_flows(scenario))
    assert belarus > 0
    # the exits handle both markets: more trains than the China–EU ones
    for exit_node in ("dostyk", "altynkol"):
        node = kpis.nodes[exit_node]
        assert node["trains_handled"] > node["trains_handled_china_eu"]


def _sourced_exit_count(scenario: Scenario, flow: str) -> float:
    """The exit's sourced trains a day in one direction, 2025 (B24 at Dostyk, B25 at
    Altynkol): the residual load as written plus the explicit trains it was derived against
    (λ = 1 at the exits, params/exits.yaml)."""
    load = scenario.flows[flow].load
    way = scenario.flows[flow].gives_way
    assert load is not None and way is not None and way.per_china_eu_train == 1
    period = next(p for p in load if str(p.start) <= "2025-06-01" < str(p.end))
    return period.trains_per_day + (period.china_eu_trains_per_day or 0.0)


def test_each_train_is_counted_once_at_the_exits() -> None:
    """B24 and B25 count every CR Express train through the exit, the Belarus–China ones
    included, so the residual other traffic gives way to them as to the China–EU trains: a
    2025 year plans the sourced count a direction through each exit (Poisson noise aside), not
    the count plus the Belarus–China trains (1–2.4 a day a direction, 9–23 % more)."""
    scenario, _ = load_scenario(CAPACITY_2025)
    net = build_network(scenario)
    plan = plan_trains(scenario, net, Streams(root_seed=scenario.run.seed, replication=0))
    days = (net.end_hours - net.warmup_hours) / 24.0
    inside = (plan.depart_hours >= net.warmup_hours) & (plan.depart_hours < net.end_hours)
    market = np.asarray(plan.flow_markets)[plan.flow]
    ids = net.node_ids()
    sourced = {  # facts: B24 2025 > 21/day in + out; B25 2024 8,730 a year (2025 as 2024)
        "dostyk": 21 / 2,
        "altynkol": 8_730 / 730,
    }
    for node, count in sourced.items():
        for direction in ("west", "east"):
            flow = f"other-{node}-{direction}"
            assert _sourced_exit_count(scenario, flow) == pytest.approx(count, abs=0.02)
            through = np.asarray(
                [ids.index(node) in p.nodes and p.direction == direction for p in net.paths]
            )[plan.path]
            mine = through & inside
            belarus = (mine & (market == "belarus_china")).sum() / days
            assert belarus > 0.8  # the overlay loads this exit, or the test is idle
            assert mine.sum() / days == pytest.approx(count, rel=0.04), (node, direction)


def test_every_train_arrives_or_is_under_way_and_exits_count_distinct_trains() -> None:
    """Conservation with three markets: every planned train is delivered or still in the
    system, no train visits an exit twice, and an exit's trains_handled (all markets) and
    trains_handled_china_eu are the numbers of distinct trains handled there in the window."""
    scenario, _ = load_scenario(CAPACITY_2025, values=SHORT)
    net, rec = simulate(scenario, 0, scenario.run.seed)
    kpis = replication_kpis(net, rec)
    assert rec.delivered.sum() + np.isnan(rec.delivered_hours).sum() == len(rec.plan)
    delivered = ~np.isnan(rec.delivered_hours)
    np.testing.assert_array_equal(delivered, rec.delivered.astype(bool))
    china_eu = np.asarray([m == MARKET_CHINA_EU for m in rec.plan.flow_markets])[rec.plan.flow]
    for node in ("dostyk", "altynkol"):
        at = rec.visit_node == net.node_ids().index(node)
        trains = rec.visit_train[at]
        assert len(np.unique(trains)) == len(trains) > 0  # each train once at the exit
        end = rec.visit_end[at]
        done = trains[(end >= rec.warmup_hours) & (end <= rec.end_hours)]
        assert kpis.nodes[node]["trains_handled"] == len(np.unique(done))
        assert kpis.nodes[node]["trains_handled_china_eu"] == len(np.unique(done[china_eu[done]]))
        markets = {rec.plan.flow_markets[f] for f in rec.plan.flow[done]}
        assert markets == {"china_eu", "belarus_china", "other"}


# --- the demand files add up to their sources --------------------------------------------


def _teu(path: str) -> dict[str, float]:
    scenario, _ = load_scenario(ROOT / path)
    return {
        fid: f.teu_per_year
        for fid, f in scenario.flows.items()
        if f.market == "belarus_china" and f.teu_per_year is not None
    }


@pytest.mark.parametrize(
    ("path", "east", "west"),
    [
        # K2: 14,000 TEU Jan–Aug 2020 was twice 2019's → 7,000 × 12 / 8; K5 2021 trade × 0.64
        ("params/belarus_china_2019.yaml", 14_000 / 2 * 12 / 8, 32_700),
        # K1: 1,500 trains × 0.8 by rail × 121 TEU; K5 (7.25 − 2.6) $bn × 10,000 less Xiamen
        ("params/belarus_china_2023.yaml", 1_500 * 0.8 * 121, 46_500 - 52 * 100),
        # × 9.71 / 7.25 (K5 trade); K5 6.6 × 9.71 / 8.5 $bn × 10,000 less both K3 services
        ("params/belarus_china_2025.yaml", 145_200 * 9.71 / 7.25, 75_400 - 5_200 - 3_620),
    ],
)
def test_belarus_china_demand_matches_its_arithmetic(path: str, east: float, west: float) -> None:
    teu = _teu(path)
    assert sum(v for k, v in teu.items() if k.endswith("-east")) == pytest.approx(east, rel=2e-3)
    assert sum(v for k, v in teu.items() if k.endswith("-west")) == pytest.approx(west, rel=2e-3)
    assert teu["belarus-china-bulk-east"] / sum(
        v for k, v in teu.items() if k.endswith("-east")
    ) == pytest.approx(0.85)


def test_k3_services_run_their_train_sizes_and_routes() -> None:
    scenario, _ = load_scenario(CAPACITY_2025)
    xiamen, beijing = scenario.flows["xiamen-minsk-west"], scenario.flows["beijing-minsk-west"]
    assert (xiamen.teu_per_train, beijing.teu_per_train) == (100, 110)  # K3: 50 and 55 boxes
    assert "alashankou" in scenario.routes["xiamen-kolyadichi-dostyk"].nodes
    erenhot_route = scenario.routes["beijing-kolyadichi-erenhot"].nodes
    assert erenhot_route[1:3] == ["erenhot", "zamyn_uud"] and "naushki" in erenhot_route
    assert scenario.flows["belarus-china-bulk-east"].cargo == "bulk"


# --- bad input -----------------------------------------------------------------------------


def test_a_transit_target_with_one_node_fails_in_one_line(tmp_path: Path) -> None:
    doc = read_yaml(CAPACITY_2025)
    doc["extends"] = [str(ROOT / "params/belarus_china_2025.yaml")]
    doc["observed"] = {"bad": {"measure": "transit_days", "nodes": ["xiamen"], "value": 16,
                               "band": [15, 17], "facts": "K3"}}  # fmt: skip
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "observed.bad" in lines[0] and "origin, destination" in lines[0]


# --- KPIs by market ------------------------------------------------------------------------


def test_market_kpis_split_the_trains_and_china_eu_matches_the_corridor() -> None:
    scenario, _ = load_scenario(CAPACITY_2025, values=SHORT)
    net, rec = simulate(scenario, 0, scenario.run.seed)
    kpis = replication_kpis(net, rec)
    markets = market_kpis(scenario, rec)
    assert {"china_eu", "belarus_china", "other", "belarus_china/bulk"} <= set(markets)
    whole = [m for m in markets if "/" not in m]
    delivered = (rec.delivered_hours >= rec.warmup_hours) & (rec.delivered_hours <= rec.end_hours)
    assert sum(markets[m]["trains_delivered"] for m in whole) == delivered.sum()
    cargo = [m for m in markets if m.startswith("belarus_china/")]
    assert (
        sum(markets[m]["teu_delivered"] for m in cargo) == markets["belarus_china"]["teu_delivered"]
    )
    for kpi in ("trains_delivered", "teu_delivered", "transit_days_mean", "transit_days_p95"):
        assert markets["china_eu"][kpi] == kpis.corridor[kpi]
    # waits: a train's total queueing never exceeds its transit
    wait = train_wait_hours(rec)
    transit = rec.delivered_hours - rec.plan.depart_hours
    assert np.all(wait[delivered] <= transit[delivered] + 1e-9)


def test_a_single_market_scenario_has_no_market_block() -> None:
    # (the shipped baselines carry the border overlay's other traffic: two markets)
    scenario, _ = load_scenario(
        ROOT / "scenarios/examples/mmc_queue.yaml", values={"run.horizon_days": 5}
    )
    assert {f.market for f in scenario.flows.values()} == {"china_eu"}
    assert market_groups(scenario) == {}


def test_compare_by_market_and_a_missing_market_fails_in_one_line(tmp_path: Path) -> None:
    runs = []
    pivot = ROOT / "scenarios/belarus_china_pivot.yaml"
    for name, scenario_file in (("base", CAPACITY_2025), ("pivot", pivot)):
        path = tmp_path / name
        result = CliRunner().invoke(
            app,
            ["run", str(scenario_file), "-r", "2", "-q", "--out", str(path),
             "--set", "run.horizon_days=60"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        runs.append(str(path))
    summary = json.loads((tmp_path / "base" / "summary.json").read_text(encoding="utf-8"))
    assert summary["markets"]["belarus_china"]["transit_days_mean"]["mean"] > 0
    png = str(tmp_path / "c.png")
    csv = tmp_path / "c.csv"
    ok = CliRunner().invoke(
        app, ["compare", *runs, "--market", "belarus_china", "--out", png, "--csv", str(csv)]
    )
    assert ok.exit_code == 0, ok.output
    assert "market:belarus_china:transit_days_mean" in csv.read_text(encoding="utf-8")
    html = tmp_path / "r.html"
    rep = CliRunner().invoke(
        app, ["report", *runs, "--market", "belarus_china", "--out", str(html)]
    )
    assert rep.exit_code == 0, rep.output
    page = html.read_text(encoding="utf-8")
    assert "By market" in page and "belarus_china/bulk" in page
    assert "market:belarus_china:transit_days_mean" in page
    plot = ["plot", runs[0], "--kind", "transit", "--out", png, "--market"]
    assert CliRunner().invoke(app, [*plot, "belarus_china/bulk"]).exit_code == 0
    no_plot = CliRunner().invoke(app, [*plot, "nonesuch"])
    assert no_plot.exit_code == 2 and no_plot.output.strip().count("\n") == 0
    bad = CliRunner().invoke(app, ["compare", *runs, "--market", "nonesuch", "--out", png])
    assert bad.exit_code == 2
    assert bad.output.strip().count("\n") == 0 and "no market 'nonesuch'" in bad.output


def _shared_line(with_belarus: bool) -> Scenario:
    """China–EU and Belarus trains on one line through an uncapacitated border: no shared
    capacity, so the Belarus trains must not change a single China–EU time."""
    flows: dict[str, Any] = {
        "transit": {"origin": "a", "destination": "c", "routes": {"abc": 1},
                    "teu_per_year": 36500, "teu_per_train": 100},
    }  # fmt: skip
    if with_belarus:
        flows["belarus"] = {"origin": "a", "destination": "c", "routes": {"abc": 1},
                            "teu_per_year": 73000, "teu_per_train": 100,
                            "market": "belarus_china"}  # fmt: skip
    return validated(
        {
            "run": {"start_date": "2024-01-01", "warmup_days": 2, "horizon_days": 60},
            "nodes": {
                "a": {},
                "b": {"handling_hours": {"dist": "exponential", "mean": 6}},
                "c": {},
            },
            "links": {
                "ab": {"from": "a", "to": "b", "hours": {"dist": "uniform", "low": 10, "high": 20}},
                "bc": {"from": "b", "to": "c", "hours": {"dist": "uniform", "low": 5, "high": 9}},
            },
            "routes": {"abc": {"nodes": ["a", "b", "c"]}},
            "flows": flows,
        }
    )


def test_another_market_never_shifts_china_eu_random_draws() -> None:
    """Each market draws handling and travel times from its own named streams, so adding
    Belarus trains where nothing is shared leaves every China–EU train's times exactly."""
    alone, both = _shared_line(False), _shared_line(True)
    _, rec_alone = simulate(alone, 0, 7)
    _, rec_both = simulate(both, 0, 7)
    transit = np.asarray(rec_both.plan.flow) == 0
    assert (~transit).sum() > 100 and transit.sum() == len(rec_alone.plan)
    np.testing.assert_array_equal(rec_both.delivered_hours[transit], rec_alone.delivered_hours)


def test_the_year_scenarios_and_the_headroom_sweep_validate_and_run() -> None:
    files = sorted((ROOT / "scenarios/belarus").glob("*.yaml"))
    sweep = ROOT / "scenarios/sweeps/belarus_headroom.yaml"
    result = CliRunner().invoke(app, ["validate", *map(str, files), str(sweep)])
    assert result.exit_code == 0 and len(files) == 4, result.output
    for path in files:
        scenario, _ = load_scenario(path, values=SHORT)
        net, rec = simulate(scenario, 0, scenario.run.seed)
        assert replication_kpis(net, rec).flows["belarus-china-bulk-east"]["trains_delivered"] > 0
        assert rec.delivered.sum() + np.isnan(rec.delivered_hours).sum() == len(rec.plan)


def test_an_empty_cargo_class_fails_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"extends: {ROOT / 'scenarios/belarus_corridor_capacity.yaml'}\n"
        "flows: {belarus-china-bulk-east: {cargo: ''}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "flows.belarus-china-bulk-east.cargo" in line
