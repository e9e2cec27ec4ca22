"""The choice's border from the network, per shipped history year (docs/model.md, "The
choice's border, from the network"): each half-year's China–EU capacity per direction from
the simulated crossing(s) and the fitted wait at u = 0.5, 0.8, 1.0, beside the figures the
choice used before it read the network (B1's train pairs + 2 for Grodno/Svislač, × 82 TEU × 365,
and 1 × u / (1 − u) days).

Run from the repository root (about two minutes: it fits the 20 half-years' curves unless
params/border_wait.yaml has them):
    .venv/bin/python docs/experiments/border_supply.py
``--write`` re-fits every curve and writes params/border_wait.yaml (the shipped cache).
"""

import datetime as dt
import sys
from pathlib import Path

from sim.choice.border_supply import SHIPPED_CURVES, WaitCurveCache, border_supply, write_curves
from sim.config.loader import load_scenario

YEARS = range(2016, 2026)
# what the history years' `border_train_pairs_per_day` said before the choice read the network
# (B1 14 + 2, 16 from 2021 + 2; B2/D2 works in 2019), × 82 TEU a train (B16)
OLD_PAIRS = {2019: (14, 10), 2016: (16, 16), 2017: (16, 16), 2018: (16, 16), 2020: (16, 16)}
OLD_TEU_PER_TRAIN = 82
LOADS = (0.5, 0.8, 1.0)
HEADER = """\
# Border wait curves of the shipped history years (sim/choice/border_supply.py): for each
# network hash (the crossing(s) simulated alone over a half-year), w(u) = c0 + c1 u^k/(1+δ−u)
# up to u = 1 and w(1) + slope_over × (u − 1) above; fit_error is the largest
# |fit − simulated| / max(simulated, 1.5 d) over the fitted loads. Generated, do not edit:
#   .venv/bin/python docs/experiments/border_supply.py --write
"""


def main() -> None:
    write = "--write" in sys.argv[1:]
    cache = WaitCurveCache(path=None if write else SHIPPED_CURVES)
    print(
        "half     crossings   capacity TEU/yr W / E (trains/day)   today's TEU/yr"
        "   wait d at u=0.5/0.8/1.0 (today's)   fit err"
    )
    for year in YEARS:
        path = Path(f"scenarios/history/{year}.yaml")
        scenario, _ = load_scenario(path)
        h = scenario.history
        assert h is not None
        teu = OLD_TEU_PER_TRAIN
        pairs = OLD_PAIRS.get(year, (18, 18))
        halves = (
            (dt.date(year, 1, 1), dt.date(year, 7, 1)),
            (dt.date(year, 7, 1), dt.date(year + 1, 1, 1)),
        )
        for k, (start, end) in enumerate(halves):
            label = f"{year} H{k + 1}"
            b = border_supply(scenario, start, end, cache, source=f"{path} {start}..{end}")
            waits = "/".join(f"{b.wait.wait_days(u):.2f}" for u in LOADS)
            today = "/".join(f"{u / (1 - u) if u < 1 else float('inf'):.2f}" for u in LOADS)
            print(
                f"{label}  {'+'.join(c[:2] for c in b.crossings):10s}"
                f"  {b.capacity_teu[0]:9,.0f} / {b.capacity_teu[1]:9,.0f}"
                f" ({b.capacity_trains_per_day[0]:.1f} / {b.capacity_trains_per_day[1]:.1f})"
                f"   {pairs[k] * teu * 365:9,.0f}"
                f"   {waits} ({today})   {b.wait.fit_error:.2f}"
            )
    if write:
        write_curves(cache, SHIPPED_CURVES, HEADER)
        print(f"wrote {SHIPPED_CURVES}")


if __name__ == "__main__":
    main()
