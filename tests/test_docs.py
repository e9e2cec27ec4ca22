"""The README's and docs' commands and YAML examples work as written (issue 15, items 5 and 12;
issue 10, item 6). The mechanism is described in ``tests/doc_examples.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from doc_examples import ROOT, Block, Command, all_blocks, all_commands, commands
from typer.main import get_command

from sim.cli.app import app
from sim.config.loader import load_scenario
from sim.sweep.plan import SweepRequest, plan_sweep

COMMANDS = all_commands()
CLI = "corridor"
VENV_CLI = ".venv/bin/corridor"


def _ids(items: list[Command] | list[Block]) -> list[str]:
    return [i.where for i in items]


def test_the_docs_have_examples_to_check() -> None:
    assert len(COMMANDS) >= 20 and len(all_blocks("yaml")) >= 2


@pytest.mark.parametrize("command", COMMANDS, ids=_ids(COMMANDS))
def test_command_is_valid_bash(command: Command) -> None:
    """``range(16000,22000,4000)`` unquoted is a bash syntax error: caught here."""
    result = subprocess.run(["bash", "-n", "-c", command.text], capture_output=True, text=True)
    assert result.returncode == 0, f"{command.where}: {result.stderr.strip()}"


@pytest.mark.parametrize("command", COMMANDS, ids=_ids(COMMANDS))
def test_command_calls_the_installed_cli(command: Command) -> None:
    """The set-up installs ``.venv/bin/corridor``; a bare ``corridor`` is not on the PATH."""
    first = command.argv[0]
    assert first != CLI, f"{command.where}: use {VENV_CLI}, as the set-up installs it"
    assert first in (VENV_CLI, "make", ".venv/bin/python"), f"{command.where}: {first}?"


def _parse(argv: list[str]) -> None:
    """Let the CLI's own parser read the arguments (options, types, choices), run nothing."""
    group: Any = get_command(app)  # Typer ships its own copy of click: duck-typed here
    with group.context_class(group, info_name=CLI) as ctx:
        sub = group.get_command(ctx, argv[0])
        assert sub is not None, f"no command {argv[0]}"
        sub.make_context(argv[0], list(argv[1:]), parent=ctx)


def _usage_error(exc: Exception) -> bool:
    return any(cls.__name__ == "UsageError" for cls in type(exc).__mro__)


@pytest.mark.parametrize(
    "command", [c for c in COMMANDS if c.argv[0] == VENV_CLI], ids=lambda c: c.where
)
def test_corridor_command_parses(command: Command) -> None:
    try:
        _parse(command.argv[1:])
    except Exception as exc:
        if not _usage_error(exc):
            raise
        pytest.fail(f"{command.where}: {exc}")
    for arg in command.argv[1:]:
        if arg.endswith(".yaml") and not arg.startswith("-"):
            assert list(ROOT.glob(arg)), f"{command.where}: no file {arg}"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy to run commands in: the shipped inputs linked, the installed CLI linked
    as .venv, results written here and not into the checkout."""
    root = tmp_path_factory.mktemp("project")
    for name in ("params", "scenarios"):
        (root / name).symlink_to(ROOT / name)
    (root / ".venv").symlink_to(Path(sys.prefix))
    return root


README_RUNS = [
    c
    for b in all_blocks("sh")
    if b.file.name == "README.md"
    for c in commands(b)
    if c.argv[0] != "make"
]


@pytest.mark.parametrize("command", README_RUNS, ids=_ids(README_RUNS))
def test_readme_command_runs_as_written(command: Command, scratch: Path) -> None:
    assert (Path(sys.prefix) / "bin" / CLI).exists(), "the CLI is not installed in this venv"
    env = {**os.environ, "COLUMNS": "120"}
    result = subprocess.run(
        ["bash", "-e", "-c", command.text],
        cwd=scratch,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, f"{command.where}: {result.stderr.strip()[-500:]}"


def _place(scratch: Path, block: Block, folder: str) -> Path:
    target = scratch / "doc-examples" / folder
    target.mkdir(parents=True, exist_ok=True)
    for link, dest in (("params", "params"), ("scenarios", "scenarios")):
        where = scratch / "doc-examples" / link
        if not where.exists():
            where.symlink_to(ROOT / dest)
    path = target / f"{block.file.stem}_{block.line}.yaml"
    path.write_text(block.text)
    return path


YAML_BLOCKS = all_blocks("yaml")


@pytest.mark.parametrize("block", YAML_BLOCKS, ids=_ids(YAML_BLOCKS))
def test_yaml_example_is_valid(block: Block, tmp_path: Path) -> None:
    """Scenarios load as if placed in scenarios/, sweeps plan as if in scenarios/sweeps/."""
    doc = yaml.safe_load(block.text)
    assert isinstance(doc, dict), block.where
    if "parameters" in doc:
        root = tmp_path / "p"
        (root / "scenarios" / "sweeps").mkdir(parents=True)
        for entry in (ROOT / "scenarios").iterdir():
            if entry.name != "sweeps":
                (root / "scenarios" / entry.name).symlink_to(entry)
        (root / "params").symlink_to(ROOT / "params")
        path = root / "scenarios" / "sweeps" / "example.yaml"
        path.write_text(block.text)
        plan = plan_sweep(SweepRequest(target=path))
        assert plan.points, block.where
    elif "nodes" in doc or "extends" in doc:
        root = tmp_path / "s"
        (root / "scenarios").mkdir(parents=True)
        (root / "params").symlink_to(ROOT / "params")
        path = root / "scenarios" / "example.yaml"
        path.write_text(block.text)
        scenario, _ = load_scenario(path)
        assert scenario.nodes, block.where
