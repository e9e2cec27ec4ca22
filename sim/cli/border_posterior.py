"""``corridor calibrate --posterior``: wiring only (sim/workflow/border_posterior.py does it)."""

from __future__ import annotations

from pathlib import Path

from sim.cli.common import err, out, positive_workers, user_errors
from sim.cli.progress import progress_bar
from sim.errors import ConfigError


def border_posterior(
    draws: int,
    design_points: int,
    replications: int,
    seed: int,
    workers: int,
    out_file: Path,
    quiet: bool,
) -> None:
    """Simulate the design, sample, write the file and print the marginals."""
    from sim.analysis.observed import measure
    from sim.workflow.border_posterior import Settings, posterior, write

    settings = Settings(
        design_points=design_points,
        replications=replications,
        draws=draws,
        workers=positive_workers(workers),
    )
    command = (
        f".venv/bin/corridor calibrate --posterior --draws {draws} --design-points "
        f"{design_points} -r {replications} --seed {seed} --workers {workers} --out {out_file}"
    )
    with user_errors(), progress_bar(err, "border posterior", None, quiet) as step:
        if not out_file.parent.is_dir():  # before ten minutes of simulation, not after
            raise ConfigError("--out", (), f"no folder {out_file.parent} to write {out_file.name}")
        post = posterior(measure, settings, seed, on_step=step)
        write(post, out_file, command)
    out.print("| parameter | prior | shipped | median | 90 % interval |", markup=False)
    out.print("|---|---|---|---|---|", markup=False)
    for name, m in post.marginals.items():
        out.print(
            f"| {name} | {m.prior[0]:g}–{m.prior[1]:g} | {m.shipped:g} | {m.median:.3f} "
            f"| {m.q05:.3f}–{m.q95:.3f} |",
            markup=False,
        )
    out.print(f"written: {out_file} (seed {seed}, {post.size} draws)", markup=False)
