"""KPIs and workforce math: contact records, KPI calculators, Erlang B/C/A and staffing.

Everything here is pure: functions of records and numbers, no I/O and no clock
reads (pass ``now`` where a figure depends on it).
"""

from __future__ import annotations

from ._agents import occupancy as occupancy
from ._agents import state_seconds as state_seconds
from ._agents import utilization as utilization
from ._contacts import ServiceLevelVariant as ServiceLevelVariant
from ._contacts import abandon_rate as abandon_rate
from ._contacts import aht as aht
from ._contacts import asa as asa
from ._contacts import average_hold as average_hold
from ._contacts import average_talk as average_talk
from ._contacts import average_wait as average_wait
from ._contacts import average_wrap as average_wrap
from ._contacts import current_longest_wait as current_longest_wait
from ._contacts import first_contact_resolution as first_contact_resolution
from ._contacts import longest_wait as longest_wait
from ._contacts import offered as offered
from ._contacts import resolution_rate as resolution_rate
from ._contacts import service_level as service_level
from ._conversations import ConversationRecord as ConversationRecord
from ._conversations import first_response_service_level as first_response_service_level
from ._conversations import first_response_time as first_response_time
from ._conversations import messages_per_conversation as messages_per_conversation
from ._conversations import resolution_time as resolution_time
from ._erlang import ErlangA as ErlangA
from ._erlang import ErlangC as ErlangC
from ._erlang import erlang_b as erlang_b
from ._erlang import erlang_c as erlang_c
from ._forecast import read_forecast as read_forecast
from ._grouping import GROUP_FIELDS as GROUP_FIELDS
from ._grouping import INTERVAL_FIELDS as INTERVAL_FIELDS
from ._grouping import clip as clip
from ._grouping import group_intervals as group_intervals
from ._grouping import group_records as group_records
from ._grouping import interval_start as interval_start
from ._outbound import DropRate as DropRate
from ._outbound import DropRegime as DropRegime
from ._outbound import OutboundBase as OutboundBase
from ._outbound import contact_rate as contact_rate
from ._outbound import conversion_rate as conversion_rate
from ._outbound import drop_rate as drop_rate
from ._outbound import drop_rates as drop_rates
from ._outbound import right_party_rate as right_party_rate
from ._records import AgentInterval as AgentInterval
from ._records import Channel as Channel
from ._records import ContactRecord as ContactRecord
from ._records import Direction as Direction
from ._records import IntervalState as IntervalState
from ._records import Outcome as Outcome
from ._report import KpiReport as KpiReport
from ._report import kpi_report as kpi_report
from ._staffing import IntervalForecast as IntervalForecast
from ._staffing import Staffing as Staffing
from ._staffing import StaffingRow as StaffingRow
from ._staffing import StaffingTargets as StaffingTargets
from ._staffing import exact as exact
from ._staffing import garnett_p_wait as garnett_p_wait
from ._staffing import halfin_whitt_p_wait as halfin_whitt_p_wait
from ._staffing import required_agents as required_agents
from ._staffing import scheduled_agents as scheduled_agents
from ._staffing import square_root_staffing as square_root_staffing
from ._staffing import staffing_table as staffing_table
from ._stream import KpiStream as KpiStream
from ._stream import StreamFigures as StreamFigures

__all__ = [
    "GROUP_FIELDS",
    "INTERVAL_FIELDS",
    "AgentInterval",
    "Channel",
    "ContactRecord",
    "ConversationRecord",
    "Direction",
    "DropRate",
    "DropRegime",
    "ErlangA",
    "ErlangC",
    "IntervalForecast",
    "IntervalState",
    "KpiReport",
    "KpiStream",
    "OutboundBase",
    "Outcome",
    "ServiceLevelVariant",
    "Staffing",
    "StaffingRow",
    "StaffingTargets",
    "StreamFigures",
    "abandon_rate",
    "aht",
    "asa",
    "average_hold",
    "average_talk",
    "average_wait",
    "average_wrap",
    "clip",
    "contact_rate",
    "conversion_rate",
    "current_longest_wait",
    "drop_rate",
    "drop_rates",
    "erlang_b",
    "erlang_c",
    "exact",
    "first_contact_resolution",
    "first_response_service_level",
    "first_response_time",
    "garnett_p_wait",
    "group_intervals",
    "group_records",
    "halfin_whitt_p_wait",
    "interval_start",
    "kpi_report",
    "longest_wait",
    "messages_per_conversation",
    "occupancy",
    "offered",
    "read_forecast",
    "required_agents",
    "resolution_rate",
    "resolution_time",
    "right_party_rate",
    "scheduled_agents",
    "service_level",
    "square_root_staffing",
    "staffing_table",
    "state_seconds",
    "utilization",
]
