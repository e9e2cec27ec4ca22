"""Progress for commands that take more than a few seconds (headline, calibrate, report, the
mode-choice fixed point): a bar on stderr with what is being done now.

A silent minute reads as a hang. The bar goes to stderr so stdout stays the result (a
Markdown table, a file name), and it is off with ``-q`` or when stderr is not a terminal
(CI logs, pipes), where a redrawn bar would only be noise. The library reports steps through
a plain callback (:data:`Step`), so nothing below the CLI prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

Step = Callable[[str], None]
"""Called by the library after each unit of work, with a short note of what was done."""
