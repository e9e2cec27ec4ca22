"""A logistic through V1 (CR Express trains a year, all destinations; not used in the fit), set
beside the fitted coverage trend in docs/mode_choice.md ("Structures compared").

Annual counts sit at mid-year (the fit's halves sit at year + 0.25 and + 0.75); 2023 is
Jan–Nov scaled to twelve months. Run from the repository root (instant):
    .venv/bin/python docs/experiments/v1_logistic.py
"""

import numpy as np
from scipy.optimize import curve_fit

# facts: V1 — 1,702 (2016); 3,673 (2017); 6,363 (2018); 12,400 (2020); 15,183 (2021);
# 16,145 (Jan–Nov 2023)
years = np.asarray([2016.5, 2017.5, 2018.5, 2020.5, 2021.5, 2023.5])
trains = np.asarray([1702, 3673, 6363, 12400, 15183, 16145 * 12 / 11])


def logistic(t: np.ndarray, ceiling: float, rate: float, midpoint: float) -> np.ndarray:
    return ceiling / (1 + np.exp(-rate * (t - midpoint)))


(ceiling, rate, midpoint), _ = curve_fit(logistic, years, trains, p0=[18000, 0.7, 2019])
print(
    f"V1 logistic: ceiling {ceiling:,.0f} trains/yr, rate {rate:.2f} a year,"
    f" midpoint {midpoint:.1f}"
)
