"""KPIs and workforce math: contact records, KPI calculators, Erlang B/C/A and staffing.

Everything here is pure: functions of records and numbers, no I/O and no clock
reads (pass ``now`` where a figure depends on it).
"""

from __future__ import annotations

from ._erlang import ErlangA as ErlangA
from ._erlang import ErlangC as ErlangC
from ._erlang import erlang_b as erlang_b
from ._erlang import erlang_c as erlang_c
from ._records import AgentInterval as AgentInterval
from ._records import Channel as Channel
from ._records import ContactRecord as ContactRecord
from ._records import Direction as Direction
from ._records import IntervalState as IntervalState
from ._records import Outcome as Outcome
from ._staffing import IntervalForecast as IntervalForecast
from ._staffing import Staffing as Staffing
from ._staffing import StaffingRow as StaffingRow
from ._staffing import StaffingTargets as StaffingTargets
from ._staffing import exact as exact
from ._staffing import halfin_whitt_p_wait as halfin_whitt_p_wait
from ._staffing import required_agents as required_agents
from ._staffing import scheduled_agents as scheduled_agents
from ._staffing import square_root_staffing as square_root_staffing
from ._staffing import staffing_table as staffing_table

__all__ = [
    "AgentInterval",
    "Channel",
    "ContactRecord",
    "Direction",
    "ErlangA",
    "ErlangC",
    "IntervalForecast",
    "IntervalState",
    "Outcome",
    "Staffing",
    "StaffingRow",
    "StaffingTargets",
    "erlang_b",
    "erlang_c",
    "exact",
    "halfin_whitt_p_wait",
    "required_agents",
    "scheduled_agents",
    "square_root_staffing",
    "staffing_table",
]
