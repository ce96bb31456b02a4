"""The :class:`TicketDesk`: the workflow wired to a clock, a store and events."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Concatenate

from .._clock import Clock
from .._events import Event, EventStream
from ._model import Ticket
from ._repository import TicketRepository
from ._workflow import TicketChange, check_sla, next_sla_check, open_ticket

__all__ = ["TicketDesk"]


class TicketDesk:
    """Opens and changes tickets: read the clock, apply the rule, commit, publish.

    Events are published only after the change is committed, so a consumer
    never sees an event about a ticket the store does not have.

    Args:
        repository: Where tickets are saved.
        clock: The time source for every change and SLA check.
        events: Where to publish the resulting events (none if omitted).
        new_id: Makes ticket ids (random UUIDs by default).
    """

    def __init__(
        self,
        repository: TicketRepository,
        clock: Clock,
        *,
        events: EventStream | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._events = events
        self._new_id = new_id

    def open(self, *, subject: str, ticket_id: str | None = None, **options: Any) -> Ticket:
        """Open and save a ticket; ``options`` are those of :func:`open_ticket`."""
        change = open_ticket(
            ticket_id=ticket_id or self._new_id(),
            subject=subject,
            now=self._clock.now(),
            **options,
        )
        return self._commit(change)

    def apply(
        self,
        ticket_id: str,
        operation: Callable[Concatenate[Ticket, float, ...], TicketChange],
        *args: Any,
        **kwargs: Any,
    ) -> Ticket:
        """Load a ticket, apply a workflow function to it now, save and publish.

        ``desk.apply(id, escalate, reason="line down")`` runs
        ``escalate(ticket, clock.now(), reason="line down")``.
        """
        ticket = self._repository.get(ticket_id)
        return self._commit(operation(ticket, self._clock.now(), *args, **kwargs))

    def check_due(self) -> list[Event]:
        """Emit every SLA warning and breach now due on active tickets.

        A runtime calls this whenever the earliest :func:`next_sla_check`
        time passes (or every minute); it returns the events it published.
        """
        now = self._clock.now()
        published: list[Event] = []
        for ticket in self._repository.active():
            due = next_sla_check(ticket)
            if due is not None and due <= now:
                change = check_sla(ticket, now)
                self._commit(change)
                published.extend(change.events)
        return published

    def next_due(self) -> float | None:
        """Return when the next SLA warning or breach falls due on any active ticket.

        A runtime sleeps until then (or until a ticket changes) and calls
        :meth:`check_due`; ``None`` means no clock is running towards one.
        """
        times = [next_sla_check(t) for t in self._repository.active()]
        return min((t for t in times if t is not None), default=None)

    def _commit(self, change: TicketChange) -> Ticket:
        self._repository.save(change.ticket)
        if self._events is not None:
            for event in change.events:
                self._events.publish(event)
        return change.ticket
