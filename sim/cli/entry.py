"""The ``corridor`` console entry point, kept free of heavy imports.

Importing the CLI pulls in typer, rich, pydantic, numpy and the simulator (most of a
second). A Ctrl-C in that time used to print a long import traceback; here it ends quietly
with exit code 130 like an interrupt at any other moment.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys

EXIT_INTERRUPTED = 130


def exit_interrupted(message: str | None = "interrupted") -> None:
    """Say so in one line and leave with exit code 130; a second Ctrl-C is ignored.

    ``os._exit`` rather than ``sys.exit``: when the interrupt landed in code that an
    extension module ran through ``PyRun_String`` while being imported, CPython remembers an
    "unhandled KeyboardInterrupt" even though it was handled, and kills the process with
    SIGINT at exit (status -2, not 130). Our clean-up (staging directories, pools, locks)
    has run in ``finally`` blocks by the time this is called; the ``atexit`` functions (the
    process pools' and Dask's) are run here as a normal exit would.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()  # multiprocessing's and Dask's own clean-up, as at a normal exit
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    try:
        if message is not None:
            sys.stderr.write(f"corridor: error: {message}\n")
            sys.stderr.flush()
    finally:
        os._exit(EXIT_INTERRUPTED)


def main() -> None:
    try:
        from sim.cli.app import main as cli_main
    except KeyboardInterrupt:
        exit_interrupted()
    cli_main()
