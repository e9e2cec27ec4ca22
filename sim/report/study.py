"""The study's report page (``corridor study-report``): the boxes in plain words first.

Rendered from the Jinja2 templates of the run report (``study.html.j2`` and its macros), with
the study's figure (:mod:`sim.plots.study`) embedded, so the page is one file that opens with
no network, like ``corridor report``'s.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from markupsafe import Markup

from sim.analysis.discovery import number
from sim.analysis.study import StudyFindings
from sim.errors import ConfigError
from sim.plots.study import study_figure
from sim.report.html import STYLE, png_data_uri, templates, write_page


def _range(spec: tuple[float, float] | tuple[str, ...]) -> str:
    if spec and isinstance(spec[0], str):
        return ", ".join(str(v) for v in spec)
    low, high = spec
    return f"{number(float(low))} – {number(float(high))}"


def render_study(study: StudyFindings) -> str:
    labels = study.study.labels
    findings = []
    for f in study.findings:
        d = f.discovery
        flag = f"--{f.question.direction} {f.question.threshold:g}"
        findings.append(
            {
                "kpi": f.question.kpi,
                "words": f.question.words,
                "sentences": list(f.sentences),
                "condition": d.condition,
                "of_interest": d.of_interest,
                "points": d.points,
                "low": f"{d.kpi_low:.3g}",
                "high": f"{d.kpi_high:.3g}",
                "command": f".venv/bin/corridor discover {study.sweep_dir} {f.question.kpi} {flag}",
            }
        )
    first = study.findings[0].discovery.inputs if study.findings else {}
    inputs = [[labels[c].name if c in labels else c, c, _range(spec)] for c, spec in first.items()]
    fig = study_figure(study)
    context: dict[str, object] = {
        "style": Markup(STYLE),
        "title": study.study.title,
        "description": study.description,
        "points": study.points,
        "planned": study.planned,
        "replications": study.replications,
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "sweep_dir": str(study.sweep_dir),
        "findings": findings,
        "figure": {
            "src": png_data_uri(fig),
            "alt": "points of the study on the inputs of each question's first box",
            "caption": "Each panel: the study's points on the inputs the first box restricts; "
            "red where the condition holds; the rectangle is the box.",
        },
        "min_density": f"{study.study.min_density:.2f}",
        "inputs": inputs,
    }
    return templates().get_template("study.html.j2").render(context)


def write_study_report(study: StudyFindings, out: Path) -> Path:
    """Write the page atomically (a temporary file renamed into place)."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(str(out), (), "the report is HTML: give a .html file")
    return write_page(render_study(study), out)
