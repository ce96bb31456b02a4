"""Events emitted by tickets (kinds ``ticket.*``)."""

from __future__ import annotations

from typing import ClassVar

import attrs

from .._events import Event
from ._model import Priority, SlaStage, SlaTarget, TicketOrigin, TicketStatus

__all__ = [
    "TicketContactLinked",
    "TicketEscalated",
    "TicketFirstResponse",
    "TicketNoteAdded",
    "TicketOpened",
    "TicketSlaBreached",
    "TicketSlaWarning",
    "TicketStatusChanged",
]


@attrs.frozen(kw_only=True)
class TicketOpened(Event):
    """A ticket was opened; its SLA clocks start at ``at``.

    Attributes:
        ticket_id: The ticket.
        origin: What opened it.
        priority: Its priority.
        category: Its category.
        customer_id: The customer, if identified.
    """

    kind: ClassVar[str] = "ticket.opened"

    ticket_id: str
    origin: TicketOrigin = attrs.field(converter=TicketOrigin)
    priority: Priority = attrs.field(converter=Priority)
    category: str
    customer_id: int | None


@attrs.frozen(kw_only=True)
class TicketStatusChanged(Event):
    """A ticket moved from one status to another.

    Attributes:
        ticket_id: The ticket.
        source: The status it left.
        target: The status it entered.
    """

    kind: ClassVar[str] = "ticket.status_changed"

    ticket_id: str
    source: TicketStatus = attrs.field(converter=TicketStatus)
    target: TicketStatus = attrs.field(converter=TicketStatus)


@attrs.frozen(kw_only=True)
class TicketEscalated(Event):
    """A ticket went up to the technical service.

    Attributes:
        ticket_id: The ticket.
        level: The level it went to (2).
        reason: Why, in the agent's words.
    """

    kind: ClassVar[str] = "ticket.escalated"

    ticket_id: str
    level: int
    reason: str


@attrs.frozen(kw_only=True)
class TicketNoteAdded(Event):
    """A note was written on a ticket.

    Attributes:
        ticket_id: The ticket.
        author: Who wrote it.
        internal: Whether the customer cannot see it.
    """

    kind: ClassVar[str] = "ticket.note_added"

    ticket_id: str
    author: str
    internal: bool


@attrs.frozen(kw_only=True)
class TicketFirstResponse(Event):
    """The customer got the first reply.

    Attributes:
        ticket_id: The ticket.
        after: Seconds since opening: the first-response time KPI.
    """

    kind: ClassVar[str] = "ticket.first_response"

    ticket_id: str
    after: float


@attrs.frozen(kw_only=True)
class TicketContactLinked(Event):
    """A contact was linked to a ticket.

    Attributes:
        ticket_id: The ticket.
        contact_id: The contact.
    """

    kind: ClassVar[str] = "ticket.contact_linked"

    ticket_id: str
    contact_id: str


@attrs.frozen(kw_only=True)
class TicketSlaWarning(Event):
    """An SLA target will be breached soon unless someone acts.

    Attributes:
        ticket_id: The ticket.
        target: Which promise.
        due_at: When it will be breached if the clock keeps running.
    """

    kind: ClassVar[str] = "ticket.sla_warning"

    ticket_id: str
    target: SlaTarget = attrs.field(converter=SlaTarget)
    due_at: float


@attrs.frozen(kw_only=True)
class TicketSlaBreached(Event):
    """An SLA target was missed.

    ``at`` is when the breach was noticed; ``due_at`` when it happened.

    Attributes:
        ticket_id: The ticket.
        target: Which promise.
        due_at: The moment the target was missed.
    """

    kind: ClassVar[str] = "ticket.sla_breached"

    ticket_id: str
    target: SlaTarget = attrs.field(converter=SlaTarget)
    due_at: float


SLA_EVENTS: dict[SlaStage, type[TicketSlaWarning] | type[TicketSlaBreached]] = {
    SlaStage.WARNING: TicketSlaWarning,
    SlaStage.BREACH: TicketSlaBreached,
}
