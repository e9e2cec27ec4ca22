"""The ``corridor`` command's entry point: the commands live in the ``*_commands``
modules beside it (imported here so they register); this module only sets up signals
and turns anything unexpected into one line.

Input problems end with exit code 2 and one line ``corridor: error: FILE: FIELD: problem``;
an interrupted run exits 130 and leaves no results directory behind.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

from sim.cli import calibration_commands, result_commands, run_commands, sweep_commands  # noqa: F401 (registers its commands)
from sim.cli.common import EXIT_INTERRUPTED, app, err
from sim.cli.history_commands import register as register_history
from sim.cli.interrupts import exit_interrupted
from sim.errors import one_line

register_history(app)  # fit-history, backtest (issues 12, 20)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Console entry point: SIGTERM is treated like Ctrl-C so staging directories are removed."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except SystemExit as exc:
        if exc.code == EXIT_INTERRUPTED:  # already said; leave with 130, never with SIGINT
            exit_interrupted(None)
        # the work is done: a Ctrl-C now would meet the interpreter's shutdown, where SIGINT
        # is back to its default and kills the process (status -2) with nothing said
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise
    except KeyboardInterrupt:
        exit_interrupted("interrupted; no results directory was written")
    except Exception as exc:  # a bug, not an input error: say so briefly unless debugging
        if os.environ.get("CORRIDOR_DEBUG"):
            raise
        text = one_line(f"{type(exc).__name__}: {exc}", 200)
        err.print(
            f"corridor: internal error: {text} (set CORRIDOR_DEBUG=1 for a traceback)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)
    except BaseException as exc:  # asyncio's CancelledError when Dask is stopped by Ctrl-C
        if isinstance(exc, SystemExit | GeneratorExit):
            raise
        exit_interrupted()
