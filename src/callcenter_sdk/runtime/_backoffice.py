"""Back-office work in the running center: escalated tickets routed to level 2.

A ticket escalated to level 2 (an ``escalated`` disposition, or the
escalate operation) becomes a contact of the back-office queue
(:attr:`CallCenterConfig.back_office`), on the ticket channel, requiring
the technical service's skill (:data:`~callcenter_sdk.tickets.LEVEL_SKILLS`).
It is stored before it waits, like a call; the ACD offers it to an agent
with that skill and free ticket capacity; no phone rings: the agent accepts
it at their desktop (:meth:`BackOffice.accept`), works it, and disposes it,
which ends their part (wrap-up follows) and resolves the ticket when solved.
"""

from __future__ import annotations

import logging

from .._clock import Clock
from .._errors import CallCenterError, StateError
from ..acd import Offer
from ..org import Action
from ..tickets import TicketRepository, ticket_contact
from ._access import Access
from ._book import CallBook
from ._calls import AgentLeg
from ._config import CallCenterConfig
from ._engine_port import EnginePort
from ._ledger import Ledger

__all__: list[str] = []

_log = logging.getLogger(__name__)

_PREFIX = "ticket:"
"""The id of a ticket's contact (:func:`~callcenter_sdk.tickets.ticket_contact`)."""


def is_back_office(contact_id: str) -> bool:
    """Whether ``contact_id`` is a ticket's back-office contact (no phone to ring)."""
    return contact_id.startswith(_PREFIX)


def ticket_of_work(contact_id: str) -> str:
    """The ticket a back-office contact works on."""
    return contact_id.removeprefix(_PREFIX)


class BackOffice:
    """Routes escalated tickets through the back-office queue and follows the work."""

    def __init__(
        self,
        *,
        config: CallCenterConfig,
        book: CallBook,
        port: EnginePort,
        ledger: Ledger,
        tickets: TicketRepository,
        access: Access,
        clock: Clock,
    ) -> None:
        self.config = config
        self.book = book
        self.port = port
        self.ledger = ledger
        self.tickets = tickets
        self.access = access
        self.clock = clock

    async def escalated(self, ticket_id: str) -> None:
        """A ticket reached level 2: store it as waiting work, queued for the technical service."""
        queue = self.config.back_office
        if not queue:
            return
        try:
            ticket = await self.ledger.read(self.tickets.get, ticket_id)
        except CallCenterError as exc:  # the database is down: the ticket waits at level 2
            _log.warning("escalated ticket %s not queued: %s", ticket_id, exc)
            return
        contact = ticket_contact(ticket)
        self.ledger.queued(contact, queue, self.clock.now())
        try:
            await self.port.arrive(contact, queue)
        except CallCenterError:
            _log.exception("ticket %s could not join queue %r", ticket_id, queue)
            self.ledger.served(contact.id)

    def offered(self, offer: Offer) -> None:
        """The ACD offers back-office work: it waits on the agent's desktop, no phone rings."""
        self.book.offers[offer.offer_id] = AgentLeg(offer)

    async def accept(self, agent_id: str, *, actor: str) -> str:
        """The agent takes the back-office work offered at their desktop; return its contact id."""
        self.access.on_agent(actor, Action.CHANGE_AGENT_STATE, agent_id, operation="accept")
        for leg in list(self.book.offers.values()):
            offer = leg.offer
            if offer.agent_id == agent_id and is_back_office(offer.contact_id):
                leg.answered = True
                await self.port.perform(self.port.engine.accept(offer.offer_id))
                self.book.offers.pop(offer.offer_id, None)
                return offer.contact_id
        raise StateError(f"no back-office work is offered to agent {agent_id!r}")

    async def finish(self, contact_id: str) -> None:
        """The agent's work on the ticket ends (their wrap-up follows)."""
        try:
            await self.port.hangup(contact_id)
        except CallCenterError as exc:  # not connected (finished already, or never accepted)
            _log.info("back-office work %s not ended: %s", contact_id, exc)
