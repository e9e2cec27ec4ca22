"""The one error type of corridor: an input problem, reported on one line.

It sits at the bottom of the package so that every stage (and every plot) can raise or
catch it without importing the YAML loader.
"""

from __future__ import annotations

from collections.abc import Iterable

Path_ = tuple[str | int, ...]

MAX_MESSAGE = 280
"""Longest message (with ``corridor: error: `` in front it stays under 300 characters)."""


def one_line(text: str, limit: int) -> str:
    """Control characters shown escaped (a key may hold a newline), cut to ``limit``."""
    if text.isprintable() and len(text) <= limit:
        return text
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit * 4])
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class ConfigError(Exception):
    """An input problem, reported as ``FILE: FIELD.PATH: problem`` on one line."""

    def __init__(self, source: str, path: Path_, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        where = one_line(format_path(self.path), 80)
        source = one_line(self.source, 4 * MAX_MESSAGE)
        if len(source) > 100:  # keep both ends of a long path: the file name matters most
            source = source[:39] + "…" + source[-60:]
        parts = [source] + ([where] if where else []) + [self.problem]
        return one_line(": ".join(parts), MAX_MESSAGE)


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
