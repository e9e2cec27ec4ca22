"""The time-series choice's border, from the network: capacity and a wait fitted to the engine.

One border (DESIGN.md): the crossing's capacity exists once, as the simulated nodes. The
choice reads both its supply-curve capacity and its border wait from here:

- ``capacity_teu``: China–EU TEU a year the Belarus–EU crossing(s) pass in each direction
  (:mod:`sim.choice.border_capacity`: servers per direction, handling by train type, works,
  the other traffic that gives way; closures left to the choice), × the TEU per train of the
  scenario's China–EU flows;
- ``wait``: a metamodel of the China–EU trains' mean wait to pass the crossing against the
  load u = China–EU TEU offered / capacity, fitted to the crossing simulated alone by the
  engine (:mod:`sim.engine.crossing`) over the span at loads 0.2–1.4, three replications
  each. Its form, with k, δ > 0 and all coefficients ≥ 0 (monotone in u)::

      w(u) = c0 + c1 × u^k / (1 + δ − u)           0 ≤ u ≤ 1
      w(u) = w(1) + s × (u − 1)                    u > 1 (a backlog growing for the span)

  c0 is the wait the other traffic causes alone; δ keeps the finite span's wait at u = 1
  finite; s is the fluid backlog's slope, (1 − λ) × span/2 where the other traffic still
  gives way (λ, A34), span/2 after.

A curve is kept with the hash of what it was fitted from (the crossing scenario: nodes,
pools, handling, links, other traffic and its events, the China–EU mix, the span) and the
fitting settings; params/border_wait.yaml holds those of the shipped history years (made by
``.venv/bin/python docs/experiments/border_supply.py --write``), and any other network is
fitted on the fly (a few seconds) and kept in the :class:`WaitCurveCache` the caller passes.
The fit's seeds come from the hash (a SeedSequence rooted at it, streams as the engine
names them), so a curve is a function of its network alone: the same network gives the same
curve whichever scenario, seed or order asked first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy.optimize import least_squares

from sim.choice.border_capacity import capacity_trains_per_day
from sim.config.safe_yaml import InputProblem, load_mapping, read_text
from sim.config.scenario import Scenario
from sim.engine.crossing import (
    ChinaEuMix,
    Crossing,
    china_eu_mix,
    crossing_scenario,
    crossing_waits,
    find_crossings,
)
from sim.errors import ConfigError

METAMODEL = "border-wait-1"
"""Version of the form and the fitting settings (in the hash: a change re-fits everything)."""
FIT_LOADS = (0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4)
FIT_REPLICATIONS = 3
SHIPPED_CURVES = Path(__file__).resolve().parents[2] / "params" / "border_wait.yaml"
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class WaitCurve:
    """Mean border wait (days) of a China–EU train against load u = China–EU TEU offered /
    capacity (the form is in the module docstring)."""

    network_hash: str  # of what it was fitted from (crossing nodes, pools, handling, other traffic)
    c0: float = 0.0
    c1: float = 0.0
    k: float = 1.0
    delta: float = 0.05
    slope_over: float = 0.0  # days per unit of load above 1
    fit_error: float = 0.0  # largest |fit − simulated| / max(simulated, 1.5 d) over the fit's loads

    def wait_days(self, load: float) -> float:
        """The wait at this load: a closed form (microseconds), for the choice's fit."""
        u = load if load > 0.0 else 0.0
        if u <= 1.0:
            return float(self.c0 + self.c1 * u**self.k / (1.0 + self.delta - u))
        return self.c0 + self.c1 / self.delta + self.slope_over * (u - 1.0)

    def wait_days_array(self, load: FloatArray) -> FloatArray:
        """:meth:`wait_days` over an array of loads."""
        u = np.maximum(np.asarray(load, dtype=float), 0.0)
        below = np.minimum(u, 1.0)
        w = self.c0 + self.c1 * below**self.k / (1.0 + self.delta - below)
        result: FloatArray = w + self.slope_over * np.maximum(u - 1.0, 0.0)
        return result

    def coefficients(self) -> dict[str, float]:
        return {
            "c0": self.c0,
            "c1": self.c1,
            "k": self.k,
            "delta": self.delta,
            "slope_over": self.slope_over,
            "fit_error": self.fit_error,
        }


@dataclass(frozen=True)
class BorderSupply:
    """What the choice needs of the border for one span of one scenario."""

    capacity_teu: tuple[float, float]  # China–EU TEU a YEAR, westbound and eastbound (span mean)
    wait: WaitCurve  # both directions' trains together
    wait_by_direction: tuple[WaitCurve, WaitCurve]  # westbound, eastbound
    crossings: tuple[str, ...]  # the Belarusian nodes of the crossings
    capacity_trains_per_day: tuple[float, float]  # China–EU trains a day, all crossings
    teu_per_train: tuple[float, float]


@dataclass
class WaitCurveCache:
    """Fitted curves by network hash: those shipped in ``path`` (read on first use) and those
    fitted in this process. One per caller (a fit, a sweep); nothing is kept globally."""

    path: Path | None = SHIPPED_CURVES
    _curves: dict[str, tuple[WaitCurve, WaitCurve, WaitCurve]] | None = field(
        default=None, repr=False
    )
    _sources: dict[str, str] = field(default_factory=dict, repr=False)

    def _loaded(self) -> dict[str, tuple[WaitCurve, WaitCurve, WaitCurve]]:
        if self._curves is None:
            # an installed package has no params/ beside it: every curve is then fitted
            # when first asked (a few seconds each), as for any network not shipped
            shipped = self.path is not None and self.path.is_file()
            self._curves = read_curves(self.path) if shipped and self.path else {}
        return self._curves

    def get(self, network_hash: str) -> tuple[WaitCurve, WaitCurve, WaitCurve] | None:
        """(both directions, westbound, eastbound), or None when not fitted yet."""
        return self._loaded().get(network_hash)

    def put(self, curves: tuple[WaitCurve, WaitCurve, WaitCurve], source: str = "") -> None:
        self._loaded()[curves[0].network_hash] = curves
        if source:
            self._sources[curves[0].network_hash] = source

    def document(self) -> dict[str, Any]:
        """The cache as params/border_wait.yaml keeps it."""
        return {
            "metamodel": METAMODEL,
            "curves": {
                h: {
                    "source": self._sources.get(h, ""),
                    **{
                        name: {k: float(f"{v:.6g}") for k, v in c.coefficients().items()}
                        for name, c in zip(("both", "west", "east"), curves, strict=True)
                    },
                }
                for h, curves in sorted(self._loaded().items())
            },
        }


class _Coefficients(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    c0: float = Field(ge=0)
    c1: float = Field(ge=0)
    k: float = Field(ge=0)
    delta: float = Field(gt=0)
    slope_over: float = Field(ge=0)
    fit_error: float = Field(ge=0)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = ""
    both: _Coefficients
    west: _Coefficients
    east: _Coefficients


class _CurvesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metamodel: str
    curves: dict[str, _Entry] = Field(default_factory=dict)


def is_curves_file(doc: dict[str, Any]) -> bool:
    """Whether a YAML mapping is a wait-curve cache (params/border_wait.yaml)."""
    return "metamodel" in doc


def read_curves(path: Path) -> dict[str, tuple[WaitCurve, WaitCurve, WaitCurve]]:
    """The curves of a cache file (of this metamodel version; others are ignored); a
    ConfigError naming the field for anything else."""
    try:
        doc = _CurvesFile.model_validate(load_mapping(read_text(path)))
    except InputProblem as exc:
        raise ConfigError(str(path), exc.path, exc.problem) from None
    except OSError as exc:
        raise ConfigError(str(path), (), f"cannot read: {exc.strerror}") from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise ConfigError(str(path), tuple(first["loc"]), first["msg"]) from None
    if doc.metamodel != METAMODEL:
        return {}
    return {
        h: tuple(  # type: ignore[misc]
            WaitCurve(h, **getattr(e, name).model_dump()) for name in ("both", "west", "east")
        )
        for h, e in doc.curves.items()
    }


def write_curves(cache: WaitCurveCache, path: Path, header: str) -> None:
    """Write a cache file (``header``: the comment lines that say how it was made)."""
    text = yaml.safe_dump(cache.document(), sort_keys=False, width=100, allow_unicode=True)
    path.write_text(header + text, encoding="utf-8")


def network_hash(
    s: Scenario,
    crossings: tuple[Crossing, ...],
    mixes: tuple[ChinaEuMix, ChinaEuMix],
    start: dt.date,
    end: dt.date,
) -> str:
    """Hash of the crossing scenario a curve is fitted to (at a placeholder load; the seed left
    out) and of the fitting settings."""
    mini = crossing_scenario(s, crossings, mixes, (1.0, 1.0), start, end)
    doc = mini.model_dump(mode="json", by_alias=True, exclude={"extends", "name"})
    doc["run"].pop("seed", None)
    key = [doc, METAMODEL, list(FIT_LOADS), FIT_REPLICATIONS]
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


def fit_curve(network: str, loads: FloatArray, waits: FloatArray) -> WaitCurve:
    """Least squares of the form on simulated mean waits, errors relative to max(w, 1.5 d)
    (a wait under about a day and a half is judged in absolute terms)."""
    floor = 1.5
    scale = np.maximum(waits, floor)

    def curve(p: FloatArray, error: float = 0.0) -> WaitCurve:
        c0, c1, k, delta, slope = (float(x) for x in p)
        return WaitCurve(network, c0, c1, k, delta, slope, error)

    def residuals(p: FloatArray) -> FloatArray:
        result: FloatArray = (curve(p).wait_days_array(loads) - waits) / scale
        return result

    above = loads > 1.0
    slope = 0.0
    if above.sum() >= 2:
        slope = max(0.0, float(np.polyfit(loads[above], waits[above], 1)[0]))
    start = np.asarray([max(float(waits.min()), 0.0), 0.05, 2.0, 0.05, slope])
    lower = [0.0, 0.0, 0.0, 1e-3, 0.0]
    upper = [np.inf, np.inf, 12.0, 5.0, np.inf]
    best = least_squares(residuals, start, bounds=(lower, upper), x_scale="jac", max_nfev=4000)
    error = float(np.max(np.abs(residuals(best.x))))
    return curve(best.x, error)


def simulated_waits(
    s: Scenario,
    crossings: tuple[Crossing, ...],
    mixes: tuple[ChinaEuMix, ChinaEuMix],
    capacity: tuple[float, float],
    start: dt.date,
    end: dt.date,
    loads: tuple[float, ...],
    replications: int,
    root_seed: int,
) -> FloatArray:
    """Mean waits (days) of the crossing simulated alone: rows are loads, columns westbound,
    eastbound and both (trains-weighted), averaged over the replications."""
    out = np.zeros((len(loads), 3))
    for i, u in enumerate(loads):
        mini = crossing_scenario(
            s, crossings, mixes, (u * capacity[0], u * capacity[1]), start, end
        )
        west = east = 0.0
        n_west = n_east = 0
        for r in range(replications):
            (w, nw), (e, ne) = crossing_waits(mini, crossings, root_seed, i * replications + r)
            west += w * nw
            east += e * ne
            n_west += nw
            n_east += ne
        both = (west + east) / max(n_west + n_east, 1)
        out[i] = (west / max(n_west, 1), east / max(n_east, 1), both)
    return out


def seed_of(network: str, purpose: str = "fit") -> int:
    """A root seed from the network hash (see the module docstring)."""
    entropy = [int(network[:16], 16), int(hashlib.sha256(purpose.encode()).hexdigest()[:8], 16)]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] >> 1)


@dataclass(frozen=True)
class CrossingCapacity:
    """The capacity half of :class:`BorderSupply`, and what a curve for it is keyed by."""

    crossings: tuple[Crossing, ...]
    mixes: tuple[ChinaEuMix, ChinaEuMix]
    trains_per_day: tuple[float, float]  # China–EU, all crossings, westbound and eastbound
    network_hash: str

    @property
    def teu_per_train(self) -> tuple[float, float]:
        return (self.mixes[0].teu_per_train, self.mixes[1].teu_per_train)

    @property
    def teu_per_year(self) -> tuple[float, float]:
        return (
            self.trains_per_day[0] * 365.0 * self.mixes[0].teu_per_train,
            self.trains_per_day[1] * 365.0 * self.mixes[1].teu_per_train,
        )


def crossing_capacity(
    scenario: Scenario,
    start: dt.date,
    end: dt.date,
    crossings: tuple[str, ...] | None = None,
) -> CrossingCapacity:
    """The crossing(s) of [start, end) and what they pass of China–EU trains (no fitting).
    ``crossings`` restricts to those Belarusian nodes (default: every crossing of the
    scenario's China–EU routes)."""
    source = scenario.name or "scenario"
    if end <= start:
        raise ConfigError(source, ("history",), f"empty span {start}–{end}")
    found = find_crossings(scenario, crossings)
    mixes = (china_eu_mix(scenario, found, "west"), china_eu_mix(scenario, found, "east"))
    capacity = capacity_trains_per_day(scenario, found, mixes, start, end)
    if min(capacity) <= 0:
        raise ConfigError(
            source,
            ("nodes", found[0].by_node),
            f"the crossing passes no China–EU train between {start} and {end} "
            "(other traffic fills it, or it has no servers)",
        )
    return CrossingCapacity(
        found, mixes, capacity, network_hash(scenario, found, mixes, start, end)
    )


def border_supply(
    scenario: Scenario,
    start: dt.date,
    end: dt.date,
    cache: WaitCurveCache | None = None,
    crossings: tuple[str, ...] | None = None,
    source: str = "",
) -> BorderSupply:
    """The border of [start, end) for the choice: capacity a year and the wait curve.
    ``crossings`` as :func:`crossing_capacity`; ``cache`` keeps fitted curves (default: a new
    one reading params/border_wait.yaml); ``source`` labels a curve fitted here (for the cache
    file)."""
    cap = crossing_capacity(scenario, start, end, crossings)
    h = cap.network_hash
    cache = cache if cache is not None else WaitCurveCache()
    curves = cache.get(h)
    if curves is None:
        loads = np.asarray(FIT_LOADS)
        waits = simulated_waits(
            scenario,
            cap.crossings,
            cap.mixes,
            cap.trains_per_day,
            start,
            end,
            FIT_LOADS,
            FIT_REPLICATIONS,
            seed_of(h),
        )
        curves = (
            fit_curve(h, loads, waits[:, 2]),
            fit_curve(h, loads, waits[:, 0]),
            fit_curve(h, loads, waits[:, 1]),
        )
        cache.put(curves, source)
    return BorderSupply(
        capacity_teu=cap.teu_per_year,
        wait=curves[0],
        wait_by_direction=(curves[1], curves[2]),
        crossings=tuple(c.by_node for c in cap.crossings),
        capacity_trains_per_day=cap.trains_per_day,
        teu_per_train=cap.teu_per_train,
    )
