"""Work without a phone: e-mails, chats, messages and escalated tickets at the desktop.

A channel adapter (an e-mail mailbox, a chat server, an SMS gateway) hands
each customer message to the center with :meth:`DeskWork.receive`, which
returns only once the contact is stored: the adapter acknowledges the
message (an IMAP flag, an SMTP 250, a webhook's 200) after that, so a crash
never loses one. The ACD routes it like a call, by skills and per-channel
capacity (an agent may hold three chats beside nothing else). No phone
rings: the agent takes it at the desktop (:meth:`DeskWork.accept`), answers
through the channel's adapter (:meth:`DeskWork.reply`) and disposes of it,
which ends their part (wrap-up follows).

A ticket escalated to level 2 (an ``escalated`` disposition, or the
escalate operation) is such work too: it joins the back-office queue
(:attr:`CallCenterConfig.back_office`) on the ticket channel, requiring the
technical service's skill (:data:`~callcenter_sdk.tickets.LEVEL_SKILLS`).
"""

from __future__ import annotations

import logging
from typing import Protocol

from .._clock import Clock
from .._errors import CallCenterError, NotFoundError, StateError, StoreError, ValidationError
from .._events import EventStream
from ..acd import Contact, Offer
from ..kpi import Channel
from ..org import Action
from ..tickets import TicketRepository, ticket_contact
from ._access import Access
from ._book import CallBook
from ._calls import AgentLeg
from ._config import CallCenterConfig
from ._engine_port import EnginePort
from ._events import MessageReceived, ReplySent
from ._ledger import Ledger

__all__ = ["ChannelAdapter"]

_log = logging.getLogger(__name__)

_TICKET = "ticket:"
"""The id of a ticket's contact (:func:`~callcenter_sdk.tickets.ticket_contact`)."""

LIVE_CHANNELS = frozenset({Channel.VOICE, Channel.CALLBACK})
"""Channels whose contacts ring a phone (the rest are desk work)."""


def ticket_of_work(contact_id: str) -> str:
    """The ticket a back-office contact works on, ``""`` for other work."""
    return contact_id.removeprefix(_TICKET) if contact_id.startswith(_TICKET) else ""


class ChannelAdapter(Protocol):
    """What the center needs of a channel to answer its customers.

    .. versionadded:: 0.2
    """

    @property
    def channel(self) -> Channel:
        """The channel this adapter carries (one adapter per channel)."""
        ...

    async def send(self, contact: Contact, text: str, *, agent: str) -> str:
        """Send ``text`` to the customer of ``contact``; return the message's id."""
        ...


class DeskWork:
    """The center's contacts without a phone, from arrival to disposition.

    Attributes:
        items: The desk work the center holds now, by contact id.
        adapters: The channel adapters replies go through, by channel.
    """

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
        events: EventStream,
    ) -> None:
        self.config = config
        self.book = book
        self.port = port
        self.ledger = ledger
        self.tickets = tickets
        self.access = access
        self.clock = clock
        self.events = events
        self.items: dict[str, Contact] = {}
        self.adapters: dict[Channel, ChannelAdapter] = {}
        self.connected_rows: set[str] = set()
        """Desk work connected to an agent whose stored row stays open until it ends."""

    def holds(self, contact_id: str) -> bool:
        """Whether ``contact_id`` is desk work (no phone rings for it)."""
        return contact_id in self.items

    async def receive(self, contact: Contact, queue: str) -> None:
        """Store ``contact`` as waiting in ``queue``, then queue it in the ACD.

        Raises:
            ValidationError: A voice or callback contact (those arrive by phone),
                or an id the center already holds.
            StoreError: It could not be stored: do not acknowledge the message.
            StateError: The queue refused it (full, or no agent to take it, by
                its rules) and it overflowed nowhere: do not acknowledge the
                message, so its sender sends it again later (an SMTP 451, a
                webhook's error, a chat line unacknowledged).
        """
        if contact.channel in LIVE_CHANNELS:
            raise ValidationError(f"{contact.channel.value} contacts arrive by phone, not here")
        if contact.id in self.items or self.book.get(contact.id) is not None:
            raise ValidationError(f"contact {contact.id!r} is already here")
        write = self.ledger.queued(contact, queue, self.clock.now())
        if not await self.ledger.written(write):
            raise StoreError(f"contact {contact.id!r} not stored (the database is down)")
        self.items[contact.id] = contact
        try:
            await self.port.arrive(contact, queue)
        except CallCenterError:
            self.items.pop(contact.id, None)
            self.ledger.served(contact.id)
            raise
        try:
            self.port.engine.contact_status(contact.id)  # still in a queue, or with an agent
        except NotFoundError:  # refused on arrival: it left at once (acd.contact_exited)
            self.items.pop(contact.id, None)
            self.ledger.served(contact.id)
            raise StateError(
                f"queue {queue!r} refused contact {contact.id!r} (full, or nobody to take it):"
                " not taken, send it again later"
            ) from None
        self.message(contact)

    def message(self, contact: Contact) -> None:
        """Count a stored customer message of ``contact``'s conversation."""
        self.events.publish(
            MessageReceived(
                at=self.clock.now(),
                contact_id=contact.id,
                channel=contact.channel.value,
                ticket_id=str(contact.attributes.get("ticket_id", "")),
            )
        )

    def restored(self, contact: Contact) -> None:
        """A stored contact of this kind was put back in its queue at start."""
        if contact.channel not in LIVE_CHANNELS:
            self.items[contact.id] = contact

    async def escalated(self, ticket_id: str) -> None:
        """A ticket reached level 2: store it as waiting work, queued for the technical service."""
        queue = self.config.back_office
        if not queue:
            return
        try:
            ticket = await self.ledger.read(self.tickets.get, ticket_id)
            await self.receive(ticket_contact(ticket), queue)
        except CallCenterError as exc:  # the database is down: the ticket waits at level 2
            _log.warning("escalated ticket %s not queued: %s", ticket_id, exc)

    def offered(self, offer: Offer) -> None:
        """The ACD offers desk work: it waits on the agent's desktop, no phone rings."""
        self.book.offers[offer.offer_id] = AgentLeg(offer)

    async def accept(self, agent_id: str, *, actor: str, contact_id: str = "") -> str:
        """The agent takes ``contact_id`` (by default the oldest desk work offered); its id."""
        self.access.on_agent(actor, Action.CHANGE_AGENT_STATE, agent_id, operation="accept")
        for leg in list(self.book.offers.values()):
            offer = leg.offer
            if contact_id and offer.contact_id != contact_id:
                continue
            if offer.agent_id == agent_id and self.holds(offer.contact_id):
                leg.answered = True
                await self.port.perform(self.port.engine.accept(offer.offer_id))
                self.book.offers.pop(offer.offer_id, None)
                return offer.contact_id
        if contact_id:
            raise StateError(f"desk work {contact_id!r} is not offered to agent {agent_id!r}")
        raise StateError(f"no desk work is offered to agent {agent_id!r}")

    async def reply(self, contact_id: str, text: str, *, actor: str) -> str:
        """Answer the customer through the contact's channel; return the message id."""
        self.access.on_contact(actor, contact_id, operation="reply")
        contact = self.items.get(contact_id)
        if contact is None:
            raise NotFoundError(f"no desk work {contact_id!r} here")
        adapter = self.adapters.get(contact.channel)
        if adapter is None:
            raise StateError(f"no {contact.channel.value} adapter: nothing can be sent")
        message = await adapter.send(contact, text, agent=actor)
        self.events.publish(
            ReplySent(
                at=self.clock.now(),
                contact_id=contact_id,
                agent_id=actor,
                channel=contact.channel.value,
                message_id=message,
            )
        )
        return message

    def typing(self, contact_id: str, *, actor: str) -> bool:
        """Show the customer that ``actor`` is writing to them, where the channel can.

        Returns whether the channel shows it (a chat does; e-mail and SMS do not).
        """
        self.access.on_contact(actor, contact_id, operation="type to")
        contact = self.items.get(contact_id)
        if contact is None:
            raise NotFoundError(f"no desk work {contact_id!r} here")
        show = getattr(self.adapters.get(contact.channel), "typing", None)
        if show is None:
            return False
        show(contact_id)
        return True

    async def finish(self, contact_id: str) -> None:
        """The agent's part of the work ends (their wrap-up follows)."""
        self.items.pop(contact_id, None)
        try:
            await self.port.hangup(contact_id)
        except CallCenterError as exc:  # not connected (finished already, or never accepted)
            _log.info("desk work %s not ended: %s", contact_id, exc)
