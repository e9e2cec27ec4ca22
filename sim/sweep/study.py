"""What an exploratory study asks of its sweep: the questions and the inputs' plain names.

A study (``scenarios/studies/*.yaml``) is a sweep file with a ``study:`` block. The block is
read only by the study's report (``corridor study-report``), never by the sweep itself, so it
is not part of the sweep's definition: rewording a label does not stop ``--resume``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Question(BaseModel):
    """Where does a KPI pass a threshold? Answered by PRIM (``corridor discover``)."""

    model_config = ConfigDict(extra="forbid")

    kpi: str = Field(description="KPI, node:NODE:KPI, market:M:KPI (as corridor discover)")
    direction: Literal["above", "below"] = "above"
    threshold: float
    words: str = Field(description="the condition in plain words: 'Brest's backlog takes …'")


class InputLabel(BaseModel):
    """An input's plain name, and plain words for its categories (true/false, null)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    unit: str = ""
    values: dict[str, str] = Field(default_factory=dict, description="category → words")


class StudyBlock(BaseModel):
    """The ``study:`` block of a sweep file."""

    model_config = ConfigDict(extra="forbid")

    title: str
    questions: list[Question] = Field(min_length=1)
    labels: dict[str, InputLabel] = Field(default_factory=dict, description="column → label")
    min_density: float = Field(default=0.8, gt=0, le=1)
