"""Disruption KPIs: what a closure does to the trains it catches, read from the results store.

Annual means hide a 13-day closure ("+0.0 % throughput"): the trains it holds are a few
percent of the year. A reader of a disruption scenario wants, at the node that lost capacity,
the peak number of trains held (``queue_max``), the days the backlog took to clear
(``recovery_days``), the delay of the trains caught (``caught_wait_hours_mean``: mean wait of
the trains that arrived while capacity was reduced) and the TEU delayed × days
(``teu_wait_days``). The first two are in summary.json; the last two are derived here, per
replication, from visits.parquet and trains.parquet, so the results contract is unchanged and
old runs get them too.

The caught trains are those arriving inside the *disrupted scenario's* reduction windows, in
days from ``start_date``, which the caller passes (``Metric.window``; sim/analysis/compare.py
takes them from sim/engine/reduction.py, the one definition of a reduction, which the store
does not import); the baseline is measured over the same days, so the paired difference is
the extra delay the closure caused to the trains that met it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from sim.kpis import kpis

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Tables = Callable[[str], pa.Table]

DISRUPTION_KPIS = ("queue_max", "recovery_days", "caught_wait_hours_mean", "teu_wait_days")
WINDOWED_KPI = "caught_wait_hours_mean"
"""The derived KPI that needs the days of the reduction (``Metric.window``)."""
Window = tuple[float, float]


def derived_values(
    kpi: str,
    node: str,
    tables: Tables,
    horizon_days: float,
    windows: Sequence[Window],
) -> tuple[IntArray, FloatArray]:
    """Per-replication values of a KPI derived from the visits (see the module docstring).

    ``tables`` returns a results table by name (``RunData.table``); ``windows`` are the days
    whose arrivals count as caught (for ``caught_wait_hours_mean``).
    """
    if kpi not in kpis("node", "visits"):
        raise ValueError(f"{kpi} is not derived from visits")
    reps = np.unique(np.asarray(tables("replications")["replication"].to_numpy(), dtype=np.int64))
    all_visits = tables("visits")
    visits = all_visits.filter(pc.equal(all_visits["node"], node))
    v_rep = np.asarray(visits["replication"].to_numpy(), dtype=np.int64)
    arrive = np.asarray(visits["arrive_day"].to_numpy(zero_copy_only=False), dtype=float)
    wait = np.asarray(visits["wait_hours"].to_numpy(zero_copy_only=False), dtype=float)
    # a train still waiting at the end has waited until the end (a lower bound)
    wait = np.where(np.isnan(wait), (horizon_days - arrive) * 24.0, wait)
    values = np.full(len(reps), math.nan)
    if kpi == "caught_wait_hours_mean":
        caught = np.zeros(len(arrive), dtype=bool)
        for start, end in windows:
            caught |= (arrive >= start) & (arrive < end)
        for i, r in enumerate(reps.tolist()):
            mine = caught & (v_rep == r)
            values[i] = float(wait[mine].mean()) if mine.any() else math.nan
        return reps, values
    in_window = (arrive >= 0.0) & (arrive < horizon_days)
    trains = tables("trains")
    t_rep = np.asarray(trains["replication"].to_numpy(), dtype=np.int64)
    t_id = np.asarray(trains["train"].to_numpy(), dtype=np.int64)
    t_teu = np.asarray(trains["teu"].to_numpy(zero_copy_only=False), dtype=float)
    v_train = np.asarray(visits["train"].to_numpy(), dtype=np.int64)
    for i, r in enumerate(reps.tolist()):
        teu_of = dict(zip(t_id[t_rep == r].tolist(), t_teu[t_rep == r].tolist(), strict=True))
        mine = in_window & (v_rep == r)
        teu = np.asarray([teu_of.get(t, 0.0) for t in v_train[mine].tolist()], dtype=float)
        values[i] = float((teu * wait[mine]).sum() / 24.0)
    return reps, values
