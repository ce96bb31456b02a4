"""Tickets in the store: rows in, frozen :class:`Ticket` values out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from .._errors import NotFoundError
from ..store import Store
from ..store._rows import TicketContactRow, TicketNoteRow, TicketRow
from ._model import Note, Priority, SlaPolicy, Ticket, TicketOrigin, TicketStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["TicketRepository"]

_DONE = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)


class TicketRepository:
    """Saves and loads tickets; every save is committed before it returns.

    Notes and linked contacts are append-only: saving writes only those the
    database does not hold yet.

    Args:
        store: Where tickets live.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, *tickets: Ticket) -> None:
        """Insert or update tickets with their new notes and contacts, in one transaction."""
        with self._store.transaction(f"save {len(tickets)} tickets") as session:
            for ticket in tickets:
                session.merge(_to_row(ticket))
                _append_children(session, ticket)

    def get(self, ticket_id: str) -> Ticket:
        """Return the ticket ``ticket_id``.

        Raises:
            NotFoundError: No such ticket.
        """
        with self._store.transaction(f"load ticket {ticket_id}") as session:
            row = session.get(TicketRow, ticket_id)
            if row is None:
                raise NotFoundError(f"no ticket {ticket_id!r}")
            return _load(session, [row])[0]

    def active(self, *, customer_id: int | None = None) -> list[Ticket]:
        """Return tickets still being worked on (not resolved or closed), oldest first."""
        query = select(TicketRow).where(TicketRow.status.not_in(_DONE))
        if customer_id is not None:
            query = query.where(TicketRow.customer_id == customer_id)
        query = query.order_by(TicketRow.opened_at, TicketRow.ticket_id)
        with self._store.transaction("load active tickets") as session:
            return _load(session, list(session.scalars(query)))


def _to_row(ticket: Ticket) -> TicketRow:
    return TicketRow(
        ticket_id=ticket.ticket_id,
        subject=ticket.subject,
        description=ticket.description,
        status=ticket.status.value,
        priority=ticket.priority.value,
        category=ticket.category,
        origin=ticket.origin.value,
        level=ticket.level,
        customer_id=ticket.customer_id,
        opened_at=ticket.opened_at,
        updated_at=ticket.updated_at,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        paused_since=ticket.paused_since,
        paused_total=ticket.paused_total,
        first_response_target=ticket.sla.first_response,
        resolution_target=ticket.sla.resolution,
        warn_before=ticket.sla.warn_before,
        sla_flags=sorted(ticket.sla_flags),
    )


def _append_children(session: Session, ticket: Ticket) -> None:
    key = ticket.ticket_id
    notes = session.scalar(select(func.count()).where(TicketNoteRow.ticket_id == key)) or 0
    session.add_all(
        TicketNoteRow(
            ticket_id=key,
            position=position,
            at=note.at,
            author=note.author,
            text=note.text,
            internal=note.internal,
        )
        for position, note in enumerate(ticket.notes)
        if position >= notes
    )
    linked = set(
        session.scalars(
            select(TicketContactRow.contact_id).where(TicketContactRow.ticket_id == key)
        )
    )
    session.add_all(
        TicketContactRow(ticket_id=key, contact_id=contact_id, position=position)
        for position, contact_id in enumerate(ticket.contact_ids)
        if contact_id not in linked
    )


def _load(session: Session, rows: list[TicketRow]) -> list[Ticket]:
    keys = [row.ticket_id for row in rows]
    notes: dict[str, list[Note]] = {key: [] for key in keys}
    contacts: dict[str, list[str]] = {key: [] for key in keys}
    if keys:
        for note in session.scalars(
            select(TicketNoteRow)
            .where(TicketNoteRow.ticket_id.in_(keys))
            .order_by(TicketNoteRow.ticket_id, TicketNoteRow.position)
        ):
            notes[note.ticket_id].append(
                Note(at=note.at, author=note.author, text=note.text, internal=note.internal)
            )
        for link in session.scalars(
            select(TicketContactRow)
            .where(TicketContactRow.ticket_id.in_(keys))
            .order_by(TicketContactRow.ticket_id, TicketContactRow.position)
        ):
            contacts[link.ticket_id].append(link.contact_id)
    return [_from_row(row, notes[row.ticket_id], contacts[row.ticket_id]) for row in rows]


def _from_row(row: TicketRow, notes: list[Note], contacts: list[str]) -> Ticket:
    return Ticket(
        ticket_id=row.ticket_id,
        subject=row.subject,
        description=row.description,
        status=TicketStatus(row.status),
        priority=Priority(row.priority),
        category=row.category,
        origin=TicketOrigin(row.origin),
        level=row.level,
        customer_id=row.customer_id,
        contact_ids=contacts,
        notes=notes,
        sla=SlaPolicy(
            first_response=row.first_response_target,
            resolution=row.resolution_target,
            warn_before=row.warn_before,
        ),
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        paused_since=row.paused_since,
        paused_total=row.paused_total,
        sla_flags=row.sla_flags,
    )
