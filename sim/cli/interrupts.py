"""How every ``corridor`` command ends on Ctrl-C: one line and exit code 130.

Kept in a module of its own, free of heavy imports, because both the light entry point
(:mod:`sim.cli.entry`, which must not import the CLI before it can handle an interrupt) and
the CLI itself (:mod:`sim.cli.app`) end through it.
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
