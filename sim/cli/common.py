"""What every command shares: the Typer app, the consoles, and how errors become one line.

Input problems end with exit code 2 and one line ``corridor: error: FILE: FIELD: problem``;
an interrupted command exits 130 and leaves no results directory behind.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from typing import NoReturn

import typer
from rich.console import Console

from sim.cli.interrupts import EXIT_INTERRUPTED as EXIT_INTERRUPTED
from sim.errors import ConfigError

app = typer.Typer(
    name="corridor",
    help="Discrete-event simulation of China–EU rail freight through Belarus.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


out = Console()


err = Console(stderr=True)


MARKET_HELP = "corridor KPIs of this market instead (china_eu, belarus_china, other, M/CARGO)"

EXIT_INPUT = 2


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    err.print(f"corridor: error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn input errors and interrupts into one line and an exit code, never a traceback."""
    try:
        yield
    except ConfigError as exc:
        fail(str(exc))
    except OSError as exc:  # inputs and results are read with their own messages: a write
        where = exc.filename or "output"
        blocked = exc.errno in (errno.EEXIST, errno.ENOTDIR)
        reason = "a file stands where a folder is needed" if blocked else exc.strerror or exc
        fail(str(ConfigError(str(where), (), f"cannot write: {reason}")))
    except KeyboardInterrupt:
        fail("interrupted; no results directory was written", EXIT_INTERRUPTED)


def warn(problem: ConfigError) -> None:
    """A scenario that runs but probably not as meant: one line on stderr, even with -q."""
    err.print(f"corridor: warning: {problem}", markup=False, highlight=False, soft_wrap=True)


def positive_workers(workers: int) -> int:
    """``--workers 0`` or below is a mistake, not a request for one process."""
    if workers < 1:
        raise ConfigError("--workers", (), f"must be at least 1 (got {workers})")
    return workers
