"""The library API (``import sim``) does what the CLI does, for notebooks."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim

MMC = Path(__file__).resolve().parent.parent / "scenarios" / "examples" / "mmc_queue.yaml"


def test_run_open_and_compare_through_the_api(tmp_path: Path) -> None:
    short = ["run.horizon_days=30", "run.warmup_days=5"]
    a = sim.run(MMC, overrides=short, replications=2, out=tmp_path / "a")
    b = sim.run(
        MMC, overrides=[*short, "nodes.border.servers=4"], replications=2, out=tmp_path / "b"
    )
    ra, rb = sim.open_results(a.run_dir, b.run_dir)
    assert ra.summary == a.summary and rb.summary == b.summary
    wait = "node:border:wait_hours_mean"
    [d] = sim.compare(a.run_dir, b.run_dir, metrics=[wait])
    # a fourth track can only shorten the wait (same seeds: paired, common random numbers)
    assert d.paired and d.n == 2 and d.mean < 0 and d.ci_low < d.mean < d.ci_high
    report = sim.write_html_report([a.run_dir, b.run_dir], tmp_path / "r.html", metrics=[wait])
    assert report.read_text().startswith("<!DOCTYPE html>")


def test_api_errors_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(sim.ConfigError, match=r"nodes\.border\.servers"):
        sim.load_scenario(MMC, ["nodes.border.servers=-1"])
