"""Executable docs: the shell commands and YAML examples of README.md and docs/*.md.

What a reader copies from the docs must work as written, so the test suite reads every fenced
block and checks it (``tests/test_docs.py``):

- ```` ```sh ```` blocks: each command (backslash continuations joined, comments dropped) must
  be valid bash (``bash -n``: an unquoted ``range(...)`` fails), must call the CLI as the
  set-up installs it (``.venv/bin/corridor``, never a bare ``corridor``), and must be accepted
  by the CLI's own argument parser (unknown options and bad values fail). The README's
  commands are also *run*, in a scratch copy of the project (only ``make`` targets are not:
  ``make test`` runs this very suite).
- ```` ```yaml ```` blocks: a scenario (it has ``nodes`` or ``extends``) is loaded and
  validated as if it were a file in ``scenarios/``; a sweep (it has ``parameters``) is planned
  as if it were in ``scenarios/sweeps/``, which validates every point; anything else must at
  least be valid YAML.

A block whose info string carries ``no-check`` (```` ```sh no-check ````) is skipped: for
output shown as an example, not for commands.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\S*)([^\n]*)\n(.*?)^```\s*$", re.S | re.M)


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language and its text."""

    file: Path
    line: int
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}"


@dataclass(frozen=True)
class Command:
    """One shell command of a block, continuations joined."""

    block: Block
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.block.file.relative_to(ROOT)}:{self.line}"

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.text, comments=True)


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    found = []
    for m in FENCE.finditer(text):
        if "no-check" in m.group(2):
            continue
        line = text.count("\n", 0, m.start()) + 1
        found.append(Block(path, line, m.group(1), m.group(3)))
    return found


def all_blocks(lang: str) -> list[Block]:
    return [b for f in doc_files() for b in blocks(f) if b.lang == lang]


def commands(block: Block) -> list[Command]:
    """The commands of a shell block: ``\\``-continued lines joined, comments dropped."""
    out: list[Command] = []
    pending, start = "", 0
    for offset, raw in enumerate(block.text.splitlines(), start=1):
        line = raw.rstrip()
        if not pending:
            start = block.line + offset
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full and not full.startswith("#"):
            out.append(Command(block, start, full))
    return out


def all_commands() -> list[Command]:
    return [c for b in all_blocks("sh") for c in commands(b)]
