"""Terminal output of the mode choice: one line per iteration, tables for the summary."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from sim.choice.fixed_point import Iteration


def iteration_line(it: Iteration) -> str:
    return (
        f"iteration {it.iteration}: rail share {it.rail_share:.2%} -> response "
        f"{it.rail_response:.2%}, gap {it.gap:.4f}, step {it.step:.3f}, {it.wall_seconds:.2f} s"
    )


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def _share(est: dict[str, Any]) -> str:
    if est.get("ci_low") is None:
        return _pct(est["mean"])
    return f"{_pct(est['mean'])} ({_pct(est['ci_low'])} – {_pct(est['ci_high'])})"


def print_mode_choice(block: dict[str, Any], out: Console) -> None:
    """Modal split, rail demand vs input and delivered, cost and days per FEU by option."""
    state = "converged" if block["converged"] else "NOT converged"
    rail = block["rail_teu_per_year"]
    split = block["modal_split"]
    directions = [d for d in split if d != "all"]
    table = Table(
        title=f"mode choice: {state} after {block['iterations']} iteration(s) "
        f"(gap {block['gap']:.4f}, tolerance {block['tolerance']:g})",
        title_justify="left",
    )
    for col in ("option", "share", "95% CI", "TEU/year", *[f"days {d}" for d in directions]):
        table.add_column(col, justify="left" if col == "option" else "right")
    first = directions[0] if directions else ""
    costs = Table(
        title=f"rate and generalised cost, USD per FEU ({first}), by cargo class",
        title_justify="left",
    )
    costs.add_column("option")
    costs.add_column("rate", justify="right")
    classes: list[str] = []
    for opt in block["options"].values():
        for c in opt["generalised_cost_usd_per_feu"].get(first, {}):
            if c not in classes:
                classes.append(c)
    for c in classes:
        costs.add_column(c, justify="right")
    for oid, opt in block["options"].items():
        row = split["all"][oid]
        share = row["share"]
        if opt["available_fraction"] <= 0:
            ci = "closed"
        elif share["ci_low"] is None:
            ci = "–"
        else:
            ci = f"{_pct(share['ci_low'])}–{_pct(share['ci_high'])}"
        if 0 < opt["available_fraction"] < 1:
            ci += f" (open {opt['available_fraction']:.0%})"
        table.add_row(
            oid,
            _pct(share["mean"]),
            ci,
            f"{row['teu_per_year']:,.0f}",
            *[
                f"{opt['transit_days'][d]['mean']:.1f}" if d in opt["transit_days"] else "–"
                for d in directions
            ],
        )
        per = opt["generalised_cost_usd_per_feu"].get(first, {})
        costs.add_row(
            oid,
            f"{opt['rate_usd_per_feu']:,.0f}",
            *[f"{per[c]:,.0f}" if c in per else "–" for c in classes],
        )
    out.print(table)
    out.print(costs)
    out.print(
        f"rail demand {rail['chosen']:,.0f} TEU/year (share {_share(block['rail_share'])}); "
        f"scenario flows as written {rail['input']:,.0f}; shifted to rail "
        f"{rail['shifted_to_rail']:+,.0f}; delivered {rail['delivered']['mean']:,.0f}; "
        f"capacity shortfall {rail['shortfall']['mean']:,.0f} TEU/year",
        highlight=False,
    )
    cal = block.get("calibration")
    if cal:
        verdict = "within" if cal["within_tolerance"] else "OUTSIDE"
        out.print(
            f"calibration: model rail share {cal['model_rail_share']:.2%} vs observed "
            f"{cal['target_rail_share']:.2%} ({cal['observed_rail_teu_per_year']:,.0f} TEU): "
            f"{cal['relative_error']:+.1%}, {verdict} ±{cal['tolerance']:.0%}",
            highlight=False,
        )
