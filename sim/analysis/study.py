"""An exploratory study's findings: each question's PRIM boxes, stated in plain words.

A study is a sweep file with a ``study:`` block (:mod:`sim.sweep.study`): questions (a KPI
above or below a threshold) and plain names for the inputs. For each question this module
runs the same scenario discovery as ``corridor discover`` (:func:`sim.analysis.discovery.
discover`, EMA Workbench's PRIM) and turns every box into a sentence that leads with the
condition: "Brest's backlog takes > 7 days to clear when the closure lasts ≥ 9.1 days and …",
with the box's coverage and density. Nothing is simulated here; it reads the sweep store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.analysis.discovery import Box, Discovery, Limit, discover, number
from sim.errors import ConfigError
from sim.store.sweeps import read_sweep_manifest
from sim.sweep.study import InputLabel, Question, StudyBlock
from sim.sweep.sweep_file import read_sweep_file


@dataclass(frozen=True)
class Finding:
    """One question's answer: the discovery and its sentences (one per box, or why none)."""

    question: Question
    discovery: Discovery
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class StudyFindings:
    sweep_dir: Path
    study: StudyBlock
    description: str
    points: int  # points with results (fewer than planned while the sweep is unfinished)
    planned: int
    replications: int
    findings: tuple[Finding, ...]


def study_block(sweep_dir: Path) -> tuple[StudyBlock, str]:
    """The ``study:`` block of the sweep file a sweep directory was made from."""
    manifest = read_sweep_manifest(sweep_dir)
    name = manifest.get("sweep_file")
    if not name:
        raise ConfigError(str(sweep_dir), ("sweep_file",), "was not made from a sweep file")
    sweep, _ = read_sweep_file(Path(name))
    if sweep.study is None:
        raise ConfigError(name, ("study",), "missing: a study names its questions and labels")
    return sweep.study, sweep.description


def _label(labels: dict[str, InputLabel], column: str) -> InputLabel:
    return labels.get(column, InputLabel(name=column))


def limit_words(limit: Limit, labels: dict[str, InputLabel]) -> str:
    """One restricted input in words: "the closure lasts ≥ 9.1 days", "Suez is open"."""
    label = _label(labels, limit.parameter)
    if limit.categories:
        plain = [c.strip('"') for c in limit.categories]  # a date column holds JSON text
        said = [label.values.get(c, c) for c in plain]
        if all(c in label.values for c in plain):
            return " or ".join(said)
        return f"{label.name} is {' or '.join(said)}"
    unit = f" {label.unit}" if label.unit else ""
    if limit.low is not None and limit.high is not None:
        return f"{label.name} is {number(limit.low)}–{number(limit.high)}{unit}"
    if limit.low is not None:
        return f"{label.name} is ≥ {number(limit.low)}{unit}"
    high = limit.high if limit.high is not None else float("inf")
    return f"{label.name} is ≤ {number(high)}{unit}"


def box_sentence(question: Question, box: Box, labels: dict[str, InputLabel]) -> str:
    where = " and ".join(limit_words(limit, labels) for limit in box.limits) or "anywhere"
    return (
        f"{question.words} when {where} (coverage {box.coverage:.2f}, density "
        f"{box.density:.2f}: {box.of_interest} of the {box.points} points in the box)"
    )


def _sentences(question: Question, found: Discovery, labels: dict[str, InputLabel]) -> list[str]:
    if found.boxes:
        return [box_sentence(question, box, labels) for box in found.boxes]
    # no box: discovery's own line says why (never, almost everywhere, or scattered)
    return [f"{question.words}: " + " ".join(found.describe())]


def study_findings(sweep_dir: Path, max_boxes: int = 3) -> StudyFindings:
    """Every question of the study answered on the sweep's points."""
    study, description = study_block(sweep_dir)
    manifest: dict[str, Any] = read_sweep_manifest(sweep_dir)
    findings = []
    for q in study.questions:
        found = discover(sweep_dir, q.kpi, q.threshold, q.direction, study.min_density, max_boxes)
        findings.append(Finding(q, found, tuple(_sentences(q, found, study.labels))))
    return StudyFindings(
        sweep_dir=sweep_dir,
        study=study,
        description=description,
        points=max(f.discovery.points for f in findings),
        planned=int(manifest.get("points", 0)),
        replications=int(manifest.get("replications", 1)),
        findings=tuple(findings),
    )
