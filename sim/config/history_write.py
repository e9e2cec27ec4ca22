"""Writing what ``corridor fit-history`` found into the demand's params files.

A structure file's hand-written part (switches and priors, with their comments) and the
ensemble file's (structures and rule) are kept verbatim; everything after the marker line is
regenerated, so the same seed rewrites the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.config.demand import Posterior

MARKER = "# --- written by corridor fit-history (do not edit below) ---"


def _replace_tail(path: Path, comment: str, body: str) -> None:
    text = path.read_text(encoding="utf-8")
    head = text.split(MARKER)[0].rstrip("\n")
    path.write_text(f"{head}\n{MARKER}\n{comment}{body}", encoding="utf-8")


def write_posterior(path: Path, posterior: Posterior, provenance: str) -> None:
    """Replace a structure file's posterior (one flow-style row per draw)."""
    head = {
        k: v
        for k, v in posterior.model_dump(mode="json").items()
        if k not in ("draws", "names", "exact_loo")
    }
    lines = [yaml.safe_dump({"posterior": head}, sort_keys=False, width=100).rstrip("\n")]
    lines.append("  names: [" + ", ".join(posterior.names) + "]")
    lines.append("  draws:")
    lines += ["  - [" + ", ".join(f"{v:.6g}" for v in row) + "]" for row in posterior.draws]
    if posterior.exact_loo:
        lines.append("  exact_loo:")
        for year, e in sorted(posterior.exact_loo.items()):
            lines.append(f"    {year}:")
            lines.append(f"      pareto_k: {e.pareto_k:.4g}")
            for name in ("loglik", "total_teu", "discrepancy_sd"):
                values = ", ".join(f"{v:.6g}" for v in getattr(e, name))
                lines.append(f"      {name}: [{values}]")
    comment = (
        f"# posterior: {provenance}; equally weighted draws of every parameter (fixed ones at\n"
        "# their value), in the order of `names`, from the observations of 2016–2023 only.\n"
    )
    _replace_tail(path, comment, "\n".join(lines) + "\n")


def write_ensemble(path: Path, generated: dict[str, Any], provenance: str) -> None:
    """Replace the ensemble file's weights and leave-one-period-out figures."""
    body = yaml.safe_dump(generated, sort_keys=False, allow_unicode=True, width=100)
    comment = (
        f"# weights and checks: {provenance}; the rule above was fixed before any 2024–25\n"
        "# prediction was printed (docs/mode_choice.md, 'The rule that weighs the structures').\n"
    )
    _replace_tail(path, comment, body)
