"""The contact's paperwork: the CTI screen pop, the ticket, knowledge and the disposition.

Around the ACD, the call center looks the caller up while they wait, shows
the agent what it found when their phone rings, opens a ticket (with its SLA
timer) when they answer, asks the knowledge base what to ask on the IVR's
topic, and records how the contact ended, resolving the ticket if solved.
"""

from __future__ import annotations

import contextlib
from typing import Any

from .._errors import CallCenterError
from ..cti import CustomerQuery, screen_pop, to_e164
from ..tickets import TicketOrigin, resolve
from ._base import _CenterBase
from ._calls import _Caller
from ._events import ContactDisposed, KnowledgeSuggested, ScreenPopDelivered

__all__: list[str] = []


class _Paperwork(_CenterBase):
    """Screen pop, ticket, knowledge suggestions and disposition of each contact."""

    def _pop(self, caller: _Caller, agent_id: str) -> None:
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
            )
        )

    async def _identify(self, caller: _Caller) -> None:
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
            self._identifying.pop(caller.leg, None)

    def _open_ticket(self, caller: _Caller, agent_id: str) -> None:
        pop = caller.pop
        customer = pop.customer if pop is not None else None
        topic = caller.topic or "other"
        who = customer.name if customer is not None else (caller.caller_id or "unknown caller")
        options: dict[str, Any] = {"category": topic, "contact_id": caller.contact_id}
        if customer is not None and customer.customer_id:
            options |= {"origin": TicketOrigin.CONTACT, "customer_id": customer.customer_id}
        ticket = self.desk.open(subject=f"{topic.capitalize()} call from {who}", **options)
        caller.ticket_id = ticket.ticket_id
        self._ticket_due = self.desk.next_due()
        advice = self.knowledge.advise(self.config.topics.get(topic, topic))
        self.events.publish(
            KnowledgeSuggested(
                at=self.clock.now(),
                contact_id=caller.contact_id,
                agent_id=agent_id,
                ticket_id=ticket.ticket_id,
                articles=[s.article.article_id for s in advice.suggestions],
                questions=advice.questions,
            )
        )

    def dispose(self, contact_id: str, agent_id: str, disposition: str) -> None:
        """Record how a contact ended; a solved one resolves its ticket."""
        caller = self._callers.get(contact_id)
        ticket_id = caller.ticket_id if caller is not None else ""
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
            with contextlib.suppress(CallCenterError):
                self.desk.apply(ticket_id, resolve)
        if caller is not None and caller.phase == "done":
            self._callers.pop(contact_id, None)
            self._callers.pop(caller.leg, None)  # a callback's second leg
