"""The append-only event log: every :class:`~callcenter_sdk.Event`, durably, in order.

Batches are inserted by the fastest path each driver offers, rows identical
to SQLAlchemy's ``insert()`` (a test compares them): on PostgreSQL with
psycopg 3 one ``COPY ... FROM STDIN`` per batch (about five times faster
than the pipelined ``executemany``, in the database as much as in Python),
on SQLite one ``executemany`` straight on the driver (without the ORM's
per-row bookkeeping). ``benchmarks/bench_store.py`` measures both.

Each event is turned into its row once, on the thread that appends it: its
payload is written as JSON text a single time and the store's limits are
checked on that text (:func:`~._limits.encode_json`), so neither the checks
nor the insert walk or encode it again (rows identical to the plain way:
``tests/store/test_store_eventlog_rows.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from math import isfinite
from typing import Any, NamedTuple, cast

import attrs
import sqlalchemy.exc
from sqlalchemy import Connection, func, insert, select

from .._errors import ValidationError
from .._events import Event, EventStream, Subscription, event_from_dict, event_to_dict
from ._limits import NAME, check_float, check_text, encode_json
from ._rows import EventRow
from ._store import Store

__all__ = ["EventLog", "LoggedEvent"]


@attrs.frozen
class LoggedEvent:
    """An event read back from the log.

    Attributes:
        seq: Its position in the log (1, 2, ...; gaps are possible after a
            rolled-back transaction, order never changes).
        event: The event, rebuilt with :func:`~callcenter_sdk.event_from_dict`.
    """

    seq: int
    event: Event


class EventLog:
    """Appends events to the store and reads them back in order.

    Two modes, because not every event costs the same to lose:

    * ``durable=True``: :meth:`append` commits before it returns. Use it where
      the event is an acknowledgement (an email accepted, a callback booked).
    * ``durable=False``: events are buffered and written ``batch_size`` at a
      time in one transaction (far faster; see ``benchmarks/bench_store.py``).
      Call :meth:`flush` before acknowledging anything that depends on them,
      and on shutdown; a crash loses at most the unflushed buffer.

    Thread-safe: publishers in several threads may share one log. Both modes
    write on the caller's thread and raise :class:`~callcenter_sdk.StoreError`
    when the database fails; async code (the runtime) writes through
    :func:`~callcenter_sdk.store.create_event_writer` instead, which never
    blocks the event loop and rides out an outage.

    Args:
        store: Where to write.
        durable: Commit every append before returning.
        batch_size: In batched mode, flush automatically at this many events.
    """

    def __init__(self, store: Store, *, durable: bool = True, batch_size: int = 500) -> None:
        if batch_size < 1:
            raise ValidationError(f"batch_size must be at least 1, got {batch_size}")
        self._store = store
        self._durable = durable
        self._batch_size = batch_size
        self._buffer: list[_Row] = []
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        """The store the log writes to."""
        return self._store

    @property
    def durable(self) -> bool:
        """Whether :meth:`append` commits before returning."""
        return self._durable

    @property
    def pending(self) -> int:
        """How many buffered events are not written yet (always 0 when durable)."""
        return len(self._buffer)

    def append(self, event: Event) -> None:
        """Log one event (committed on return when the log is durable)."""
        row = _to_row(event)
        with self._lock:
            if self._durable:
                self._write([row])
                return
            self._buffer.append(row)
            if len(self._buffer) >= self._batch_size:
                self._flush_locked()

    def extend(self, events: Iterable[Event]) -> None:
        """Log several events in one transaction, committed on return."""
        rows = [_to_row(event) for event in events]
        with self._lock:
            self._buffer.extend(rows)
            self._flush_locked()

    def flush(self) -> int:
        """Write every buffered event in one transaction; return how many."""
        with self._lock:
            return self._flush_locked()

    def attach(self, stream: EventStream) -> Subscription:
        """Log every event published on ``stream`` from now on."""
        return stream.subscribe(lambda _seq, event: self.append(event))

    def last_seq(self) -> int:
        """Return the sequence number of the newest written event (0 when empty)."""
        with self._store.reading("read last event seq") as session:
            return session.scalar(select(func.coalesce(func.max(EventRow.seq), 0))) or 0

    def read(
        self,
        *,
        after: int = 0,
        limit: int | None = None,
        kinds: Sequence[str] = (),
        since: float | None = None,
    ) -> list[LoggedEvent]:
        """Return written events with ``seq > after``, oldest first.

        Args:
            after: Resume after this sequence number (a consumer's checkpoint).
            limit: At most this many events.
            kinds: Only these event kinds (all when empty).
            since: Only events whose ``at`` is at least this (an indexed column).

        .. versionchanged:: 0.2
           ``since``.
        """
        query = select(EventRow).where(EventRow.seq > after).order_by(EventRow.seq)
        if kinds:
            query = query.where(EventRow.kind.in_(kinds))
        if since is not None:
            query = query.where(EventRow.at >= since)
        if limit is not None:
            query = query.limit(limit)
        with self._store.reading("read events") as session:
            rows = session.scalars(query).all()
            return [LoggedEvent(row.seq, _from_row(row)) for row in rows]

    def read_back(
        self,
        *,
        before: int | None = None,
        limit: int,
        kinds: Sequence[str] = (),
        since: float | None = None,
        contacts: Collection[str] = (),
    ) -> list[LoggedEvent]:
        """Return written events with ``seq < before``, newest first (a page of history).

        For a reader that walks back from the end until it has seen enough
        (a new leader reading the previous term's end), without reading
        the whole log.

        Args:
            before: Only events before this sequence number (all when ``None``).
            limit: At most this many events.
            kinds: Only these event kinds (all when empty).
            since: Only events whose ``at`` is at least this.
            contacts: Only events whose payload's ``contact_id`` is one of
                these (all when empty): the database filters them, so a
                reader looking for a few contacts through a long stretch of
                the log decodes only theirs.

        .. versionadded:: 0.2
        """
        query = select(EventRow).order_by(EventRow.seq.desc()).limit(limit)
        if before is not None:
            query = query.where(EventRow.seq < before)
        if kinds:
            query = query.where(EventRow.kind.in_(kinds))
        if since is not None:
            query = query.where(EventRow.at >= since)
        if contacts:
            query = query.where(EventRow.payload["contact_id"].as_string().in_(list(contacts)))
        with self._store.reading("read events back") as session:
            rows = session.scalars(query).all()
            return [LoggedEvent(row.seq, _from_row(row)) for row in rows]

    def _flush_locked(self) -> int:
        rows, self._buffer = self._buffer, []
        if rows:
            try:
                self._write(rows)
            except BaseException:
                self._buffer = rows + self._buffer  # keep them for the next attempt
                raise
        return len(rows)

    def _write(self, rows: Sequence[_Row]) -> None:
        with self._store.transaction(f"append {len(rows)} events") as session:
            _insert(session.connection(), rows)


class _Row(NamedTuple):
    """An event ready for the database: checked against the limits and encoded once."""

    kind: str
    at: float
    text: str  # the payload as json.dumps writes it: what SQLAlchemy's JSON type stores
    payload: dict[str, Any]


# What _to_row needs to know of each event class, computed on its first event.
_Plan = tuple[str, tuple[str, ...]]  # (kind, the payload's fields in attrs order)
_PLANS: dict[type[Event], _Plan | None] = {}
# Values event_to_dict passes through unchanged (exact types: a str enum is not one).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _plan(cls: type[Event]) -> _Plan | None:
    names = tuple(field.name for field in attrs.fields(cls))
    if "kind" in names or "at" not in names:  # event_to_dict's layout differs: use it as is
        return None
    check_text("Event.kind", cls.kind, NAME)
    return cls.kind, tuple(name for name in names if name != "at")


def _to_row(event: Event) -> _Row:
    """Check ``event`` against the store's limits and build its row.

    The row is what ``event_to_dict`` and ``json.dumps`` make of the event,
    without their per-event work where it cannot change the result: each
    class's fields are listed once, plain values (exact ``str``, ``int``,
    ``float``, ``bool``, ``None``) are taken as they are, and the JSON text is
    written once, for the limits and for the insert.
    """
    cls = type(event)
    try:
        plan = _PLANS[cls]
    except KeyError:
        plan = _PLANS[cls] = _plan(cls)
    at = event.at
    if plan is not None and type(at) is float and isfinite(at):
        kind, names = plan
        payload = {name: getattr(event, name) for name in names}
        if not _PLAIN.issuperset(map(type, payload.values())):
            payload = event_to_dict(event)  # enums, tuples, mappings: its conversions
            del payload["kind"], payload["at"]
    else:
        payload = event_to_dict(event)
        kind, at = payload.pop("kind"), payload.pop("at")
        check_text("Event.kind", kind, NAME)
        check_float("Event.at", at)
    return _Row(kind, at, encode_json(f"{kind} payload", payload), payload)


def _from_row(row: EventRow) -> Event:
    return event_from_dict({**row.payload, "kind": row.kind, "at": row.at})


# EventRow's table and columns (a test compares the rows with insert(EventRow)'s).
_COPY = "COPY events (kind, at, payload) FROM STDIN"
_SQLITE_INSERT = "INSERT INTO events (kind, at, payload) VALUES (?, ?, ?)"
_INSERT = insert(EventRow)


def _insert(connection: Connection, rows: Sequence[_Row]) -> None:
    """Insert ``rows`` (from :func:`_to_row`) in the connection's transaction."""
    dialect = connection.dialect
    # What SQLAlchemy's JSON type would send: the engine's serializer, json.dumps by default,
    # whose text each row already holds.
    dumps: Callable[[Any], str] | None = getattr(dialect, "_json_serializer", None)
    fast = dialect.name == "sqlite" or (
        dialect.name == "postgresql" and dialect.driver == "psycopg"
    )
    if fast:
        values = [(r.kind, r.at, r.text if dumps is None else dumps(r.payload)) for r in rows]
        if dialect.name == "sqlite":
            connection.exec_driver_sql(_SQLITE_INSERT, values)
        else:
            _copy(connection, values)
    else:
        connection.execute(
            _INSERT, [{"kind": r.kind, "at": r.at, "payload": r.payload} for r in rows]
        )


def _copy(connection: Connection, rows: list[tuple[str, float, str]]) -> None:
    """``COPY`` the rows through psycopg 3, its errors raised as SQLAlchemy's would be.

    The driver's connection is the one the transaction holds, so the rows
    commit or roll back with it. Its errors are mapped the way SQLAlchemy maps
    them for ``execute()`` (a ``DataError`` stays a ``DataError``), which is
    what tells an unwritable row from an outage.
    """
    import psycopg  # noqa: PLC0415 - only with a PostgreSQL store

    raw = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
    try:
        with raw.cursor() as cursor, cursor.copy(_COPY) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise sqlalchemy.exc.DBAPIError.instance(
            _COPY,
            None,
            exc,
            psycopg.Error,
            connection_invalidated=bool(getattr(raw, "broken", False)),
            dialect=connection.dialect,
        ) from exc
