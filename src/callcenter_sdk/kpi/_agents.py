"""KPIs of agent-state intervals: occupancy and utilization.

* **occupancy** = handling / (handling + available), where handling is time
  BUSY (talk and hold) or in WRAP_UP, and available is time READY or RESERVED
  (a contact is ringing but not yet taken). It answers "how hard were the
  agents who were there to take contacts working?" -- what Erlang's ``a / n``
  predicts.
* **utilization** = handling / logged-in, where logged-in is every state but
  OFFLINE (NOT_READY pauses count): "how much of the paid, logged-in time went
  into contacts?".

Both accept a window ``[start, end)`` and clip intervals to it; an open
interval (``end is None``) runs to ``now`` and is ignored without one.
Example: 40 min busy, 5 min wrap-up, 10 min ready, 5 min not ready in one
hour gives occupancy 45/55 = 0.818 and utilization 45/60 = 0.75.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ._grouping import clip
from ._records import AgentInterval, IntervalState

__all__ = ["occupancy", "state_seconds", "utilization"]

HANDLING = frozenset({IntervalState.BUSY, IntervalState.WRAP_UP})
AVAILABLE = frozenset({IntervalState.READY, IntervalState.RESERVED})


def state_seconds(
    intervals: Iterable[AgentInterval],
    *,
    start: float = -math.inf,
    end: float = math.inf,
    now: float | None = None,
) -> dict[IntervalState, float]:
    """Seconds spent in each state inside ``[start, end)``, summed over all intervals given."""
    totals = dict.fromkeys(IntervalState, 0.0)
    for iv in intervals:
        totals[iv.state] += clip(iv, start, end, now)
    return totals


def occupancy(
    intervals: Iterable[AgentInterval],
    *,
    start: float = -math.inf,
    end: float = math.inf,
    now: float | None = None,
) -> float | None:
    """Handling time over handling plus available time; ``None`` when both are zero."""
    totals = state_seconds(intervals, start=start, end=end, now=now)
    handling = sum(totals[s] for s in HANDLING)
    available = sum(totals[s] for s in AVAILABLE)
    return handling / (handling + available) if handling + available > 0 else None


def utilization(
    intervals: Iterable[AgentInterval],
    *,
    start: float = -math.inf,
    end: float = math.inf,
    now: float | None = None,
) -> float | None:
    """Handling time over logged-in time (all states but OFFLINE); ``None`` when not logged in."""
    totals = state_seconds(intervals, start=start, end=end, now=now)
    handling = sum(totals[s] for s in HANDLING)
    logged_in = sum(v for s, v in totals.items() if s is not IntervalState.OFFLINE)
    return handling / logged_in if logged_in > 0 else None
