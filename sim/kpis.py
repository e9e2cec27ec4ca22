"""Every KPI once: its name, scope, unit, label and definition, and how its numbers are shown.

The simulation writes ``summary.json`` with the units listed here; the terminal tables, the
comparison, the plots and the report take labels and units from here too, so no module
hard-codes a unit or a label, and a fraction is never shown in one place as "57.9%" and in
another as "0.58". Differences of a fraction are percentage points ("+12.3 pp"), never
percent: percent is reserved for *relative* changes ("+20.1 %" of the baseline).

This module imports nothing from the package, so everything can use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SCOPES = ("corridor", "node", "flow", "market")
FRACTION = "fraction"


@dataclass(frozen=True)
class Kpi:
    """One KPI of one scope. ``source`` says where its per-replication values live:
    ``summary`` (summary.json and replications.parquet, written by ``corridor run``) or
    ``visits`` (derived from visits.parquet and trains.parquet when read, see
    :mod:`sim.store.disruption`) or ``crossings`` (the largest of the border nodes'
    utilisations, when read: :mod:`sim.store.crossings`), so the results contract stays
    unchanged."""

    scope: str
    key: str
    unit: str
    label: str
    definition: str
    source: str = "summary"
    nan_means_zero: bool = False  # a NaN value: nothing happened (no backlog: 0 days to clear)
    # "held" (only with finite room), "market" (only with several markets), "rerouted" (only
    # with a dispatch rule that re-routes)
    group: str = ""

    @property
    def missing_means_zero(self) -> bool:
        """Does a run without this KPI mean "none of it"? A run without a rule that re-routes
        re-routed 0 trains (compare reads it so); a run without finite room has no held
        trains to count at all (asking for them is an error)."""
        return self.group == "rerouted"

    @property
    def difference_unit(self) -> str:
        """The unit of a difference: percentage points for fractions, else the KPI's unit."""
        return "pp" if self.unit == FRACTION else self.unit


def _k(
    scope: str,
    key: str,
    unit: str,
    label: str,
    definition: str,
    source: str = "summary",
    group: str = "",
) -> Kpi:
    return Kpi(
        scope,
        key,
        unit,
        label,
        definition,
        source,
        nan_means_zero=key == "recovery_days",
        group=group,
    )


CATALOGUE: tuple[Kpi, ...] = (
    _k("corridor", "trains_departed", "trains", "trains departed",
       "trains that left their origin inside the measurement window"),
    _k("corridor", "trains_delivered", "trains", "trains delivered",
       "trains that reached their destination inside the window"),
    _k("corridor", "teu_delivered", "TEU", "TEU delivered",
       "TEU on the trains delivered inside the window"),
    _k("corridor", "throughput_teu_per_day", "TEU/day", "throughput",
       "TEU delivered inside the window per day of the window"),
    _k("corridor", "transit_days_mean", "days", "mean transit time",
       "door-to-door transit time of the trains delivered inside the window, mean"),
    _k("corridor", "transit_days_p95", "days", "95th-percentile transit time",
       "door-to-door transit time of the trains delivered inside the window, 95th percentile"),
    _k("corridor", "trains_in_system_end", "trains", "trains under way at the end",
       "trains departed but not delivered when the run ends (a backlog not yet cleared)"),
    _k("corridor", "teu_in_system_end", "TEU", "TEU under way at the end",
       "TEU on the trains under way when the run ends"),
    _k("node", "trains_handled", "trains", "trains handled",
       "trains whose handling at the node ended inside the window"),
    _k("node", "utilisation", FRACTION, "utilisation",
       "busy server-time over available server-time in the window (capacity changes included)"),
    _k("node", "wait_hours_mean", "hours", "mean wait",
       "wait before handling of the trains arriving in the window (lower bound if still queued)"),
    _k("node", "wait_hours_p95", "hours", "95th-percentile wait",
       "95th percentile of the same waits"),
    _k("node", "handling_hours_mean", "hours", "mean handling time",
       "handling time of the trains handled in the window"),
    _k("node", "queue_mean", "trains", "mean queue", "time-average number of trains waiting"),
    _k("node", "queue_max", "trains", "peak queue (trains waiting)",
       "largest number of trains waiting at once in the window"),
    _k("node", "queue_end", "trains", "queue at the end", "trains waiting when the run ends"),
    _k("node", "servers_mean", "servers", "mean servers",
       "time-average number of servers (tracks, cranes) available"),
    _k("node", "capacity_trains_per_day", "trains/day", "capacity",
       "mean servers × 24 h / mean handling hours"),
    _k("node", "recovery_days", "days", "days to clear",
       "from the end of the last capacity reduction until the trains queued here plus those "
       "held upstream on their way here are back to their level before it (a lower bound "
       "when they never are)"),
    _k("node", "backlog_cleared", FRACTION, "backlog cleared",
       "share of replications whose backlog cleared before the run ended"),
    _k("node", "caught_wait_hours_mean", "hours", "wait here of the trains caught",
       "mean wait of the trains that arrived while the node's capacity was reduced",
       source="visits"),
    _k("node", "teu_wait_days", "TEU·days", "TEU delayed × days",
       "sum over trains arriving in the window of TEU × days waited at the node", source="visits"),
    _k("corridor", "trains_held_peak", "trains", "peak trains held anywhere",
       "most trains held at once (handled, waiting to be accepted by the next node's room), "
       "all nodes together", group="held"),
    _k("corridor", "trains_held_mean", "trains", "mean trains held",
       "time-average number of trains held, all nodes together", group="held"),
    _k("corridor", "crossing_utilisation_max", FRACTION, "busiest crossing's utilisation",
       "the highest utilisation of any border crossing (node kind border) in the window, "
       "taken per replication from the nodes' utilisation when read (sim/store/crossings.py)",
       source="crossings"),
    _k("corridor", "trains_rerouted", "trains", "trains re-routed",
       "trains that left their origin inside the window on another route than the one drawn, "
       "moved by a dispatch rule's reroute_via while a node was closed", group="rerouted"),
    _k("node", "held_mean", "trains", "mean trains held here",
       "time-average number of trains handled here but not yet accepted downstream",
       group="held"),
    _k("node", "held_max", "trains", "peak trains held here",
       "most trains held here at once", group="held"),
    _k("node", "held_end", "trains", "trains held here at the end",
       "trains held here when the run ends", group="held"),
    _k("node", "trains_handled_china_eu", "trains", "China–EU trains handled",
       "China–EU trains whose handling ended inside the window (trains_handled counts every "
       "market)", group="market"),
    _k("market", "trains_departed", "trains", "trains departed",
       "the market's trains that left their origin inside the window"),
    _k("market", "trains_delivered", "trains", "trains delivered",
       "the market's trains delivered inside the window"),
    _k("market", "teu_delivered", "TEU", "TEU delivered",
       "TEU on the market's trains delivered inside the window"),
    _k("market", "throughput_teu_per_day", "TEU/day", "throughput",
       "the market's TEU delivered per day of the window"),
    _k("market", "transit_days_mean", "days", "mean transit time",
       "door-to-door transit of the market's trains delivered in the window, mean"),
    _k("market", "transit_days_p95", "days", "95th-percentile transit time",
       "door-to-door transit of the market's trains delivered in the window, 95th percentile"),
    _k("market", "wait_hours_mean", "hours", "mean wait per train",
       "total queueing wait along the path (held time included) of the delivered trains, mean"),
    _k("market", "wait_hours_p95", "hours", "95th-percentile wait per train",
       "the same total wait, 95th percentile"),
    _k("market", "trains_in_system_end", "trains", "trains under way at the end",
       "the market's trains departed but not delivered when the run ends"),
    _k("flow", "trains_delivered", "trains", "trains delivered",
       "trains of the flow delivered inside the window"),
    _k("flow", "teu_delivered", "TEU", "TEU delivered", "TEU of the flow delivered in the window"),
    _k("flow", "transit_days_mean", "days", "mean transit time",
       "transit time of the flow's trains delivered in the window, mean"),
    _k("flow", "transit_days_p95", "days", "95th-percentile transit time",
       "transit time of the flow's trains delivered in the window, 95th percentile"),
)  # fmt: skip


def kpis(scope: str, source: str | None = None) -> dict[str, Kpi]:
    """The KPIs of a scope in catalogue order (only those from ``source`` when given)."""
    return {
        k.key: k for k in CATALOGUE if k.scope == scope and (source is None or k.source == source)
    }


def units(scope: str, group: str = "") -> dict[str, str]:
    """KPI → unit for the KPIs ``corridor run`` writes for a scope (summary.json's blocks):
    those of every run (``group`` empty), or those present only with finite room (``held``),
    with several markets (``market``) or with a rule that re-routes (``rerouted``)."""
    return {key: k.unit for key, k in kpis(scope, "summary").items() if k.group == group}


def lookup(scope: str, key: str) -> Kpi | None:
    return kpis(scope).get(key)


def _number(value: float) -> str:
    """Three significant-looking digits: 1,234 / 12.3 / 1.23."""
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_value(value: float | None, unit: str = "") -> str:
    """A level: fractions as percentages ("57.9%"), other units as three digits."""
    if value is None or math.isnan(value):
        return "–"
    if unit == FRACTION:
        return _unsigned_zero(f"{value:.1%}")
    return _unsigned_zero(_number(value))


def format_difference(value: float | None, unit: str = "") -> str:
    """A signed difference in the KPI's difference unit: "+12.3 pp" for a fraction, "+4.50"
    otherwise (the unit is printed next to it by the caller); zero is never "-0.0"."""
    if value is None or math.isnan(value):
        return "–"
    if unit == FRACTION:
        return _signed(f"{value * 100:.1f}") + " pp"
    return _signed(_number(value))


def format_signed(value: float | None, digits: int) -> str:
    """A signed figure with a fixed number of decimals ("+0.24", "-9.6"), never "-0.00"."""
    if value is None or math.isnan(value):
        return "–"
    return _signed(f"{value:,.{digits}f}")


MAX_RELATIVE = 10.0
"""Above ×10 (+1,000 %) a ratio to the baseline says nothing (a closure's queue against a
queue of nearly none): tables show "–" and figures label the absolute difference instead."""


def format_relative(value: float | None) -> str:
    """A relative change in percent of the baseline ("+20.1%"), never "-0.0%"; "–" when
    there is none or it is over :data:`MAX_RELATIVE` (the difference column says it)."""
    if value is None or math.isnan(value) or abs(value) > MAX_RELATIVE:
        return "–"
    return format_signed(value * 100, 1) + "%"


def _unsigned_zero(text: str) -> str:
    """ "-0.0" and "-0.0%" come from rounding a tiny negative number: show them as zero."""
    stripped = text.lstrip("-")
    if text.startswith("-") and not any(ch in "123456789" for ch in stripped):
        return stripped
    return text


def _signed(text: str) -> str:
    """Prefix "+" to positive figures; zero (after rounding) gets no sign at all."""
    text = _unsigned_zero(text)
    if text.startswith("-") or not any(ch in "123456789" for ch in text):
        return text
    return "+" + text


CORRIDOR_UNITS: dict[str, str] = units("corridor")


NODE_UNITS: dict[str, str] = units("node")


FLOW_UNITS: dict[str, str] = units("flow")
HELD_CORRIDOR_UNITS: dict[str, str] = units("corridor", "held")
"""Corridor KPIs present only when some node has finite room (trains can be held)."""
REROUTED_CORRIDOR_UNITS: dict[str, str] = units("corridor", "rerouted")
"""Corridor KPIs present only when a dispatch rule re-routes (``reroute_via``)."""
HELD_NODE_UNITS: dict[str, str] = units("node", "held")
"""Node KPIs present only with finite room."""
MARKET_NODE_UNITS: dict[str, str] = units("node", "market")
"""Node KPIs present only when flows of other markets share the nodes."""
