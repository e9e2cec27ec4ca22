"""Every class of bad input ends with exit code 2 and one line naming file, field and problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from builders import one_node
from typer.testing import CliRunner

from sim.cli.app import app

runner = CliRunner()


def _write(tmp_path: Path, doc: dict | str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return path


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stderr + result.stdout


def _broken(change) -> dict:
    doc = one_node(2, {"dist": "exponential", "mean": 1.0}, 1.0)
    change(doc)
    return doc


CASES = {
    "unknown key": (
        lambda d: d["nodes"]["border"].update(servrs=3),
        "nodes.border.servrs: unknown field",
    ),
    "wrong type": (
        lambda d: d["nodes"]["border"].update(servers="many"),
        "nodes.border.servers: Input should be a valid integer",
    ),
    "negative capacity": (
        lambda d: d["nodes"]["border"].update(servers=-1),
        "nodes.border.servers: Input should be greater than or equal to 0",
    ),
    "unknown distribution": (
        lambda d: d["nodes"]["border"].update(handling_hours={"dist": "weibull", "k": 2}),
        "nodes.border.handling_hours: Input tag 'weibull'",
    ),
    "closure ending before it starts": (
        lambda d: d["events"].update(
            shut={"targets": ["border"], "start": "2024-03-10", "end": "2024-03-01", "servers": 0}
        ),
        "events.shut.end: ends (2024-03-01) before it starts (2024-03-10)",
    ),
    "route through an unknown node": (
        lambda d: d["routes"]["through"].update(nodes=["source", "brest", "sink"]),
        "routes.through.nodes[1]: unknown node 'brest'",
    ),
    "zero-length horizon": (
        lambda d: d["run"].update(horizon_days=0),
        "run.horizon_days: Input should be greater than 0",
    ),
    "event on an unknown target": (
        lambda d: d["events"].update(
            shut={"targets": ["terespol"], "start": 1.0, "end": 2.0, "servers": 0}
        ),
        "events.shut.targets[0]: unknown node, link or flow 'terespol'",
    ),
    "speed that can be zero": (
        lambda d: d["links"].update(
            slow={"from": "source", "to": "sink", "km": 100, "speed_km_per_day": 0}
        ),
        "links.slow: speed_km_per_day can draw 0 km/day",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_scenario_exits_2_with_file_field_and_problem(tmp_path: Path, case: str) -> None:
    change, expected = CASES[case]
    path = _write(tmp_path, _broken(change))
    for command in ("run", "validate"):
        code, text = _run(command, str(path))
        assert code == 2, text
        assert f"corridor: error: {path}: {expected}" in text
        assert "Traceback" not in text
        assert len(text.strip().splitlines()) == 1, text


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "run:\n  seed: 1\nnodes: [a, b\n")
    code, text = _run("run", str(path))
    assert code == 2
    assert f"{path}: YAML syntax error: line 4" in text


def test_missing_file(tmp_path: Path) -> None:
    code, text = _run("run", str(tmp_path / "nope.yaml"))
    assert code == 2 and "nope.yaml: no such file" in text


def test_error_in_a_params_file_names_that_file(tmp_path: Path) -> None:
    params = _broken(lambda d: d["nodes"]["border"].update(servers=-3))
    params.pop("run")
    _write(tmp_path, params, "network.yaml")
    scenario = _write(tmp_path, {"extends": "network.yaml", "run": {"seed": 1}}, "s.yaml")
    code, text = _run("validate", str(scenario))
    assert code == 2
    assert f"{tmp_path / 'network.yaml'}: nodes.border.servers" in text


def test_bad_set_override_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, _broken(lambda d: None), "ok.yaml")
    code, text = _run("run", str(path), "--set", "nodes.border.servers=-2")
    assert code == 2
    assert "--set nodes.border.servers=-2: nodes.border.servers: Input should be greater" in text
    code, text = _run("run", str(path), "--set", "nodes.border.servers")
    assert code == 2 and "not of the form dotted.path=value" in text


def test_validate_reports_every_bad_file_and_passes_good_ones(tmp_path: Path) -> None:
    good = _write(tmp_path, _broken(lambda d: None), "good.yaml")
    bad = _write(tmp_path, "nodes: {a: {servers: x}}", "bad.yaml")
    assert _run("validate", str(good))[0] == 0
    code, text = _run("validate", str(good), str(bad))
    assert code == 2 and "ok: " in text and f"{bad}: nodes.a.servers" in text


def test_real_entry_point_has_no_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, _broken(lambda d: d["run"].update(replications=0)))
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"corridor: error: {path}: run.replications: "
        "Input should be greater than or equal to 1 (got 0)"
    )
    assert not (tmp_path / "out").exists()


def _demand(teu_per_year: float) -> dict:
    flow = {
        "origin": "a",
        "destination": "b",
        "routes": {"r": 1},
        "teu_per_year": teu_per_year,
        "teu_per_train": 2,
    }
    return {"flows": {"f": flow}}


def test_params_fragment_is_validated_section_by_section(tmp_path: Path) -> None:
    good = _write(tmp_path, _demand(10), "demand.yaml")
    assert _run("validate", str(good))[0] == 0
    bad = _write(tmp_path, _demand(-10), "bad.yaml")
    code, text = _run("validate", str(bad))
    assert code == 2 and f"{bad}: flows.f.teu_per_year: Input should be greater than" in text
    odd = _write(tmp_path, {"flow": {}}, "odd.yaml")
    code, text = _run("validate", str(odd))
    assert code == 2 and f"{odd}: flow: unknown field" in text


def test_validate_checks_sweep_files_too(tmp_path: Path) -> None:
    scenario = _write(tmp_path, _broken(lambda d: None), "s.yaml")
    good = _write(
        tmp_path,
        {"scenario": scenario.name, "parameters": {"nodes.border.servers": "2,3"}},
        "sweep.yaml",
    )
    code, text = _run("validate", str(good))
    assert code == 0 and "(sweep, 2 point(s))" in text
    bad = _write(
        tmp_path,
        {"scenario": scenario.name, "parameters": {"nodes.border.servers": "2,-3"}},
        "bad_sweep.yaml",
    )
    code, text = _run("validate", str(bad))
    assert code == 2 and "nodes.border.servers" in text and "Traceback" not in text
