"""Waiting non-voice contacts and callbacks: the work that must survive a crash.

A voice call dies with the process that holds its media, but an email, a chat
transcript or a callback request is a promise made to a customer. These
repositories commit each item before returning, so the caller may acknowledge
it right after, and inserts are idempotent on the item's id: a client that
retries after a crash never creates a duplicate.

This is the store-level record of a waiting contact (:class:`WaitingContactRecord`);
the ACD keeps its own in-memory queues and rebuilds them from here at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from ._rows import Base, CallbackRow, WaitingContactRow
from ._store import Store

if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute, Session

__all__ = ["CallbackRecord", "PendingWork", "WaitingContactRecord"]


def _frozen_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@attrs.frozen(kw_only=True)
class WaitingContactRecord:
    """A non-voice contact waiting in a queue, as stored.

    Attributes:
        contact_id: Unique id of the contact; storing it twice is a no-op.
        channel: ``"email"``, ``"chat"``, ``"sms"``, ``"social"``...
        queue: The queue it waits in.
        arrived_at: When it arrived (clock seconds), kept across restarts so
            waiting times and service levels stay true.
        priority: Higher is served first.
        customer_id: The identified customer, if any.
        data: Free attributes (subject, sender, required skills...), JSON-ready.
    """

    contact_id: str
    channel: str
    queue: str
    arrived_at: float
    priority: int = 0
    customer_id: int | None = None
    data: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)


@attrs.frozen(kw_only=True)
class CallbackRecord:
    """A callback request, as stored.

    Attributes:
        callback_id: Unique id of the request; storing it twice is a no-op.
        phone: The number to call back (E.164).
        queue: The queue whose agents call back.
        requested_at: When the customer asked.
        due_at: Not before this time.
        attempts: Calls already tried.
        customer_id: The identified customer, if any.
        data: Free attributes, JSON-ready.
    """

    callback_id: str
    phone: str
    queue: str
    requested_at: float
    due_at: float
    attempts: int = 0
    customer_id: int | None = None
    data: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)


class PendingWork:
    """Durable waiting contacts and callbacks.

    Args:
        store: Where they live.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def put_waiting(self, *contacts: WaitingContactRecord) -> None:
        """Store waiting contacts, committed on return; known ids are left as they are."""
        rows = [attrs.asdict(c) for c in contacts]
        with self._store.transaction("store waiting contacts") as session:
            _insert_new(session, WaitingContactRow, rows)

    def remove_waiting(self, contact_id: str) -> bool:
        """Forget a contact an agent has taken; return whether it was there."""
        return self._remove(WaitingContactRow.contact_id, contact_id)

    def take_waiting(self, queue: str, limit: int = 1) -> list[WaitingContactRecord]:
        """Remove and return the first ``limit`` contacts waiting in ``queue``.

        Safe when several runtimes share the database: on PostgreSQL rows are
        claimed with ``FOR UPDATE SKIP LOCKED``, and a row another taker
        deleted first is never returned, so each contact goes to one taker.
        """
        query = (
            select(WaitingContactRow)
            .where(WaitingContactRow.queue == queue)
            .order_by(
                WaitingContactRow.priority.desc(),
                WaitingContactRow.arrived_at,
                WaitingContactRow.contact_id,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self._store.transaction(f"take from {queue}") as session:
            taken = []
            for row in session.scalars(query).all():
                gone = session.execute(
                    delete(WaitingContactRow).where(WaitingContactRow.contact_id == row.contact_id)
                )
                if gone.rowcount:  # type: ignore[attr-defined]
                    taken.append(_waiting(row))
            return taken

    def waiting(self, queue: str | None = None) -> list[WaitingContactRecord]:
        """Return waiting contacts, highest priority first, then oldest first."""
        query = select(WaitingContactRow).order_by(
            WaitingContactRow.priority.desc(),
            WaitingContactRow.arrived_at,
            WaitingContactRow.contact_id,
        )
        if queue is not None:
            query = query.where(WaitingContactRow.queue == queue)
        with self._store.transaction("read waiting contacts") as session:
            return [_waiting(r) for r in session.scalars(query)]

    def put_callbacks(self, *callbacks: CallbackRecord) -> None:
        """Store callback requests, committed on return; known ids are left as they are."""
        rows = [attrs.asdict(c) for c in callbacks]
        with self._store.transaction("store callbacks") as session:
            _insert_new(session, CallbackRow, rows)

    def remove_callback(self, callback_id: str) -> bool:
        """Forget a callback that was made; return whether it was there."""
        return self._remove(CallbackRow.callback_id, callback_id)

    def callbacks(self, *, due_by: float | None = None) -> list[CallbackRecord]:
        """Return callbacks by due time, only those due by ``due_by`` if given."""
        query = select(CallbackRow).order_by(CallbackRow.due_at, CallbackRow.callback_id)
        if due_by is not None:
            query = query.where(CallbackRow.due_at <= due_by)
        with self._store.transaction("read callbacks") as session:
            return [
                CallbackRecord(
                    callback_id=r.callback_id,
                    phone=r.phone,
                    queue=r.queue,
                    requested_at=r.requested_at,
                    due_at=r.due_at,
                    attempts=r.attempts,
                    customer_id=r.customer_id,
                    data=r.data,
                )
                for r in session.scalars(query)
            ]

    def _remove(self, key: InstrumentedAttribute[str], value: str) -> bool:
        with self._store.transaction(f"remove {key.class_.__tablename__} {value}") as session:
            result = session.execute(delete(key.class_).where(key == value))
            return bool(result.rowcount)  # type: ignore[attr-defined]


def _waiting(row: WaitingContactRow) -> WaitingContactRecord:
    return WaitingContactRecord(
        contact_id=row.contact_id,
        channel=row.channel,
        queue=row.queue,
        arrived_at=row.arrived_at,
        priority=row.priority,
        customer_id=row.customer_id,
        data=row.data,
    )


def _insert_new(session: Session, row: type[Base], values: Iterable[dict[str, Any]]) -> None:
    """Insert rows, silently skipping those whose primary key already exists."""
    values = list(values)
    if not values:
        return
    dialect = session.get_bind().dialect.name
    module = sqlite if dialect == "sqlite" else postgresql
    session.execute(module.insert(row).on_conflict_do_nothing(), values)
