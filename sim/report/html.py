"""One self-contained HTML page comparing runs: findings first, the comparison chart, then
the details folded (differences, KPI tables, settings, plots).

Images are embedded as base64 PNG so the file can be mailed or archived on its own; nothing is
fetched from the network when it is opened.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
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
from sim.engine.market_kpis import MARKET_UNITS
from sim.errors import ConfigError
from sim.formatting import format_value
from sim.kpis import kpis, lookup
from sim.plots import RUN_KINDS, PlotOptions, run_figure
from sim.plots.common import event_kind
from sim.plots.comparison import comparison_figure, run_colours
from sim.progress import Step
from sim.report.interactive import interactive_section
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


def _e(text: object) -> str:
    return html.escape(str(text))


def _figure(fig: Figure, caption: str, alt: str) -> str:
    return (
        f'<figure><img alt="{_e(alt)}" src="{png_data_uri(fig)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _table(head: list[str], rows: Iterable[list[str]], left: int = 1) -> str:
    def cells(tag: str, values: list[str]) -> str:
        return "".join(
            f"<{tag}{' class=l' if i < left else ''}>{v}</{tag}>" for i, v in enumerate(values)
        )

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f"<table><thead><tr>{cells('th', head)}</tr></thead><tbody>{body}</tbody></table>"


def scenario_section(run: RunData) -> str:
    s = run.scenario
    facts = [
        ["results directory", _e(run.path)],
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
        ["created", _e(run.manifest.get("created_utc", ""))],
        ["code", _e(run.manifest.get("git_revision") or "unknown")],
    ]
    out = [f"<h3>{_e(run.label)}</h3>", f"<p>{_e(s.description or '(no description)')}</p>"]
    out.append(_table(["", ""], facts, left=2))
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
        events.append(
            [
                _e(eid),
                event_kind(ev) if ev.enabled else "disabled",
                _e(", ".join(ev.targets)),
                f"{dates[0]} → {dates[1]}",
                _e(levers),
                _e(ev.description),
            ]
        )
    if events:
        out.append(
            _table(["event", "kind", "targets", "from → to", "sets", "description"], events, left=6)
        )
    return "\n".join(out)


def kpi_table(runs: list[RunData]) -> str:
    conf = round(runs[0].confidence * 100)
    head = ["KPI", "unit"] + [f"{_e(r.label)}<br>mean ({conf}% CI)" for r in runs]
    rows = []
    for kpi, info in kpis("corridor", "summary").items():
        if any(kpi not in r.summary["kpis"] for r in runs):
            continue  # an optional KPI (held trains: only with finite room) some run lacks
        unit = info.unit
        row = [f'<span title="{_e(info.definition)}">{_e(info.label)}</span>', unit]
        for r in runs:
            est = r.summary["kpis"][kpi]
            mean = format_value(_f(est["mean"]), unit)
            ci = (
                f"<br><span class=note>{format_value(_f(est['ci_low']), unit)} … "
                f"{format_value(_f(est['ci_high']), unit)}</span>"
            )
            row.append(mean + (ci if est["ci_low"] is not None else ""))
        rows.append(row)
    return _table(head, rows, left=2)


def market_table(runs: list[RunData]) -> str:
    """KPIs by market (sim/engine/market_kpis.py) for the runs that have several; empty
    otherwise."""
    conf = round(runs[0].confidence * 100)
    head = ["market", "KPI", "unit"] + [f"{_e(r.label)}<br>mean ({conf}% CI)" for r in runs]
    names = list(dict.fromkeys(m for r in runs for m in r.summary.get("markets", {})))
    rows = []
    for market in names:
        for kpi, unit in MARKET_UNITS.items():
            kpi_info = lookup("market", kpi)
            row = [_e(market), kpi_info.label if kpi_info else kpi.replace("_", " "), unit]
            for r in runs:
                est = r.summary.get("markets", {}).get(market, {}).get(kpi)
                if est is None:
                    row.append("–")
                    continue
                low, high = _f(est["ci_low"]), _f(est["ci_high"])
                ci = f"<br><span class=note>{format_value(low, unit)} … {format_value(high, unit)}"
                row.append(format_value(_f(est["mean"]), unit) + ci + "</span>")
            rows.append(row)
    return _table(head, rows, left=3) if rows else ""


def _f(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def comparison_section(runs: list[RunData], metrics: list[Metric]) -> tuple[str, str]:
    """The comparison chart, and the table of differences (shown folded)."""
    diffs = differences(runs, metrics)
    chart = _figure(
        comparison_figure(runs, metrics, diffs),
        "Bars: mean across replications with the confidence interval; labels: "
        f"difference from {runs[0].label} (* when the interval excludes 0).",
        "comparison bar chart",
    )
    out = []
    rows = []
    for r in difference_rows(diffs):
        cls = " class=sig" if r["significant"] == "yes" else ""
        rows.append(
            [
                _e(r["metric"]),
                _e(r["scenario"]),
                f"<span{cls}>{r['difference']}</span>",
                r["ci"],
                r["relative"],
                r["unit"],
                r["n"],
                _e(r["method"]),
            ]
        )
    out.append(
        _table(
            [
                "metric",
                "scenario",
                f"difference vs {_e(runs[0].label)}",
                "CI",
                "relative",
                "unit",
                "pairs / n",
                "interval",
            ],
            rows,
            left=2,
        )
    )
    out += [f"<p class=note>{_e(line)}</p>" for line in pairing_legend(diffs)]
    return chart, "\n".join(out)


def plots_section(run: RunData, kinds: Iterable[str], on_step: Step | None = None) -> str:
    out = [f"<h3>{_e(run.label)}</h3>"]
    for kind in kinds:
        if on_step is not None:
            on_step(f"{run.label}: {kind}")
        try:
            fig = run_figure(run, kind, PlotOptions())
        except ConfigError as exc:
            out.append(f"<p class=note>{_e(kind)}: not drawn ({_e(exc.problem)})</p>")
            continue
        out.append(_figure(fig, CAPTIONS.get(kind, kind), f"{kind} of {run.label}"))
    return "\n".join(out)


def findings_section(runs: list[RunData]) -> str:
    """The first screen: generated sentences per scenario against the baseline."""
    found = findings(runs)
    if not found:
        return ""
    conf = round(runs[0].confidence * 100)
    out = [
        "<section id=findings><h2>Findings</h2>",
        f"<p class=note>Generated from the results: each scenario against {_e(runs[0].label)}; "
        f"differences with their {conf}% interval in brackets "
        f"({_e('; '.join(pairing_legend(differences(runs, [_THROUGHPUT]))))}).</p>",
    ]
    for f in found:
        out.append(
            f'<div class=finding data-scenario="{_e(f.scenario)}">'
            f"<h3>{_e(f.scenario)}</h3><p>{f.html()}</p></div>"
        )
    out.append("</section>")
    return "\n".join(out)


def _details(title: str, body: str, open_: bool = False) -> str:
    """A folded section: the details stay one click away, below the answer."""
    flag = " open" if open_ else ""
    return f"<details{flag}><summary>{_e(title)}</summary>\n{body}\n</details>"


def report_steps(runs: int, kinds: int) -> int:
    """How many steps :func:`render` reports: findings, comparison, each plot of each run."""
    return 2 + runs * kinds


def render(
    runs: list[RunData],
    metrics: list[Metric],
    kinds: Iterable[str],
    on_step: Step | None = None,
) -> str:
    """Findings first, then the comparison chart, then the details folded."""
    step = on_step or (lambda note: None)
    kinds = list(kinds)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    names = ", ".join(r.label for r in runs)
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>corridor report: {_e(names)}</title><style>{STYLE}</style></head><body>",
        f"<h1>corridor report</h1><p class=note>{_e(names)} — generated {now} from the "
        "results store (no simulation re-run).</p>",
        findings_section(runs),
    ]
    step("findings")
    if by_market := market_table(runs):
        parts.append(_details("By market: China–EU, Belarus–China, other traffic", by_market))
    if len(runs) > 1:
        chart, table = comparison_section(runs, metrics)
        parts += [f"<h2>Comparison with {_e(runs[0].label)}</h2>", chart]
        parts.append(_details("Differences, with intervals and method", table))
    parts.append(interactive_section(runs, run_colours(len(runs))))
    parts += [
        _details("Key performance indicators of every run", kpi_table(runs), open_=len(runs) == 1),
        _details(
            "Scenarios: descriptions, settings and events",
            "\n".join(scenario_section(r) for r in runs),
        ),
    ]
    step("comparison")
    parts += [_details(f"Plots of {r.label}", plots_section(r, kinds, on_step)) for r in runs]
    parts.append("</body></html>")
    return "\n".join(parts)


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
    text = render(runs, chosen, kinds, on_step)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
