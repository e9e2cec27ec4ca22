"""Commands that read results directories: ``compare``, ``plot``, ``report``.

They never simulate: every number comes from the results store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sim.cli.common import MARKET_HELP, app, err, out, user_errors
from sim.cli.markets import for_market
from sim.cli.progress import progress_bar
from sim.errors import ConfigError


@app.command()
def compare(
    runs: Annotated[
        list[Path], typer.Argument(help="results directories; the first is the baseline")
    ],
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", help="KPI, node:NODE:KPI or flow:FLOW:KPI (repeatable)"),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="also draw the bar chart into this file, .png or .svg"),
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="also write the differences as CSV")
    ] = None,
    market: Annotated[str | None, typer.Option(help=MARKET_HELP)] = None,
) -> None:
    """Differences from the first run with CIs (paired when seeds match); --out draws bars."""
    # nothing is written unless asked (--out, --csv): a comparison read in the terminal
    # leaves no file behind in the working directory
    # imported here, not at the top: matplotlib is slow to import and `run` never needs it
    from sim.analysis.compare import (
        DEFAULT_METRICS,
        difference_rows,
        differences,
        leading_metrics,
        pairing_legend,
        write_csv,
    )
    from sim.plots import save_figure
    from sim.plots.common import check_format
    from sim.plots.comparison import comparison_figure
    from sim.store.runs import open_runs, parse_metric

    with user_errors():
        if out_file is not None:
            check_format(out_file)
        chosen = list(metric or DEFAULT_METRICS)
        parsed = [parse_metric(m) for m in (for_market(chosen, market) if market else chosen)]
        opened = open_runs(runs)
        metrics = leading_metrics(opened, parsed)
        for run in opened:  # an unknown node or KPI is named whether or not bars are drawn
            for m in metrics:
                run.estimate(m)
        diffs = differences(opened, metrics)
        if out_file is not None:
            save_figure(comparison_figure(opened, metrics, diffs), out_file)
        if diffs:
            conf = round(opened[0].confidence * 100)
            mixed = len({d.paired for d in diffs}) > 1
            table = Table(title=f"difference from {opened[0].label}", title_justify="left")
            drawn = any(d.prediction is not None for d in diffs)
            heads = ["metric", "scenario", "difference", f"{conf}% CI", "relative"]
            extra = (["interval"] if mixed else []) + (
                ["change, 90% prediction interval"] if drawn else []
            )
            for head in heads + extra:
                left = head in heads[:2]
                table.add_column(head, justify="left" if left else "right", overflow="fold")
            for row in difference_rows(diffs):
                unit = f" {row['unit']}" if row["unit"] not in ("", "pp") else ""
                cells = [row["metric"], row["scenario"], row["difference"] + unit, row["ci"]]
                table.add_row(
                    *cells,
                    row["relative"],
                    *([row["method"]] if mixed else []),
                    *([row["prediction"]] if drawn else []),
                )
            out.print(table)
            out.print("\n".join(pairing_legend(diffs)), highlight=False, markup=False)
        if csv_file is not None:
            write_csv(diffs, csv_file)
            out.print(f"wrote {csv_file}", highlight=False)
        if out_file is not None:
            out.print(f"wrote {out_file}", highlight=False)


@app.command()
def plot(
    directory: Annotated[Path, typer.Argument(help="results directory or sweep directory")],
    kind: Annotated[
        str,
        typer.Option(
            help="throughput|queues|transit|utilisation|train-graph|map "
            "(run); response|heatmap|sensitivity (sweep)"
        ),
    ],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="image file, .png or .svg (default KIND.png)")
    ] = None,
    route: Annotated[str | None, typer.Option(help="train-graph: route id")] = None,
    replication: Annotated[int, typer.Option(help="train-graph: replication")] = 0,
    days: Annotated[
        str | None, typer.Option(help="train-graph: window FROM:TO in days from start_date")
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="sweep: KPI, node:NODE:KPI or flow:FLOW:KPI")
    ] = None,
    x: Annotated[str | None, typer.Option(help="sweep: parameter on the x axis")] = None,
    by: Annotated[
        str | None, typer.Option(help="sweep: second parameter (lines or heatmap rows)")
    ] = None,
    market: Annotated[str | None, typer.Option(help="transit: this market's flows only")] = None,
) -> None:
    """Draw one chart of a run or a sweep into a PNG or SVG file."""
    from sim.plots import PlotOptions
    from sim.plots import plot as draw_plot
    from sim.plots.common import check_format

    with user_errors():
        target = out_file or Path(f"{kind}.png")
        check_format(target)
        window = None
        if days is not None:
            try:
                a, b = (float(v) for v in days.split(":"))
            except ValueError:
                raise ConfigError("--days", (), f"'{days}': use FROM:TO, e.g. 200:260") from None
            window = (a, b)
        opts = PlotOptions(route, replication, window, metric, x, by, market)
        draw_plot(directory, kind, target, opts)
        out.print(f"wrote {target}", highlight=False)


@app.command()
def report(
    runs: Annotated[
        list[Path], typer.Argument(help="results directories; the first is the baseline")
    ],
    out_file: Annotated[Path, typer.Option("--out", help="HTML file")] = Path("report.html"),
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", help="KPIs for the comparison (repeatable)"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    market: Annotated[str | None, typer.Option(help=MARKET_HELP)] = None,
) -> None:
    """One self-contained HTML page: findings, comparison chart, then details and plots."""
    from sim.analysis.compare import DEFAULT_METRICS
    from sim.plots import RUN_KINDS
    from sim.report.html import report_steps, write_report

    total = report_steps(len(runs), len(RUN_KINDS))
    with user_errors(), progress_bar(err, "report", total, quiet) as step:
        chosen = list(metric or DEFAULT_METRICS)
        write_report(runs, out_file, for_market(chosen, market) if market else metric, on_step=step)
        out.print(f"report: {out_file}", highlight=False)
