"""The ACD's events: its queue_log, with enough data to compute every KPI afterwards.

Every change the engine makes is one of these, published in order on the
engine's :class:`~callcenter_sdk.EventStream`. A contact's life always ends
with exactly one *final* event: :class:`ContactCompleted`,
:class:`ContactAbandoned`, :class:`ContactTimedOut`, :class:`ContactExited`, or
:class:`ContactOverflowed` to a target outside the ACD (callback, voicemail,
ticket), or :class:`ContactCallbackFailed` for a queued callback that could
not be made. An overflow to another queue is followed by a new
:class:`ContactEnteredQueue`.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import ClassVar

import attrs

from .._events import Event
from ..kpi import Channel, Direction
from ._model import OverflowTarget, _channel, _direction

__all__ = [
    "AgentLogoutRequested",
    "AgentPresenceChanged",
    "AgentState",
    "AgentStateChanged",
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
    "ContactRelaxed",
    "ContactResumed",
    "ContactTimedOut",
    "ContactTransferred",
    "EndedBy",
    "ExitReason",
    "MemberChange",
    "MemberChanged",
    "OfferAccepted",
    "OfferBusy",
    "OfferNotAnswered",
    "OfferRejected",
    "OfferRescinded",
    "PluginFault",
    "WrapUpExtended",
]


class AgentState(enum.StrEnum):
    """An agent's state; values match :class:`callcenter_sdk.kpi.IntervalState`."""

    OFFLINE = "offline"
    NOT_READY = "not_ready"
    READY = "ready"
    RESERVED = "reserved"
    BUSY = "busy"
    WRAP_UP = "wrap_up"


class MemberChange(enum.StrEnum):
    """What changed in an agent's membership of a queue."""

    ADDED = "added"
    REMOVED = "removed"
    PENALTY = "penalty"
    PAUSED = "paused"
    UNPAUSED = "unpaused"


class ExitReason(enum.StrEnum):
    """Why a queue sent a contact away without overflow target."""

    FULL = "full"
    JOIN_EMPTY = "join-empty"
    LEAVE_EMPTY = "leave-empty"
    EXIT_WITH_KEY = "exit-with-key"
    """The caller pressed one of the queue's ``exit_keys`` (app_queue's ``EXITWITHKEY``).

    .. versionadded:: 0.2
    """
    NO_AGENT = "no-agent"
    """The queue had no available agent for too long (mod_callcenter's
    ``NO_AGENT_TIMEOUT``).

    .. versionadded:: 0.2
    """


class EndedBy(enum.StrEnum):
    """Who ended a connected contact (app_queue's ``COMPLETECALLER`` / ``COMPLETEAGENT``).

    ``UNKNOWN`` when the runtime did not say.

    .. versionadded:: 0.2
    """

    CALLER = "caller"
    AGENT = "agent"
    UNKNOWN = ""


# Converters that pass members through untouched: events are built on the
# engine's hot path with members nearly always, and ``Enum(value)`` costs a
# metaclass call each time.
def _state(value: AgentState | str) -> AgentState:
    return value if isinstance(value, AgentState) else AgentState(value)


def _exit_reason(value: ExitReason | str) -> ExitReason:
    return value if isinstance(value, ExitReason) else ExitReason(value)


def _target(value: OverflowTarget | str) -> OverflowTarget:
    return value if isinstance(value, OverflowTarget) else OverflowTarget(value)


@attrs.frozen(kw_only=True)
class ContactEnteredQueue(Event):
    """A contact joined a queue (on arrival, transfer or overflow from another queue).

    Attributes:
        contact_id: The contact.
        queue: The queue joined.
        channel: The contact's channel.
        direction: Inbound or outbound.
        caller_id: The customer's number or address.
        priority: The contact's base priority.
        position: 1-based position in the queue on entry.
        estimated_wait: The estimated wait announced on entry, in seconds.
        service_level_threshold: The queue's threshold, for service-level KPIs.
        entered_at: When the contact entered the queue: ``at``, or earlier for
            a contact restored after a restart with its original arrival time
            (``None`` in events built before 0.2 means ``at``).
    """

    kind: ClassVar[str] = "acd.contact_entered_queue"
    contact_id: str
    queue: str
    channel: Channel = attrs.field(converter=_channel)
    direction: Direction = attrs.field(converter=_direction)
    caller_id: str = ""
    priority: int = 0
    position: int = 1
    estimated_wait: float = 0.0
    service_level_threshold: float = 20.0
    entered_at: float | None = None

    @property
    def since(self) -> float:
        """When the contact entered the queue (``entered_at``, else ``at``)."""
        return self.at if self.entered_at is None else self.entered_at


@attrs.frozen(kw_only=True)
class ContactOffered(Event):
    """A contact was offered to an agent (the agent's phone rings).

    Attributes:
        contact_id: The contact.
        queue: Its queue.
        agent_id: The agent offered to.
        offer_id: Id to answer the offer with.
        expires_at: When the offer times out.
        transfer_from: The agent transferring the contact to ``agent_id``
            (still connected to it meanwhile); ``""`` for a queue offer.
    """

    kind: ClassVar[str] = "acd.contact_offered"
    contact_id: str
    queue: str
    agent_id: str
    offer_id: str
    expires_at: float
    transfer_from: str = ""


@attrs.frozen(kw_only=True)
class OfferAccepted(Event):
    """An agent accepted an offer; any other offer of the contact is rescinded.

    Attributes:
        contact_id: The contact.
        queue: Its queue.
        agent_id: The agent.
        offer_id: The offer.
    """

    kind: ClassVar[str] = "acd.offer_accepted"
    contact_id: str
    queue: str
    agent_id: str
    offer_id: str


@attrs.frozen(kw_only=True)
class OfferRejected(Event):
    """An agent declined an offer (counts as a missed offer).

    Attributes:
        contact_id: The contact.
        queue: Its queue.
        agent_id: The agent.
        offer_id: The offer.
        reason: The agent's reason, if given.
    """

    kind: ClassVar[str] = "acd.offer_rejected"
    contact_id: str
    queue: str
    agent_id: str
    offer_id: str
    reason: str = ""


@attrs.frozen(kw_only=True)
class OfferBusy(OfferRejected):
    """The agent's phone answered busy: a missed offer distinct from a refusal.

    A subclass of :class:`OfferRejected` (code that folds refusals sees it as
    one) with its own kind. It rests the agent for
    :attr:`~callcenter_sdk.acd.RoutingPolicy.busy_delay` and does not count
    towards ``max_missed_offers``, as FreeSWITCH's ``busy-delay-time``.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "acd.offer_busy"


@attrs.frozen(kw_only=True)
class OfferNotAnswered(Event):
    """An offer timed out unanswered (counts as a missed offer).

    Attributes:
        contact_id: The contact.
        queue: Its queue.
        agent_id: The agent.
        offer_id: The offer.
    """

    kind: ClassVar[str] = "acd.offer_not_answered"
    contact_id: str
    queue: str
    agent_id: str
    offer_id: str


@attrs.frozen(kw_only=True)
class OfferRescinded(Event):
    """The engine withdrew an offer (another agent won a ring-all, the caller left).

    Attributes:
        contact_id: The contact.
        queue: Its queue.
        agent_id: The agent.
        offer_id: The offer.
        reason: ``"answered-elsewhere"`` or ``"contact-ended"``.
    """

    kind: ClassVar[str] = "acd.offer_rescinded"
    contact_id: str
    queue: str
    agent_id: str
    offer_id: str
    reason: str


@attrs.frozen(kw_only=True)
class ContactConnected(Event):
    """The customer and the agent are connected: the answer, for KPIs.

    Attributes:
        contact_id: The contact.
        queue: Its queue.
        agent_id: The agent.
        waited: Seconds from entering the queue to this answer.
    """

    kind: ClassVar[str] = "acd.contact_connected"
    contact_id: str
    queue: str
    agent_id: str
    waited: float


@attrs.frozen(kw_only=True)
class ContactAdopted(Event):
    """A contact already connected to its agent was taken over by this engine.

    Not an answer: its :class:`ContactConnected` was published by the engine
    that connected it (a previous cluster leader), so KPIs count it once.
    The contact ends as any connected contact does (:class:`ContactCompleted`).

    Attributes:
        contact_id: The contact.
        queue: The queue it was answered from.
        agent_id: The agent who has it.
        entered_at: When it entered the queue.
        connected_at: When it was connected (its talk time counts from then).
        channel: Its channel.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "acd.contact_adopted"
    contact_id: str
    queue: str
    agent_id: str
    entered_at: float
    connected_at: float
    channel: Channel = attrs.field(default=Channel.VOICE, converter=_channel)


@attrs.frozen(kw_only=True)
class ContactHeld(Event):
    """The agent put the customer on hold.

    Attributes:
        contact_id: The contact.
        agent_id: The agent.
    """

    kind: ClassVar[str] = "acd.contact_held"
    contact_id: str
    agent_id: str


@attrs.frozen(kw_only=True)
class ContactResumed(Event):
    """The agent took the customer off hold.

    Attributes:
        contact_id: The contact.
        agent_id: The agent.
    """

    kind: ClassVar[str] = "acd.contact_resumed"
    contact_id: str
    agent_id: str


@attrs.frozen(kw_only=True)
class ContactTransferred(Event):
    """The agent transferred the contact; the agent goes to wrap-up.

    A transfer to a queue (``to_agent`` empty) is followed by a
    :class:`ContactEnteredQueue` for ``to_queue``. A transfer to an agent
    (``to_agent`` set, ``to_queue`` the same queue) is published when that
    agent accepts: the contact goes straight to them, without a new
    :class:`ContactConnected` (it was answered already).

    Attributes:
        contact_id: The contact.
        agent_id: The agent who transferred.
        from_queue: The queue it was answered from.
        to_queue: The queue it joins next (or stays in, for a transfer to an agent).
        talk_time: Seconds connected to this agent (holds excluded).
        hold_time: Seconds on hold with this agent.
        to_agent: The agent it was handed to, or ``""`` for a queue transfer.

    .. versionchanged:: 0.2
       ``to_agent``.
    """

    kind: ClassVar[str] = "acd.contact_transferred"
    contact_id: str
    agent_id: str
    from_queue: str
    to_queue: str
    talk_time: float = 0.0
    hold_time: float = 0.0
    to_agent: str = ""


@attrs.frozen(kw_only=True)
class ContactCompleted(Event):
    """A connected contact ended (final).

    Attributes:
        contact_id: The contact.
        queue: The queue it was answered from.
        agent_id: The agent.
        talk_time: Seconds connected (holds excluded).
        hold_time: Seconds on hold.
        ended_by: Who hung up, when the runtime knows.

    .. versionchanged:: 0.2
       ``ended_by``.
    """

    kind: ClassVar[str] = "acd.contact_completed"
    contact_id: str
    queue: str
    agent_id: str
    talk_time: float
    hold_time: float
    ended_by: EndedBy = attrs.field(default=EndedBy.UNKNOWN, converter=EndedBy)


@attrs.frozen(kw_only=True)
class ContactAbandoned(Event):
    """The customer left before being connected (final).

    Attributes:
        contact_id: The contact.
        queue: The queue.
        waited: Seconds waited in this queue.
        ringing: Whether an agent was being offered the contact.
    """

    kind: ClassVar[str] = "acd.contact_abandoned"
    contact_id: str
    queue: str
    waited: float
    ringing: bool = False


@attrs.frozen(kw_only=True)
class ContactCallbackRequested(Event):
    """A waiting caller chose to be called back, keeping their place in the queue.

    Not final and not an abandon: the contact stays in the queue with the same
    order (priority, aging, arrival) and is offered to an agent in turn, as a
    callback to ``number``. The caller's own call may end.

    Attributes:
        contact_id: The contact.
        queue: The queue it keeps its place in.
        number: The number to call the customer back on.
        position: 1-based position in the queue when the callback was asked for.
        waited: Seconds waited in the queue so far.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "acd.callback_requested"
    contact_id: str
    queue: str
    number: str
    position: int = 1
    waited: float = 0.0


@attrs.frozen(kw_only=True)
class ContactCallbackFailed(Event):
    """A queued callback ended without reaching the customer (final; not an abandon).

    Attributes:
        contact_id: The contact.
        queue: Its queue.
        number: The number that was (or would have been) called.
        reason: ``"no-answer"``, ``"busy"``, ``"failed"`` (reported by the
            runtime), ``"hangup"`` (the call ended while the agent was being
            connected) or ``"cancelled"`` (ended before an agent took it).
        agent_id: The agent who tried, or ``""`` when none had taken it.
        waited: Seconds from entering the queue to this end.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "acd.callback_failed"
    contact_id: str
    queue: str
    number: str
    reason: str
    agent_id: str = ""
    waited: float = 0.0


@attrs.frozen(kw_only=True)
class ContactTimedOut(Event):
    """The queue's maximum wait expired and no overflow was configured (final).

    Attributes:
        contact_id: The contact.
        queue: The queue.
        waited: Seconds waited.
    """

    kind: ClassVar[str] = "acd.contact_timed_out"
    contact_id: str
    queue: str
    waited: float


@attrs.frozen(kw_only=True)
class ContactExited(Event):
    """The queue refused or sent away the contact and had no overflow (final).

    Attributes:
        contact_id: The contact.
        queue: The queue.
        reason: Full, refused because empty, left because it emptied, left
            with a key, or no agent for too long.
        waited: Seconds waited.
        key: The key pressed, for ``EXIT_WITH_KEY``.

    .. versionchanged:: 0.2
       ``key``; reasons ``exit-with-key`` and ``no-agent``.
    """

    kind: ClassVar[str] = "acd.contact_exited"
    contact_id: str
    queue: str
    reason: ExitReason = attrs.field(converter=_exit_reason)
    waited: float = 0.0
    key: str = ""


@attrs.frozen(kw_only=True)
class ContactOverflowed(Event):
    """A contact left its queue for the overflow target.

    Final unless ``target`` is ``"queue"``, in which case a
    :class:`ContactEnteredQueue` for ``to_queue`` follows.

    Attributes:
        contact_id: The contact.
        queue: The queue it left.
        target: Queue, callback, voicemail or ticket.
        to_queue: The next queue when ``target`` is ``"queue"``.
        reason: ``"max-wait"``, ``"full"``, ``"join-empty"`` or ``"leave-empty"``.
        waited: Seconds waited in the queue it left.
    """

    kind: ClassVar[str] = "acd.contact_overflowed"
    contact_id: str
    queue: str
    target: OverflowTarget = attrs.field(converter=_target)
    to_queue: str = ""
    reason: str = "max-wait"
    waited: float = 0.0

    @property
    def final(self) -> bool:
        """Whether the contact leaves the ACD (not another queue)."""
        return self.target is not OverflowTarget.QUEUE


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


@attrs.frozen(kw_only=True)
class ContactRelaxed(Event):
    """A waiting contact's skill requirements relaxed one step.

    Attributes:
        contact_id: The contact.
        queue: The queue.
        step: The 1-based index of the step now in force.
        requirements: The requirements now in force, as ``skill>=level`` strings.
    """

    kind: ClassVar[str] = "acd.contact_relaxed"
    contact_id: str
    queue: str
    step: int
    requirements: tuple[str, ...] = attrs.field(converter=_strings)


@attrs.frozen(kw_only=True)
class AgentStateChanged(Event):
    """An agent changed state; every transition carries its reason.

    Attributes:
        agent_id: The agent.
        state: The new state.
        previous: The state left.
        reason: Why (``"login"``, ``"offered"``, ``"missed-offers"``, a pause code...).
        queue: The queue concerned when the change is about a contact.
        on_hold: In ``busy``: whether every connected contact is on hold.
    """

    kind: ClassVar[str] = "acd.agent_state_changed"
    agent_id: str
    state: AgentState = attrs.field(converter=_state)
    previous: AgentState = attrs.field(converter=_state)
    reason: str = ""
    queue: str = ""
    on_hold: bool = False


@attrs.frozen(kw_only=True)
class AgentLogoutRequested(Event):
    """An agent asked to log out once the work in hand is done.

    They take no new offers from now on (presence not ready, reason
    ``"logout-pending"``); the :class:`AgentStateChanged` to ``offline`` with
    ``reason`` follows when the last contact and its wrap-up end.

    Attributes:
        agent_id: The agent.
        reason: The reason the final change to offline will carry.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "acd.agent_logout_requested"
    agent_id: str
    reason: str = "logout"


@attrs.frozen(kw_only=True)
class AgentPresenceChanged(Event):
    """An agent with work in hand paused or came back; their state does not show it yet.

    A pause asked while an offer rings, a contact is connected or a wrap-up
    runs changes no state (the agent stays reserved, busy or in wrap-up), so
    no :class:`AgentStateChanged` is published until the work ends. This
    event records the request at once, as app_queue writes ``PAUSE`` to its
    queue_log the moment a member is paused during a call. An idle agent's
    presence change is an :class:`AgentStateChanged` instead.

    Attributes:
        agent_id: The agent.
        presence: The presence asked for (``not_ready`` or ``ready``).
        reason: The pause code (``"ready"`` when coming back).

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "acd.agent_presence_changed"
    agent_id: str
    presence: AgentState = attrs.field(converter=_state)
    reason: str = ""


@attrs.frozen(kw_only=True)
class MemberChanged(Event):
    """An agent's membership of a queue changed while the engine runs.

    Published for live membership (added, removed, penalty changed) and for
    a pause or unpause in one queue only (app_queue's ``QueuePause`` with a
    queue name, or an auto-pause).

    Attributes:
        agent_id: The agent.
        queue: The queue.
        change: What changed.
        penalty: The member's penalty after the change (before, if removed).
        reason: The pause code for ``paused``; why, otherwise.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "acd.member_changed"
    agent_id: str
    queue: str
    change: MemberChange = attrs.field(converter=MemberChange)
    penalty: int = 0
    reason: str = ""


@attrs.frozen(kw_only=True)
class WrapUpExtended(Event):
    """An agent asked for more wrap-up time.

    Attributes:
        agent_id: The agent.
        until: The new end of the wrap-up.
    """

    kind: ClassVar[str] = "acd.wrap_up_extended"
    agent_id: str
    until: float


@attrs.frozen(kw_only=True)
class PluginFault(Event):
    """A routing strategy misbehaved; the built-in fallback decided instead.

    Attributes:
        strategy: The strategy's name.
        queue: The queue it was routing for.
        contact_id: The contact concerned, if any.
        fault: ``"raised"``, ``"invalid"`` (not a candidate, duplicate, too many)
            or ``"slow"`` (over the time budget).
        detail: A short description (the exception, the bad answer).
    """

    kind: ClassVar[str] = "acd.plugin_fault"
    strategy: str
    queue: str
    contact_id: str = ""
    fault: str
    detail: str = ""
