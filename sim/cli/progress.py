"""The progress bar the commands draw on stderr; the library only calls a ``Step``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from sim.progress import Step


def shows_progress(console: Console, quiet: bool) -> bool:
    """A bar only for a person watching: not with -q, not into a file or a pipe."""
    return not quiet and console.is_terminal


@contextmanager
def progress_bar(console: Console, label: str, total: int | None, quiet: bool) -> Iterator[Step]:
    """A step callback that advances a bar of ``total`` steps (unknown: a spinner-like count);
    a no-op when progress is not shown."""
    if not shows_progress(console, quiet):
        yield _nothing
        return
    # imported here: the library modules that only name Step need no terminal code
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[note]}"),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total, note="")

        def step(note: str) -> None:
            bar.update(task, advance=1, note=note)

        yield step


def _nothing(note: str) -> None:
    """The step callback when no progress is shown."""
