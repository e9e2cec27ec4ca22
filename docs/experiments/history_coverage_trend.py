"""The coverage-trend structure of docs/mode_choice.md ("A structure that was tried and not
adopted"): the shipped time-series choice with its static share multiplied by a logistic
coverage 1 / (1 + exp(-k (t - t50))), k and t50 fitted with the ten shipped parameters, same
data (params/history_observed.yaml), seed and starts. Prints the in-sample cost, the fitted
values (bounds marked), each year's in-sample error and each leave-one-year-out error.

An experiment, not part of the package: it wraps sim.choice.history.static_share in this
process only. Run from the repository root (about 90 s):
    .venv/bin/python docs/experiments/history_coverage_trend.py
"""
import math, sys
from pathlib import Path
import numpy as np
from scipy.optimize import least_squares
import sim.choice.history as H
import sim.choice.fit_history as F
from sim.config.history_files import load_history_params
from sim.config.history import Observed
import yaml

ROOT = Path(__file__).resolve().parents[2]
params = load_history_params(ROOT / 'params/history_choice.yaml')
a = params.assumptions
obs = Observed.model_validate(yaml.safe_load((ROOT / 'params/history_observed.yaml').read_text()))
chain_files = H.history_chain(ROOT / 'scenarios/history')
inputs = [H.year_inputs(f.history, a) for f in chain_files]
YEARS = list(range(2016, 2024))
orig = H.static_share
COV = {'k': 1.0, 't50': 2018.0, 'on': True}
def patched(inp, half, d, suez_open, load, fit, a):
    h = 0 if half is inp.halves[0] else 1
    t = inp.year + 0.25 + 0.5 * h
    cov = 1.0 / (1.0 + math.exp(-COV['k'] * (t - COV['t50']))) if COV['on'] else 1.0
    return cov * orig(inp, half, d, suez_open, load, fit, a)
H.static_share = patched

LOW = np.r_[F.LOWER, 0.1, 2010.0]; UP = np.r_[F.UPPER, 5.0, 2026.0]
SLOW = np.r_[F.START_LOW, 0.3, 2015.0]; SHIGH = np.r_[F.START_HIGH, 3.0, 2021.0]
def run(x, years_upto):
    COV['k'], COV['t50'] = x[10], x[11]
    return H.run_chain([i for i in inputs if i.year <= years_upto], F.to_fitted(x[:10]), a)
def fit(years, seed, starts=8, fixed=None):
    fixed = fixed or {}
    free = np.asarray([i not in fixed for i in range(12)])
    base = np.asarray([fixed.get(i, 0.0) for i in range(12)])
    def full(z):
        x = base.copy(); x[free] = z; return x
    def fun(z):
        return F.residuals(run(full(z), max(years)), obs, years)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    best = None
    for _ in range(starts):
        x0 = SLOW + rng.random(12) * (SHIGH - SLOW)
        z0 = np.clip(x0[free], LOW[free], UP[free])
        sol = least_squares(fun, z0, bounds=(LOW[free], UP[free]), x_scale='jac', max_nfev=400)
        if best is None or sol.cost < best[0]:
            best = (sol.cost, full(sol.x))
    return best
fixed = {}
if 'noinit' in sys.argv: fixed[7] = 1.0
if 'excl' in sys.argv: fixed[3] = 0.0
cost, x = fit(YEARS, 2016, fixed=fixed)
names = list(F.NAMES) + ['cov_k', 'cov_t50']
print('cost', round(cost, 3))
for n, v, lo, hi in zip(names, x, LOW, UP):
    flag = ' <-- bound' if (abs(v - lo) < 1e-3 * max(1, abs(lo)) or abs(v - hi) < 1e-3 * max(1, abs(hi))) else ''
    print(f'  {n:28s} {v:12.4f}{flag}')
res = run(x, 2023)
for r in res:
    o = obs.years[r.year].total_teu
    print(r.year, f'{r.total_teu:9.0f} obs {o:9.0f} err {r.total_teu/o-1:+.1%}')
loo = []
for y in YEARS:
    c, xl = fit([k for k in YEARS if k != y], 2016 + y, starts=4, fixed=fixed)
    pred = run(xl, y)[-1].total_teu
    loo.append(pred / obs.years[y].total_teu - 1)
    print('LOO', y, f'{loo[-1]:+.1%}')
print('mean |LOO|', f'{np.mean(np.abs(loo)):.1%}')
