"""Shared drawing helpers: figures without pyplot, date axes, event shading, saving.

Figures are built with ``matplotlib.figure.Figure`` directly (the Agg canvas), never through
pyplot: no display is needed, and no global figure registry grows while a report draws dozens
of charts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from sim.config.scenario import Event
from sim.errors import ConfigError
from sim.store.runs import RunData

matplotlib.use("Agg")

FORMATS = (".png", ".svg", ".pdf")
EVENT_COLOURS = {"closure": "#d62728", "capacity change": "#ff7f0e", "demand change": "#1f77b4"}


def new_figure(width: float = 10.0, height: float = 5.5) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # a renderer for measuring text (label overlap) and for PNG
    return fig


def date_axis(ax: Axes) -> None:
    """Concise automatic date ticks: never more labels than fit, year shown once."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=9)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel("date")


def event_kind(event: Event) -> str:
    if event.demand_factor is not None:
        return "demand change"
    if event.servers == 0 or event.capacity_factor == 0:
        return "closure"
    return "capacity change"


@dataclass(frozen=True)
class Span:
    """An enabled event clipped to the measurement window, in days from start_date."""

    event_id: str
    kind: str
    start_day: float
    end_day: float
    targets: tuple[str, ...]


def event_spans(run: RunData) -> list[Span]:
    spans = []
    for eid, event in run.scenario.events.items():
        if not event.enabled:
            continue
        start, end = run.event_days(event)
        start, end = max(start, 0.0), min(end, run.horizon_days)
        if end > start:
            spans.append(Span(eid, event_kind(event), start, end, tuple(event.targets)))
    return spans


LONG_EVENT = 0.5  # share of the window from which an event is a strip, not a shade


def shade_events(ax: Axes, run: RunData, spans: list[Span] | None = None) -> None:
    """Closures red, capacity changes orange, demand changes blue; one legend entry each.

    An event covering half the window or more (a year-long demand shock) is drawn as a strip
    along the top instead: shading the whole chart would tint every line and mark nothing.
    """
    for span in event_spans(run) if spans is None else spans:
        x0, x1 = run.dates(span.start_day), run.dates(span.end_day)
        long = span.end_day - span.start_day >= LONG_EVENT * run.horizon_days
        ax.axvspan(
            x0,  # type: ignore[arg-type]
            x1,  # type: ignore[arg-type]
            ymin=0.96 if long else 0.0,
            ymax=1.0,
            color=EVENT_COLOURS[span.kind],
            alpha=0.6 if long else 0.15,
            lw=0,
            label=f"{span.kind}: {span.event_id}" + (" (strip at the top)" if long else ""),
            gid=f"event:{span.event_id}",
        )


def drop_overlapping(fig: Figure, texts: Sequence[Text]) -> list[Text]:
    """Hide texts that would overlap one placed earlier (callers order by importance)."""
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg), "figures come from new_figure()"
    fig.draw_without_rendering()
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    placed: list[Bbox] = []
    kept = []
    for text in texts:
        box = text.get_window_extent(renderer).expanded(1.05, 1.1)
        if any(box.overlaps(other) for other in placed):
            text.set_visible(False)
            continue
        placed.append(box)
        kept.append(text)
    return kept


def check_format(out: Path) -> None:
    if out.suffix.lower() not in FORMATS:
        raise ConfigError(
            str(out), (), f"unknown image format '{out.suffix}' (use {', '.join(FORMATS)})"
        )


def save_figure(fig: Figure, out: Path, dpi: int = 120) -> Path:
    """Write PNG/SVG/PDF by extension, atomically (a temporary file renamed into place)."""
    check_format(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}{out.suffix}")
    try:
        fig.savefig(tmp, dpi=dpi, format=out.suffix.lower().lstrip("."))
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
