"""The busiest crossing: a corridor KPI derived from the node KPIs when a result is read.

"A crossing above 90 % busy" (issue 22) asks for the highest utilisation of any border
crossing in a replication, not of one named crossing: a study that closes Brest moves the
load to the Kazakh exits, and which one saturates first is part of the answer. Each node's
utilisation is already in every result (replications.parquet, a sweep's runs); the maximum
over the nodes of kind ``border`` is taken here when read, so no summary.json and no
fingerprint changes. The border nodes come from the resolved scenario of the result (a run's
``scenario.resolved.yaml``, a sweep's manifest ``config``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CROSSING_KPI = "crossing_utilisation_max"
BORDER_KIND = "border"


def border_nodes(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The ids of the border crossings of a resolved scenario document, sorted."""
    nodes = config.get("nodes", {})
    return tuple(sorted(n for n, doc in nodes.items() if doc.get("kind") == BORDER_KIND))


def crossing_rows(rows: pa.Table, borders: Iterable[str], keys: tuple[str, ...]) -> pa.Table:
    """One row per distinct ``keys`` (``point``, ``replication``): the largest utilisation of
    the border nodes, as ``value`` (NaN utilisations ignored; NaN when none is finite)."""
    names = pa.array(list(borders), type=pa.string())
    util = rows.filter(
        pc.and_(
            pc.and_(pc.equal(rows["scope"], "node"), pc.equal(rows["kpi"], "utilisation")),
            pc.is_in(rows["name"], value_set=names),
        )
    )
    columns = {k: util[k].to_numpy(zero_copy_only=False).astype(np.int64) for k in keys}
    value = util["value"].to_numpy(zero_copy_only=False).astype(float)
    if value.size == 0:
        empty = {k: pa.array([], type=pa.int64()) for k in keys}
        return pa.table({**empty, "value": pa.array([], type=pa.float64())})
    stacked = np.stack([columns[k] for k in keys])
    unique, inverse = np.unique(stacked, axis=1, return_inverse=True)
    best = np.full(unique.shape[1], -np.inf)
    finite = np.isfinite(value)
    np.maximum.at(best, inverse.reshape(-1)[finite], value[finite])
    best[np.isneginf(best)] = np.nan
    return pa.table(
        {
            **{k: pa.array(unique[i], type=pa.int64()) for i, k in enumerate(keys)},
            "value": pa.array(best, type=pa.float64()),
        }
    )
