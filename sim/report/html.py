"""One self-contained HTML page comparing runs: findings first, the comparison chart, then
the details folded (differences, KPI tables, settings, plots).

This module gathers the values from the results store; the page itself is written by Jinja2
templates (``sim/report/templates``, shipped as package data), which escape every value they
are given, so a scenario's description or id cannot break the markup.

Images are embedded as base64 PNG so the file can be mailed or archived on its own; nothing is
fetched from the network when it is opened.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import math
import os
from collections.abc import Iterable
from pathlib import Path

import jinja2
import numpy as np
from markupsafe import Markup
from matplotlib.figure import Figure
from PIL import Image

from sim.analysis.compare import (
    DEFAULT_METRICS,
    difference_rows,
    differences,
    leading_metrics,
    pairing_legend,
)
from sim.analysis.findings import findings
from sim.errors import ConfigError
from sim.formatting import format_value
from sim.kpis import kpis, lookup, units
from sim.plots import RUN_KINDS, PlotOptions, run_figure
from sim.plots.common import event_kind
from sim.plots.comparison import comparison_figure, run_colours
from sim.progress import Step
from sim.report.interactive import charts_context
from sim.store.runs import Metric, RunData, open_runs, parse_metric

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right;vertical-align:top}
th{background:#f3f3f3} td.l,th.l{text-align:left}
figure{margin:1.5em 0} img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.9em} .note{color:#666;font-size:.9em}
.sig{font-weight:bold}
.finding{border-left:4px solid #4c72b0;padding:.1em 1em;margin:1em 0;background:#f7f9fc}
.finding h3{margin:.3em 0} .num{font-weight:600;white-space:nowrap}
details{margin:1em 0;border:1px solid #ddd;border-radius:4px;padding:.3em .8em}
summary{cursor:pointer;font-weight:600;font-size:1.1em}
"""

CAPTIONS = {
    "throughput": "TEU per day through each border crossing and delivered per route; "
    "shaded: closures (red), capacity changes (orange), demand changes (blue).",
    "queues": "Trains waiting at capacity-limited border crossings: daily mean, median and "
    "5–95% band across replications.",
    "transit": "Door-to-door transit time of the trains delivered in the window (ECDF).",
    "utilisation": "Busy over available server-time per node and week.",
    "train-graph": "Time–distance diagram of one replication along the busiest route; "
    "horizontal segments are waiting or handling.",
    "map": "Links drawn with width proportional to the TEU they carried; nodes coloured by "
    "utilisation, busy ones ringed.",
}


def png_data_uri(fig: Figure, dpi: int = 100) -> str:
    """PNG reduced to a 256-colour palette: charts lose nothing visible, files shrink ~4×."""
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=dpi)
    raw.seek(0)
    image = Image.open(raw).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(fig: Figure, caption: str, alt: str) -> dict[str, str]:
    return {"src": png_data_uri(fig), "caption": caption, "alt": alt}


Cell = dict[str, str | None]
"""An estimate in a table: its mean and (maybe) its interval, as text."""


def _cell(est: dict[str, float | None], unit: str, ci_always: bool = False) -> Cell:
    mean = format_value(_f(est["mean"]), unit)
    if est["ci_low"] is None and not ci_always:
        return {"mean": mean, "ci": None}
    low, high = format_value(_f(est["ci_low"]), unit), format_value(_f(est["ci_high"]), unit)
    return {"mean": mean, "ci": f"{low} … {high}"}


def scenario_context(run: RunData) -> dict[str, object]:
    """A run's description, settings and events, for the Scenarios section."""
    s = run.scenario
    facts = [
        ["results directory", str(run.path)],
        [
            "measurement",
            f"{run.horizon_days:g} days from {run.start_date} (warm-up {s.run.warmup_days:g} days)",
        ],
        ["replications / root seed", f"{run.replications} / {run.root_seed}"],
        [
            "network",
            f"{len(s.nodes)} nodes, {len(s.links)} links, {len(s.routes)} routes, "
            f"{len(s.flows)} flows",
        ],
        ["created", str(run.manifest.get("created_utc", ""))],
        ["code", str(run.manifest.get("git_revision") or "unknown")],
    ]
    demand = run.summary.get("history_demand")
    if demand is not None:  # a history year: the demand ensemble's answer and its range
        facts.append(
            [
                "rail demand (demand ensemble)",
                f"{demand['rail_teu_westbound']:,.0f} W / {demand['rail_teu_eastbound']:,.0f} E "
                "TEU a year simulated (the median choice)",
            ]
        )
        if "rail_teu_total_median" in demand:
            facts.append(
                [
                    "the year's rail TEU, predictive",
                    f"median {demand['rail_teu_total_median']:,.0f}; 50 % "
                    f"{demand['rail_teu_total_p25']:,.0f}–{demand['rail_teu_total_p75']:,.0f}; "
                    f"90 % {demand['rail_teu_total_p05']:,.0f}–"
                    f"{demand['rail_teu_total_p95']:,.0f} (structures, parameters, "
                    "discrepancy, the series' band, simulation noise; low end from "
                    f"{demand['rail_teu_total_low_end_structure']}, high end from "
                    f"{demand['rail_teu_total_high_end_structure']})",
                ]
            )
    events = []
    for eid, ev in s.events.items():
        start, end = run.event_days(ev)
        levers = ", ".join(
            f"{k}={v:g}"
            for k, v in (
                ("servers", ev.servers),
                ("capacity_factor", ev.capacity_factor),
                ("handling_factor", ev.handling_factor),
                ("demand_factor", ev.demand_factor),
            )
            if v is not None
        )
        dates = run.dates(np.asarray([start, end])).astype("datetime64[D]")
        kind = event_kind(ev) if ev.enabled else "disabled"
        span = f"{dates[0]} → {dates[1]}"
        events.append([eid, kind, ", ".join(ev.targets), span, levers, ev.description])
    return {
        "label": run.label,
        "description": s.description or "(no description)",
        "facts": facts,
        "events": events,
    }


def _with_prediction(cell: Cell, run: RunData, kpi: str) -> Cell:
    """A corridor KPI's cell with the run's prediction interval under its CI (runs with
    ``--draws``), each labelled: the CI is the mean's over replications, the prediction
    interval where one run's value may fall with the uncertain inputs drawn."""
    pred = (run.summary.get("prediction") or {}).get("kpis", {}).get(kpi)
    if pred is None:
        return cell
    unit = str(pred.get("unit", ""))
    level = round(float(run.summary["prediction"]["level"]) * 100)
    text = (
        f"{level} % prediction interval ({pred['draws']} draws): "
        f"{format_value(pred['low'], unit)} … {format_value(pred['high'], unit)}"
    )
    ci = cell["ci"]
    return {**cell, "ci": f"CI of the mean: {ci}" if ci else None, "pi": text}


def kpi_rows(runs: list[RunData]) -> list[dict[str, object]]:
    """The corridor KPIs every run has, each with its estimate per run."""
    rows: list[dict[str, object]] = []
    for kpi, info in kpis("corridor", "summary").items():
        if any(kpi not in r.summary["kpis"] for r in runs):
            continue  # an optional KPI (held trains: only with finite room) some run lacks
        cells = [_with_prediction(_cell(r.summary["kpis"][kpi], info.unit), r, kpi) for r in runs]
        rows.append(
            {"label": info.label, "definition": info.definition, "unit": info.unit, "cells": cells}
        )
    return rows


def market_rows(runs: list[RunData]) -> list[list[object]]:
    """KPIs by market (sim/engine/market_kpis.py) for the runs that have several: rows of
    market, KPI, unit and one estimate per run (marked up by the template); empty otherwise."""
    names = list(dict.fromkeys(m for r in runs for m in r.summary.get("markets", {})))
    rows: list[list[object]] = []
    for market in names:
        for kpi, unit in units("market").items():
            kpi_info = lookup("market", kpi)
            row: list[object] = [
                market,
                kpi_info.label if kpi_info else kpi.replace("_", " "),
                unit,
            ]
            for r in runs:
                est = r.summary.get("markets", {}).get(market, {}).get(kpi)
                row.append(None if est is None else _cell(est, unit, ci_always=True))
            rows.append(row)
    return rows


def _f(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def comparison_context(runs: list[RunData], metrics: list[Metric]) -> dict[str, object]:
    """The comparison chart, the table of differences (shown folded) and its legend."""
    diffs = differences(runs, metrics)
    chart = _figure(
        comparison_figure(runs, metrics, diffs),
        "Bars: mean across replications with the confidence interval; labels: "
        f"difference from {runs[0].label} (* when the interval excludes 0).",
        "comparison bar chart",
    )
    return {
        "chart": chart,
        "rows": difference_rows(diffs),
        "legend": pairing_legend(diffs),
        "drawn": any(d.prediction is not None for d in diffs),
    }


def plots_context(
    run: RunData, kinds: Iterable[str], on_step: Step | None = None
) -> dict[str, object]:
    items: list[dict[str, object]] = []
    for kind in kinds:
        if on_step is not None:
            on_step(f"{run.label}: {kind}")
        try:
            fig = run_figure(run, kind, PlotOptions())
        except ConfigError as exc:
            items.append({"kind": kind, "figure": None, "problem": exc.problem})
            continue
        items.append(
            {
                "kind": kind,
                "figure": _figure(fig, CAPTIONS.get(kind, kind), f"{kind} of {run.label}"),
            }
        )
    return {"label": run.label, "figures": items}


def findings_context(runs: list[RunData]) -> list[dict[str, object]]:
    """The first screen: generated sentences per scenario against the baseline, each number
    with the run, key and statistic it was read from (the browser test checks them)."""
    out: list[dict[str, object]] = []
    for f in findings(runs):
        sentences = [
            [
                p
                if isinstance(p, str)
                else {
                    "run": p.run,
                    "key": p.key,
                    "stat": p.stat,
                    "data_value": "" if math.isnan(p.value) else repr(p.value),
                    "text": p.text,
                }
                for p in sentence
            ]
            for sentence in f.sentences
        ]
        out.append({"scenario": f.scenario, "sentences": sentences})
    return out


def report_steps(runs: int, kinds: int) -> int:
    """How many steps :func:`render` reports: findings, comparison, each plot of each run."""
    return 2 + runs * kinds


def templates() -> jinja2.Environment:
    """The report's templates (package data, so an installed wheel has them); every value is
    escaped unless it is marked as markup already (uPlot, the chart data)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sim.report", "templates"),
        autoescape=jinja2.select_autoescape(("html", "html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(
    runs: list[RunData],
    metrics: list[Metric],
    kinds: Iterable[str],
    on_step: Step | None = None,
) -> str:
    """Findings first, then the comparison chart, then the details folded."""
    step = on_step or (lambda note: None)
    kinds = list(kinds)
    conf = round(runs[0].confidence * 100)
    found = findings_context(runs)
    context: dict[str, object] = {
        "style": Markup(STYLE),
        "names": ", ".join(r.label for r in runs),
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "baseline": runs[0].label,
        "conf": conf,
        "runs": runs,
        "run_heads": [Markup("{}<br>mean ({}% CI)").format(r.label, conf) for r in runs],
        "findings": found,
        "findings_legend": "; ".join(pairing_legend(differences(runs, [_THROUGHPUT])))
        if found
        else "",
    }
    step("findings")
    context["markets"] = market_rows(runs)
    context["comparison"] = comparison_context(runs, metrics) if len(runs) > 1 else None
    context["charts"] = charts_context(runs, run_colours(len(runs)))
    context["kpis"] = kpi_rows(runs)
    context["scenarios"] = [scenario_context(r) for r in runs]
    step("comparison")
    context["plots"] = [plots_context(r, kinds, on_step) for r in runs]
    return templates().get_template("report.html.j2").render(context)


_THROUGHPUT = Metric("corridor", "", "throughput_teu_per_day")


def write_report(
    paths: list[Path],
    out: Path,
    metrics: list[str] | None = None,
    kinds: Iterable[str] = RUN_KINDS,
    on_step: Step | None = None,
) -> Path:
    """Render the report and write it atomically (a temporary file renamed into place);
    ``on_step`` hears of each part drawn (:func:`report_steps` of them)."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(str(out), (), "the report is HTML: give a .html file")
    runs = open_runs(paths)
    chosen = leading_metrics(runs, [parse_metric(m) for m in (metrics or DEFAULT_METRICS)])
    return write_page(render(runs, chosen, kinds, on_step), out)


def write_page(text: str, out: Path) -> Path:
    """An HTML page written atomically (a temporary file renamed into place): a crash or
    Ctrl-C never leaves half a report."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
