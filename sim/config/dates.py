"""Dates and moments in scenario files, checked so that a valid file never fails in a run.

A moment (``start``/``end`` of an event or a closure) is a calendar date, a date and time, or
a number of days from ``run.start_date``. YAML turns ``2023-03-01`` into a date itself; text
that YAML did not recognise (``2023/03/01``, ``1 March``) and impossible dates given on the
command line (``--set run.start_date=2023-02-30``) arrive here as strings and get a message
that names the accepted formats instead of pydantic's list of union branches. Dates are kept
between :data:`EARLIEST` and :data:`LATEST`, so the warm-up before a start date can never
underflow the calendar (``0001-01-01`` minus 30 days is no date at all).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from pydantic import BeforeValidator

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
MAX_DAY_OFFSET = 100_000.0
"""A moment given in days from run.start_date stays within ~270 years of it."""
FORMATS = "YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS]"


def _in_range(day: dt.date) -> None:
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"{day.isoformat()} is outside {EARLIEST.year}–{LATEST.year}")


def parse_date_text(text: str, allow_time: bool) -> dt.date:
    """ISO text to a date (or datetime), or a ValueError naming the accepted formats."""
    stripped = text.strip()
    formats = FORMATS if allow_time else "YYYY-MM-DD"
    shown = repr(stripped) if len(stripped) <= 30 else repr(stripped[:27] + "...")
    try:
        if len(stripped) <= 10:
            return dt.date.fromisoformat(stripped)
        if allow_time:
            return dt.datetime.fromisoformat(stripped)
    except ValueError as exc:
        reason = str(exc) if "out of range" in str(exc) or "must be in" in str(exc) else ""
        if reason:
            raise ValueError(f"{shown} is not a valid date ({reason}); write {formats}") from None
    raise ValueError(f"{shown} is not a date; write {formats}")


def check_moment(value: object) -> object:
    """Before pydantic's union: a date in range, or a finite number of days."""
    if isinstance(value, bool):
        raise ValueError(f"must be a date ({FORMATS}) or a number of days, not {value}")
    if isinstance(value, str):
        text = value
        try:
            value = float(text)
        except ValueError:
            value = parse_date_text(text, allow_time=True)
    if isinstance(value, dt.date):
        _in_range(value if not isinstance(value, dt.datetime) else value.date())
    elif isinstance(value, int | float) and not (
        math.isfinite(value) and abs(value) <= MAX_DAY_OFFSET
    ):
        raise ValueError(f"a number of days must be finite and within ±{MAX_DAY_OFFSET:,.0f}")
    return value


def check_date(value: object) -> object:
    """A calendar day (``run.start_date``, an observed window) in range; text parsed with a
    clear message. Only a date or date text is a date: pydantic would read a number as seconds
    since 1970 (``start_date: 0`` ran as 1970-01-01 without a word), and a day offset means
    nothing where there is no start date to count from."""
    if not isinstance(value, str | dt.date):
        shown = repr(value) if len(repr(value)) <= 30 else type(value).__name__
        raise ValueError(f"must be a date (YYYY-MM-DD), not {shown}")
    if isinstance(value, str):
        value = parse_date_text(value, allow_time=False)
    if isinstance(value, dt.datetime):
        if value.time() != dt.time():
            raise ValueError(f"must be a day ({value.date().isoformat()}), without a time")
        value = value.date()
    if isinstance(value, dt.date):
        _in_range(value)
    return value


When = Annotated[dt.datetime | dt.date | float, BeforeValidator(check_moment)]
"""A calendar date/time, or a day offset from ``run.start_date`` (negative: in the warm-up)."""
Day = Annotated[dt.date, BeforeValidator(check_date)]
"""A calendar day between EARLIEST and LATEST."""
