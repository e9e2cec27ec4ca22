"""Writing what ``corridor fit-history`` found into ``params/history_choice.yaml``.

The file's hand-written part (assumptions, with their comments) is kept verbatim; everything
after the marker line is regenerated, so the same seed rewrites the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.config.history import Fitted

MARKER = "# --- written by corridor fit-history (do not edit below) ---"


def _plain(f: Fitted) -> dict[str, Any]:
    """Parameters rounded to 6 significant digits (the fit's tolerance is far coarser)."""

    def r(x: float) -> float:
        return float(f"{x:.6g}")

    out: dict[str, Any] = {
        "cost_scale_usd": r(f.cost_scale_usd),
        "constant_usd_per_feu": {k: r(v) for k, v in f.constant_usd_per_feu.items()},
        "sanctions_usd_per_feu": r(f.sanctions_usd_per_feu),
        "sanctions_excluded_share": r(f.sanctions_excluded_share),
        "adjustment_rate_up": r(f.adjustment_rate_up),
        "adjustment_rate_down": r(f.adjustment_rate_down),
        "initial_ratio": r(f.initial_ratio),
        "supply": {"a": r(f.supply.a), "b": r(f.supply.b)},
    }
    if f.coverage is not None:
        out["coverage"] = {
            "rate_per_year": r(f.coverage.rate_per_year),
            "midpoint_year": r(f.coverage.midpoint_year),
        }
    return out


def write_fit(
    path: Path,
    fitted: Fitted,
    years: Sequence[int],
    seed: int,
    leave_one_out: dict[int, Fitted],
    provenance: str,
) -> None:
    """Replace the generated part of the params file with this fit."""
    text = path.read_text(encoding="utf-8")
    head = text.split(MARKER)[0].rstrip("\n")
    doc = {
        "fit_seed": seed,
        "fit_years": list(years),
        "fitted": _plain(fitted),
        "leave_one_out": {y: _plain(f) for y, f in sorted(leave_one_out.items())},
    }
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    comment = (
        f"# fitted: {provenance}; to Y1 totals, Y2 first halves and westbound shares, and the\n"
        "# C9 through rates of 2020 and 2021 (params/history_observed.yaml); leave_one_out: the\n"
        "# same fit without each year, for out-of-sample errors and the fit's uncertainty.\n"
    )
    path.write_text(f"{head}\n{MARKER}\n{comment}{body}", encoding="utf-8")
