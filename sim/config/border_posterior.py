"""The border posterior file (``params/border_posterior.yaml``) and how a draw enters a scenario.

The border's fitted parameters (docs/model.md A34, A37; docs/border_posterior.md) are

- ``g``: the share of B19's trains at Małaszewicze that need the broad-gauge handover,
- ``lambda``: other trains displaced per China–EU train at Brest,
- ``h``: the H2 2021 westbound surge at Alashankou–Dostyk (× B24's 2023 count).

``corridor calibrate --posterior`` (sim/workflow/border_posterior.py) writes joint draws of
them; this module reads that file and turns a draw into field overrides of a scenario.

API for other code (e.g. ``corridor run --draws N``)::

    post = load_border_posterior(Path("params/border_posterior.yaml"))
    scenario, _ = load_scenario(path)
    values = overrides_for(post.draw(k), scenario)    # {dotted path: value}
    scenario_k, _ = load_scenario(path, values=values)

``overrides_for`` reads the scenario's own load periods, so it applies to any scenario on the
border overlay (a closure, a history year, an expansion), and returns nothing for a parameter
whose flow the scenario lacks. Where each parameter enters (params/border.yaml,
params/exits.yaml):

- g and λ: ``flows.other-brest-{west,east}``: ``gives_way.per_china_eu_train`` = λ and, per load
  period i, ``load.i.trains_per_day`` = max(0, g × B19/2 − λ × C_i) with C_i the period's
  ``china_eu_trains_per_day`` (where that is below 0, ``trains_per_day`` = 0 and
  ``china_eu_trains_per_day`` = g × B19/2 / λ, the volume at which the other traffic is gone, as
  the shipped 2022 period does). B19/2 is read back from the period as written:
  (trains_per_day + λ₀ × C_i) / g₀, with g₀, λ₀ the values the file was derived with. The
  engine (sim/engine/gives_way.py) then plans max(0, f × g × B19/2 − λ × this run's China–EU).
- h: ``flows.other-dostyk-west.load.i.trains_per_day`` of the period that starts on
  ``SURGE_START`` (1 Jul 2021): h × T − λ_D × C_i with T = the period's total / h₀ and λ_D the
  flow's own ``per_china_eu_train`` (1: the exit's other traffic gives way one for one).

The rooms (A30 Brest, A33 Alashankou) are not in the posterior: the targets do not identify
them (docs/border_posterior.md), so they stay assumption ranges to sweep.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.config.safe_yaml import load_mapping, read_text
from sim.config.scenario import Flow, Scenario
from sim.errors import ConfigError

PARAMETERS = ("g", "lambda", "h")
"""The posterior's parameters, in the order of every vector of them."""

SHIPPED: dict[str, float] = {"g": 0.535, "lambda": 0.9, "h": 1.78}
"""The point fits params/border.yaml and params/exits.yaml were derived with (A34, A37): the
written loads are read back through them."""

SANE: dict[str, tuple[float, float]] = {"g": (0.0, 1.0), "lambda": (0.0, 3.0), "h": (0.0, 5.0)}
"""What a draw may hold at all (g is a share; λ and h beyond these would plan runs no machine
holds): a file that validates must also run."""

BREST_FLOWS = ("other-brest-west", "other-brest-east")
DOSTYK_FLOW = "other-dostyk-west"
SURGE_START = dt.date(2021, 7, 1)
"""The surge period at Dostyk starts with D8's congestion (params/exits.yaml)."""


class Marginal(BaseModel):
    """A parameter's prior range and its posterior summary (for people; the draws are the data)."""

    model_config = ConfigDict(extra="forbid")
    prior: tuple[float, float]
    shipped: float
    median: float
    q05: float
    q95: float


class BorderPosterior(BaseModel):
    """Joint draws of (g, λ, h), with what they came from."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    version: int = 1
    method: str = Field(min_length=1)
    seed: int
    settings: dict[str, Any]
    network_hash: str = Field(min_length=8)
    targets_hash: str = Field(min_length=8)
    marginals: dict[str, Marginal]
    draws: dict[str, list[float]]

    @model_validator(mode="after")
    def _sound(self) -> BorderPosterior:
        if set(self.draws) != set(PARAMETERS):
            raise ValueError(f"draws must hold exactly {', '.join(PARAMETERS)}")
        sizes = {len(v) for v in self.draws.values()}
        if len(sizes) != 1 or 0 in sizes:
            raise ValueError("draws: every parameter needs the same, non-zero number of draws")
        for name, values in self.draws.items():
            low, high = SANE[name]
            if any(not low < v <= high for v in values):
                raise ValueError(f"draws.{name}: values must lie in ({low:g}, {high:g}]")
        return self

    @property
    def size(self) -> int:
        return len(self.draws[PARAMETERS[0]])

    def draw(self, k: int) -> dict[str, float]:
        """Draw ``k`` (cycled: draw k and k + size are the same) as {parameter: value}."""
        i = k % self.size
        return {p: self.draws[p][i] for p in PARAMETERS}


def is_border_posterior_file(doc: dict[str, Any]) -> bool:
    """Is this document a border posterior (``corridor validate`` tells the kinds apart)?"""
    return {"draws", "marginals", "network_hash"} <= set(doc)


def load_border_posterior(path: Path) -> BorderPosterior:
    """Read and check a posterior file; a bad one is a one-line :class:`ConfigError`."""
    doc = load_mapping(read_text(path))
    try:
        return BorderPosterior.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(str(path), tuple(first["loc"]), first["msg"]) from None


def _brest(flow_id: str, flow: Flow, g: float, lam: float) -> dict[str, Any]:
    way = flow.gives_way
    if way is None or flow.load is None:
        return {}
    lam0 = way.per_china_eu_train
    out: dict[str, Any] = {f"flows.{flow_id}.gives_way.per_china_eu_train": lam}
    for i, period in enumerate(flow.load):
        c = period.china_eu_trains_per_day
        if c is None:
            continue
        shared = (period.trains_per_day + lam0 * c) / SHIPPED["g"] * g
        base = f"flows.{flow_id}.load.{i}"
        if shared - lam * c >= 0:
            out[f"{base}.trains_per_day"] = round(shared - lam * c, 6)
        else:
            out[f"{base}.trains_per_day"] = 0.0
            out[f"{base}.china_eu_trains_per_day"] = round(shared / lam, 6)
    return out


def _dostyk(flow: Flow, h: float) -> dict[str, Any]:
    way = flow.gives_way
    if flow.load is None:
        return {}
    lam_d = 1.0 if way is None else way.per_china_eu_train
    for i, period in enumerate(flow.load):
        if period.start != SURGE_START:
            continue
        c = period.china_eu_trains_per_day or 0.0
        total = (period.trains_per_day + lam_d * c) / SHIPPED["h"] * h
        base = f"flows.{DOSTYK_FLOW}.load.{i}"
        if total - lam_d * c >= 0:
            return {f"{base}.trains_per_day": round(total - lam_d * c, 6)}
        return {f"{base}.trains_per_day": 0.0, f"{base}.china_eu_trains_per_day": total / lam_d}
    return {}


def overrides_for(draw: dict[str, float], scenario: Scenario) -> dict[str, Any]:
    """The field overrides ({dotted path: value}, for ``load_scenario(values=...)``) that put
    ``draw`` into ``scenario``, which must be loaded as written (without an earlier draw)."""
    missing = [p for p in PARAMETERS if p not in draw]
    if missing:
        raise ConfigError("border posterior", (), f"draw lacks {', '.join(missing)}")
    out: dict[str, Any] = {}
    for fid in BREST_FLOWS:
        if fid in scenario.flows:
            out |= _brest(fid, scenario.flows[fid], draw["g"], draw["lambda"])
    if DOSTYK_FLOW in scenario.flows:
        out |= _dostyk(scenario.flows[DOSTYK_FLOW], draw["h"])
    return out
