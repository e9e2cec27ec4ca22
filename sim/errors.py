"""The one error type of corridor: an input problem, reported on one line.

It sits at the bottom of the package so that every stage (and every plot) can raise or
catch it without importing the YAML loader.
"""

from __future__ import annotations

from collections.abc import Iterable

Path_ = tuple[str | int, ...]


class ConfigError(Exception):
    """An input problem, reported as ``FILE: FIELD.PATH: problem`` on one line."""

    def __init__(self, source: str, path: Path_, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        where = format_path(self.path)
        parts = [self.source] + ([where] if where else []) + [self.problem]
        return ": ".join(parts)


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
