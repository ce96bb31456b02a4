"""A ticket's conversation: every message in and out, with its attachments.

A channel (e-mail, chat, SMS) stores each customer message here *before*
handing it to the ACD and each reply as it is sent, so the ticket holds the
whole transcript, attachments included. A message's id is unique across
channels: storing one twice writes nothing, which is how a message fetched
again after a crash is recognised, and a reply's id finds the ticket a
customer's answer belongs to (e-mail threading).

.. versionadded:: 0.2
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .._errors import ValidationError
from ..store import Store
from ..store._limits import EMAIL, ID, NAME, SUBJECT, TEXT, check_float, check_text
from ..store._rows import TicketAttachmentRow, TicketMessageRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["Attachment", "MessageDirection", "TicketMessage", "TicketMessages"]

ATTACHMENT_LIMIT = 10 * 1024 * 1024
"""Bytes one attachment may hold; larger ones are refused before anything is written."""


class MessageDirection(enum.Enum):
    """Whether the customer wrote the message or the center did."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


@attrs.frozen(kw_only=True)
class Attachment:
    """A file that came with a message.

    Attributes:
        filename: The name the sender gave it.
        content_type: Its MIME type (``application/pdf``).
        data: Its bytes (at most :data:`ATTACHMENT_LIMIT`).
    """

    filename: str
    content_type: str
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")


def _attachments(values: Iterable[Attachment]) -> tuple[Attachment, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class TicketMessage:
    """One message of a ticket's conversation.

    Attributes:
        message_id: Unique across channels (an e-mail's ``Message-ID``,
            ``sms:<provider>:<id>``, ``chat:<conversation>:<n>``).
        ticket_id: The ticket whose conversation it belongs to.
        channel: The channel it went through (``"email"``, ``"chat"``...).
        direction: Written by the customer (inbound) or the center.
        at: When it arrived or was sent.
        party: The customer's address or number (sender of an inbound
            message, recipient of an outbound one).
        author: The agent who wrote an outbound message (``""`` inbound or
            automatic).
        subject: The e-mail's subject (``""`` elsewhere).
        text: The message's text.
        contact_id: The ACD contact that carries an inbound message.
        automatic: Sent by the center itself (an acknowledgement), not by an agent.
        handed_over: An inbound message the center has stored as a contact
            (``receive`` returned): only then is it acknowledged to its sender.
        attachments: The files that came with it.
    """

    message_id: str
    ticket_id: str
    channel: str
    direction: MessageDirection
    at: float
    party: str
    author: str = ""
    subject: str = ""
    text: str = ""
    contact_id: str = ""
    automatic: bool = False
    handed_over: bool = False
    attachments: tuple[Attachment, ...] = attrs.field(default=(), converter=_attachments)


class TicketMessages:
    """Stores and reads tickets' messages; every write is committed before it returns.

    Args:
        store: Where the messages live (beside their tickets).
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, message: TicketMessage) -> bool:
        """Store ``message`` with its attachments; ``False`` if its id is stored already.

        Raises:
            ValidationError: A field breaks the store's limits; nothing is written.
            NotFoundError: Its ticket does not exist (the store's foreign key).
        """
        _check(message)
        with self._store.transaction(f"store message {message.message_id}") as session:
            module = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
            inserted = session.scalar(
                module.insert(TicketMessageRow)
                .values(**_columns(message))
                .on_conflict_do_nothing()
                .returning(TicketMessageRow.message_id)
            )
            if inserted is None:
                return False
            session.add_all(
                TicketAttachmentRow(
                    message_id=message.message_id,
                    position=position,
                    filename=attachment.filename,
                    content_type=attachment.content_type,
                    data=attachment.data,
                )
                for position, attachment in enumerate(message.attachments)
            )
            return True

    def get(self, message_id: str) -> TicketMessage | None:
        """The stored message ``message_id``, or ``None``."""
        with self._store.transaction(f"load message {message_id}") as session:
            row = session.get(TicketMessageRow, message_id)
            return None if row is None else _load(session, [row])[0]

    def find(self, message_ids: Iterable[str]) -> TicketMessage | None:
        """The first of ``message_ids`` (in that order) that is stored, or ``None``."""
        wanted = [m for m in dict.fromkeys(message_ids) if m]
        if not wanted:
            return None
        with self._store.transaction("find messages") as session:
            rows = {
                row.message_id: row
                for row in session.scalars(
                    select(TicketMessageRow).where(TicketMessageRow.message_id.in_(wanted))
                )
            }
            for message_id in wanted:
                if message_id in rows:
                    return _load(session, [rows[message_id]])[0]
        return None

    def of_ticket(self, ticket_id: str) -> list[TicketMessage]:
        """The conversation of ``ticket_id``, oldest first."""
        query = (
            select(TicketMessageRow)
            .where(TicketMessageRow.ticket_id == ticket_id)
            .order_by(TicketMessageRow.at, TicketMessageRow.message_id)
        )
        with self._store.transaction(f"load messages of ticket {ticket_id}") as session:
            return _load(session, list(session.scalars(query)))

    def handed_over(self, message_id: str) -> None:
        """Note that the center stored ``message_id`` as a contact (acknowledge it now)."""
        with self._store.transaction(f"hand over message {message_id}") as session:
            session.execute(
                update(TicketMessageRow)
                .where(TicketMessageRow.message_id == message_id)
                .values(handed_over=True)
            )

    def automatic_since(self, party: str, since: float) -> int:
        """How many automatic messages went to ``party`` since ``since`` (loop protection)."""
        query = select(func.count()).where(
            TicketMessageRow.party == party,
            TicketMessageRow.automatic.is_(True),
            TicketMessageRow.direction == MessageDirection.OUTBOUND.value,
            TicketMessageRow.at >= since,
        )
        with self._store.transaction(f"count automatic messages to {party}") as session:
            return session.scalar(query) or 0


def _check(message: TicketMessage) -> None:
    check_text("TicketMessage.message_id", message.message_id, EMAIL)
    check_text("TicketMessage.ticket_id", message.ticket_id, ID)
    check_text("TicketMessage.channel", message.channel, 20)
    check_text("TicketMessage.party", message.party, EMAIL)
    check_text("TicketMessage.author", message.author, NAME)
    check_text("TicketMessage.subject", message.subject, SUBJECT)
    check_text("TicketMessage.text", message.text, TEXT)
    check_text("TicketMessage.contact_id", message.contact_id, ID)
    check_float("TicketMessage.at", message.at)
    for index, attachment in enumerate(message.attachments):
        check_text(f"TicketMessage.attachments[{index}].filename", attachment.filename, SUBJECT)
        check_text(
            f"TicketMessage.attachments[{index}].content_type", attachment.content_type, NAME
        )
        if len(attachment.data) > ATTACHMENT_LIMIT:
            raise ValidationError(
                f"attachment {attachment.filename!r} holds {len(attachment.data)} bytes,"
                f" more than {ATTACHMENT_LIMIT}"
            )


def _columns(message: TicketMessage) -> dict[str, object]:
    return {
        "message_id": message.message_id,
        "ticket_id": message.ticket_id,
        "channel": message.channel,
        "direction": message.direction.value,
        "at": message.at,
        "party": message.party,
        "author": message.author,
        "subject": message.subject,
        "text": message.text,
        "contact_id": message.contact_id,
        "automatic": message.automatic,
        "handed_over": message.handed_over,
    }


def _load(session: Session, rows: list[TicketMessageRow]) -> list[TicketMessage]:
    keys = [row.message_id for row in rows]
    files: dict[str, list[Attachment]] = {key: [] for key in keys}
    if keys:
        for row in session.scalars(
            select(TicketAttachmentRow)
            .where(TicketAttachmentRow.message_id.in_(keys))
            .order_by(TicketAttachmentRow.message_id, TicketAttachmentRow.position)
        ):
            files[row.message_id].append(
                Attachment(filename=row.filename, content_type=row.content_type, data=row.data)
            )
    return [
        TicketMessage(
            message_id=row.message_id,
            ticket_id=row.ticket_id,
            channel=row.channel,
            direction=MessageDirection(row.direction),
            at=row.at,
            party=row.party,
            author=row.author,
            subject=row.subject,
            text=row.text,
            contact_id=row.contact_id,
            automatic=row.automatic,
            handed_over=row.handed_over,
            attachments=files[row.message_id],
        )
        for row in rows
    ]
