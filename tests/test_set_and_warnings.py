"""``--set`` never invents a scenario element, names close matches for typos, and an event
outside the run window is reported instead of silently changing nothing (issue 15, items 1
and 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from builders import one_node
from typer.testing import CliRunner

from sim.cli.app import app
from sim.config.loader import load_scenario
from sim.errors import ConfigError
from sim.suggest import close_matches

runner = CliRunner()


def _scenario(tmp_path: Path, events: dict | None = None, name: str = "s.yaml") -> Path:
    doc = one_node(2, {"dist": "exponential", "mean": 1.0}, 1.0, horizon_days=30, replications=2)
    doc["events"] = events or {}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stderr + result.stdout


def test_set_with_a_typo_in_a_node_id_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    path = _scenario(tmp_path)
    out = tmp_path / "out"
    code, text = _run("run", str(path), "--set", "nodes.bordr.servers=2", "--out", str(out))
    assert code == 2 and not out.exists()
    assert "nodes.bordr: no node 'bordr' in the scenario (did you mean 'border'?)" in text
    assert text.count("corridor: error:") == 1 and "Traceback" not in text


def test_a_plus_adds_an_element_on_purpose(tmp_path: Path) -> None:
    path = _scenario(tmp_path)
    strike = "+events.strike={targets: [border], start: 2, end: 4, servers: 0}"
    scenario, _ = load_scenario(path, [strike])
    assert scenario.events["strike"].servers == 0
    with pytest.raises(ConfigError, match="no event 'strike'"):
        load_scenario(path, [strike.removeprefix("+")])


def test_unknown_field_names_the_closest_known_ones(tmp_path: Path) -> None:
    path = _scenario(tmp_path)
    with pytest.raises(ConfigError, match=r"unknown field \(did you mean 'servers'\?\)"):
        load_scenario(path, ["nodes.border.sevrers=3"])
    with pytest.raises(ConfigError, match=r"run.horizon_dyas: unknown field \(did you mean"):
        load_scenario(path, ["run.horizon_dyas=3"])


def test_a_typo_in_a_flow_name_blames_the_set_not_the_file_defining_flows(
    tmp_path: Path,
) -> None:
    base = _scenario(tmp_path, name="base.yaml")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nname: child\n")
    with pytest.raises(ConfigError) as caught:
        load_scenario(child, ["flows.trians.teu_per_year=10"])
    assert caught.value.source == "--set flows.trians.teu_per_year=10"
    assert "did you mean 'trains'" in caught.value.problem
    # in a file: the file is blamed, and the message says the name made a new flow
    child.write_text("extends: base.yaml\nflows:\n  trians:\n    teu_per_year: 10\n")
    with pytest.raises(ConfigError) as in_file:
        load_scenario(child)
    assert in_file.value.source == str(child)
    assert "'trians' is a new flow (did you mean 'trains'?)" in in_file.value.problem
    assert base.exists()


def test_close_matches_handles_case_and_prefixes() -> None:
    assert close_matches("Brest", ["brest", "grodno"]) == ["brest"]
    assert close_matches("mala", ["malaszewicze", "brest"]) == ["malaszewicze"]
    assert close_matches("zzz", ["brest"]) == []


OUTSIDE = {"closure_2025": {"targets": ["border"], "start": "2025-09-12", "end": "2025-09-25",
                            "servers": 0}}  # fmt: skip


def test_an_event_outside_the_run_window_warns_and_strict_refuses(tmp_path: Path) -> None:
    path = _scenario(tmp_path, OUTSIDE)
    out = tmp_path / "out"
    code, text = _run("run", str(path), "-q", "--out", str(out))
    assert code == 0 and out.exists()
    assert (
        "corridor: warning:" in text and "events.closure_2025: runs 2025-09-12 → 2025-09-25" in text
    )
    assert "outside the measured window 2024-01-01 → 2024-01-31" in text
    code, text = _run("run", str(path), "--strict", "--out", str(tmp_path / "strict"))
    assert code == 2 and not (tmp_path / "strict").exists()
    assert text.count("corridor: error:") == 1 and "changes nothing" in text
    code, text = _run("validate", str(path))
    assert code == 0 and "corridor: warning:" in text
    code, text = _run("validate", "--strict", str(path))
    assert code == 2 and "changes nothing" in text


def test_an_event_inside_the_window_gives_no_warning(tmp_path: Path) -> None:
    inside = {"shut": {**OUTSIDE["closure_2025"], "start": "2024-01-05", "end": "2024-01-07"}}
    path = _scenario(tmp_path, inside)
    code, text = _run("validate", "--strict", str(path))
    assert code == 0 and "warning" not in text


REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "scenarios" / "baseline_2023.yaml"  # Brest: servers 8 = 4 west + 4 east


@pytest.mark.parametrize(
    ("overrides", "west", "east"),
    [
        (["nodes.brest.servers_by_direction.west=2"], 2, 4),
        (["nodes.brest.servers_by_direction={west: 1, east: 3}"], 1, 3),
        (["nodes.brest.servers_by_direction.east=5", "nodes.brest.servers=9"], 4, 5),
    ],
)
def test_servers_follow_a_split_changed_by_set(overrides: list[str], west: int, east: int) -> None:
    """Issue 21, item 10: ``servers`` is derived from ``servers_by_direction``; changing the
    split alone used to fail with "servers (8) must equal the sum of servers_by_direction (4)"."""
    scenario, _ = load_scenario(BASELINE, overrides)
    brest = scenario.nodes["brest"]
    assert brest.servers_by_direction == {"west": west, "east": east}
    assert brest.servers == west + east
    assert load_scenario(BASELINE)[0].nodes["brest"].servers == 8  # the file's total


def test_a_split_that_contradicts_a_total_set_with_it_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"servers \(8\) must equal the sum of .* \(6\)"):
        load_scenario(
            BASELINE, ["nodes.brest.servers_by_direction.west=2", "nodes.brest.servers=8"]
        )
