"""Random streams: one root seed, one independent child stream per (replication, purpose).

Streams are keyed by name (``("handling", "brest")``), not by position, so adding a node or
a flow does not shift the numbers every other stream draws. Two scenarios run with the same
seed therefore share common random numbers wherever their elements share names, which is
what makes paired scenario differences precise. No generator lives at module level.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


@dataclass(frozen=True)
class Streams:
    """The random streams of one replication."""

    root_seed: int
    replication: int

    def seed_sequence(self, *names: str) -> np.random.SeedSequence:
        return np.random.SeedSequence(
            entropy=self.root_seed, spawn_key=(self.replication, *(_key(n) for n in names))
        )

    def rng(self, *names: str) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(self.seed_sequence(*names)))
