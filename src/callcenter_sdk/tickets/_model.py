"""The ticket as a value: statuses, priorities, SLA policy, notes."""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from .._errors import ValidationError

__all__ = [
    "Note",
    "Priority",
    "SlaPolicy",
    "SlaStage",
    "SlaTarget",
    "Ticket",
    "TicketOrigin",
    "TicketStatus",
]


class TicketStatus(enum.Enum):
    """Where a ticket stands. Only ``CLOSED`` is final."""

    OPEN = "open"
    PENDING_CUSTOMER = "pending_customer"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class Priority(enum.Enum):
    """How urgent a ticket is; it picks the default SLA policy."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketOrigin(enum.Enum):
    """What opened the ticket."""

    CONTACT = "contact"
    EMAIL = "email"
    BACK_OFFICE = "back_office"


class SlaTarget(enum.Enum):
    """The two promises of a ticket SLA."""

    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class SlaStage(enum.Enum):
    """A warning comes ``warn_before`` seconds before the breach."""

    WARNING = "warning"
    BREACH = "breach"


def _positive(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValidationError(f"SlaPolicy.{attribute.name} must be > 0, got {value!r}")


@attrs.frozen(kw_only=True)
class SlaPolicy:
    """The service-level promise attached to a ticket when it opens.

    The first-response clock runs from opening until the first reply the
    customer sees. The resolution clock runs from opening until resolution
    but stops while the ticket waits for the customer (or is resolved, in
    case it is reopened): the customer's silence is not the center's delay.

    Attributes:
        first_response: Seconds allowed until the first public reply.
        resolution: Seconds of active time allowed until resolution.
        warn_before: A warning event fires this many seconds before each
            breach, so a supervisor can still act (0 disables warnings).
    """

    first_response: float = attrs.field(validator=_positive)
    resolution: float = attrs.field(validator=_positive)
    warn_before: float = attrs.field(default=0.0)

    @warn_before.validator
    def _check_warn(self, _attribute: object, value: float) -> None:
        if value < 0:
            raise ValidationError(f"SlaPolicy.warn_before must be >= 0, got {value!r}")

    def target(self, which: SlaTarget) -> float:
        """Return the seconds allowed for ``which``."""
        return self.first_response if which is SlaTarget.FIRST_RESPONSE else self.resolution


@attrs.frozen(kw_only=True)
class Note:
    """A note on a ticket.

    Attributes:
        at: When it was written.
        author: Who wrote it (agent or person id).
        text: The note.
        internal: Hidden from the customer; an internal note is not a response.
    """

    at: float
    author: str
    text: str
    internal: bool = False


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _note_tuple(values: Iterable[Note]) -> tuple[Note, ...]:
    return tuple(values)


def _flag_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@attrs.frozen(kw_only=True)
class Ticket:
    """A ticket: a customer's request followed until it is solved.

    Change it only through the functions of :mod:`callcenter_sdk.tickets`
    (:func:`~callcenter_sdk.tickets.escalate`, ...), which check the
    transition and return the events it caused.

    Attributes:
        ticket_id: Unique id.
        subject: One line.
        description: The customer's problem, in their words.
        status: Where it stands.
        priority: How urgent.
        category: Free classification (``"billing"``, ``"internet/outage"``).
        origin: What opened it.
        level: 1 (front office) or 2 (technical service), after escalation.
        customer_id: The customer, once identified.
        contact_ids: Contacts (calls, emails...) linked to it, in order.
        notes: Notes in the order written.
        sla: The SLA policy it was opened under.
        opened_at: When it was opened: both SLA clocks start here.
        updated_at: Last change.
        first_response_at: First public reply, if any.
        resolved_at: When last resolved (cleared on reopening).
        closed_at: When closed.
        paused_since: Since when the resolution clock is stopped, if it is.
        paused_total: Seconds the resolution clock was stopped before that.
        sla_flags: ``"<target>.<stage>"`` of every SLA event already
            emitted, so each fires once.
        version: The stored version this value was read as: 0 before the
            first save, then 1, 2... as the store saves it. A save must
            start from the latest version, so two people editing one ticket
            never silently overwrite each other (see
            :meth:`~callcenter_sdk.tickets.TicketRepository.save`). It is
            bookkeeping, not content: two tickets differing only in version
            compare equal.

    .. versionchanged:: 0.2
       Added ``version``.
    """

    ticket_id: str
    subject: str
    description: str = ""
    status: TicketStatus = TicketStatus.OPEN
    priority: Priority = Priority.NORMAL
    category: str = ""
    origin: TicketOrigin = TicketOrigin.BACK_OFFICE
    level: int = 1
    customer_id: int | None = None
    contact_ids: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    notes: tuple[Note, ...] = attrs.field(default=(), converter=_note_tuple)
    sla: SlaPolicy
    opened_at: float
    updated_at: float
    first_response_at: float | None = None
    resolved_at: float | None = None
    closed_at: float | None = None
    paused_since: float | None = None
    paused_total: float = 0.0
    sla_flags: frozenset[str] = attrs.field(default=frozenset(), converter=_flag_set)
    version: int = attrs.field(default=0, eq=False)

    @property
    def is_active(self) -> bool:
        """Whether someone still has to work on it (not resolved nor closed)."""
        return self.status not in {TicketStatus.RESOLVED, TicketStatus.CLOSED}
