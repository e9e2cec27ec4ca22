"""'Did you mean …?' for names a user typed: node ids, KPI names, scenario fields.

A typo such as ``brset`` for ``brest`` should cost one glance, not a search through the
params files, so every message about an unknown name offers the closest known ones.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Known names that look like ``word`` (closest first); empty when none is close."""
    choices = [str(k) for k in known]
    found = difflib.get_close_matches(word, choices, n=n, cutoff=0.6)
    if not found:  # a case slip ("Brest") or a prefix ("mala") still deserves a hint
        lower = word.lower()
        found = [
            c
            for c in choices
            if c.lower() == lower or (len(lower) >= 3 and c.lower().startswith(lower))
        ][:n]
    return found


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``" (did you mean 'brest'?)"`` or ``""`` — ready to append to a message."""
    found = close_matches(word, known)
    if not found:
        return ""
    return " (did you mean " + " or ".join(f"'{f}'" for f in found) + "?)"
