"""A text progress bar for long simulations.

.. versionadded:: 0.1
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

__all__ = ["text_progress"]


def text_progress(
    label: str = "simulating", *, stream: TextIO | None = None, width: int = 30
) -> Callable[[float], None]:
    """Return a progress callback drawing ``label [#####     ]  42 %`` in place.

    The bar is redrawn only when the whole percentage changes, so it costs
    nothing in the simulation loop; it ends with a newline at 100 %.
    """
    out = stream if stream is not None else sys.stderr
    last = -1

    def update(fraction: float) -> None:
        nonlocal last
        percent = max(0, min(100, int(fraction * 100)))
        if percent == last:
            return
        last = percent
        filled = width * percent // 100
        out.write(f"\r{label} [{'#' * filled}{' ' * (width - filled)}] {percent:3d} %")
        if percent == 100:
            out.write("\n")
        out.flush()

    return update
