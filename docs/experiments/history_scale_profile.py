"""Profile of the time-series choice's logit scale (docs/mode_choice.md, "Read these with care").

The shipped fit has its scale on the 20,000 USD/FEU bound and its constants on the 40,000
bound. This refits the twelve parameters with the scale fixed at each value given on the
command line and the constants' upper bound widened to 400,000, same data
(params/history_observed.yaml), seed, starts and continuation as `corridor fit-history`, and
prints the cost and the fitted values: how well the history pins the scale, which sets how
far rail answers a sea-rate shock.

An experiment, not part of the package: it widens sim.choice.fit_history.UPPER in this
process only. Run from the repository root (about a minute):
    .venv/bin/python docs/experiments/history_scale_profile.py 5000 10000 20000 40000 80000
"""

import sys
import time
from pathlib import Path

import yaml

import sim.choice.fit_history as F
import sim.choice.history as H
from sim.choice.year_chain import history_chain
from sim.config.history import Observed
from sim.config.history_files import load_history_params

ROOT = Path(__file__).resolve().parents[2]
params = load_history_params(ROOT / "params/history_choice.yaml")
a = params.assumptions
obs = Observed.model_validate(
    yaml.safe_load((ROOT / "params/history_observed.yaml").read_text(encoding="utf-8"))
)
inputs = [H.year_inputs(f.history, a) for f in history_chain(ROOT / "scenarios/history")]
years = list(range(2016, 2024))
F.UPPER[1] = F.UPPER[2] = 400000.0  # the constants' bound, widened
for scale in [float(x) for x in sys.argv[1:]]:
    t = time.time()
    r = F.fit(inputs, a, obs, years, params.fit_seed, 8, {"cost_scale_usd": scale})
    f = r.fitted
    assert f.coverage is not None
    print(
        f"scale {scale:6.0f}  cost {r.cost:.3f}  constants"
        f" {f.constant_usd_per_feu['westbound']:7.0f}/{f.constant_usd_per_feu['eastbound']:7.0f}"
        f"  sanctions {f.sanctions_usd_per_feu:5.0f} excl {f.sanctions_excluded_share:.2f}"
        f"  theta up/down {f.adjustment_rate_up:.2f}/{f.adjustment_rate_down:.2f}"
        f"  coverage {f.coverage.rate_per_year:.2f}/{f.coverage.midpoint_year:.1f}"
        f"  ({time.time() - t:.0f} s)",
        flush=True,
    )
