"""The ``corridor`` console entry point, kept free of heavy imports.

Importing the CLI pulls in typer, rich, pydantic, numpy and the simulator (most of a
second). A Ctrl-C in that time used to print a long import traceback; here it ends quietly
with exit code 130 like an interrupt at any other moment.
"""

from __future__ import annotations

import signal
import sys

EXIT_INTERRUPTED = 130


def interrupted() -> None:
    """One line and exit 130; a second Ctrl-C while saying so is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stderr.write("corridor: error: interrupted\n")
    sys.stderr.flush()
    raise SystemExit(EXIT_INTERRUPTED)


def main() -> None:
    try:
        from sim.cli.app import main as cli_main
    except KeyboardInterrupt:
        interrupted()
    cli_main()
