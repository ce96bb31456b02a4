"""Events of the runtime (kinds ``runtime.*``): what happened between the engines.

The ACD, the media backend, the CTI and the ticket desk publish their own
events; these record the runtime's part — how a call left the IVR, what the
agent was shown, which articles were suggested, the disposition — so the
event log tells a call's whole story.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import attrs

from .._events import Event

__all__ = [
    "AgentLegFailed",
    "CallInterrupted",
    "CallTakenOver",
    "CallTransferred",
    "CallbackMade",
    "CallbackScheduled",
    "CampaignStarted",
    "CampaignStopped",
    "ContactDisposed",
    "IvrCompleted",
    "KnowledgeSuggested",
    "MessageReceived",
    "MonitoringStarted",
    "PermissionRefused",
    "QueueConfigured",
    "ReplySent",
    "ScreenPopDelivered",
    "SeatsChanged",
    "TermStarted",
    "WorkRestored",
]


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _ints(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


@attrs.frozen(kw_only=True)
class IvrCompleted(Event):
    """A call left the IVR.

    Attributes:
        call_id: The caller's leg (also the ACD contact id when queued).
        outcome: ``"queue"``, ``"callback"``, ``"voicemail"`` or ``"hangup"``.
        queue: The queue chosen, for ``"queue"`` and ``"callback"``.
        topic: The menu choice (the ``topic`` attribute), if any.
        by_caller: The caller hung up in the IVR (an IVR abandon).
        trail: The flow's nodes the call went through.
    """

    kind: ClassVar[str] = "runtime.ivr_completed"

    call_id: str
    outcome: str
    queue: str = ""
    topic: str = ""
    by_caller: bool = False
    trail: tuple[str, ...] = attrs.field(default=(), converter=_strings)


@attrs.frozen(kw_only=True)
class ScreenPopDelivered(Event):
    """The agent's desktop was shown who is calling, as their phone started ringing.

    Attributes:
        contact_id: The contact.
        agent_id: The agent offered the contact.
        customer: The customer number, ``""`` for an unknown caller.
        name: The customer's name, ``""`` when unknown.
        open_tickets: How many of the customer's tickets are still open.
        past_contacts: How many earlier contacts the pop lists.
        caller_id: The caller's number the lookup used.
        caller_verified: Whether that number was asserted by a trusted trunk
            (P-Asserted-Identity or Remote-Party-ID from a trusted address).
            When ``False`` the caller may have forged it: the customer shown
            is a match on an unverified number, to be confirmed by asking.
    """

    kind: ClassVar[str] = "runtime.screen_pop"

    contact_id: str
    agent_id: str
    customer: str = ""
    name: str = ""
    open_tickets: int = 0
    past_contacts: int = 0
    caller_id: str = ""
    caller_verified: bool = False


@attrs.frozen(kw_only=True)
class KnowledgeSuggested(Event):
    """Articles the knowledge base suggested for a connected contact's topic.

    Attributes:
        contact_id: The contact.
        agent_id: The agent handling it.
        ticket_id: The ticket opened for it, if any.
        articles: The suggested article ids, best first.
        questions: The diagnostic questions to ask, best article first.
    """

    kind: ClassVar[str] = "runtime.kb_suggested"

    contact_id: str
    agent_id: str
    ticket_id: str = ""
    articles: tuple[int, ...] = attrs.field(default=(), converter=_ints)
    questions: tuple[str, ...] = attrs.field(default=(), converter=_strings)


@attrs.frozen(kw_only=True)
class ContactDisposed(Event):
    """The agent recorded how a contact ended (its disposition code), usually in wrap-up.

    Attributes:
        contact_id: The contact.
        agent_id: The agent.
        disposition: The code (``"solved"``, ``"escalated"``...).
        ticket_id: The contact's ticket, if one was opened.
    """

    kind: ClassVar[str] = "runtime.contact_disposed"

    contact_id: str
    agent_id: str
    disposition: str
    ticket_id: str = ""


@attrs.frozen(kw_only=True)
class AgentLegFailed(Event):
    """Ringing an agent's device failed or was refused; the offer went back to the ACD.

    Attributes:
        contact_id: The contact offered.
        agent_id: The agent.
        call_id: The agent leg's id (``""`` when it could not even be placed).
        cause: The media end cause (``"busy"``, ``"no_answer"``...) or ``"media"``.
    """

    kind: ClassVar[str] = "runtime.agent_leg_failed"

    contact_id: str
    agent_id: str
    call_id: str = ""
    cause: str = ""


@attrs.frozen(kw_only=True)
class CallTransferred(Event):
    """An agent transferred a caller, or gave up an attended transfer.

    Attributes:
        contact_id: The caller's contact.
        agent_id: The agent who transferred.
        target: An agent id, or the external number as typed.
        attended: Whether the agent talked to the target first (consult transfer).
        outcome: ``"requested"`` (blind: REFER sent), ``"completed"`` (attended:
            caller and target joined), ``"cancelled"`` (the agent took the caller
            back) or ``"failed"`` (the target did not answer).
    """

    kind: ClassVar[str] = "runtime.call_transferred"

    contact_id: str
    agent_id: str
    target: str
    attended: bool
    outcome: str


@attrs.frozen(kw_only=True)
class CallInterrupted(Event):
    """A caller waiting when the center stopped could not be kept: their leg ended with it.

    Published at start-up for each voice contact the previous run had in a
    queue: the media workers hung their calls up when the process that held
    them died, so the contact is closed here, once.

    Attributes:
        contact_id: The caller's contact.
        queue: The queue they waited in.
        waited: Seconds from their arrival in the queue to the restart.
    """

    kind: ClassVar[str] = "runtime.call_interrupted"

    contact_id: str
    queue: str
    waited: float


@attrs.frozen(kw_only=True)
class WorkRestored(Event):
    """A starting call center put back what its previous run had promised.

    Attributes:
        waiting: Non-voice contacts back in their queues at their original arrival.
        callbacks: Callbacks back in their queues at the place they kept.
        interrupted: Voice callers who were waiting and could not be kept
            (each a :class:`CallInterrupted`).
        adopted: Contacts given back to the agent who had them in hand (a
            cluster takeover; each an :class:`~callcenter_sdk.acd.ContactAdopted`).
        ended: Stored contacts the log shows completed, closed and not queued again.

    .. versionchanged:: 0.2
       ``adopted`` and ``ended``.
    """

    kind: ClassVar[str] = "runtime.work_restored"

    waiting: int
    callbacks: int
    interrupted: int
    adopted: int = 0
    ended: int = 0


@attrs.frozen(kw_only=True)
class TermStarted(Event):
    """A cluster node took the lead: the first event of its term in the log.

    Every event of the previous term is before it in the log (the fence
    refuses any later write of an older epoch). Published before the new
    leader puts anything back, then it resolves the offers the previous term
    left in flight and resumes the agents' states (``docs/cluster.md``).

    Attributes:
        node: The new leader's node id.
        domain: The routing domain it leads.
        epoch: The lease's epoch of the term.
        offers_in_flight: Offers of the previous term with no outcome in the
            log, each now rescinded (reason ``"takeover"``).
        agents_resumed: Agents whose state was put back from the log.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "runtime.term_started"

    node: str
    domain: str
    epoch: int
    offers_in_flight: int = 0
    agents_resumed: int = 0


@attrs.frozen(kw_only=True)
class PermissionRefused(Event):
    """Someone tried an operation their role and place in the org do not allow.

    Nothing happened; this is the audit trail of the attempt.

    Attributes:
        actor: Who asked.
        operation: What they asked (``"dispose"``, ``"set_ready"``, ``"monitor"``...).
        target: What it was about (``"agent alice"``, ``"contact w0.1:7"``).
        reason: Why it was refused.
    """

    kind: ClassVar[str] = "runtime.permission_refused"

    actor: str
    operation: str
    target: str
    reason: str


@attrs.frozen(kw_only=True)
class MonitoringStarted(Event):
    """A supervisor picked up and joined an agent's call (listen, whisper or barge).

    Attributes:
        supervisor: Who monitors (the actor who asked).
        agent_id: The agent monitored.
        mode: ``"listen"``, ``"whisper"``, ``"barge"`` or ``"take-over"``.
        call_id: The supervisor's leg (hang it up to stop).
    """

    kind: ClassVar[str] = "runtime.monitoring_started"

    supervisor: str
    agent_id: str
    mode: str
    call_id: str


@attrs.frozen(kw_only=True)
class CallTakenOver(Event):
    """A supervisor took over an agent's call: the agent left, the caller stays with them.

    For the ACD the agent's part of the contact ended (wrap-up follows).

    Attributes:
        contact_id: The contact taken over.
        agent_id: The agent who left the call.
        supervisor: Who took it over.
        call_id: The supervisor's leg.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "runtime.call_taken_over"

    contact_id: str
    agent_id: str
    supervisor: str
    call_id: str


@attrs.frozen(kw_only=True)
class CallbackMade(Event):
    """A promised callback reached its customer, who is now talking to the agent.

    Attributes:
        contact_id: The callback's contact.
        agent_id: The agent who called back.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "runtime.callback_made"

    contact_id: str
    agent_id: str


@attrs.frozen(kw_only=True)
class CallbackScheduled(Event):
    """An agent promised the customer a call back at a time; it is stored.

    Attributes:
        contact_id: The contact the promise was made on.
        agent_id: Who promised.
        number: The number to call (E.164, allowed by the outbound policy).
        due_at: When the callback joins its queue.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "runtime.callback_scheduled"

    contact_id: str
    agent_id: str
    number: str
    due_at: float


@attrs.frozen(kw_only=True)
class ReplySent(Event):
    """An agent answered a customer through a channel (an e-mail, a chat message...).

    Attributes:
        contact_id: The contact answered.
        agent_id: Who answered.
        channel: The channel it went through.
        message_id: The channel's id of the message sent.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "runtime.reply_sent"

    contact_id: str
    agent_id: str
    channel: str
    message_id: str


@attrs.frozen(kw_only=True)
class MessageReceived(Event):
    """A customer's message reached the center and is stored (e-mail, chat, SMS, social).

    The first message of a conversation arrives with its contact; each later
    one is counted here too (messages per conversation).

    Attributes:
        contact_id: The contact carrying the conversation.
        channel: Its channel.
        ticket_id: The conversation's ticket, ``""`` if none.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "runtime.message_received"

    contact_id: str
    channel: str
    ticket_id: str = ""


def _settings(values: Iterable[Iterable[object]]) -> tuple[tuple[str, float | None], ...]:
    pairs = []
    for name, value in values:
        pairs.append((str(name), None if value is None else float(value)))  # type: ignore[arg-type]
    return tuple(pairs)


@attrs.frozen(kw_only=True)
class CampaignStopped(Event):
    """A campaign stopped taking calls: its numbers and queues answer with the closed prompt.

    Attributes:
        campaign: The campaign.
        actor: Who stopped it.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "runtime.campaign_stopped"
    campaign: str
    actor: str


@attrs.frozen(kw_only=True)
class CampaignStarted(Event):
    """A stopped campaign takes calls again.

    Attributes:
        campaign: The campaign.
        actor: Who started it.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "runtime.campaign_started"
    campaign: str
    actor: str


@attrs.frozen(kw_only=True)
class QueueConfigured(Event):
    """Settings of a running queue changed (see :data:`~callcenter_sdk.acd.LIVE_QUEUE_SETTINGS`).

    Attributes:
        queue: The queue.
        settings: The settings changed and their new values (``None``: unset).
        actor: Who changed them.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "runtime.queue_configured"
    queue: str
    settings: tuple[tuple[str, float | None], ...] = attrs.field(converter=_settings)
    actor: str


@attrs.frozen(kw_only=True)
class SeatsChanged(Event):
    """The seats of a campaign changed (allocated or released by an administrator).

    Attributes:
        campaign: The campaign.
        seats: Its seats now (numbers in its center).
        actor: Who changed them.

    .. versionadded:: 0.2
    """

    kind: ClassVar[str] = "runtime.seats_changed"
    campaign: str
    seats: tuple[int, ...] = attrs.field(converter=_ints)
    actor: str
