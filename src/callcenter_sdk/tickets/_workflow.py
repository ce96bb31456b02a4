"""The ticket state machine and its SLA clocks, as pure functions.

Every function takes a ticket and the current time (read by the caller from
the injected :class:`~callcenter_sdk.Clock`) and returns a
:class:`TicketChange`: the new ticket and the events the change caused. No
I/O happens here, so the same rules run live, in the simulator and under
hypothesis. Each change first brings the SLA up to date, so a breach that
happened before the change is reported before it.

Transitions::

    OPEN / REOPENED ──> PENDING_CUSTOMER ──> OPEN (or ESCALATED at level 2)
          │    └──────> ESCALATED (level 1 -> 2) ──> PENDING_CUSTOMER
          └──────────────────────────────────────────> RESOLVED ──> CLOSED
                                                           └──> REOPENED
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from .._errors import StateError, TransitionError, ValidationError
from .._events import Event
from ._events import (
    SLA_EVENTS,
    TicketContactLinked,
    TicketEscalated,
    TicketFirstResponse,
    TicketNoteAdded,
    TicketOpened,
    TicketStatusChanged,
)
from ._model import (
    Note,
    Priority,
    SlaPolicy,
    SlaStage,
    SlaTarget,
    Ticket,
    TicketOrigin,
    TicketStatus,
)

__all__ = [
    "DEFAULT_SLA",
    "TicketChange",
    "add_note",
    "check_sla",
    "close",
    "customer_replied",
    "escalate",
    "link_contact",
    "next_sla_check",
    "open_ticket",
    "reopen",
    "resolve",
    "sla_elapsed",
    "wait_for_customer",
]

_HOUR = 3600.0

DEFAULT_SLA: Mapping[Priority, SlaPolicy] = {
    Priority.LOW: SlaPolicy(
        first_response=24 * _HOUR, resolution=5 * 24 * _HOUR, warn_before=_HOUR
    ),
    Priority.NORMAL: SlaPolicy(first_response=8 * _HOUR, resolution=48 * _HOUR, warn_before=_HOUR),
    Priority.HIGH: SlaPolicy(first_response=2 * _HOUR, resolution=8 * _HOUR, warn_before=1800),
    Priority.URGENT: SlaPolicy(first_response=1800, resolution=4 * _HOUR, warn_before=600),
}
"""SLA policies used when :func:`open_ticket` is given none; override per campaign."""

_NEXT: Mapping[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.OPEN: frozenset(
        {TicketStatus.PENDING_CUSTOMER, TicketStatus.ESCALATED, TicketStatus.RESOLVED}
    ),
    TicketStatus.REOPENED: frozenset(
        {TicketStatus.PENDING_CUSTOMER, TicketStatus.ESCALATED, TicketStatus.RESOLVED}
    ),
    TicketStatus.ESCALATED: frozenset({TicketStatus.PENDING_CUSTOMER, TicketStatus.RESOLVED}),
    TicketStatus.PENDING_CUSTOMER: frozenset(
        {TicketStatus.OPEN, TicketStatus.ESCALATED, TicketStatus.RESOLVED}
    ),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.REOPENED}),
    TicketStatus.CLOSED: frozenset(),
}

_PAUSED = frozenset({TicketStatus.PENDING_CUSTOMER, TicketStatus.RESOLVED, TicketStatus.CLOSED})
"""Statuses in which the resolution clock does not run."""


@attrs.frozen
class TicketChange:
    """The outcome of an operation on a ticket.

    Attributes:
        ticket: The ticket after the change.
        events: What happened, in order (SLA events first); publish them.
    """

    ticket: Ticket
    events: tuple[Event, ...] = ()


def open_ticket(
    *,
    ticket_id: str,
    subject: str,
    now: float,
    origin: TicketOrigin = TicketOrigin.BACK_OFFICE,
    description: str = "",
    priority: Priority = Priority.NORMAL,
    category: str = "",
    customer_id: int | None = None,
    contact_id: str | None = None,
    sla: SlaPolicy | None = None,
) -> TicketChange:
    """Open a ticket; both SLA clocks start at ``now``.

    Raises:
        ValidationError: A ticket opened from a contact lacks the contact or
            the identified customer (identify the caller first).
    """
    if origin is TicketOrigin.CONTACT and (contact_id is None or customer_id is None):
        raise ValidationError("a ticket opened from a contact needs the contact and its customer")
    ticket = Ticket(
        ticket_id=ticket_id,
        subject=subject,
        description=description,
        priority=priority,
        category=category,
        origin=origin,
        customer_id=customer_id,
        contact_ids=() if contact_id is None else (contact_id,),
        sla=sla or DEFAULT_SLA[priority],
        opened_at=now,
        updated_at=now,
    )
    opened = TicketOpened(
        at=now,
        ticket_id=ticket_id,
        origin=origin,
        priority=priority,
        category=category,
        customer_id=customer_id,
    )
    return TicketChange(ticket, (opened,))


def sla_elapsed(ticket: Ticket, target: SlaTarget, now: float) -> float:
    """Return the seconds counted so far against ``target`` at time ``now``.

    The first-response clock stops at the first public reply; the resolution
    clock does not run while paused (waiting for the customer, resolved).
    """
    if target is SlaTarget.FIRST_RESPONSE:
        end = ticket.first_response_at if ticket.first_response_at is not None else now
        return max(0.0, end - ticket.opened_at)
    end = ticket.paused_since if ticket.paused_since is not None else now
    return max(0.0, end - ticket.opened_at - ticket.paused_total)


def _satisfied(ticket: Ticket, target: SlaTarget) -> bool:
    if target is SlaTarget.FIRST_RESPONSE:
        return ticket.first_response_at is not None
    return ticket.status in {TicketStatus.RESOLVED, TicketStatus.CLOSED}


def _threshold(policy: SlaPolicy, target: SlaTarget, stage: SlaStage) -> float | None:
    limit = policy.target(target)
    if stage is SlaStage.BREACH:
        return limit
    return limit - policy.warn_before if policy.warn_before > 0 else None


def _flag(target: SlaTarget, stage: SlaStage) -> str:
    return f"{target.value}.{stage.value}"


def check_sla(ticket: Ticket, now: float) -> TicketChange:
    """Emit the SLA warnings and breaches due by ``now``, each at most once.

    A breach noticed late (the check ran after the deadline) is stamped with
    the exact ``due_at`` of the breach, and its now-pointless warning is
    skipped.
    """
    events: list[Event] = []
    flags = set(ticket.sla_flags)
    for target in SlaTarget:
        if _satisfied(ticket, target):
            continue
        elapsed = sla_elapsed(ticket, target, now)
        reference = now
        if target is SlaTarget.RESOLUTION and ticket.paused_since is not None:
            reference = ticket.paused_since
        due_at = reference + ticket.sla.target(target) - elapsed
        for stage in (SlaStage.BREACH, SlaStage.WARNING):
            threshold = _threshold(ticket.sla, target, stage)
            if threshold is None or _flag(target, stage) in flags or elapsed < threshold:
                continue
            flags.add(_flag(target, stage))
            if stage is SlaStage.BREACH:
                flags.add(_flag(target, SlaStage.WARNING))
            events.append(
                SLA_EVENTS[stage](at=now, ticket_id=ticket.ticket_id, target=target, due_at=due_at)
            )
    if not events:
        return TicketChange(ticket)
    return TicketChange(attrs.evolve(ticket, sla_flags=flags), tuple(events))


def next_sla_check(ticket: Ticket) -> float | None:
    """Return when the next SLA warning or breach falls due, or ``None``.

    ``None`` means no clock is running towards an unreported event (all
    satisfied, already reported, or the resolution clock is paused). A
    runtime sleeps until this time and then calls :func:`check_sla`.
    """
    times: list[float] = []
    for target in SlaTarget:
        if _satisfied(ticket, target):
            continue
        if target is SlaTarget.RESOLUTION and ticket.paused_since is not None:
            continue
        start = ticket.opened_at + (ticket.paused_total if target is SlaTarget.RESOLUTION else 0.0)
        for stage in SlaStage:
            threshold = _threshold(ticket.sla, target, stage)
            if threshold is not None and _flag(target, stage) not in ticket.sla_flags:
                times.append(start + threshold)
    return min(times, default=None)


def _begin(ticket: Ticket, now: float) -> TicketChange:
    if now < ticket.updated_at:
        raise ValidationError(f"ticket {ticket.ticket_id}: time went back ({now} < updated_at)")
    return check_sla(ticket, now)


def _move(change: TicketChange, target: TicketStatus, now: float, **fields: object) -> TicketChange:
    ticket = change.ticket
    if target not in _NEXT[ticket.status]:
        raise TransitionError(f"ticket {ticket.ticket_id}", ticket.status.value, target.value)
    paused_since = ticket.paused_since
    paused_total = ticket.paused_total
    if paused_since is None and target in _PAUSED:
        paused_since = now
    elif paused_since is not None and target not in _PAUSED:
        paused_total += now - paused_since
        paused_since = None
    moved = attrs.evolve(
        ticket,
        status=target,
        updated_at=now,
        paused_since=paused_since,
        paused_total=paused_total,
        **fields,  # type: ignore[arg-type]
    )
    event = TicketStatusChanged(
        at=now, ticket_id=ticket.ticket_id, source=ticket.status, target=target
    )
    return TicketChange(moved, (*change.events, event))


def _responded(change: TicketChange, now: float) -> TicketChange:
    ticket = change.ticket
    if ticket.first_response_at is not None:
        return change
    event = TicketFirstResponse(at=now, ticket_id=ticket.ticket_id, after=now - ticket.opened_at)
    return TicketChange(attrs.evolve(ticket, first_response_at=now), (*change.events, event))


def add_note(
    ticket: Ticket, now: float, *, author: str, text: str, internal: bool = False
) -> TicketChange:
    """Write a note; the first public note is the first response.

    Raises:
        StateError: The ticket is closed.
    """
    change = _begin(ticket, now)
    if ticket.status is TicketStatus.CLOSED:
        raise StateError(f"ticket {ticket.ticket_id} is closed: notes go on a new ticket")
    note = Note(at=now, author=author, text=text, internal=internal)
    noted = attrs.evolve(change.ticket, notes=(*change.ticket.notes, note), updated_at=now)
    event = TicketNoteAdded(at=now, ticket_id=ticket.ticket_id, author=author, internal=internal)
    change = TicketChange(noted, (*change.events, event))
    return change if internal else _responded(change, now)


def link_contact(ticket: Ticket, now: float, contact_id: str) -> TicketChange:
    """Link a contact (a call back, an email) to the ticket; linking twice is a no-op.

    Raises:
        StateError: The ticket is closed.
    """
    change = _begin(ticket, now)
    if ticket.status is TicketStatus.CLOSED:
        raise StateError(f"ticket {ticket.ticket_id} is closed: link the contact to a new ticket")
    if contact_id in ticket.contact_ids:
        return change
    linked = attrs.evolve(
        change.ticket, contact_ids=(*change.ticket.contact_ids, contact_id), updated_at=now
    )
    event = TicketContactLinked(at=now, ticket_id=ticket.ticket_id, contact_id=contact_id)
    return TicketChange(linked, (*change.events, event))


def wait_for_customer(ticket: Ticket, now: float) -> TicketChange:
    """Ask the customer for something; the resolution clock stops meanwhile."""
    return _move(_begin(ticket, now), TicketStatus.PENDING_CUSTOMER, now)


def customer_replied(ticket: Ticket, now: float) -> TicketChange:
    """The customer answered: back to work, at the level the ticket had reached."""
    target = TicketStatus.ESCALATED if ticket.level == 2 else TicketStatus.OPEN
    if ticket.status is not TicketStatus.PENDING_CUSTOMER:
        raise TransitionError(f"ticket {ticket.ticket_id}", ticket.status.value, target.value)
    return _move(_begin(ticket, now), target, now)


def escalate(ticket: Ticket, now: float, *, reason: str) -> TicketChange:
    """Hand the ticket from level 1 to level 2 (the technical service).

    Raises:
        TransitionError: The ticket is already at level 2, or resolved/closed.
    """
    if ticket.level != 1:
        raise TransitionError(
            f"ticket {ticket.ticket_id}", ticket.status.value, "escalated", "already at level 2"
        )
    change = _move(_begin(ticket, now), TicketStatus.ESCALATED, now, level=2)
    event = TicketEscalated(at=now, ticket_id=ticket.ticket_id, level=2, reason=reason)
    return TicketChange(change.ticket, (*change.events, event))


def resolve(ticket: Ticket, now: float) -> TicketChange:
    """Mark the ticket solved; a resolution also counts as the first response."""
    change = _move(_begin(ticket, now), TicketStatus.RESOLVED, now, resolved_at=now)
    return _responded(change, now)


def reopen(ticket: Ticket, now: float) -> TicketChange:
    """The problem came back: the resolution clock resumes where it stopped."""
    return _move(_begin(ticket, now), TicketStatus.REOPENED, now, resolved_at=None)


def close(ticket: Ticket, now: float) -> TicketChange:
    """Close a resolved ticket for good."""
    return _move(_begin(ticket, now), TicketStatus.CLOSED, now, closed_at=now)
