"""KPIs and workforce math: contact records, KPI calculators, Erlang B/C/A and staffing.

Everything here is pure: functions of records and numbers, no I/O and no clock
reads (pass ``now`` where a figure depends on it).
"""

from __future__ import annotations

from ._records import AgentInterval as AgentInterval
from ._records import Channel as Channel
from ._records import ContactRecord as ContactRecord
from ._records import Direction as Direction
from ._records import IntervalState as IntervalState
from ._records import Outcome as Outcome

__all__ = [
    "AgentInterval",
    "Channel",
    "ContactRecord",
    "Direction",
    "IntervalState",
    "Outcome",
]
