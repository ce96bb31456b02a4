"""Grouping records and intervals by reporting interval, queue, campaign, team or agent.

Contacts are counted in the interval in which they *arrived* (the industry's
convention: a call offered at 09:29:50 and answered at 09:30:10 belongs to the
09:00 half hour). Agent intervals are *clipped* to each reporting interval,
so an hour of READY that straddles 10:00 adds half an hour to each half hour.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence

from .._errors import ValidationError
from ._records import AgentInterval, ContactRecord

__all__ = [
    "GROUP_FIELDS",
    "INTERVAL_FIELDS",
    "clip",
    "group_intervals",
    "group_records",
    "interval_start",
]

GROUP_FIELDS = (
    "queue",
    "campaign",
    "organisation",
    "team",
    "agent",
    "channel",
    "direction",
    "disposition",
)
"""Record fields that :func:`group_records` can group by."""

INTERVAL_FIELDS = ("queue", "campaign", "team", "agent")
"""Agent-interval fields that :func:`group_intervals` can group by."""


def interval_start(at: float, interval_s: float, origin: float = 0.0) -> float:
    """Start of the reporting interval holding ``at``: ``origin + floor((at - origin) / L) L``."""
    if not math.isfinite(interval_s) or interval_s <= 0:
        raise ValidationError(f"interval_s must be > 0 seconds, got {interval_s!r}")
    return origin + math.floor((at - origin) / interval_s) * interval_s


def _check_fields(by: Sequence[str], allowed: Sequence[str]) -> None:
    for name in by:
        if name not in allowed:
            raise ValidationError(f"cannot group by {name!r}; choose from {', '.join(allowed)}")


def group_records(
    records: Iterable[ContactRecord],
    *,
    by: Sequence[str] = (),
    interval_s: float | None = None,
    origin: float = 0.0,
) -> dict[tuple[Hashable, ...], list[ContactRecord]]:
    """Group records by arrival interval (if ``interval_s``) and then the ``by`` fields.

    Keys are tuples: ``(interval_start, *field values)``, or only the field
    values without ``interval_s``. Example: ``by=("queue",), interval_s=1800``
    gives keys like ``(32400.0, "sales")``.
    """
    _check_fields(by, GROUP_FIELDS)
    groups: dict[tuple[Hashable, ...], list[ContactRecord]] = defaultdict(list)
    for r in records:
        key: tuple[Hashable, ...] = tuple(getattr(r, name) for name in by)
        if interval_s is not None:
            key = (interval_start(r.arrived_at, interval_s, origin), *key)
        groups[key].append(r)
    return dict(groups)


def clip(interval: AgentInterval, start: float, end: float, now: float | None = None) -> float:
    """Seconds of ``interval`` inside ``[start, end)``; an open interval runs to ``now``."""
    stop = interval.end if interval.end is not None else now
    if stop is None:
        return 0.0
    return max(0.0, min(stop, end) - max(interval.start, start))


def group_intervals(
    intervals: Iterable[AgentInterval],
    *,
    interval_s: float,
    by: Sequence[str] = ("agent",),
    origin: float = 0.0,
    now: float | None = None,
) -> dict[tuple[Hashable, ...], list[tuple[AgentInterval, float, float]]]:
    """Split agent intervals across reporting intervals.

    Returns, per ``(interval_start, *field values)``, the pieces as
    ``(interval, piece_start, piece_end)``; open intervals end at ``now`` (and
    are skipped without it).
    """
    _check_fields(by, INTERVAL_FIELDS)
    groups: dict[tuple[Hashable, ...], list[tuple[AgentInterval, float, float]]] = defaultdict(list)
    for iv in intervals:
        stop = iv.end if iv.end is not None else now
        if stop is None:
            continue
        fields = tuple(getattr(iv, name) for name in by)
        slot = interval_start(iv.start, interval_s, origin)
        while True:
            groups[(slot, *fields)].append((iv, max(iv.start, slot), min(stop, slot + interval_s)))
            slot += interval_s
            if slot >= stop:
                break
    return dict(groups)
