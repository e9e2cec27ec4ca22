"""Where a run may write: never over something it did not create, never outside results/.

``corridor run --out DIR`` used to rename whatever DIR held aside and delete it; pointed at
``scenarios/`` it deleted every scenario. The rules now: an absent or empty directory is
used; a previous corridor results directory (recognised by its ``manifest.json``) is
replaced only with ``--force``; anything else (a file, a directory with other content) is
refused, with or without ``--force``. Scenario names become one safe path component, so
``name: ../../x`` stays under ``results/``. Staging directories left by processes that died
(``kill -9`` during the write) are removed by the next run that writes next to them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from sim.errors import ConfigError

RUN_FORMAT_PREFIX = "corridor-run/"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_LEFTOVER = re.compile(r"^\..+\.(?:partial|old|tmp)-(\d+)$")


def safe_component(name: str, fallback: str = "scenario") -> str:
    """One path component made of letters, digits, ``.``, ``_`` and ``-`` (at most 80)."""
    cleaned = _UNSAFE.sub("_", name).lstrip(".-")[:80]
    return cleaned or fallback


def is_corridor_run(path: Path) -> bool:
    """A directory that ``corridor run`` wrote: its manifest says ``corridor-run/N``."""
    try:
        doc = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and str(doc.get("format", "")).startswith(RUN_FORMAT_PREFIX)


def check_out(path: Path, force: bool) -> None:
    """Refuse, before any simulation, a --out that a run would have to overwrite."""
    shown = str(path)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise ConfigError(shown, (), "exists and is not a directory; choose another --out")
    if not path.exists():
        return
    try:
        empty = not any(path.iterdir())
    except OSError as exc:
        raise ConfigError(shown, (), f"cannot read: {exc.strerror}") from None
    if empty:
        return
    if is_corridor_run(path):
        if not force:
            raise ConfigError(shown, (), "already holds a corridor run; add --force to replace it")
        return
    raise ConfigError(
        shown,
        (),
        "is not empty and not a corridor results directory; choose another --out "
        "(--force replaces only a previous run)",
    )


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def clean_stale(folder: Path) -> list[Path]:
    """Remove ``.NAME.partial-PID``, ``.old-PID`` and ``.tmp-PID`` leftovers of dead PIDs."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _LEFTOVER.match(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


@contextlib.contextmanager
def removed_on_failure(tmp: Path, final: Path) -> Iterator[None]:
    """Around ``write tmp; rename tmp final``: on any failure ``tmp`` is removed, and an
    OSError (disk full, unwritable) becomes the usual one line naming ``final``."""
    try:
        yield
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ConfigError(str(final), (), f"cannot write: {exc.strerror or exc}") from None
        raise
