"""The ACD: queues, routing strategies and agent states — pure, fast and deterministic.

:class:`Engine` matches waiting contacts with agents. It performs no I/O: each
input returns actions (:class:`Offer`, :class:`Rescind`...) and publishes typed
events. This package imports no anyio: the real-time driver is
:class:`callcenter_sdk.runtime.AcdRuntime`, on the shared ticker. See docs/acd.md.
"""

from __future__ import annotations

from ..kpi import Channel as Channel
from ..kpi import Direction as Direction
from ._actions import Action as Action
from ._actions import Announce as Announce
from ._actions import Connect as Connect
from ._actions import Divert as Divert
from ._actions import Offer as Offer
from ._actions import Release as Release
from ._actions import Rescind as Rescind
from ._agent import LEGAL_TRANSITIONS as LEGAL_TRANSITIONS
from ._agent import AgentStatus as AgentStatus
from ._engine import LIVE_QUEUE_SETTINGS as LIVE_QUEUE_SETTINGS
from ._engine import Engine as Engine
from ._events import AgentLogoutRequested as AgentLogoutRequested
from ._events import AgentPresenceChanged as AgentPresenceChanged
from ._events import AgentState as AgentState
from ._events import AgentStateChanged as AgentStateChanged
from ._events import ContactAbandoned as ContactAbandoned
from ._events import ContactAdopted as ContactAdopted
from ._events import ContactCallbackFailed as ContactCallbackFailed
from ._events import ContactCallbackRequested as ContactCallbackRequested
from ._events import ContactCompleted as ContactCompleted
from ._events import ContactConnected as ContactConnected
from ._events import ContactEnteredQueue as ContactEnteredQueue
from ._events import ContactExited as ContactExited
from ._events import ContactHeld as ContactHeld
from ._events import ContactOffered as ContactOffered
from ._events import ContactOverflowed as ContactOverflowed
from ._events import ContactRelaxed as ContactRelaxed
from ._events import ContactResumed as ContactResumed
from ._events import ContactTimedOut as ContactTimedOut
from ._events import ContactTransferred as ContactTransferred
from ._events import EndedBy as EndedBy
from ._events import ExitReason as ExitReason
from ._events import MemberChange as MemberChange
from ._events import MemberChanged as MemberChanged
from ._events import OfferAccepted as OfferAccepted
from ._events import OfferBusy as OfferBusy
from ._events import OfferNotAnswered as OfferNotAnswered
from ._events import OfferRejected as OfferRejected
from ._events import OfferRescinded as OfferRescinded
from ._events import PluginFault as PluginFault
from ._events import WrapUpExtended as WrapUpExtended
from ._members import MemberStatus as MemberStatus
from ._model import Agent as Agent
from ._model import AutoPause as AutoPause
from ._model import Capacity as Capacity
from ._model import Contact as Contact
from ._model import EmptyCondition as EmptyCondition
from ._model import EmptyRule as EmptyRule
from ._model import Membership as Membership
from ._model import Overflow as Overflow
from ._model import OverflowTarget as OverflowTarget
from ._model import PenaltyRule as PenaltyRule
from ._model import Queue as Queue
from ._model import RelaxStep as RelaxStep
from ._model import SkillRequirement as SkillRequirement
from ._model import TierRules as TierRules
from ._queue import ContactPhase as ContactPhase
from ._queue import ContactStatus as ContactStatus
from ._queue import QueueStatus as QueueStatus
from ._records import records_from_events as records_from_events
from ._routing import RoutingPolicy as RoutingPolicy
from ._strategy import BUILTIN_STRATEGIES as BUILTIN_STRATEGIES
from ._strategy import BestFitStrategy as BestFitStrategy
from ._strategy import Candidate as Candidate
from ._strategy import IndexedStrategy as IndexedStrategy
from ._strategy import IndexKey as IndexKey
from ._strategy import RandomStrategy as RandomStrategy
from ._strategy import RoutingRequest as RoutingRequest
from ._strategy import RoutingStrategy as RoutingStrategy
from ._strategy import StrategyFactory as StrategyFactory
from ._strategy import WeightedRandomStrategy as WeightedRandomStrategy

__all__ = [
    "BUILTIN_STRATEGIES",
    "LEGAL_TRANSITIONS",
    "LIVE_QUEUE_SETTINGS",
    "Action",
    "Agent",
    "AgentLogoutRequested",
    "AgentPresenceChanged",
    "AgentState",
    "AgentStateChanged",
    "AgentStatus",
    "Announce",
    "AutoPause",
    "BestFitStrategy",
    "Candidate",
    "Capacity",
    "Channel",
    "Connect",
    "Contact",
    "ContactAbandoned",
    "ContactAdopted",
    "ContactCallbackFailed",
    "ContactCallbackRequested",
    "ContactCompleted",
    "ContactConnected",
    "ContactEnteredQueue",
    "ContactExited",
    "ContactHeld",
    "ContactOffered",
    "ContactOverflowed",
    "ContactPhase",
    "ContactRelaxed",
    "ContactResumed",
    "ContactStatus",
    "ContactTimedOut",
    "ContactTransferred",
    "Direction",
    "Divert",
    "EmptyCondition",
    "EmptyRule",
    "EndedBy",
    "Engine",
    "ExitReason",
    "IndexKey",
    "IndexedStrategy",
    "MemberChange",
    "MemberChanged",
    "MemberStatus",
    "Membership",
    "Offer",
    "OfferAccepted",
    "OfferBusy",
    "OfferNotAnswered",
    "OfferRejected",
    "OfferRescinded",
    "Overflow",
    "OverflowTarget",
    "PenaltyRule",
    "PluginFault",
    "Queue",
    "QueueStatus",
    "RandomStrategy",
    "RelaxStep",
    "Release",
    "Rescind",
    "RoutingPolicy",
    "RoutingRequest",
    "RoutingStrategy",
    "SkillRequirement",
    "StrategyFactory",
    "TierRules",
    "WeightedRandomStrategy",
    "WrapUpExtended",
    "records_from_events",
]
