"""The headline registry and the baselines' calibration targets are data (issue 21, item 7):
params/headline/registry.yaml and params/targets/<baseline>.yaml, read by one validated
reader (sim/config/registry.py) with one-line errors and exit code 2."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.analysis.targets import baseline_targets
from sim.cli.app import app
from sim.config.loader import load_scenario
from sim.config.registry import load_headline_registry, load_targets

ROOT = Path(__file__).resolve().parent.parent


def test_the_registry_names_shipped_files_and_nodes_they_have() -> None:
    pairs = load_headline_registry(ROOT / "scenarios")
    assert [p.scenario for p in pairs][:2] == ["malaszewicze_works_2019", "khorgos_expansion"]
    for pair in pairs:
        scenario, _ = load_scenario(ROOT / "scenarios" / f"{pair.scenario}.yaml")
        assert pair.node in scenario.nodes, pair
        assert (ROOT / "scenarios" / f"{pair.baseline}.yaml").is_file(), pair


@pytest.mark.parametrize("name", ["baseline_2019", "baseline_2023"])
def test_each_target_cites_facts_rows_and_its_source_shows_them(name: str) -> None:
    path = ROOT / "scenarios" / f"{name}.yaml"
    specs = load_targets(path, name)
    assert specs
    for spec in specs:
        assert all(re.fullmatch(r"[A-Z]\d+", row) for row in spec.facts), spec.facts
        assert all(row in spec.source for row in spec.facts), spec
    # the volume target is V3/V7 ± 10 %, as the facts give it
    volume = next(s for s in specs if s.measure == "teu_per_year")
    assert volume.band is not None
    centre = {"baseline_2019": 333_000, "baseline_2023": 211_000}[name]
    assert volume.band == pytest.approx((0.9 * centre, 1.1 * centre))
    scenario, _ = load_scenario(path)
    assert [t.name for t in baseline_targets(path, scenario)] == [s.name for s in specs]


def test_a_scenario_that_is_not_a_shipped_baseline_has_no_file_targets() -> None:
    assert load_targets(ROOT / "scenarios" / "baseline_2024.yaml", "baseline_2024") == []


def _project(tmp_path: Path) -> Path:
    """A copy of the project's scenarios and params to break."""
    for folder in ("scenarios", "params"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def _one_line_exit_2(args: list[str], where: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and where in lines[0], result.output


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("pairs:\n  - {scenario: a, baseline: b}\n", "pairs[0].node: Field required"),
        ("pairs:\n  - {scenario: a, baseline: b, node: c, nod: d}\n", "pairs[0].nod: unknown"),
        ("pairs: []\n", "pairs:"),
        (
            "pairs:\n  - {scenario: a, baseline: b, node: c}\n"
            "  - {scenario: a, baseline: b, node: c}\n",
            "pairs[1].scenario: 'a' is listed twice",
        ),
    ],
)
def test_a_bad_registry_exits_2_on_one_line(tmp_path: Path, text: str, where: str) -> None:
    root = _project(tmp_path)
    registry = root / "params" / "headline" / "registry.yaml"
    registry.write_text(text, encoding="utf-8")
    args = ["headline", "--folder", str(root / "scenarios"), "-r", "1", "-q"]
    _one_line_exit_2(args, f"{registry}: {where}")


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("band: [7, 9]", "band: [9, 7]", "targets[4].band: "),  # low above high
        ("measure: segment_days", "measure: segment_hours", "targets[4].measure: "),
        ("    from_nodes: [dostyk, altynkol]\n", "", "needs from_nodes"),
        ("    facts: [V3]\n", "    facts: []\n", "targets[3].facts: "),
    ],
)
def test_a_bad_targets_file_exits_2_on_one_line(
    tmp_path: Path, old: str, new: str, where: str
) -> None:
    root = _project(tmp_path)
    targets = root / "params" / "targets" / "baseline_2019.yaml"
    text = targets.read_text(encoding="utf-8")
    assert old in text
    targets.write_text(text.replace(old, new, 1), encoding="utf-8")
    args = ["calibrate", str(root / "scenarios" / "baseline_2019.yaml"), "-r", "1", "-q"]
    _one_line_exit_2(args, f"{targets}: ")
    _one_line_exit_2(args, where)
