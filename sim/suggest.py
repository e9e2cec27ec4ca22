"""'Did you mean …?' for names a user typed: node ids, KPI names, scenario fields.

A typo such as ``brset`` for ``brest`` should cost one glance, not a search through the
params files, so every message about an unknown name offers the closest known ones.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any, get_args, get_origin

from pydantic import BaseModel


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


def fields_at(model: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    """The field names a model allows at the mapping ``path`` leads to (the parent of an
    unknown field), walking through ``dict[str, Model]`` collections and optional models.
    Empty when the path does not lead to a model."""
    current: Any = model
    for part in path:
        current = _unwrap(current)
        if get_origin(current) is dict:
            current = get_args(current)[1]  # part is a key of the collection
        elif isinstance(current, type) and issubclass(current, BaseModel):
            if part not in current.model_fields:
                return []
            current = current.model_fields[str(part)].annotation
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """``Model | None`` → ``Model`` (the first member that is a model or a dict)."""
    if isinstance(annotation, type) or get_origin(annotation) is dict:
        return annotation
    for arg in get_args(annotation):
        if (isinstance(arg, type) and issubclass(arg, BaseModel)) or get_origin(arg) is dict:
            return arg
    return annotation
