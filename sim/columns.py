"""The in-memory table format handed from the engine to the store: named plain columns.

Kept below both stages so the store can write tables without importing the engine.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Columns = dict[str, NDArray[np.generic] | list[str]]
