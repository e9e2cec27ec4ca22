"""Every class of bad input ends with exit code 2 and one line naming file, field and problem."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import typing
from pathlib import Path
from typing import Annotated, Any

import pytest
import yaml
from builders import one_node
from pydantic import BaseModel, TypeAdapter, ValidationError
from typer.testing import CliRunner

from sim.cli.app import app
from sim.config.demand import Assumptions, DemandStructure, Ensemble
from sim.config.history import Observed as HistoryObserved
from sim.config.scenario import Scenario
from sim.sweep.sweep_file import SweepFile

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


def _date_fields() -> list[tuple[str, Any]]:
    """Every field of every input format whose values are calendar dates (not moments, which
    may also be a number of days from run.start_date), as ("Model.field", annotated type)."""
    roots = [Scenario, SweepFile, Assumptions, DemandStructure, Ensemble, HistoryObserved]
    seen: set[type] = set()
    found: list[tuple[str, Any]] = []
    todo: list[type] = list(roots)
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            todo.extend(_models_in(info.annotation))
            if _holds(info.annotation, dt.date) and not _holds(info.annotation, float):
                typed = Annotated[info.annotation, *info.metadata] if info.metadata else None
                found.append((f"{model.__name__}.{name}", typed or info.annotation))
    return sorted(found, key=lambda f: f[0])


def _models_in(annotation: Any) -> list[type]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _holds(annotation: Any, kind: type) -> bool:
    """Whether ``kind`` is the annotation or one of its arguments, at any depth."""
    if annotation is kind or typing.get_origin(annotation) is kind:
        return True
    return any(_holds(a, kind) for a in typing.get_args(annotation))


@pytest.mark.parametrize(
    ("field", "annotation"),
    [pytest.param(name, annotation, id=name) for name, annotation in _date_fields()],
)
def test_a_date_field_accepts_dates_only(field: str, annotation: Any) -> None:
    """Issue 21, item 9: ``run.start_date: 0`` ran as 1970-01-01 without a word."""
    adapter = TypeAdapter(annotation)
    pair = _holds(annotation, tuple)  # a window: (from, to)
    day = dt.date(2023, 3, 1)
    assert adapter.validate_python((day, day) if pair else day) is not None
    for number in (0, 1_700_000_000, 45_000.5):
        with pytest.raises(ValidationError, match="must be a date"):
            adapter.validate_python((number, number) if pair else number)


def test_an_integer_start_date_is_one_line_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path, _broken(lambda d: d["run"].update(start_date=0)))
    for command in ("validate", "run"):
        code, text = _run(command, str(path))
        assert code == 2
        assert text.strip() == (
            f"corridor: error: {path}: run.start_date: must be a date (YYYY-MM-DD), not 0"
        )
