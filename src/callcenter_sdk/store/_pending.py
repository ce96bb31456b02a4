"""Waiting non-voice contacts and callbacks: the work that must survive a crash.

A voice call dies with the process that holds its media, but an email, a chat
transcript or a callback request is a promise made to a customer. These
repositories commit each item before returning, so the caller may acknowledge
it right after, and inserts are idempotent on the item's id: a client that
retries after a crash never creates a duplicate, and never brings back an
item that was served meanwhile (served rows stay as tombstones). Hand-overs
claim an item under a lease rather than delete it, so a crash between the
claim and the hand-over returns it to the queue instead of losing it.

This is the store-level record of a waiting contact (:class:`WaitingContactRecord`);
the ACD keeps its own in-memory queues and rebuilds them from here at start-up.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from .._errors import ValidationError
from ._limits import (
    CHANNEL,
    ID,
    INT32,
    NAME,
    PHONE,
    check_float,
    check_int,
    check_json,
    check_optional_int,
    check_text,
)
from ._rows import Base, CallbackRow, WaitingContactRow
from ._store import Store

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.orm import Session

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
    """Durable waiting contacts and callbacks, handed over with claims.

    Each item moves through three states::

        waiting ──claim──> claimed ──complete──> served (a tombstone)
           ^                  │
           └─release / lease ─┘
             runs out

    A claim marks the row with its holder and a lease instead of deleting
    it: a runtime that crashes between the claim and the hand-over (the
    e-mail shown to an agent, the callback dialled) loses nothing, because
    once the lease runs out the item is available again, in its original
    place (``arrived_at`` and ``due_at`` are never touched). A served item
    stays as a tombstone, so a client retrying an insert after it was served
    cannot bring it back.

    Args:
        store: Where they live.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def put_waiting(self, *contacts: WaitingContactRecord) -> None:
        """Store waiting contacts, committed on return.

        Known ids are left as they are, including claimed and served ones: a
        retried put never duplicates a contact, resets its wait nor brings
        back one that was served.

        Raises:
            ValidationError: A field breaks the store's limits (see
                ``docs/store.md``); nothing is stored.
        """
        for contact in contacts:
            _check_waiting(contact)
        rows = [attrs.asdict(c) for c in contacts]
        with self._store.transaction("store waiting contacts") as session:
            _insert_new(session, WaitingContactRow, rows)

    def remove_waiting(self, contact_id: str) -> bool:
        """Mark a contact served whatever its state; return whether it was not served yet.

        Prefer :meth:`complete_waiting` after :meth:`claim_waiting`.
        """
        with self._store.transaction(f"remove waiting contact {contact_id}") as session:
            row = session.get(WaitingContactRow, contact_id, with_for_update=True)
            if row is None or row.state == _State.SERVED.value:
                return False
            _serve(row)
            return True

    def claim_waiting(
        self, queue: str, *, holder: str, limit: int = 1, lease_s: float, now: float
    ) -> list[WaitingContactRecord]:
        """Claim the first ``limit`` available contacts of ``queue`` for ``holder``.

        Available means waiting, or claimed under a lease that ran out by
        ``now``. Claimed contacts stay stored (and out of :meth:`waiting`)
        until :meth:`complete_waiting` serves them or :meth:`release_waiting`
        puts them back; if neither comes before ``now + lease_s``, they are
        available again in their original place.

        Safe when several runtimes share the database: on PostgreSQL rows are
        locked with ``FOR UPDATE SKIP LOCKED``, so two claimers never get the
        same contact while a lease runs.

        Args:
            queue: The queue to claim from.
            holder: Who claims (a runtime node's id), kept on the row.
            limit: At most this many contacts.
            lease_s: Seconds the claim holds without being completed.
            now: The current time, from the injected clock.

        Raises:
            ValidationError: A bad holder, limit, lease or time.

        .. versionadded:: 0.2
        """
        _check_claim(holder, lease_s, now)
        check_int("limit", limit, INT32)
        if limit < 1:
            raise ValidationError(f"limit must be at least 1, got {limit}")
        with self._store.transaction(f"claim from {queue}") as session:
            rows = session.scalars(_available_waiting(queue, limit, now)).all()
            claimed = []
            for row in rows:
                claimed.append(_waiting(row))
                _claim(row, holder, now + lease_s)
            return claimed

    def complete_waiting(self, contact_id: str, *, holder: str | None = None) -> bool:
        """Serve a claimed contact for good; return whether this call served it.

        The row stays as a tombstone: a later :meth:`put_waiting` of the same
        id is a no-op. ``False`` when the contact is not claimed (released,
        served already, unknown) or, with ``holder``, is claimed by someone
        else (whose claim followed an expired one).

        .. versionadded:: 0.2
        """
        return self._finish(WaitingContactRow, contact_id, holder, serve=True)

    def release_waiting(self, contact_id: str, *, holder: str | None = None) -> bool:
        """Put a claimed contact back in its queue, in its original place.

        Returns whether it was claimed (by ``holder``, if given) and is now
        waiting again.

        .. versionadded:: 0.2
        """
        return self._finish(WaitingContactRow, contact_id, holder, serve=False)

    def take_waiting(
        self, queue: str, limit: int = 1, *, now: float | None = None
    ) -> list[WaitingContactRecord]:
        """Serve and return the first ``limit`` contacts waiting in ``queue`` at once.

        A claim and its completion in one transaction: use it when the
        hand-over cannot fail after the commit; otherwise prefer
        :meth:`claim_waiting`, because a crash after this returns loses the
        contacts. With ``now``, contacts whose claim ran out are taken too.
        Safe when several runtimes share the database (``FOR UPDATE SKIP
        LOCKED`` on PostgreSQL): each contact goes to one taker.
        """
        if now is not None:
            check_float("now", now)
        with self._store.transaction(f"take from {queue}") as session:
            taken = []
            for row in session.scalars(_available_waiting(queue, limit, now)).all():
                taken.append(_waiting(row))
                _serve(row)
            return taken

    def waiting(
        self, queue: str | None = None, *, now: float | None = None
    ) -> list[WaitingContactRecord]:
        """Return available contacts, highest priority first, then oldest first.

        Available means waiting and, with ``now``, claimed under a lease that
        ran out: what a (re)starting runtime restores into its queues.
        Claimed contacts under a running lease and served ones are left out.
        """
        query = select(WaitingContactRow).where(_available(WaitingContactRow, now))
        if queue is not None:
            query = query.where(WaitingContactRow.queue == queue)
        query = query.order_by(*_QUEUE_ORDER)
        with self._store.transaction("read waiting contacts") as session:
            return [_waiting(r) for r in session.scalars(query)]

    def put_callbacks(self, *callbacks: CallbackRecord) -> None:
        """Store callback requests, committed on return.

        Known ids are left as they are, including claimed and made ones.

        Raises:
            ValidationError: A field breaks the store's limits; nothing is stored.
        """
        for callback in callbacks:
            _check_callback(callback)
        rows = [attrs.asdict(c) for c in callbacks]
        with self._store.transaction("store callbacks") as session:
            _insert_new(session, CallbackRow, rows)

    def remove_callback(self, callback_id: str) -> bool:
        """Mark a callback made whatever its state; return whether it was not made yet."""
        with self._store.transaction(f"remove callback {callback_id}") as session:
            row = session.get(CallbackRow, callback_id, with_for_update=True)
            if row is None or row.state == _State.SERVED.value:
                return False
            _serve(row)
            return True

    def claim_callback(self, callback_id: str, *, holder: str, lease_s: float, now: float) -> bool:
        """Claim a callback before dialling it; return whether ``holder`` got it.

        ``False`` when it is made, unknown, or claimed by someone under a
        running lease. A runtime that crashes while dialling leaves the claim
        to run out at ``now + lease_s``; the callback is then available again,
        exactly once, with its original times.

        .. versionadded:: 0.2
        """
        _check_claim(holder, lease_s, now)
        query = (
            select(CallbackRow)
            .where(CallbackRow.callback_id == callback_id, _available(CallbackRow, now))
            .with_for_update(skip_locked=True)
        )
        with self._store.transaction(f"claim callback {callback_id}") as session:
            row = session.scalars(query).first()
            if row is None:
                return False
            _claim(row, holder, now + lease_s)
            return True

    def complete_callback(self, callback_id: str, *, holder: str | None = None) -> bool:
        """Mark a claimed callback made; it never comes back. See :meth:`complete_waiting`.

        .. versionadded:: 0.2
        """
        return self._finish(CallbackRow, callback_id, holder, serve=True)

    def release_callback(self, callback_id: str, *, holder: str | None = None) -> bool:
        """Give a claimed callback back (not dialled). See :meth:`release_waiting`.

        .. versionadded:: 0.2
        """
        return self._finish(CallbackRow, callback_id, holder, serve=False)

    def callbacks(
        self, *, due_by: float | None = None, now: float | None = None
    ) -> list[CallbackRecord]:
        """Return available callbacks by due time, only those due by ``due_by`` if given.

        Available as in :meth:`waiting`: not made, not claimed, or (with
        ``now``) claimed under a lease that ran out.
        """
        query = (
            select(CallbackRow)
            .where(_available(CallbackRow, now))
            .order_by(CallbackRow.due_at, CallbackRow.callback_id)
        )
        if due_by is not None:
            query = query.where(CallbackRow.due_at <= due_by)
        with self._store.transaction("read callbacks") as session:
            return [_callback(r) for r in session.scalars(query)]

    def release_claims(self, holder: str) -> int:
        """Give back every claim ``holder`` holds, waiting contacts and callbacks alike.

        A node restarting under the same name calls this first: its earlier
        run died holding these claims, so nobody is dialling or handling
        them, and they need not wait for their leases to run out. Returns
        how many were released (each back in its original place).

        .. versionadded:: 0.2
        """
        check_text("holder", holder, ID)
        released = 0
        with self._store.transaction(f"release the claims of {holder}") as session:
            rows: list[_Claimable] = [
                *session.scalars(_claimed_by(WaitingContactRow, holder)),
                *session.scalars(_claimed_by(CallbackRow, holder)),
            ]
            for row in rows:
                row.state = _State.WAITING.value
                row.claimed_by = None
                row.claim_expires = None
                released += 1
        return released

    def _finish(self, row_type: type[_R], key: str, holder: str | None, *, serve: bool) -> bool:
        what = "complete" if serve else "release"
        with self._store.transaction(f"{what} {row_type.__tablename__} {key}") as session:
            row = session.get(row_type, key, with_for_update=True)
            if row is None or row.state != _State.CLAIMED.value:
                return False
            if holder is not None and row.claimed_by != holder:
                return False
            if serve:
                _serve(row)
            else:
                row.state = _State.WAITING.value
                row.claimed_by = None
                row.claim_expires = None
            return True


class _State(enum.Enum):
    """Where a waiting contact or callback stands (the ``state`` column)."""

    WAITING = "waiting"
    CLAIMED = "claimed"
    SERVED = "served"


_Claimable = WaitingContactRow | CallbackRow
_R = TypeVar("_R", WaitingContactRow, CallbackRow)

_QUEUE_ORDER = (
    WaitingContactRow.priority.desc(),
    WaitingContactRow.arrived_at,
    WaitingContactRow.contact_id,
)


def _available(row: type[_Claimable], now: float | None) -> ColumnElement[bool]:
    waiting = row.state == _State.WAITING.value
    if now is None:
        return waiting
    expired = and_(row.state == _State.CLAIMED.value, row.claim_expires <= now)
    return or_(waiting, expired)


def _available_waiting(queue: str, limit: int, now: float | None) -> Select[WaitingContactRow]:
    return (
        select(WaitingContactRow)
        .where(WaitingContactRow.queue == queue, _available(WaitingContactRow, now))
        .order_by(*_QUEUE_ORDER)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def _claimed_by(row: type[_R], holder: str) -> Select[_R]:
    return (
        select(row)
        .where(row.state == _State.CLAIMED.value, row.claimed_by == holder)
        .with_for_update()
    )


def _claim(row: _Claimable, holder: str, until: float) -> None:
    row.state = _State.CLAIMED.value
    row.claimed_by = holder
    row.claim_expires = until


def _serve(row: _Claimable) -> None:
    """Turn the row into a tombstone: its id stays, its data goes."""
    row.state = _State.SERVED.value
    row.claimed_by = None
    row.claim_expires = None
    row.data = {}


def _check_claim(holder: str, lease_s: float, now: float) -> None:
    check_text("holder", holder, ID)
    check_float("lease_s", lease_s)
    if lease_s <= 0:
        raise ValidationError(f"lease_s must be > 0, got {lease_s!r}")
    check_float("now", now)


def _check_waiting(c: WaitingContactRecord) -> None:
    check_text("WaitingContactRecord.contact_id", c.contact_id, ID)
    check_text("WaitingContactRecord.channel", c.channel, CHANNEL)
    check_text("WaitingContactRecord.queue", c.queue, NAME)
    check_float("WaitingContactRecord.arrived_at", c.arrived_at)
    check_int("WaitingContactRecord.priority", c.priority, INT32)
    check_optional_int("WaitingContactRecord.customer_id", c.customer_id)
    check_json("WaitingContactRecord.data", c.data)


def _check_callback(c: CallbackRecord) -> None:
    check_text("CallbackRecord.callback_id", c.callback_id, ID)
    check_text("CallbackRecord.phone", c.phone, PHONE)
    check_text("CallbackRecord.queue", c.queue, NAME)
    check_float("CallbackRecord.requested_at", c.requested_at)
    check_float("CallbackRecord.due_at", c.due_at)
    check_int("CallbackRecord.attempts", c.attempts, INT32)
    check_optional_int("CallbackRecord.customer_id", c.customer_id)
    check_json("CallbackRecord.data", c.data)


def _callback(row: CallbackRow) -> CallbackRecord:
    return CallbackRecord(
        callback_id=row.callback_id,
        phone=row.phone,
        queue=row.queue,
        requested_at=row.requested_at,
        due_at=row.due_at,
        attempts=row.attempts,
        customer_id=row.customer_id,
        data=row.data,
    )


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
