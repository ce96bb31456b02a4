"""The runtime: one anyio application object that runs a call center.

:func:`open_call_center` wires the store, the ACD engine, a media backend,
the IVR, the CTI, tickets, the knowledge base, plugins and the clock into a
:class:`CallCenter`: inbound calls run the IVR, wait in ACD queues with
hold music and announcements, ring agents' SIP devices, are bridged, get a
screen pop, a ticket and knowledge-base suggestions, and end in wrap-up
with a disposition — every step an event in the store's log.
:func:`run_virtual` drives it on the virtual backend's time for tests and
simulations; :func:`call_center_report` computes the KPIs from the log. See
``docs/runtime.md``. :class:`SipCrowd` and :class:`VirtualCrowd` simulate
callers and agents (real SIP user agents, or scripts in virtual time) for
demos and tests.
"""

from __future__ import annotations

from ._acd import AcdRuntime as AcdRuntime
from ._acd import open_acd_runtime as open_acd_runtime
from ._admin import Administration as Administration
from ._app import CallCenter as CallCenter
from ._app import open_call_center as open_call_center
from ._app import sip_user as sip_user
from ._calls import PHASE_TRANSITIONS as PHASE_TRANSITIONS
from ._calls import Phase as Phase
from ._center_file import CenterSetup as CenterSetup
from ._center_file import ClusterSettings as ClusterSettings
from ._center_file import SipSettings as SipSettings
from ._center_file import WebSettings as WebSettings
from ._center_file import load_center as load_center
from ._channel_sections import ChannelSections as ChannelSections
from ._channel_sections import ChatSection as ChatSection
from ._channel_sections import EmailSection as EmailSection
from ._channel_sections import ImapSection as ImapSection
from ._channel_sections import MessagingSection as MessagingSection
from ._cluster import Elector as Elector
from ._cluster_media import ClusterMedia as ClusterMedia
from ._cluster_media import open_cluster_media as open_cluster_media
from ._config import CallCenterConfig as CallCenterConfig
from ._config import DialPlan as DialPlan
from ._config import DialPlanDenied as DialPlanDenied
from ._config import InboundNumber as InboundNumber
from ._config import Position as Position
from ._config import Seat as Seat
from ._config import parse_position as parse_position
from ._config import seats_from_org as seats_from_org
from ._crowd import AGENT_VOICE as AGENT_VOICE
from ._crowd import CALLER_VOICE as CALLER_VOICE
from ._crowd import AgentDesks as AgentDesks
from ._crowd import Habits as Habits
from ._crowd import SipCrowd as SipCrowd
from ._crowd import VirtualCrowd as VirtualCrowd
from ._desk import ChannelAdapter as ChannelAdapter
from ._events import AgentLegFailed as AgentLegFailed
from ._events import CallbackMade as CallbackMade
from ._events import CallbackScheduled as CallbackScheduled
from ._events import CallInterrupted as CallInterrupted
from ._events import CallTakenOver as CallTakenOver
from ._events import CallTransferred as CallTransferred
from ._events import CampaignStarted as CampaignStarted
from ._events import CampaignStopped as CampaignStopped
from ._events import ContactDisposed as ContactDisposed
from ._events import IvrCompleted as IvrCompleted
from ._events import KnowledgeSuggested as KnowledgeSuggested
from ._events import MessageReceived as MessageReceived
from ._events import MonitoringStarted as MonitoringStarted
from ._events import PermissionRefused as PermissionRefused
from ._events import QueueConfigured as QueueConfigured
from ._events import ReplySent as ReplySent
from ._events import ScreenPopDelivered as ScreenPopDelivered
from ._events import SeatsChanged as SeatsChanged
from ._events import TermStarted as TermStarted
from ._events import WorkRestored as WorkRestored
from ._media_node import MediaAgent as MediaAgent
from ._nodes import NodeHeartbeat as NodeHeartbeat
from ._nodes import node_health as node_health
from ._report import FIRST_RESPONSE_S as FIRST_RESPONSE_S
from ._report import CallCenterReport as CallCenterReport
from ._report import ConversationFigures as ConversationFigures
from ._report import LiveFigures as LiveFigures
from ._report import LiveTally as LiveTally
from ._report import call_center_records as call_center_records
from ._report import call_center_report as call_center_report
from ._report import conversation_records as conversation_records
from ._report import report_from_events as report_from_events
from ._scripts import ScriptStep as ScriptStep
from ._virtual import run_virtual as run_virtual

__all__ = [
    "AGENT_VOICE",
    "CALLER_VOICE",
    "FIRST_RESPONSE_S",
    "PHASE_TRANSITIONS",
    "AcdRuntime",
    "Administration",
    "AgentDesks",
    "AgentLegFailed",
    "CallCenter",
    "CallCenterConfig",
    "CallCenterReport",
    "CallInterrupted",
    "CallTakenOver",
    "CallTransferred",
    "CallbackMade",
    "CallbackScheduled",
    "CampaignStarted",
    "CampaignStopped",
    "CenterSetup",
    "ChannelAdapter",
    "ChannelSections",
    "ChatSection",
    "ClusterMedia",
    "ClusterSettings",
    "ContactDisposed",
    "ConversationFigures",
    "DialPlan",
    "DialPlanDenied",
    "Elector",
    "EmailSection",
    "Habits",
    "ImapSection",
    "InboundNumber",
    "IvrCompleted",
    "KnowledgeSuggested",
    "LiveFigures",
    "LiveTally",
    "MediaAgent",
    "MessageReceived",
    "MessagingSection",
    "MonitoringStarted",
    "NodeHeartbeat",
    "PermissionRefused",
    "Phase",
    "Position",
    "QueueConfigured",
    "ReplySent",
    "ScreenPopDelivered",
    "ScriptStep",
    "Seat",
    "SeatsChanged",
    "SipCrowd",
    "SipSettings",
    "TermStarted",
    "VirtualCrowd",
    "WebSettings",
    "WorkRestored",
    "call_center_records",
    "call_center_report",
    "conversation_records",
    "load_center",
    "node_health",
    "open_acd_runtime",
    "open_call_center",
    "open_cluster_media",
    "parse_position",
    "report_from_events",
    "run_virtual",
    "seats_from_org",
    "sip_user",
]
