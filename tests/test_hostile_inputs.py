"""Inputs that used to end in "internal error", a hang or gigabytes of memory (issue #14).

Each is now exit code 2 with one line ``corridor: error: FILE: FIELD: problem`` of at most
300 characters, and a file that validates also runs.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from builders import one_node
from typer.testing import CliRunner

from sim.cli.app import app

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stderr + result.stdout


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text and len(lines[0]) <= 300, text
    return lines[0]


def _scenario(**run: object) -> dict:
    doc = one_node(2, {"dist": "exponential", "mean": 1.0}, 0.5, horizon_days=3, warmup_days=1)
    doc["run"].update(run)
    doc["run"]["replications"] = 1
    return doc


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)

SCENARIO = yaml.safe_dump(_scenario()).encode()

TEXT_CASES: dict[str, tuple[bytes, str]] = {
    "UTF-16": ("name: x\n".encode("utf-16"), ": is UTF-16 text; save it as UTF-8"),
    "latin-1": ("name: café\n".encode("latin-1"), ": is not UTF-8 text (byte 0xe9 at offset 9)"),
    "gzip": (gzip.compress(b"name: x\n"), ": is gzip-compressed"),
    "binary": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, ": is not UTF-8 text (byte 0x89"),
    "NUL bytes": (b"name: x\x00\n", "NUL"),
    "duplicate key": (
        b"run: {seed: 1}\nrun: {seed: 2}\n",
        ": run: duplicate key (first on line 1)",
    ),
    "duplicate in flow": (b"nodes: {a: {}, a: {}}\n", ": nodes.a: duplicate key"),
    "bad int tag": (b"run: {seed: !!int abc}\n", ": run.seed: 'abc' cannot be read as !!int"),
    "bad timestamp": (b"run: {start_date: !!timestamp garbage}\n", "is not a valid date"),
    "bad bool": (b"run: {seed: !!bool maybe}\n", ": run.seed: 'maybe' cannot be read as !!bool"),
    "impossible date": (b"run: {start_date: 2023-02-30}\n", "day is out of range for month"),
    "month 13": (b"run: {start_date: 2023-13-01}\n", "'2023-13-01' is not a valid date"),
    "year 0": (b"run: {start_date: 0000-01-01}\n", "year 0 is out of range"),
    "alias bomb": (BOMB.encode(), "values once aliases are expanded"),
    "deep nesting": (b"a: " + b"[" * 1000 + b"]" * 1000 + b"\n", "nest"),
    "recursive anchor": (b"a: &x [*x]\n", "levels deep"),
    "newline in key": (SCENARIO + b'"a\\nb": 1\n', ": a\\nb: unknown field"),
    "huge key": (SCENARIO + b"k" * 1000 + b"x: 1\n", ": kkkkkkkkkk"),
    "huge value": (b"description: [" + b"1, " * 100_000 + b"1]\n", "description"),
    "top-level list": (b"- a\n- b\n", "expected a mapping at the top, got list"),
    "unknown tag": (b"a: !!python/object:os.system x\n", "could not determine a constructor"),
}


@pytest.mark.parametrize("case", list(TEXT_CASES))
def test_hostile_file_is_one_line_exit_2(tmp_path: Path, case: str) -> None:
    data, expected = TEXT_CASES[case]
    path = tmp_path / "bad.yaml"
    path.write_bytes(data)
    for command in ("validate", "run"):
        started = time.perf_counter()
        code, text = _run(command, str(path))
        assert time.perf_counter() - started < 10
        assert code == 2, text
        line = _one_line(text)
        assert line.startswith(f"corridor: error: {path}"), line
        assert expected in line, line


def test_a_too_large_file_is_refused_before_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * (2 << 20) + b"\n")
    code, text = _run("validate", str(path))
    assert code == 2 and "is larger than 1024 KiB" in _one_line(text)


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "."])
def test_extends_of_a_special_file_is_refused(tmp_path: Path, special: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"extends: {special}\n")
    code, text = _run("validate", str(path))
    assert code == 2 and f"{path}: extends: not a regular file: {special}" in _one_line(text)
    code, text = _run("validate", special)
    assert code == 2 and "not a YAML file" in _one_line(text)


def test_a_long_extends_chain_is_refused(tmp_path: Path) -> None:
    for i in range(1200):
        (tmp_path / f"f{i}.yaml").write_text(f"extends: f{i + 1}.yaml\n")
    (tmp_path / "f1200.yaml").write_text("description: end\n")
    code, text = _run("validate", str(tmp_path / "f0.yaml"))
    assert code == 2 and "extends chain longer than" in _one_line(text)


def test_an_extends_diamond_reads_each_file_once(tmp_path: Path) -> None:
    """Each file extending the next one through 8 paths used to take minutes (8^depth)."""
    depth = 12
    for i in range(depth):
        names = ", ".join(f"d{i + 1}.yaml" if k == 0 else f"./d{i + 1}.yaml" for k in range(2))
        (tmp_path / f"d{i}.yaml").write_text(f"extends: [{names}]\n")
    (tmp_path / f"d{depth}.yaml").write_text(yaml.safe_dump(_scenario()))
    started = time.perf_counter()
    code, text = _run("validate", str(tmp_path / "d0.yaml"))
    assert time.perf_counter() - started < 5
    assert code == 0, text


def test_extends_listing_a_file_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(_scenario()))
    (tmp_path / "s.yaml").write_text("extends: [p.yaml, p.yaml]\n")
    code, text = _run("validate", str(tmp_path / "s.yaml"))
    assert code == 2 and "extends: lists the same file more than once" in _one_line(text)


def test_an_extends_cycle_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    code, text = _run("validate", str(tmp_path / "a.yaml"))
    assert code == 2 and "extends itself in a cycle: a.yaml -> b.yaml -> a.yaml" in _one_line(text)


def test_a_nul_byte_in_extends_is_one_line(tmp_path: Path) -> None:
    """Issue 21, item 9: the loader stat()ed the path first, and the OS's ValueError ended
    the program in "internal error: embedded null byte"."""
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(_scenario()))
    path = tmp_path / "s.yaml"
    path.write_text('extends: [p.yaml, "../params/net\\0work.yaml"]\n')
    code, text = _run("validate", str(path))
    assert code == 2
    expected = "extends[1]: a file name cannot hold a NUL byte: '../params/net\\x00work.yaml'"
    assert f"{path}: {expected}" in _one_line(text)


def test_an_over_long_path_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / ("x" * 5000 + ".yaml")
    code, text = _run("validate", str(path))
    assert code == 2 and "File name too long" in _one_line(text)


VALUE_CASES = {
    "infinite capacity factor": (
        {"events": {"e": {"targets": ["border"], "start": 1, "end": 2, "capacity_factor": "inf"}}},
        "events.e.capacity_factor: Input should be a finite number",
    ),
    "infinite route share": (
        {"flows": {"trains": {"routes": {"through": float("inf")}}}},
        "flows.trains.routes.through: Input should be a finite number",
    ),
    "NaN handling time": (
        {"nodes": {"border": {"handling_hours": {"dist": "fixed", "value": float("nan")}}}},
        "nodes.border.handling_hours.value: Input should be a finite number",
    ),
    "shares that overflow": (
        {"flows": {"trains": {"routes": {"through": 1e308, "back": 1e308}}}},
        "flows.trains.routes: shares are relative: each at most 1e+06 (e.g. 70 and 30)",
    ),
    "start date in year 1": (
        {"run": {"start_date": "0001-01-01"}},
        "run.start_date: 0001-01-01 is outside 1900–2199",
    ),
    "badly formatted date": (
        {"events": {"e": {"targets": ["border"], "start": "2023/03/01", "end": 2, "servers": 0}}},
        "events.e.start: '2023/03/01' is not a date; write YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS]",
    ),
    "boolean as a moment": (
        {"events": {"e": {"targets": ["border"], "start": True, "end": 2, "servers": 0}}},
        "events.e.start: must be a date",
    ),
    "astronomic demand": (
        {"flows": {"trains": {"teu_per_year": 1e300}}},
        "flows.trains.teu_per_year: one replication would plan 1.1e+298 trains (limit 2,000,000)",
    ),
    "tiny trains": (
        {"flows": {"trains": {"teu_per_train": 1e-300}}},
        "flows.trains.teu_per_year: one replication would plan",
    ),
    # issue 21, item 9: each of these validated, then ended the run in an internal error
    "integer start date": (  # was read as seconds since 1970: 1970-01-01, without a word
        {"run": {"start_date": 0}},
        "run.start_date: must be a date (YYYY-MM-DD), not 0",
    ),
    "huge capacity factor": (  # int(inf) when the engine rounds servers × factor
        {"events": {"e": {"targets": ["border"], "start": 1, "end": 2, "capacity_factor": 1e308}}},
        "events.e.capacity_factor: Input should be less than or equal to 1000",
    ),
    "capacity factors that compose past a float": (
        {
            "events": {
                f"e{i}": {"targets": ["border"], "start": 1, "end": 2, "capacity_factor": 1000}
                for i in range(4)
            }
        },
        "events.e3.capacity_factor: the events on 'border' could scale its servers by 1e+12",
    ),
    "uniform handling up to 1e308 hours": (  # SimPy's "Negative delay -inf"
        {"nodes": {"border": {"handling_hours": {"dist": "uniform", "low": 0, "high": 1e308}}}},
        "nodes.border.handling_hours.high: Input should be less than or equal to 10000000",
    ),
    "lognormal spread past a float": (  # (sd/mean)² overflowed in the sampler
        {"nodes": {"border": {"handling_hours": {"dist": "lognormal", "mean": 1e-300, "sd": 1}}}},
        "nodes.border.handling_hours: sd is more than 1000 times the mean",
    ),
    "a wave of a billion trains": (  # one wave is one array: 8 GB
        {"flows": {"trains": {"arrivals": "batched", "batch_trains": 10**9}}},
        "flows.trains.batch_trains: Input should be less than or equal to 1000",
    ),
    "a vanishing horizon": (  # measured nothing, then divided by zero
        {"run": {"horizon_days": 1e-308}},
        "run.horizon_days: must be at least an hour (1/24 day), not 1e-308 days",
    ),
}


def _deep_update(doc: dict, patch: dict) -> dict:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            _deep_update(doc[key], value)
        else:
            doc[key] = value
    return doc


@pytest.mark.parametrize("case", list(VALUE_CASES))
def test_values_that_would_crash_a_run_do_not_validate(tmp_path: Path, case: str) -> None:
    patch, expected = VALUE_CASES[case]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_deep_update(_scenario(), patch)))
    for command in ("validate", "run"):
        code, text = _run(command, str(path))
        assert code == 2, text
        assert f"corridor: error: {path}: {expected}" in _one_line(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-02-30", "'2023-02-30' is not a valid date (day is out of range for month)"),
        (
            "2023-13-01",
            "'2023-13-01' is not a valid date (month must be in 1..12); write YYYY-MM-DD",
        ),
        ("March 2023", "'March 2023' is not a date; write YYYY-MM-DD"),
    ],
)
def test_a_bad_date_from_set_names_the_formats(tmp_path: Path, value: str, expected: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_scenario()))
    code, text = _run("run", str(path), "--set", f"run.start_date={value}")
    assert code == 2
    assert f"run.start_date: {expected}" in _one_line(text)


def test_a_truncated_scenario_does_not_validate_as_params(tmp_path: Path) -> None:
    full = (REPO / "scenarios" / "baseline_2023.yaml").read_text()
    cut = full[: full.index("extends:")]  # name and description only: cut before `extends`
    path = tmp_path / "baseline_2023.yaml"
    path.write_text(cut)
    code, text = _run("validate", str(path))
    assert code == 2 and f"{path}: nodes: Field required" in _one_line(text)
    params = REPO / "params" / "demand_2023.yaml"
    assert _run("validate", str(params)) == (0, f"ok: {params} (params)\n")


def test_duplicate_keys_in_shipped_files_are_none() -> None:
    for path in sorted((REPO / "scenarios").rglob("*.yaml")) + sorted(
        (REPO / "params").glob("*.yaml")
    ):
        code, text = _run("validate", str(path))
        assert code == 0, text


STARTUP_INTERRUPT = """
import sys
class Interrupt:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pydantic":  # Ctrl-C while the CLI's dependencies are being imported
            raise KeyboardInterrupt
        return None
sys.meta_path.insert(0, Interrupt)
sys.argv = ["corridor", "validate", "x.yaml"]
import runpy
runpy.run_module("sim", run_name="__main__")
"""


def test_ctrl_c_during_start_up_exits_130_without_a_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", STARTUP_INTERRUPT],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip() == "corridor: error: interrupted"
    assert proc.stdout == ""


@pytest.mark.parametrize("delay_s", [0.8, 1.6, 2.4])
def test_a_real_ctrl_c_at_any_moment_is_quiet(tmp_path: Path, delay_s: float) -> None:
    """A signal in the interpreter's own first milliseconds cannot be caught by any Python
    code, so the delays start after that; the run lasts a few seconds."""
    doc = one_node(8, {"dist": "exponential", "mean": 1.0}, 5.0, horizon_days=300)
    doc["run"]["replications"] = 2
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "run", str(path), "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    time.sleep(delay_s)
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert "Traceback" not in stderr
    assert proc.returncode in (0, 130), stderr
    if proc.returncode == 130:
        assert stderr.strip().splitlines()[-1].startswith("corridor: error: interrupted")
        assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("line", "hostile"),
    [
        (
            "gives_way: {node: altynkol, per_china_eu_train: 1}",
            "gives_way: {node: altynkol, per_china_eu_train: 9223372036854775807}",
        ),
        (
            "trains_per_day: 0.05, china_eu_trains_per_day: 0.48",
            "trains_per_day: 0.05, china_eu_trains_per_day: 1.0e+15",
        ),
    ],
)
def test_a_load_that_gives_way_is_bounded_where_it_was_written(
    tmp_path: Path, line: str, hostile: str
) -> None:
    """Issue 21, item 9: a load that gives way plans its written trains plus λ × the China–EU
    trains it was derived against; with λ = 2⁶³ − 1 on other-altynkol-west (params/exits.yaml)
    baseline_2023 validated, then its run ended in numpy's "lam value too large"."""
    for folder in ("scenarios", "params"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    exits = tmp_path / "params" / "exits.yaml"
    text = exits.read_text()
    assert line in text
    exits.write_text(text.replace(line, hostile, 1))
    scenario = tmp_path / "scenarios" / "baseline_2023.yaml"
    for command in ("validate", "run"):
        code, text = _run(command, str(scenario), *(["-r", "1"] if command == "run" else []))
        assert code == 2, text
        expected = "params/exits.yaml: flows.other-altynkol-west.gives_way: one replication would"
        assert expected in _one_line(text)
