"""What every channel does with a customer's message, so that none is lost.

A message is stored with its ticket *first* (the ticket opened or joined,
the message and its attachments in the ticket's conversation), then handed
to the center as an ACD contact (``receive`` returns once that is stored),
then marked as handed over — and only then may the channel acknowledge it
to its sender. A crash anywhere in between leaves the message
unacknowledged, so its sender (an IMAP mailbox, an SMTP client, a provider's
webhook) presents it again; the second pass finds it stored and finishes the
missing steps, so it is stored once and queued once.

A new conversation's ticket id is derived from its first message's id, so
even a crash between opening the ticket and storing the message opens the
same ticket again rather than a second one.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Mapping
from typing import Protocol

import anyio.to_thread
import attrs

from .._clock import Clock
from .._errors import ConflictError, StateError, ValidationError
from ..acd import Contact
from ..cti import CustomerDirectory, CustomerQuery
from ..kpi import Channel
from ..tickets import (
    Attachment,
    MessageDirection,
    Ticket,
    TicketDesk,
    TicketMessage,
    TicketMessages,
    TicketOrigin,
    TicketRepository,
    TicketStatus,
    add_note,
    customer_replied,
    link_contact,
    reopen,
)

__all__ = ["Center", "Inbound", "Intake", "Taken", "contact_id_of"]

_log = logging.getLogger(__name__)


class Center(Protocol):
    """What a channel needs of the running center (a :class:`~callcenter_sdk.runtime.CallCenter`).

    .. versionadded:: 0.2
    """

    clock: Clock
    desk: TicketDesk
    tickets: TicketRepository
    directory: CustomerDirectory

    async def receive(self, contact: Contact, queue: str) -> None:
        """Store ``contact`` as waiting in ``queue``; return once it is stored."""
        ...

    def received_message(self, contact_id: str) -> None:
        """Another message of the conversation ``contact_id`` carries has been stored."""
        ...


def contact_id_of(message_id: str) -> str:
    """The ACD contact id of a message: short, stable and the same after a restart."""
    return "msg:" + hashlib.sha256(message_id.encode()).hexdigest()[:32]


def _ticket_id_of(message_id: str) -> str:
    return hashlib.sha256(b"ticket\0" + message_id.encode()).hexdigest()[:16]


@attrs.frozen(kw_only=True)
class Inbound:
    """A customer's message as a channel read it.

    Attributes:
        message_id: Unique across channels (see :class:`~callcenter_sdk.tickets.TicketMessage`).
        channel: Where it came from.
        party: The customer's address or number.
        text: What they wrote.
        subject: The e-mail's subject, or a line naming the conversation.
        dialled: The address or number they wrote to.
        ticket_id: The ticket of the conversation it continues, ``""`` for a new one.
        new_ticket_id: The id a new conversation's ticket takes (by default one
            derived from ``message_id``): a channel that derives it from the
            conversation finds the ticket again after a restart.
        attachments: The files that came with it.
        attributes: More for the contact (the ACD and the desktop see them).
    """

    message_id: str
    channel: Channel
    party: str
    text: str
    subject: str = ""
    dialled: str = ""
    ticket_id: str = ""
    new_ticket_id: str = ""
    attachments: tuple[Attachment, ...] = ()
    attributes: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Taken:
    """What became of a message handed to :meth:`Intake.take`.

    Attributes:
        ticket_id: The ticket whose conversation holds it.
        contact_id: The ACD contact carrying it.
        new_ticket: Its conversation opened a ticket (acknowledge with its number).
        again: It had been handed over before (a sender's retry): nothing new happened.
    """

    ticket_id: str
    contact_id: str
    new_ticket: bool
    again: bool = False


class Intake:
    """Stores customers' messages with their tickets and hands them to the center.

    Store work runs in worker threads, never on the event loop.

    Args:
        center: The running center.
        messages: The tickets' conversations (on the center's store).

    .. versionadded:: 0.2
    """

    def __init__(self, center: Center, messages: TicketMessages) -> None:
        self.center = center
        self.messages = messages

    async def take(self, inbound: Inbound, queue: str) -> Taken:
        """Store ``inbound``, queue it as a contact, and return once both are stored.

        Acknowledge the message to its sender only after this returns.

        Raises:
            StoreError: It could not be stored: do not acknowledge it.
        """
        known = await anyio.to_thread.run_sync(self.messages.get, inbound.message_id)
        new_ticket = False
        if known is None:
            ticket, new_ticket = await anyio.to_thread.run_sync(self._ticket, inbound)
            known = self._message(inbound, ticket.ticket_id)
            await anyio.to_thread.run_sync(self.messages.add, known)
        elif known.handed_over:
            return Taken(ticket_id=known.ticket_id, contact_id=known.contact_id, new_ticket=False,
                         again=True)  # fmt: skip
        contact = Contact(
            id=known.contact_id,
            channel=inbound.channel,
            caller_id=inbound.party,
            dialled=inbound.dialled,
            attributes={
                **inbound.attributes,
                "ticket_id": known.ticket_id,
                "subject": inbound.subject,
                "message_id": inbound.message_id,
            },
        )
        try:
            await self.center.receive(contact, queue)
        except ValidationError as exc:  # restored from the store after a crash: it is there
            if "already here" not in str(exc):
                raise
            _log.info("message %s was queued before: %s", inbound.message_id, exc)
        await anyio.to_thread.run_sync(self.messages.handed_over, inbound.message_id)
        return Taken(ticket_id=known.ticket_id, contact_id=contact.id, new_ticket=new_ticket)

    async def record(self, inbound: Inbound, *, contact_id: str) -> bool:
        """Store a message of the conversation ``contact_id`` already carries (a chat line).

        The center counts it (messages per conversation). Returns ``False``
        when it was stored before (and is not counted again).
        """
        message = attrs.evolve(self._message(inbound, inbound.ticket_id), handed_over=True)
        added: bool = await anyio.to_thread.run_sync(self.messages.add, message)
        if added:
            self.center.received_message(contact_id)
        return added

    async def sent(
        self,
        *,
        ticket_id: str,
        message_id: str,
        channel: Channel,
        party: str,
        text: str,
        author: str = "",
        subject: str = "",
        automatic: bool = False,
    ) -> None:
        """Store a message the center sent; an agent's is the ticket's response too."""
        message = TicketMessage(
            message_id=message_id,
            ticket_id=ticket_id,
            channel=channel.value,
            direction=MessageDirection.OUTBOUND,
            at=self.center.clock.now(),
            party=party,
            author=author,
            subject=subject,
            text=text,
            automatic=automatic,
            handed_over=True,
        )
        await anyio.to_thread.run_sync(self.messages.add, message)
        if not automatic:
            note = functools.partial(add_note, author=author, text=text)
            try:
                await anyio.to_thread.run_sync(self.center.desk.apply, ticket_id, note)
            except StateError as exc:  # a closed ticket keeps its transcript all the same
                _log.info("reply on ticket %s not noted: %s", ticket_id, exc)

    def _message(self, inbound: Inbound, ticket_id: str) -> TicketMessage:
        return TicketMessage(
            message_id=inbound.message_id,
            ticket_id=ticket_id,
            channel=inbound.channel.value,
            direction=MessageDirection.INBOUND,
            at=self.center.clock.now(),
            party=inbound.party,
            subject=inbound.subject[:300],
            text=inbound.text,
            contact_id=contact_id_of(inbound.message_id),
            attachments=inbound.attachments,
        )

    def _ticket(self, inbound: Inbound) -> tuple[Ticket, bool]:
        """Join the conversation's ticket, or open one (in a worker thread)."""
        contact_id = contact_id_of(inbound.message_id)
        if inbound.ticket_id:
            ticket = self.center.tickets.get(inbound.ticket_id)
            if ticket.status is not TicketStatus.CLOSED:
                return self._join(ticket, contact_id), False
        customer = self.center.directory.find(
            CustomerQuery(
                contact_id=contact_id,
                email=inbound.party if "@" in inbound.party else None,
                phone=inbound.party if inbound.party.startswith("+") else None,
                number=inbound.attributes.get("customer_number") or None,
            )
        )
        ticket_id = inbound.new_ticket_id or _ticket_id_of(inbound.message_id)
        customer_id = customer.customer_id if customer and customer.customer_id else None
        # A contact's ticket names its customer; a written message from someone the
        # directory does not know opens one as an e-mail does (tickets have no origin
        # for chats and messages of their own yet).
        written = inbound.channel is Channel.EMAIL or customer_id is None
        try:
            ticket = self.center.desk.open(
                subject=(inbound.subject or f"{inbound.channel.value} from {inbound.party}")[:300],
                ticket_id=ticket_id,
                origin=TicketOrigin.EMAIL if written else TicketOrigin.CONTACT,
                description=inbound.text[:100_000],
                customer_id=customer_id,
                contact_id=contact_id,
            )
        except ConflictError:  # opened before a crash: the same ticket, once
            return self.center.tickets.get(ticket_id), True
        return ticket, True

    def _join(self, ticket: Ticket, contact_id: str) -> Ticket:
        desk = self.center.desk
        if ticket.status is TicketStatus.PENDING_CUSTOMER:
            ticket = desk.apply(ticket.ticket_id, customer_replied)
        elif ticket.status is TicketStatus.RESOLVED:
            ticket = desk.apply(ticket.ticket_id, reopen)
        return desk.apply(ticket.ticket_id, link_contact, contact_id)
