"""Exact totals: a sum of floats kept as a few floats whose exact sum is the exact total.

The KPI calculators add waits and handle times with :func:`math.fsum`, which
rounds once, at the end. Totals stored per 15-minute cell and added up later
would round once per cell; kept as *partials* instead (``fsum`` of the
partials of every cell is ``fsum`` of every value), a report over any
grouping of cells is exactly what the calculators give over the records.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

__all__ = ["exact_total", "partials"]


def partials(values: Sequence[float]) -> tuple[float, ...]:
    """Return floats, largest first, whose exact sum is the exact sum of ``values``.

    Each round takes the correctly rounded sum of what is left (one C-speed
    :func:`math.fsum`), so the result is short: one float when the total is
    exact in binary, two or three otherwise. The residue shrinks by 2⁻⁵³ or
    more each round, so the loop ends.
    """
    if len(values) == 1 and math.isfinite(only := values[0]):
        return (only,) if only else ()  # most cells' totals: one value, exact as it is
    out: list[float] = []
    rest = list(values)
    while True:
        top = math.fsum(rest)
        if top == 0.0:
            return tuple(out)
        out.append(top)
        rest.append(-top)


def exact_total(groups: Iterable[Iterable[float]]) -> float:
    """The correctly rounded sum of every partial of every group (``fsum`` of all the values)."""
    return math.fsum(p for group in groups for p in group)
