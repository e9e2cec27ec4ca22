"""A sweep over the border posterior's joint draws (``border_posterior:`` in a sweep file).

Why: the border's g, λ and h are fitted jointly (docs/border_posterior.md; g and λ are
correlated 0.89), so sampling each over its prior range, independently, explores
combinations the episodes rule out. A sweep file that names the posterior file samples one
more design dimension, the *draw index* (``border_draw``, every draw equally likely,
stratified like any other input of the hypercube), and each point takes that draw's joint
values through :func:`sim.config.border_posterior.overrides_for`, the same mapping
``corridor run --draws`` uses. The index itself means nothing to scenario discovery, so the
points table carries the draw's *values* instead (``border_g``, ``border_lambda``,
``border_h``; ``columns`` picks which: a parameter that does not act on the sweep's year, such
as h outside 2021, would only be noise for PRIM to peel).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sim.config.border_posterior import (
    PARAMETERS,
    BorderPosterior,
    load_border_posterior,
    overrides_for,
)
from sim.config.scenario import Scenario
from sim.errors import ConfigError

DRAW_INPUT = "border_draw"
"""The design dimension's name: the index of a point's joint draw."""

COLUMN_PREFIX = "border_"
"""A draw's value of parameter p is the points table's column ``border_<p>``."""


class PosteriorInput(BaseModel):
    """The ``border_posterior:`` block of a sweep file."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(min_length=1, description="a corridor calibrate --posterior file")
    columns: list[str] = Field(
        default_factory=lambda: list(PARAMETERS),
        min_length=1,
        description="the draw's parameters written as columns of the points (what PRIM peels)",
    )

    @field_validator("columns")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in PARAMETERS]
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not one of {', '.join(PARAMETERS)}")
        if len(set(value)) != len(value):
            raise ValueError("a parameter is named twice")
        return value


@dataclass(frozen=True)
class BorderDraws:
    """The posterior a sweep samples and, per draw, the field overrides of its base scenario."""

    file: Path
    posterior: BorderPosterior
    columns: tuple[str, ...]
    overrides: tuple[dict[str, Any], ...]  # draw k → {dotted path: value}

    @property
    def size(self) -> int:
        return self.posterior.size

    def fields(self) -> set[str]:
        """Every scenario field some draw writes (a sweep may not also vary them)."""
        return {path for o in self.overrides for path in o}

    def column_values(self, draws: Sequence[int]) -> dict[str, list[float]]:
        """The points table's columns for these draw indices: ``border_<p>`` → values."""
        return {
            f"{COLUMN_PREFIX}{p}": [self.posterior.draws[p][k] for k in draws] for p in self.columns
        }

    def describe(self) -> dict[str, Any]:
        """What ``--resume`` must find unchanged: the file and a hash of its draws."""
        text = json.dumps(self.posterior.draws, sort_keys=True)
        return {
            "file": str(self.file),
            "draws": self.size,
            "columns": list(self.columns),
            "draws_sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
        }


def border_draws(block: PosteriorInput, sweep_file: Path, base: Scenario) -> BorderDraws:
    """Read the posterior a sweep file names (relative to it) and map every draw onto
    ``base``, the sweep's scenario as loaded (``overrides_for`` reads its load periods)."""
    path = Path(os.path.normpath(sweep_file.parent / block.file))
    if not path.is_file():
        raise ConfigError(str(sweep_file), ("border_posterior", "file"), f"no such file: {path}")
    posterior = load_border_posterior(path)
    overrides = tuple(overrides_for(posterior.draw(k), base) for k in range(posterior.size))
    if not overrides[0]:
        raise ConfigError(
            str(sweep_file),
            ("border_posterior",),
            "the scenario has none of the border's flows (other-brest-*, other-dostyk-west): "
            "a draw would change nothing",
        )
    return BorderDraws(path, posterior, tuple(block.columns), overrides)


def check_untouched(draws: BorderDraws, varied: Mapping[str, str], source: str) -> None:
    """A field the draws write cannot also be varied, derived or set by the sweep: which
    value would the point take? ``varied``: dotted path → what varies it."""
    written = draws.fields()
    for path, how in varied.items():
        if path in written or any(w.startswith(f"{path}.") for w in written):
            raise ConfigError(
                source, (how, path), "is written by the border posterior's draws: remove it"
            )
