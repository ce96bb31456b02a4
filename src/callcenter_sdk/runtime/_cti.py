"""The contact's paperwork: the CTI screen pop, the ticket, knowledge and the disposition.

Around the ACD, the call center looks the caller up while they wait, shows
the agent what it found when their phone rings, opens a ticket (with its SLA
timer) when they answer, asks the knowledge base what to ask on the IVR's
topic, and records how the contact ended, resolving the ticket if solved.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.from_thread

from .._clock import Clock
from .._errors import CallCenterError, StateError
from .._events import EventStream
from .._plugins import PluginHost
from ..cti import CustomerDirectory, CustomerQuery, screen_pop, to_e164
from ..kb import KnowledgeBase
from ..store import ContactRecords
from ..tickets import TicketDesk, TicketOrigin, TicketRepository, add_note, escalate, resolve
from ._access import Access
from ._book import CallBook
from ._calls import Call, Phase
from ._config import CallCenterConfig
from ._desk import ticket_of_work
from ._events import ContactDisposed, KnowledgeSuggested, ScreenPopDelivered
from ._ledger import Ledger
from ._timers import TicketClock

__all__: list[str] = []

_log = logging.getLogger(__name__)


class Paperwork:
    """Screen pop, ticket, knowledge suggestions and disposition of each contact."""

    def __init__(
        self,
        *,
        config: CallCenterConfig,
        book: CallBook,
        access: Access,
        ledger: Ledger,
        plugins: PluginHost,
        directory: CustomerDirectory,
        records: ContactRecords,
        tickets: TicketRepository,
        desk: TicketDesk,
        knowledge: KnowledgeBase,
        ticket_clock: TicketClock,
        escalated: Callable[[str], Awaitable[None]],
        clock: Clock,
        events: EventStream,
    ) -> None:
        self.config = config
        self.book = book
        self.access = access
        self.ledger = ledger
        self.plugins = plugins
        self.directory = directory
        self.records = records
        self.tickets = tickets
        self.desk = desk
        self.knowledge = knowledge
        self._ticket_clock = ticket_clock
        self._escalated = escalated
        self.clock = clock
        self.events = events

    def pop(self, caller: Call, agent_id: str) -> None:
        """Show the agent whose phone rings what the lookup found about the caller."""
        pop = caller.pop
        customer = pop.customer if pop is not None else None
        self.events.publish(
            ScreenPopDelivered(
                at=self.clock.now(),
                contact_id=caller.contact_id,
                agent_id=agent_id,
                customer=customer.number if customer is not None else "",
                name=customer.name if customer is not None else "",
                open_tickets=len(pop.open_tickets) if pop is not None else 0,
                past_contacts=len(pop.past_contacts) if pop is not None else 0,
                caller_id=caller.caller_id,
                caller_verified=caller.verified,
            )
        )

    async def identify(self, caller: Call) -> None:
        """Look the waiting caller up for the screen pop (within the lookup budget)."""
        assert caller.contact is not None  # noqa: S101 - only queued callers are identified
        contact = caller.contact
        try:
            phone: str | None = to_e164(contact.caller_id)
        except CallCenterError:
            phone = None
        account = str(contact.attributes.get("account", "")) or None
        query = CustomerQuery(contact_id=contact.id, phone=phone, number=account)
        try:
            caller.pop = await screen_pop(
                self.plugins,
                query,
                directory=self.directory,
                records=self.records,
                tickets=self.tickets,
                budget=self.config.lookup_budget,
                clock=self.clock,
                events=self.events,
            )
        finally:
            caller.identified.set()
            self.book.identifying.pop(caller.leg, None)

    async def open_ticket(self, caller: Call, agent_id: str) -> None:
        """Open the contact's ticket (its SLA clock starts) and suggest articles.

        The ticket is written through the ledger, after everything asked
        before and retried while the database is down: the call goes on at
        once, and the ticket lands, with its id known now, when it can.
        """
        pop = caller.pop
        customer = pop.customer if pop is not None else None
        topic = caller.topic or "other"
        who = customer.name if customer is not None else (caller.caller_id or "unknown caller")
        options: dict[str, Any] = {"category": topic, "contact_id": caller.contact_id}
        if customer is not None and customer.customer_id:
            options |= {"origin": TicketOrigin.CONTACT, "customer_id": customer.customer_id}
        ticket_id = caller.ticket_id = uuid.uuid4().hex
        subject = f"{topic.capitalize()} call from {who}"
        self.write_ticket(ticket_id, subject=subject, **options)
        try:
            advice = await self.ledger.read(
                self.knowledge.advise, self.config.topics.get(topic, topic)
            )
        except CallCenterError as exc:
            _log.warning("no knowledge suggestions for %s: %s", caller.contact_id, exc)
            return
        self.events.publish(
            KnowledgeSuggested(
                at=self.clock.now(),
                contact_id=caller.contact_id,
                agent_id=agent_id,
                ticket_id=ticket_id,
                articles=[s.article.article_id for s in advice.suggestions],
                questions=advice.questions,
            )
        )

    def write_ticket(self, ticket_id: str, *, subject: str, **options: Any) -> None:
        """Open a ticket through the ledger; its SLA clock is then watched."""

        def open_it() -> None:  # in the ledger's worker thread
            self.desk.open(subject=subject, ticket_id=ticket_id, **options)
            due = self.desk.next_due()
            if due is not None:
                anyio.from_thread.run_sync(self._ticket_clock.due_at, due)

        self.ledger.later(f"opening ticket {ticket_id}", open_it)

    async def dispose(
        self, contact_id: str, disposition: str, *, actor: str, ticket_id: str = ""
    ) -> None:
        """Record how a contact ended; solved resolves its ticket, escalated sends it to level 2.

        An escalated ticket is routed through the back-office queue (see
        :class:`DeskWork`); back-office work disposed is not escalated again.
        ``ticket_id`` names the ticket of desk work (an e-mail's).

        ``actor`` is the person disposing: the agent who handled the contact,
        or someone whose role reaches it (their supervisor).

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
        """
        self.access.on_contact(actor, contact_id, operation="dispose")
        agent_id = actor
        caller = self.book.get(contact_id)
        ticket_id = ticket_id or (caller.ticket_id if caller is not None else "")
        work = ticket_of_work(contact_id)  # a level-2 ticket worked: not escalated again
        ticket_id = ticket_id or work
        self.events.publish(
            ContactDisposed(
                at=self.clock.now(),
                contact_id=contact_id,
                agent_id=agent_id,
                disposition=disposition,
                ticket_id=ticket_id,
            )
        )
        if ticket_id and disposition in self.config.solved_dispositions:
            # after the ticket's opening, which may still wait in the ledger's backlog; while
            # the database is down the agent goes on and the ticket is resolved when it is back
            write = self.ledger.later(
                f"resolving ticket {ticket_id}", lambda: self.desk.apply(ticket_id, resolve)
            )
            await self.ledger.written(write)
        elif ticket_id and disposition in self.config.escalated_dispositions and not work:
            write = self.ledger.later(
                f"escalating ticket {ticket_id}",
                lambda: self.desk.apply(ticket_id, escalate, reason=f"disposed {disposition}"),
            )
            if await self.ledger.written(write):
                await self._escalated(ticket_id)
        if caller is not None and caller.phase is Phase.DONE:
            self.book.forget(caller)  # and a callback's second leg

    async def escalate(self, contact_id: str, reason: str, *, actor: str) -> None:
        """Hand the contact's ticket to level 2 (the technical service), saying why.

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            StateError: The contact has no ticket, or it cannot be escalated now.
        """
        self.access.on_contact(actor, contact_id, operation="escalate")
        ticket_id = self.ticket_of(contact_id)
        await self.ledger.read(self.desk.apply, ticket_id, escalate, reason=reason)
        await self._escalated(ticket_id)

    async def note(
        self,
        contact_id: str,
        text: str,
        *,
        actor: str,
        internal: bool = False,
        expected_version: int | None = None,
    ) -> None:
        """Write a note on the contact's ticket, signed by ``actor``.

        ``expected_version`` is the ticket version the person's screen showed:
        if someone changed the ticket since, nothing is written and
        :class:`~callcenter_sdk.ConflictError` says so (no silent overwrite).

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            ConflictError: The ticket changed since ``expected_version``.
            StateError: The contact has no ticket, or it is closed.
        """
        self.access.on_contact(actor, contact_id, operation="note")
        ticket_id = self.ticket_of(contact_id)
        await self.ledger.read(
            self.desk.apply,
            ticket_id,
            add_note,
            author=actor,
            text=text,
            internal=internal,
            expected_version=expected_version,
        )

    def ticket_of(self, contact_id: str) -> str:
        """The ticket of a live (or not yet disposed) contact.

        Raises:
            StateError: The contact has no ticket open here.
        """
        caller = self.book.get(contact_id)
        if caller is None or not caller.ticket_id:
            raise StateError(f"contact {contact_id!r} has no ticket open here")
        return caller.ticket_id
