"""Tickets in the store: rows in, frozen :class:`Ticket` values out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .._errors import ConflictError, NotFoundError
from ..store import Store
from ..store._limits import (
    ID,
    INT32,
    NAME,
    SUBJECT,
    TEXT,
    check_float,
    check_int,
    check_optional_float,
    check_optional_int,
    check_text,
    check_texts,
)
from ..store._rows import TicketContactRow, TicketNoteRow, TicketRow
from ._model import Note, Priority, SlaPolicy, Ticket, TicketOrigin, TicketStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["TicketRepository"]

_DONE = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)


class TicketRepository:
    """Saves and loads tickets; every save is committed before it returns.

    Saves use optimistic concurrency: a ticket carries the ``version`` it was
    read as, and a save writes only if the stored ticket is still at that
    version, then bumps it. Two agents editing one ticket from the same
    version cannot both win: the second save raises
    :class:`~callcenter_sdk.ConflictError` and writes nothing.

    Notes and linked contacts are append-only: saving writes only those the
    database does not hold yet.

    Args:
        store: Where tickets live.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, *tickets: Ticket) -> list[Ticket]:
        """Insert or update tickets with their new notes and contacts, in one transaction.

        A ticket at version 0 is created; any other is updated only if the
        store still holds that version. Returns the tickets as saved, each
        at its new version (edit those next, not the ones passed in).

        Raises:
            ConflictError: A ticket was saved by someone else since it was
                read (or, at version 0, a ticket with its id exists);
                nothing of the whole call is written.
            NotFoundError: A ticket at a version above 0 is not stored.
            ValidationError: A field breaks the store's limits (see
                ``docs/store.md``); nothing is written.

        .. versionchanged:: 0.2
           Checks and bumps ``version``; returns the saved tickets.
        """
        for ticket in tickets:
            _check(ticket)
        with self._store.transaction(f"save {len(tickets)} tickets") as session:
            saved = []
            for ticket in tickets:
                saved.append(_write(session, ticket))
                _append_children(session, ticket)
            return saved

    def get(self, ticket_id: str) -> Ticket:
        """Return the ticket ``ticket_id`` at its latest version.

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


def _write(session: Session, ticket: Ticket) -> Ticket:
    """Insert (version 0) or update (version matches) the ticket's row; return it saved."""
    key = ticket.ticket_id
    values = _columns(ticket)
    if ticket.version == 0:
        module = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
        inserted = session.scalar(
            module.insert(TicketRow)
            .values(**values, version=1)
            .on_conflict_do_nothing()
            .returning(TicketRow.ticket_id)
        )
        if inserted is None:
            raise ConflictError(
                f"ticket {key!r}", 0, _stored_version(session, key), "it already exists"
            )
        return attrs.evolve(ticket, version=1)
    updated = session.execute(
        update(TicketRow)
        .where(TicketRow.ticket_id == key, TicketRow.version == ticket.version)
        .values(**values, version=ticket.version + 1)
    )
    if not updated.rowcount:  # type: ignore[attr-defined]
        actual = _stored_version(session, key)
        if actual is None:
            raise NotFoundError(f"no ticket {key!r} (it was read at version {ticket.version})")
        raise ConflictError(f"ticket {key!r}", ticket.version, actual)
    return attrs.evolve(ticket, version=ticket.version + 1)


def _stored_version(session: Session, key: str) -> int | None:
    return session.scalar(select(TicketRow.version).where(TicketRow.ticket_id == key))


def _check(ticket: Ticket) -> None:
    """Refuse what one of the databases would refuse or store differently."""
    check_text("Ticket.ticket_id", ticket.ticket_id, ID)
    check_text("Ticket.subject", ticket.subject, SUBJECT)
    check_text("Ticket.description", ticket.description, TEXT)
    check_text("Ticket.category", ticket.category, NAME)
    check_int("Ticket.level", ticket.level, INT32)
    check_int("Ticket.version", ticket.version, INT32)
    check_optional_int("Ticket.customer_id", ticket.customer_id)
    check_texts("Ticket.contact_ids", ticket.contact_ids, ID)
    for name in ("opened_at", "updated_at", "paused_total"):
        check_float(f"Ticket.{name}", getattr(ticket, name))
    for name in ("first_response_at", "resolved_at", "closed_at", "paused_since"):
        check_optional_float(f"Ticket.{name}", getattr(ticket, name))
    for name in ("first_response", "resolution", "warn_before"):
        check_float(f"Ticket.sla.{name}", getattr(ticket.sla, name))
    for index, note in enumerate(ticket.notes):
        check_float(f"Ticket.notes[{index}].at", note.at)
        check_text(f"Ticket.notes[{index}].author", note.author, NAME)
        check_text(f"Ticket.notes[{index}].text", note.text, TEXT)


def _columns(ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket_id": ticket.ticket_id,
        "subject": ticket.subject,
        "description": ticket.description,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "category": ticket.category,
        "origin": ticket.origin.value,
        "level": ticket.level,
        "customer_id": ticket.customer_id,
        "opened_at": ticket.opened_at,
        "updated_at": ticket.updated_at,
        "first_response_at": ticket.first_response_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "paused_since": ticket.paused_since,
        "paused_total": ticket.paused_total,
        "first_response_target": ticket.sla.first_response,
        "resolution_target": ticket.sla.resolution,
        "warn_before": ticket.sla.warn_before,
        "sla_flags": sorted(ticket.sla_flags),
    }


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
        version=row.version,
    )
