"""The report's first screen: two or three sentences per scenario against its baseline,
generated from the numbers (never written by hand).

Each sentence says what changed and by how much, with the interval; for a disruption, how
many trains were held, how much longer the caught trains waited and how long the backlog took
to clear; and where the scenario saturates. Every number in a sentence is a :class:`Number`
that knows where it came from (a run's summary.json mean, or a paired difference), so the
HTML can tag it and a test can check it against the results store.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from sim.analysis.compare import Difference, difference, leading_metrics
from sim.formatting import format_difference, format_value
from sim.store.runs import Metric, RunData

SATURATED = 0.95  # utilisation from which a node is called saturated


@dataclass(frozen=True)
class Number:
    """One figure in a sentence: a run's mean (``stat="mean"``) from summary.json, or a
    difference from the baseline (``stat="difference"``) with its interval."""

    run: str
    key: str
    stat: str
    value: float
    text: str

    def html(self) -> str:
        value = "" if math.isnan(self.value) else repr(self.value)
        return (
            f'<span class=num data-run="{html.escape(self.run)}" '
            f'data-key="{html.escape(self.key)}" data-stat="{self.stat}" '
            f'data-value="{value}">{html.escape(self.text)}</span>'
        )


Part = str | Number


@dataclass(frozen=True)
class Finding:
    """The sentences about one scenario against the baseline."""

    scenario: str
    baseline: str
    sentences: tuple[tuple[Part, ...], ...]

    def numbers(self) -> list[Number]:
        return [p for s in self.sentences for p in s if isinstance(p, Number)]

    def text(self) -> str:
        return " ".join(
            "".join(p if isinstance(p, str) else p.text for p in s) for s in self.sentences
        )

    def html(self) -> str:
        def part(p: Part) -> str:
            return html.escape(p) if isinstance(p, str) else p.html()

        return " ".join("".join(part(p) for p in s) for s in self.sentences)


def _mean(run: RunData, metric: Metric) -> Number:
    value = run.estimate(metric)["mean"]
    value = math.nan if value is None else float(value)
    return Number(run.label, metric.key, "mean", value, format_value(value, metric.unit))


def _diff(d: Difference) -> tuple[Part, ...]:
    """``+0.23 days [+0.14, +0.31]`` (the difference and its interval) as parts."""
    unit = d.unit if d.unit not in ("", "pp") else ""
    unit_text = f" {unit}" if unit else ""
    return (
        Number(
            d.scenario, d.metric.key, "difference", d.mean, format_difference(d.mean, d.metric.unit)
        ),
        f"{unit_text} [",
        Number(
            d.scenario, d.metric.key, "ci_low", d.ci_low, format_difference(d.ci_low, d.metric.unit)
        ),
        ", ",
        Number(
            d.scenario,
            d.metric.key,
            "ci_high",
            d.ci_high,
            format_difference(d.ci_high, d.metric.unit),
        ),
        "]",
    )


def _change_sentence(base: RunData, run: RunData) -> tuple[Part, ...]:
    throughput = Metric("corridor", "", "throughput_teu_per_day")
    transit = Metric("corridor", "", "transit_days_mean")
    dt = difference(base, run, throughput, base.confidence)
    dtr = difference(base, run, transit, base.confidence)
    verb = "changes by" if dt.significant else "does not change detectably:"
    return (
        f"Against {base.label}, throughput {verb} ",
        *_diff(dt),
        " (",
        _mean(run, throughput),
        " against ",
        _mean(base, throughput),
        " TEU/day); mean transit time changes by ",
        *_diff(dtr),
        ".",
    )


def _disruption_sentence(base: RunData, run: RunData) -> tuple[Part, ...] | None:
    lead = [m for m in leading_metrics([base, run], []) if m.scope == "node"]
    if not lead:
        return None
    by = {m.kpi: m for m in lead}
    node = lead[0].name
    held = difference(base, run, by["queue_max"], base.confidence)
    caught = difference(base, run, by["caught_wait_hours_mean"], base.confidence)
    cleared = run.summary["nodes"][node]["backlog_cleared"]["mean"]
    recovery = _mean(run, by["recovery_days"])
    parts: list[Part] = [
        f"Where {node} loses capacity, up to ",
        _mean(run, by["queue_max"]),
        " trains are held at once (",
        *_diff(held),
        " on the baseline); the trains caught wait ",
        *_diff(caught),
        " longer, and the backlog clears ",
        recovery,
        " days after capacity returns",
    ]
    if cleared is not None and cleared < 1.0:
        parts.append(" (a lower bound: in some replications it had not cleared by the end)")
    parts.append(".")
    return tuple(parts)


def _saturation_sentence(base: RunData, run: RunData) -> tuple[Part, ...] | None:
    limited = [
        nid
        for nid, node in run.scenario.nodes.items()
        if node.servers is not None and nid in run.summary["nodes"]
    ]
    utilisation = {
        nid: run.summary["nodes"][nid]["utilisation"]["mean"]
        for nid in limited
        if run.summary["nodes"][nid]["utilisation"]["mean"] is not None
    }
    if not utilisation:
        return None
    node = max(sorted(utilisation), key=lambda n: utilisation[n])
    metric = Metric("node", node, "utilisation")
    busy = _mean(run, metric)
    parts: list[Part] = [
        f"The busiest capacity-limited node is {node}, at ",
        busy,
        " of its capacity",
    ]
    if node in base.summary["nodes"]:
        parts += [" (baseline ", _mean(base, metric), ")"]
    if busy.value >= SATURATED:
        parts.append(": it saturates, and demand beyond it queues there.")
    else:
        parts.append(": the scenario does not saturate the corridor.")
    return tuple(parts)


def findings(runs: list[RunData]) -> list[Finding]:
    """One finding per run after the first, against the first (the baseline)."""
    if len(runs) < 2:
        return []
    base = runs[0]
    out = []
    for run in runs[1:]:
        sentences = [_change_sentence(base, run)]
        for extra in (_disruption_sentence(base, run), _saturation_sentence(base, run)):
            if extra is not None:
                sentences.append(extra)
        out.append(Finding(run.label, base.label, tuple(sentences)))
    return out
