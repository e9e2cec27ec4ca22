"""The border posterior's marginals and pairs (docs/border_posterior.md), from the shipped
draws in params/border_posterior.yaml: a histogram per parameter with its prior range, the
shipped point fit and the 90 % interval, and the pairs' scatter. Under a second; writes
docs/img/border_posterior.png.

    .venv/bin/python docs/experiments/border_posterior_figure.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sim.config.border_posterior import PARAMETERS, load_border_posterior

LABELS = {
    "g": "g (share of B19 needing the handover)",
    "lambda": "λ (displaced per train)",
    "h": "h (Dostyk H2 2021 surge)",
}


def main() -> None:
    post = load_border_posterior(Path("params/border_posterior.yaml"))
    d = {p: np.array(post.draws[p]) for p in PARAMETERS}
    fig, axes = plt.subplots(3, 3, figsize=(9, 8))
    for i, pi in enumerate(PARAMETERS):
        for j, pj in enumerate(PARAMETERS):
            ax = axes[i, j]
            m = post.marginals[pj]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                ax.hist(d[pi], bins=25, range=m.prior, color="#4477aa")
                ax.axvline(m.shipped, color="#cc3311", label="shipped point fit")
                for q in (m.q05, m.q95):
                    ax.axvline(q, color="k", ls=":")
                ax.set_yticks([])
            else:
                ax.scatter(d[pj], d[pi], s=4, alpha=0.5, color="#4477aa")
                ax.scatter([m.shipped], [post.marginals[pi].shipped], color="#cc3311", s=20)
                ax.set_xlim(*m.prior)
                ax.set_ylim(*post.marginals[pi].prior)
            if i == 2:
                ax.set_xlabel(LABELS[pj], fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"Border posterior: {post.size} draws (seed {post.seed}); dotted: 90 % interval")
    fig.tight_layout()
    fig.savefig("docs/img/border_posterior.png", dpi=80)


if __name__ == "__main__":
    main()
