"""The house around the code: stages as packages, imports only downwards, a pinned public API.

docs/architecture.md explains the layers; this file is where they are enforced.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
import tomllib
from pathlib import Path

import sim

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"

# lower layers first; a module may import its own layer or any layer below, never above
LAYERS: list[set[str]] = [
    {
        "errors",
        "stats",
        "formatting",
        "kpis",
        "columns",
        "executors",
        "suggest",
        "progress",
        "markets",
    },
    {"config"},
    {"engine"},
    {"choice"},
    {"store"},
    {"workflow"},
    {"sweep"},
    {"analysis"},
    {"plots"},
    {"report"},
    {"cli"},
    {"api", "__init__", "__main__"},
]
MAX_CHAIN_MODULES = 17  # longest import chain in modules; 16 before the one lifecycle (issue 21)
MAX_LINES = 400
PUBLIC_API = [
    "ConfigError",
    "Difference",
    "RunData",
    "RunOutcome",
    "Scenario",
    "SweepData",
    "SweepSummary",
    "__version__",
    "compare",
    "load_scenario",
    "open_results",
    "open_sweep",
    "run",
    "run_sweep",
    "write_html_report",
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_imports(tree: ast.Module) -> set[int]:
    """ids of the import statements under ``if TYPE_CHECKING:`` (for annotations only)."""
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }


def import_graph(runtime_only: bool = False) -> dict[str, set[str]]:
    """Module -> the sim modules it imports (at any depth in the file; ``TYPE_CHECKING``
    imports too, unless ``runtime_only``)."""
    files = {_module_name(p): p for p in SIM.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        deps: set[str] = set()
        tree = ast.parse(path.read_text())
        skip = _type_checking_imports(tree) if runtime_only else set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
                if node.module == "sim":
                    deps.update(f"sim.{a.name}" for a in node.names)
                else:
                    deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("sim."))
        graph[name] = {d for d in deps if d in files and d != name}
    return graph


def layer_of(module: str) -> int:
    parts = module.split(".")
    stage = parts[1] if len(parts) > 1 else "__init__"
    for level, names in enumerate(LAYERS):
        if stage in names:
            return level
    raise AssertionError(f"{module}: stage '{stage}' is in no layer of docs/architecture.md")


def longest_chain(graph: dict[str, set[str]]) -> list[str]:
    @functools.cache
    def chain(m: str) -> tuple[str, ...]:
        best: tuple[str, ...] = ()
        for d in graph[m]:
            c = chain(d)
            if len(c) > len(best):
                best = c
        return (m, *best)

    return list(max((chain(m) for m in graph), key=len))


def test_every_module_belongs_to_a_layer_and_imports_only_downwards() -> None:
    graph = import_graph()
    upward = [
        f"{m} -> {d}"
        for m, deps in graph.items()
        for d in deps
        if layer_of(d) > layer_of(m) and not m.startswith("sim.api") and m != "sim"
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    """No cycle among the imports that run (an annotation may name a type from a module that
    imports this one: the train process with finite room takes the model it extends)."""
    graph = import_graph(runtime_only=True)
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in graph[m]:
            assert state.get(d) != 1, "cycle: " + " -> ".join([*stack, m, d])
            if d not in state:
                visit(d, [*stack, m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])


def test_the_longest_import_chain_stays_short() -> None:
    chain = longest_chain(import_graph(runtime_only=True))
    assert len(chain) <= MAX_CHAIN_MODULES, " -> ".join(chain)


SIMULATES = "sim.engine.model"
"""The SimPy processes: the only code that simulates (everything that runs a simulation,
``simulate``, the replications, the fixed point, the crossing alone, the workflow, imports it)."""
READERS = ("sim.analysis", "sim.plots", "sim.report", "sim.store")
"""The stages that read results (outcomes handed to them, or the store) and never run one."""


def runtime_reach(graph: dict[str, set[str]], module: str) -> set[str]:
    """Every module ``module`` imports when it is imported, directly or through others."""
    seen: set[str] = set()
    stack = [module]
    while stack:
        for dep in graph[stack.pop()]:
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def test_readers_cannot_run_a_simulation() -> None:
    """analysis/ (and plots, report, the store) only read results: no module of theirs
    reaches the engine's model or the workflow through the imports that run (an annotation
    may name an outcome's type). The runs are the workflow's one lifecycle
    (sim/workflow/lifecycle.py); the CLI hands their outcomes to analysis."""
    graph = import_graph(runtime_only=True)

    def runs(module: str) -> bool:
        return module == SIMULATES or module.startswith("sim.workflow")

    running = {
        m: sorted(filter(runs, runtime_reach(graph, m))) for m in graph if m.startswith(READERS)
    }
    running = {m: found for m, found in running.items() if found}
    assert running == {}


def test_the_rule_sees_a_module_that_runs_a_simulation() -> None:
    """The rule above is not vacuous: the workflow and the replications reach the model."""
    graph = import_graph(runtime_only=True)
    for runner in ("sim.workflow.lifecycle", "sim.engine.replications", "sim.sweep.runner"):
        assert SIMULATES in runtime_reach(graph, runner)


def test_long_modules_say_why() -> None:
    long = [
        str(p.relative_to(ROOT))
        for p in SIM.rglob("*.py")
        if len(p.read_text().splitlines()) > MAX_LINES
        and "Why this module is long" not in (ast.get_docstring(ast.parse(p.read_text())) or "")
    ]
    assert long == []


def test_every_package_folder_is_a_package() -> None:
    """setuptools finds packages by their __init__.py: a folder without one would be left out
    of the wheel (as sim/plots/ once was)."""
    missing = [
        str(d.relative_to(ROOT))
        for d in SIM.rglob("*")
        if d.is_dir()
        and d.name != "__pycache__"
        and any(d.glob("*.py"))
        and not (d / "__init__.py").exists()
    ]
    assert missing == []
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["packages"]["find"]["include"] == ["sim*"]


def test_the_public_api_is_pinned() -> None:
    assert sorted(sim.__all__) == sorted(PUBLIC_API)
    for name in PUBLIC_API:
        assert getattr(sim, name) is not None


def test_import_sim_is_cheap() -> None:
    """Worker processes import sim.engine.*; the package itself must not pull in the stack."""
    heavy = "('sim.api', 'matplotlib', 'simpy')"
    code = f"import sys, sim; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
