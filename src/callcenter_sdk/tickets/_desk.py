"""The :class:`TicketDesk`: the workflow wired to a clock, a store and events."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Concatenate

from .._clock import Clock
from .._errors import ConflictError, ValidationError
from .._events import Event, EventStream
from ._model import Ticket
from ._repository import TicketRepository
from ._workflow import TicketChange, check_sla, next_sla_check, open_ticket

__all__ = ["TicketDesk"]


class TicketDesk:
    """Opens and changes tickets: read the clock, apply the rule, commit, publish.

    Events are published only after the change is committed, so a consumer
    never sees an event about a ticket the store does not have. Every change
    is saved against the version it was computed from (see
    :class:`TicketRepository`), so concurrent desks never overwrite each
    other.

    Args:
        repository: Where tickets are saved.
        clock: The time source for every change and SLA check.
        events: Where to publish the resulting events (none if omitted).
        new_id: Makes ticket ids (random UUIDs by default).
        retries: How many times :meth:`apply` and :meth:`check_due` compute a
            change again when someone else saved the ticket first.

    .. versionchanged:: 0.2
       ``retries``.
    """

    def __init__(
        self,
        repository: TicketRepository,
        clock: Clock,
        *,
        events: EventStream | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        retries: int = 5,
    ) -> None:
        if retries < 1:
            raise ValidationError(f"retries must be at least 1, got {retries}")
        self._repository = repository
        self._clock = clock
        self._events = events
        self._new_id = new_id
        self._retries = retries

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
        expected_version: int | None = None,
        **kwargs: Any,
    ) -> Ticket:
        """Load a ticket, apply a workflow function to it now, save and publish.

        ``desk.apply(id, escalate, reason="line down")`` runs
        ``escalate(ticket, clock.now(), reason="line down")`` on the latest
        stored ticket. If someone saves the ticket between the load and the
        save, the operation is simply applied again to the new latest
        version (it is a pure rule: a note added, a status moved), up to
        ``retries`` times; only the events of the change that was saved
        are published.

        A person editing from what their screen showed passes the version
        they saw as ``expected_version``: then nothing is re-applied, and a
        ticket changed since raises :class:`~callcenter_sdk.ConflictError`,
        so they can look at the change before deciding again.

        Raises:
            ConflictError: ``expected_version`` is not the stored version, or
                the ticket kept changing for ``retries`` attempts.
            NotFoundError: No such ticket.

        .. versionchanged:: 0.2
           Retries on a concurrent save; ``expected_version``.
        """
        for attempt in range(self._retries):
            ticket = self._repository.get(ticket_id)
            if expected_version is not None and ticket.version != expected_version:
                raise ConflictError(f"ticket {ticket_id!r}", expected_version, ticket.version)
            try:
                return self._commit(operation(ticket, self._clock.now(), *args, **kwargs))
            except ConflictError:
                if expected_version is not None or attempt == self._retries - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def check_due(self) -> list[Event]:
        """Emit every SLA warning and breach now due on active tickets.

        A runtime calls this whenever the earliest :func:`next_sla_check`
        time passes (or every minute); it returns the events it published.
        A ticket saved by someone else during the sweep is checked again at
        its new version, so its SLA events still fire exactly once.
        """
        now = self._clock.now()
        published: list[Event] = []
        for ticket in self._repository.active():
            published.extend(self._check_one(ticket, now))
        return published

    def _check_one(self, ticket: Ticket, now: float) -> tuple[Event, ...]:
        for _ in range(self._retries):
            due = next_sla_check(ticket)
            if due is None or due > now:
                return ()
            change = check_sla(ticket, now)
            try:
                self._commit(change)
            except ConflictError:
                ticket = self._repository.get(ticket.ticket_id)
            else:
                return change.events
        return ()  # it kept changing: the next sweep sees it again

    def next_due(self) -> float | None:
        """Return when the next SLA warning or breach falls due on any active ticket.

        A runtime sleeps until then (or until a ticket changes) and calls
        :meth:`check_due`; ``None`` means no clock is running towards one.
        """
        times = [next_sla_check(t) for t in self._repository.active()]
        return min((t for t in times if t is not None), default=None)

    def _commit(self, change: TicketChange) -> Ticket:
        (saved,) = self._repository.save(change.ticket)
        if self._events is not None:
            for event in change.events:
                self._events.publish(event)
        return saved
