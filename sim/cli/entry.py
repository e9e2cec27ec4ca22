"""The ``corridor`` console entry point, kept free of heavy imports.

Importing the CLI pulls in typer, rich, pydantic, numpy and the simulator (most of a
second). A Ctrl-C in that time used to print a long import traceback; here it ends quietly
with exit code 130 like an interrupt at any other moment.
"""

from __future__ import annotations

from sim.cli.interrupts import exit_interrupted


def main() -> None:
    try:
        from sim.cli.app import main as cli_main
    except KeyboardInterrupt:
        exit_interrupted()
    cli_main()
