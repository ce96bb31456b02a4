"""A report row's figures from a cell's counts and totals, packed to be stored with its cell.

The report by 15 minutes and queue is the summary cells one for one (see
:func:`~callcenter_sdk.reports.summary_cells`). Reading fourteen columns per
cell and working the ratios out again at every report cost more than the
rows themselves: each value the database driver hands over is a Python call.
So each summary cell also stores its row's figures, worked out once when the
cell is written, packed in one binary value (:func:`pack_figures`); a report
reads three columns per row and unpacks them (:data:`PACKED`).

The packing is this package's, opaque to the store. Its first byte is
:data:`FORMAT`: figures packed by another version (or none: cells written
before migration 0013, or by hand) are not read, the report works them out
from the cell's columns as before.

.. versionadded:: 0.2
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

__all__ = ["FORMAT", "OPTIONAL", "PACKED", "figures", "pack_figures"]

FORMAT = 1
"""The packing's version, its first byte."""

PACKED = struct.Struct("<BB4q8d")
"""The format, the mask of figures that are ``None`` (bit ``i`` for
``OPTIONAL[i]``, packed as NaN), the four counts, the eight optional figures."""

OPTIONAL = (
    "service_level",
    "abandon_rate",
    "asa",
    "average_wait",
    "longest_wait",
    "aht",
    "occupancy",
    "utilization",
)
"""The figures that may be ``None``, in the order packed (after the counts)."""


def figures(
    counts: Sequence[int], longest_wait: float | None, totals: Sequence[float]
) -> tuple[int | float | None, ...]:
    """The figures of :class:`~callcenter_sdk.reports.ReportRow` after its keys, in order.

    Args:
        counts: The cell's :data:`~callcenter_sdk.store.COUNTS`.
        longest_wait: The longest wait of an offered contact, or ``None``.
        totals: The exact totals, correctly rounded (``0.0`` when none), of
            answered waits, offered waits, handle times, and agents' time
            handling, available and logged in.

    Ratios are ``None`` when their denominator is zero, as in :mod:`callcenter_sdk.kpi`.
    """
    offered, answered, abandoned, within, _, short, handled = counts
    answered_wait, offered_wait, handle, handling, available, logged_in = totals
    busy_or_free = math.fsum((handling, available))
    return (
        offered,
        answered,
        abandoned,
        handled,
        within / offered if offered > 0 else None,
        (abandoned - short) / (offered - short) if offered - short > 0 else None,
        answered_wait / answered if answered > 0 else None,
        offered_wait / offered if offered > 0 else None,
        longest_wait,
        handle / handled if handled > 0 else None,
        handling / busy_or_free if busy_or_free > 0 else None,
        handling / logged_in if logged_in > 0 else None,
    )


def pack_figures(values: Sequence[int | float | None]) -> bytes:
    """The figures of :func:`figures` as one :data:`PACKED` value."""
    counts, optional = values[:4], values[4:]
    mask = 0
    for i, value in enumerate(optional):
        if value is None:
            mask |= 1 << i
    return PACKED.pack(
        FORMAT, mask, *counts, *(math.nan if value is None else value for value in optional)
    )
