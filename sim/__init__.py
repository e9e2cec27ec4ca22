"""corridor: a discrete-event simulator of China–EU rail freight through Belarus.

The public library API is :mod:`sim.api`, re-exported here: ``sim.load_scenario``,
``sim.run``, ``sim.run_sweep``, ``sim.open_results``, ``sim.open_sweep``, ``sim.compare``,
``sim.write_html_report`` and the types they return. The names load on first use, so
``import sim.engine.model`` (as every worker process does) does not import the whole stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
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

if TYPE_CHECKING:
    from sim.api import (
        ConfigError,
        Difference,
        RunData,
        RunOutcome,
        Scenario,
        SweepData,
        SweepSummary,
        compare,
        load_scenario,
        open_results,
        open_sweep,
        run,
        run_sweep,
        write_html_report,
    )


def __getattr__(name: str) -> Any:
    """Load the API on first use of one of its names (PEP 562)."""
    if name in __all__ and name != "__version__":
        import sim.api

        return getattr(sim.api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
