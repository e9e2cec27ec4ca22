"""Nothing lost, nothing leaked: what `run` and `sweep` may write, and what they leave behind.

Each test names the failure it guards against (issue #14): --out deleting a user's folder,
a scenario name escaping results/, half-written staging directories and temporary files
surviving a kill, damaged results ending in an internal error.
"""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from builders import one_node
from typer.testing import CliRunner

from sim.cli.app import app
from sim.errors import ConfigError
from sim.store import run_dir as results
from sim.store.outdir import clean_stale, safe_component
from sim.sweep import directory as sweep
from sim.workflow.run import RunRequest, execute

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stderr + result.stdout


def _one_error_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("corridor: error: "), text
    assert "Traceback" not in text and len(lines[0]) <= 300
    return lines[0]


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    doc = one_node(2, {"dist": "exponential", "mean": 1.0}, 1.0, horizon_days=5, warmup_days=1)
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_out_onto_a_folder_of_other_files_keeps_them(scenario_file: Path, tmp_path: Path) -> None:
    mine = tmp_path / "my_analysis"
    (mine / "notes").mkdir(parents=True)
    (mine / "notes" / "draft.md").write_text("weeks of work")
    (mine / "data.csv").write_text("a,b\n1,2\n")
    before = _tree(mine)
    for force in ([], ["--force"]):  # --force replaces only a previous corridor run
        code, text = _run("run", str(scenario_file), "-r", "1", "--out", str(mine), *force)
        assert code == 2
        assert "is not empty and not a corridor results directory" in _one_error_line(text)
        assert _tree(mine) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_analysis", "small.yaml"]


def test_out_onto_a_file_keeps_it(scenario_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "a_file.txt"
    target.write_text("precious")
    for force in ([], ["--force"]):
        code, text = _run("run", str(scenario_file), "-r", "1", "--out", str(target), *force)
        assert code == 2 and "exists and is not a directory" in _one_error_line(text)
    assert target.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file.txt", "small.yaml"]


def test_out_onto_a_previous_run_needs_force(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert _run("run", str(scenario_file), "-r", "1", "--seed", "1", "--out", str(out))[0] == 0
    code, text = _run("run", str(scenario_file), "-r", "1", "--seed", "2", "--out", str(out))
    assert code == 2 and "add --force" in _one_error_line(text)
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 1
    code, _ = _run(
        "run", str(scenario_file), "-r", "1", "--seed", "2", "--out", str(out), "--force"
    )
    assert code == 0
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 2


def test_out_onto_an_empty_folder_is_used(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert _run("run", str(scenario_file), "-r", "1", "--out", str(out))[0] == 0
    assert (out / "manifest.json").is_file()


@pytest.mark.parametrize("name", ["../../escaped", "/etc/escaped", "..", "a/../../b", "x\ny"])
def test_a_scenario_name_stays_under_results(tmp_path: Path, name: str) -> None:
    doc = one_node(1, {"dist": "fixed", "value": 1.0}, 0.5, horizon_days=2, replications=1)
    doc["name"] = name
    path = tmp_path / "s" / "evil.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(doc))
    root = tmp_path / "work" / "results"
    outcome = execute(RunRequest(path, results_root=root))
    assert outcome.run_dir.resolve().is_relative_to(root.resolve())
    assert outcome.run_dir.parent.parent == root
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s", "work"]
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["results"]


def test_safe_component_keeps_ordinary_names() -> None:
    assert safe_component("baseline_2023") == "baseline_2023"
    assert safe_component("red-sea.v2") == "red-sea.v2"
    assert safe_component("../..") == "_.."
    assert "/" not in safe_component("a/b") and safe_component("") == "scenario"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_write_leaves_nothing_after_the_next_run(
    scenario_file: Path, tmp_path: Path
) -> None:
    root = tmp_path / "results"
    folder = root / "one_node"
    pid = _dead_pid()
    # what `kill -9` during the write phase leaves: a staging dir with half a Parquet file
    staging = folder / f".20250101-000000.partial-{pid}"
    staging.mkdir(parents=True)
    (staging / "trains.parquet").write_bytes(b"PAR1 half written")
    aside = folder / f".20240101-000000.old-{pid}"
    aside.mkdir()
    live = folder / f".other.partial-{__import__('os').getpid()}"  # a run still going
    live.mkdir()
    outcome = execute(RunRequest(scenario_file, replications=1, results_root=root))
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([outcome.run_dir.name, live.name])


def test_clean_stale_removes_temporary_files_of_dead_processes(tmp_path: Path) -> None:
    pid = _dead_pid()
    (tmp_path / f".manifest.json.tmp-{pid}").write_text("{")
    (tmp_path / "keep.txt").write_text("x")
    (tmp_path / ".hidden.partial-notapid").mkdir()
    removed = clean_stale(tmp_path)
    assert [p.name for p in removed] == [f".manifest.json.tmp-{pid}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden.partial-notapid", "keep.txt"]


def _disk_full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_writing_a_run_is_exit_2_and_leaves_nothing(
    scenario_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(results.TableSink, "append_table", _disk_full)
    out = tmp_path / "run"
    code, text = _run("run", str(scenario_file), "-r", "2", "--out", str(out), "-q")
    assert code == 2
    assert _one_error_line(text) == f"corridor: error: {out}: cannot write results: " + (
        "No space left on device"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


def test_an_unwritable_destination_fails_before_the_simulation(
    scenario_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("not a folder")
    simulated: list[int] = []
    monkeypatch.setattr(
        "sim.workflow.lifecycle.replicate", lambda *a, **k: simulated.append(1) or []
    )
    code, text = _run("run", str(scenario_file), "--out", str(tmp_path / "file" / "run"))
    assert code == 2 and "cannot write results" in _one_error_line(text)
    assert simulated == []


def test_disk_full_in_a_sweep_leaves_no_temporary_manifest(
    scenario_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweep, "write_json", _disk_full)
    out = tmp_path / "sweep"
    code, text = _run(
        "sweep", str(scenario_file), "--vary", "nodes.border.servers=2,3", "-r", "1",
        "--workers", "1", "--out", str(out), "-q",
    )  # fmt: skip
    assert code == 2
    assert _one_error_line(text).endswith("manifest.json: cannot write: No space left on device")
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]


def test_workers_zero_is_refused(scenario_file: Path) -> None:
    code, text = _run("run", str(scenario_file), "--workers", "0")
    assert code == 2 and "--workers: must be at least 1 (got 0)" in _one_error_line(text)


@pytest.fixture
def two_runs(scenario_file: Path, tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        execute(RunRequest(scenario_file, replications=2, out=out))
    return a, b


READERS = {  # which command reads which file of a results directory
    "summary.json": ("compare", "plot", "report"),
    "manifest.json": ("compare", "plot", "report"),
    "replications.parquet": ("compare", "report"),
    "trains.parquet": ("plot",),
}


@pytest.mark.parametrize("damage", list(READERS))
def test_damaged_results_are_exit_2_naming_the_file(
    two_runs: tuple[Path, Path], tmp_path: Path, damage: str
) -> None:
    a, b = two_runs
    path = b / damage
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # truncated
    commands = {
        "compare": ["compare", str(a), str(b), "--out", str(tmp_path / "c.png")],
        "plot": ["plot", str(b), "--kind", "transit", "--out", str(tmp_path / "p.png")],
        "report": ["report", str(a), str(b), "--out", str(tmp_path / "r.html")],
    }
    for command in READERS[damage]:
        code, text = _run(*commands[command])
        assert code == 2, (command, text)
        line = _one_error_line(text)
        assert line.startswith(f"corridor: error: {path}: damaged results file"), line


def test_a_summary_that_is_not_a_summary_is_damaged(two_runs: tuple[Path, Path]) -> None:
    _, b = two_runs
    (b / "summary.json").write_text("[1, 2]")
    code, text = _run("plot", str(b), "--kind", "transit", "--out", str(b.parent / "p.png"))
    assert code == 2 and "summary.json: damaged results file" in _one_error_line(text)
    (b / "summary.json").write_text('{"scenario": "x"}')
    code, text = _run("plot", str(b), "--kind", "transit", "--out", str(b.parent / "p.png"))
    assert code == 2 and "summary.json: damaged results file" in _one_error_line(text)


def test_write_run_refuses_what_it_did_not_create(tmp_path: Path) -> None:
    final = tmp_path / "x"
    final.mkdir()
    (final / "keep").write_text("k")
    with pytest.raises(ConfigError):
        results.write_run(final, {}, {}, {}, "", replace=True)
    assert (final / "keep").read_text() == "k"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]


def test_an_output_path_that_cannot_be_written_is_exit_2(
    two_runs: tuple[Path, Path], scenario_file: Path, tmp_path: Path
) -> None:
    a, b = two_runs
    blocked = a / "summary.json"  # a file where a folder would be needed
    commands = [
        ["compare", str(a), str(b), "--out", str(blocked / "c.png")],
        ["compare", str(a), str(b), "--out", str(tmp_path / "c.png"),
         "--csv", str(blocked / "d.csv")],
        ["plot", str(b), "--kind", "queues", "--out", str(blocked / "p.png")],
        ["report", str(a), "--out", str(blocked / "r.html")],
        ["schema", "--out", str(blocked / "s.json")],
        ["sweep", str(scenario_file), "--vary", "nodes.border.servers=2,3", "-r", "1",
         "--workers", "1", "--out", str(blocked / "sweep"), "-q"],
    ]  # fmt: skip
    for args in commands:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        line = _one_error_line(result.stderr)  # compare prints its table before writing
        assert line.startswith(f"corridor: error: {blocked}"), line
        assert "cannot write: " in line, line
