"""A seeded fuzzer of the shipped scenario and params files (issue #14's acceptance test).

A reproducible mutator (``random.Random(SEED)``) makes MUTANTS variants of every YAML file the
program reads (``scenarios/**``: baselines, history years, episodes, the Belarus scenarios,
sweeps; every ``params/*.yaml``), each file in turn so none is left out (issue 21, item 9:
the history years and params files had gone unmutated by chance): cut short, lines deleted,
duplicated or swapped, bytes flipped or inserted, re-encoded (UTF-16, latin-1, gzip), hostile
YAML spliced in (alias bombs, deep nesting, bad tags, impossible dates, special files and NUL
bytes in ``extends``), values replaced by infinities, huge or tiny numbers, wrong types, keys
dropped, added or renamed; numeric fields pushed to the extremes a float or an int64 holds,
and date fields given numbers (the engine samples from what validates, so validation must
bound it). Each mutant is validated in-process through the CLI (the code path of ``main()``,
with its output and exit code captured), and a sample of those that validate is run with a
short horizon. The promise checked: exit code 0 or 2 only, never a traceback, every message
one line of at most 300 characters, no command over 10 s of CPU (the process's own time: on a
machine shared by several test runs the wall clock flagged a 4 s validation at 11.9 s), the
process under 500 MB more than where it started, and every file that validates also runs.
"""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import itertools
import random
import resource
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from sim.cli.app import app

SEED = 20_261_201
MUTANTS = 300  # every file ~6 times in turn; 600 took 198 s, the longest test of the suite
RUN_SAMPLE = 24
MAX_SECONDS = 10.0
MAX_GROWTH_MB = 500.0
REPO = Path(__file__).resolve().parents[1]
SCENARIO_FOR_PARAMS = {  # a scenario that reads each params file (None: read by a command)
    "network.yaml": "baseline_2023.yaml",
    "border.yaml": "baseline_2023.yaml",
    "exits.yaml": "baseline_2023.yaml",
    "demand_2023.yaml": "baseline_2023.yaml",
    "demand_2019.yaml": "baseline_2019.yaml",
    "mode_choice.yaml": "examples/red_sea_2024_static_choice.yaml",
    "belarus.yaml": "belarus_corridor_capacity.yaml",
    "belarus_china_2019.yaml": "belarus/capacity_2019.yaml",
    "belarus_china_2023.yaml": "belarus/capacity_2023.yaml",
    "belarus_china_2025.yaml": "belarus_corridor_capacity.yaml",
    "history_observed.yaml": None,
    "history_observed_utlc.yaml": None,
    "border_wait.yaml": None,
    "uncertainty.yaml": None,  # read by `run --draws`
    "border_posterior.yaml": None,  # read by `run --draws` (sim/config/border_posterior.py)
}

LEFT_TO_HISTORY_FIT: tuple[tuple[str, str], ...] = ()
"""Crashes this fuzzer once found in a history year's demand (``market_teu_per_year: 1e308``
overflowed the supply curve, a border of 1e-308 pairs a day gave the wait NaN): the market,
the rates and the days are now bounded and the border comes from the network, so none is left
to excuse; any crash fails the test."""

HOSTILE_VALUES: list[Any] = [
    float("inf"), float("-inf"), float("nan"), -1, 0, -0.0, 1e308, 1e-308, 10**30, -(10**30),
    "", "x", "many", [], {}, [1, 2], {"a": 1}, True, False, None, "2023-02-30", "2023-13-01",
    "0000-01-01", dt.date(1, 1, 1), dt.date(9999, 12, 31), "x" * 5000, "a\nb", 2**63, 1e9,
    2**63 - 1, "a\0b", "../params/net\0work.yaml",
]  # fmt: skip

EXTREME_NUMBERS: list[Any] = [2**63 - 1, 1e308, 1e-308, 5e-324, 1e15, -1e15, 0, -1]
"""What a numeric field is pushed to: each is a valid YAML number that must either be refused
or run (``per_china_eu_train: 9223372036854775807`` validated, then crashed numpy)."""

HOSTILE_SNIPPETS: list[str] = [
    "bomb: &a [x, x, x, x, x, x, x, x, x]\nb2: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "b3: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nb4: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "b5: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nb6: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    "deep: " + "[" * 800 + "]" * 800 + "\n",
    "deep: " + "{a: " * 300 + "1" + "}" * 300 + "\n",
    "rec: &r [*r]\n",
    "n: !!int abc\n",
    "n: !!float x\n",
    "n: !!timestamp garbage\n",
    "n: !!bool maybe\n",
    "n: !!binary '!!!'\n",
    "n: !!python/object:os.system x\n",
    "extends: /dev/zero\n",
    "extends: /dev/urandom\n",
    "extends: .\n",
    "extends: [../params/network.yaml, ../params/network.yaml]\n",
    'extends: [baseline_2023.yaml, "../params/net\\0work.yaml"]\n',
    "run: {start_date: 0}\n",
    "'" + "k" * 3000 + "': 1\n",
    '"key\\nwith newline": 1\n',
    "run: {start_date: 2023-02-30}\n",
    "run: {start_date: 0001-01-01}\n",
    "run: {horizon_days: .inf}\n",
    "run: {replications: 1000000000}\n",
    "name: ../../../escaped\n",
    "? [a, b]\n: 1\n",
    "<<: {a: 1}\n",
    "%YAML 1.1\n---\n",
    "---\na: 1\n---\nb: 2\n",
]


def _numbers_scaled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return rng.choice(HOSTILE_VALUES)
    return value * 10.0 ** rng.randint(-8, 8)


def _leaves(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    )
    for key, value in items:
        out.append((*path, key))
        out.extend(_leaves(value, (*path, key)))
    return out


def _container(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


def _structural(text: str, rng: random.Random) -> str | None:
    """Parse, change one field (value, deletion, unknown key, typo, scale), dump again."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(doc, dict):
        return None
    leaves = _leaves(doc)
    if not leaves:
        return None
    path = rng.choice(leaves)
    parent = _container(doc, path)
    key = path[-1]
    op = rng.randrange(5)
    if op == 0:
        parent[key] = rng.choice(HOSTILE_VALUES)
    elif op == 1:
        parent[key] = _numbers_scaled(parent[key], rng)
    elif op == 2 and isinstance(parent, dict):
        del parent[key]
    elif op == 3 and isinstance(parent, dict):
        parent[f"{key}x"] = parent.pop(key)  # a typo of a key
    elif isinstance(parent, dict):
        parent[rng.choice(["unknown", "servrs", "extends", "name", "run", "events"])] = rng.choice(
            HOSTILE_VALUES
        )
    else:
        parent[key] = rng.choice(HOSTILE_VALUES)
    try:
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        return None


def _extreme(text: str, rng: random.Random) -> str | None:
    """Parse, push one number to an extreme (or give one date a number), dump again."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(doc, dict):
        return None
    leaves = [p for p in _leaves(doc) if _is_number_or_date(_container(doc, p)[p[-1]])]
    if not leaves:
        return None
    path = rng.choice(leaves)
    parent = _container(doc, path)
    if isinstance(parent[path[-1]], dt.date):
        parent[path[-1]] = rng.choice([0, 1_700_000_000, 45_000.5])  # a number for a date
    else:
        parent[path[-1]] = rng.choice(EXTREME_NUMBERS)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _is_number_or_date(value: Any) -> bool:
    return isinstance(value, int | float | dt.date) and not isinstance(value, bool)


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One mutant of a file's bytes and a short name of what was done (for the failure list)."""
    text = data.decode("utf-8")
    lines = text.splitlines(keepends=True)
    ops: list[tuple[str, Callable[[], bytes | None]]] = [
        ("truncate", lambda: data[: rng.randrange(len(data))]),
        ("delete line", lambda: _repeat_line(lines, rng, 0).encode()),
        ("duplicate line", lambda: _repeat_line(lines, rng, 2).encode()),
        ("swap lines", lambda: _swap(lines, rng).encode()),
        ("flip byte", lambda: _flip(data, rng)),
        ("insert bytes", lambda: _insert(data, bytes(rng.randrange(256) for _ in range(8)), rng)),
        ("indent", lambda: _indent(lines, rng).encode()),
        ("utf-16", lambda: text.encode("utf-16")),
        ("latin-1", lambda: (text + "# café\n").encode("latin-1", errors="replace")),
        ("utf-8 BOM", lambda: codecs.BOM_UTF8 + data),
        ("gzip", lambda: gzip.compress(data, mtime=0)),
        ("snippet", lambda: _splice(lines, rng.choice(HOSTILE_SNIPPETS), rng).encode()),
        ("structural", lambda: (_structural(text, rng) or "").encode() or None),
        ("structural", lambda: (_structural(text, rng) or "").encode() or None),
        ("structural", lambda: (_structural(text, rng) or "").encode() or None),
        ("structural", lambda: (_structural(text, rng) or "").encode() or None),
        ("extreme", lambda: (_extreme(text, rng) or "").encode() or None),
        ("extreme", lambda: (_extreme(text, rng) or "").encode() or None),
        ("extreme", lambda: (_extreme(text, rng) or "").encode() or None),
    ]  # fmt: skip
    while True:
        name, op = rng.choice(ops)
        out = op()
        if out is not None and out != data:
            return name, out


def _repeat_line(lines: list[str], rng: random.Random, times: int) -> str:
    i = rng.randrange(len(lines))
    return "".join(lines[:i] + [lines[i]] * times + lines[i + 1 :])


def _swap(lines: list[str], rng: random.Random) -> str:
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    swapped = list(lines)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    return "".join(swapped)


def _flip(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]


def _insert(data: bytes, extra: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + extra + data[i:]


def _indent(lines: list[str], rng: random.Random) -> str:
    i = rng.randrange(len(lines))
    changed = list(lines)
    changed[i] = rng.choice(["", " ", "   ", "\t"]) + changed[i].lstrip(" ")
    return "".join(changed)


def _splice(lines: list[str], snippet: str, rng: random.Random) -> str:
    top = [i for i, line in enumerate(lines) if line[:1].isalpha()] or [0]
    i = rng.choice([*top, len(lines)])
    return "".join([*lines[:i], snippet, *lines[i:]])


def _left_to_history_fit(problem: str, problems: list[str]) -> bool:
    """A known history-fit crash, or the 'raised' line of the same mutant."""
    label = problem.split(": ")[0]
    return any(
        folder in label and text in other and other.startswith(label)
        for folder, text in LEFT_TO_HISTORY_FIT
        for other in problems
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


class Checker:
    """Runs CLI commands in-process and collects every broken promise."""

    def __init__(self) -> None:
        self.runner = CliRunner()
        self.problems: list[str] = []
        self.codes: dict[int, int] = {}
        self.seconds: list[tuple[float, str]] = []  # (duration, command): where the time goes

    def __call__(self, label: str, args: list[str]) -> tuple[int, str]:
        started = time.process_time()
        result = self.runner.invoke(app, args)
        seconds = time.process_time() - started
        self.seconds.append((seconds, f"{label}: {' '.join(args[:1])}"))
        code = result.exit_code
        self.codes[code] = self.codes.get(code, 0) + 1
        text = result.stderr + result.stdout
        if code not in (0, 2):
            self.problems.append(f"{label}: exit {code}: {result.exception!r:.300}")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            self.problems.append(f"{label}: raised {type(result.exception).__name__}")
        if "Traceback" in text:
            self.problems.append(f"{label}: traceback in the output")
        if code == 2:
            lines = result.stderr.strip().splitlines()
            if len(lines) != 1 or len(lines[0]) > 300:
                self.problems.append(f"{label}: message of {len(lines)} line(s): {text[:200]!r}")
        if seconds > MAX_SECONDS:
            self.problems.append(f"{label}: took {seconds:.1f} s")
        return code, text


@pytest.mark.slow
def test_fuzzed_inputs_keep_every_promise(tmp_path: Path) -> None:
    for folder in ("scenarios", "params"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    targets = sorted(
        p for p in (tmp_path / "scenarios").rglob("*.yaml") if "sweeps" not in p.parts
    ) + sorted((tmp_path / "params").glob("*.yaml"))
    sweeps = sorted((tmp_path / "scenarios" / "sweeps").glob("*.yaml"))
    rng = random.Random(SEED)
    check = Checker()
    start_mb = _rss_mb()
    scenarios_ok: list[tuple[str, bytes, Path, Path]] = []  # label, mutant, where, what to run
    assert {p.parent.name for p in targets} >= {"history", "episodes", "belarus", "params"}
    in_turn = itertools.cycle(targets)  # every file as often as the others
    for n in range(MUTANTS):
        target = next(in_turn) if n % 10 else rng.choice(sweeps)
        original = target.read_bytes()
        op, mutant = mutate(original, rng)
        target.write_bytes(mutant)
        try:
            label = f"mutant {n} ({op} of {target.relative_to(tmp_path)})"
            code, text = check(label, ["validate", str(target)])
            if code == 0 and text.rstrip().endswith("(scenario)"):
                scenarios_ok.append((label, mutant, target, target))
            reader = SCENARIO_FOR_PARAMS[target.name] if target.parent.name == "params" else None
            if reader is not None:
                scenario = tmp_path / "scenarios" / reader
                code, text = check(f"{label} via {scenario.name}", ["validate", str(scenario)])
                if code == 0:
                    scenarios_ok.append((f"{label} via {scenario.name}", mutant, target, scenario))
        finally:
            target.write_bytes(original)
    # every file that validates also runs (a sample, short horizon, one replication)
    # values changed first: a file whose bytes changed but whose values did not (a comment
    # cut, a re-encoding) runs as the original does; a pushed value is what crashed runs
    pick = random.Random(SEED + 1)
    changed = [m for m in scenarios_ok if "(extreme " in m[0] or "(structural " in m[0]]
    sample = pick.sample(changed, min(RUN_SAMPLE, len(changed)))
    rest = [m for m in scenarios_ok if m not in sample]
    sample += pick.sample(rest, min(RUN_SAMPLE - len(sample), len(rest)))
    for i, (label, mutant, target, scenario) in enumerate(sample):
        original = target.read_bytes()
        target.write_bytes(mutant)
        try:
            out = tmp_path / "runs" / str(i)
            short = ["--set", "run.horizon_days=3", "--set", "run.warmup_days=1", "-r", "1"]
            code, text = check(f"run of {label}", ["run", str(scenario), *short, "--out", str(out)])
            if code != 0:
                check.problems.append(f"run of {label}: validated, then exit {code}: {text:.200}")
        finally:
            target.write_bytes(original)
    grown = _rss_mb() - start_mb
    known = [p for p in check.problems if _left_to_history_fit(p, check.problems)]
    check.problems = [p for p in check.problems if p not in known]
    if known:
        print(f"{len(known)} known crash(es) of the history fit: {known[:2]}")
    summary = f"exit codes {check.codes}, {len(scenarios_ok)} valid, {len(sample)} run"
    print(f"{summary}, peak memory +{grown:.0f} MB")  # shown with -rP: what the fuzzer did
    print(f"{sum(s for s, _ in check.seconds):.0f} s in commands; the slowest:")
    print("\n".join(f"{s:5.1f} s {what}" for s, what in sorted(check.seconds)[-8:]))
    assert not check.problems, f"{summary}; {len(check.problems)} problem(s):\n" + "\n".join(
        check.problems[:30]
    )
    assert grown < MAX_GROWTH_MB, f"{summary}; peak memory grew by {grown:.0f} MB"
    assert check.codes.get(2, 0) > MUTANTS // 4 and len(sample) >= 10, summary  # it bites
