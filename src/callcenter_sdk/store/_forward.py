"""Forwarded requests: a web node's request waiting, in the database, for the leader's answer.

A node of a cluster that does not lead serves its pages' requests by
forwarding them to the leader through the store (never a socket between
nodes: the database is the one thing every node reaches). The node inserts
a row (:meth:`ForwardedRequests.submit`) and notifies; the leader claims
rows (``FOR UPDATE SKIP LOCKED``, through its fence), runs each through its
web app, and writes the answer in the same row, through the fence too; the
node reads it. ``NOTIFY`` is a wake-up hint on PostgreSQL, never the
carrier of truth: the row is, and both sides also poll.

Each request is run **at most once**: a row is claimed once, at one epoch,
and never claimed again. A leader that dies (or is deposed) between
claiming a row and answering it leaves the row claimed and unanswered; the
next leader answers such rows "outcome unknown" (:meth:`abandon`) without
running them, and a node that gave up waiting withdraws its row only while
nobody has claimed it (:meth:`withdraw`). Old rows are pruned.

.. versionadded:: 0.2
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
from sqlalchemy import BigInteger, Double, Index, Integer, LargeBinary, String, Text, select, text
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Mapped, mapped_column

from ._limits import ID, NAME
from ._rows import Base
from ._store import Store

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy.orm import Session

__all__ = [
    "ANSWERS_CHANNEL",
    "EVENTS_CHANNEL",
    "REQUESTS_CHANNEL",
    "ForwardedAnswer",
    "ForwardedRequest",
    "ForwardedRequestRow",
    "ForwardedRequests",
    "Notifications",
    "notify",
]

REQUESTS_CHANNEL = "callcenter_forward"
"""The PostgreSQL ``NOTIFY`` channel that wakes the leader: a request waits (payload: domain)."""

ANSWERS_CHANNEL = "callcenter_forward_answer"
"""The ``NOTIFY`` channel that wakes the nodes: a request is answered (payload: its id)."""

EVENTS_CHANNEL = "callcenter_events"
"""The ``NOTIFY`` channel that wakes the nodes' live feeds: the log grew (payload: its last seq)."""

OUTCOME_UNKNOWN = 503
"""The status of a request a leader claimed and never answered (it may or may not have run)."""

Headers = tuple[tuple[str, str], ...]


class ForwardedRequestRow(Base):
    """One forwarded request and, once the leader ran it, its answer."""

    __tablename__ = "forwarded_requests"
    __table_args__ = (
        Index("ix_forwarded_requests_domain_claimed", "domain", "claimed_at", "created_at"),
        Index("ix_forwarded_requests_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    domain: Mapped[str] = mapped_column(String(NAME))
    method: Mapped[str] = mapped_column(String(16))
    scheme: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    headers: Mapped[str] = mapped_column(Text)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    person: Mapped[str | None] = mapped_column(String(ID))
    node: Mapped[str] = mapped_column(String(ID))
    client: Mapped[str] = mapped_column(String(NAME))
    created_at: Mapped[float] = mapped_column(Double)
    claimed_by: Mapped[str | None] = mapped_column(String(ID))
    claimed_epoch: Mapped[int | None] = mapped_column(BigInteger)
    claimed_at: Mapped[float | None] = mapped_column(Double)
    status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    answered_at: Mapped[float | None] = mapped_column(Double)


def _headers(value: Sequence[Sequence[str]]) -> Headers:
    return tuple((str(name), str(content)) for name, content in value)


@attrs.frozen(kw_only=True)
class ForwardedRequest:
    """An HTTP request a node hands to the leader.

    Attributes:
        id: Unique (the node makes it: a random token).
        domain: The routing domain whose leader runs it.
        method: The HTTP method.
        scheme: ``http`` or ``https``, as the request reached the node.
        path: The path, without the query.
        query: The raw query string (``""`` when none).
        headers: The request's headers, names in lower case.
        body: The request's body.
        person: Who the node authenticated (``None`` for a sign-in form or page).
        node: The node that forwarded it.
        client: The address of the client that sent it to the node.
        created_at: When it was forwarded (Unix time, the node's clock).
    """

    id: str
    domain: str
    method: str
    scheme: str
    path: str
    query: str
    headers: Headers = attrs.field(converter=_headers)
    body: bytes
    person: str | None
    node: str
    client: str
    created_at: float


@attrs.frozen(kw_only=True)
class ForwardedAnswer:
    """The leader's answer to a forwarded request.

    Attributes:
        status: The HTTP status.
        headers: The response's headers to send on (names in lower case).
        body: The response's body.
    """

    status: int
    headers: Headers = attrs.field(converter=_headers)
    body: bytes


def _request(row: ForwardedRequestRow) -> ForwardedRequest:
    return ForwardedRequest(
        id=row.id,
        domain=row.domain,
        method=row.method,
        scheme=row.scheme,
        path=row.path,
        query=row.query,
        headers=json.loads(row.headers),
        body=row.body,
        person=row.person,
        node=row.node,
        client=row.client,
        created_at=row.created_at,
    )


_UNKNOWN = json.dumps(
    {
        "error": "outcome-unknown",
        "detail": (
            "the leader that took this request stopped before answering: it may or may not "
            "have been done, and it will not be run again; check before trying again"
        ),
    }
).encode()


class ForwardedRequests:
    """The table of forwarded requests: submit and wait (a node), claim and answer (the leader).

    Args:
        store: The database every node shares.

    .. versionadded:: 0.2
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    @property
    def store(self) -> Store:
        """The database the requests live in."""
        return self._store

    def _notify(self, session: Session, channel: str, payload: str) -> None:
        if self._store.dialect == "postgresql":  # sent at commit, only if it commits
            session.execute(text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})

    def submit(self, request: ForwardedRequest) -> None:
        """Store ``request`` for the leader of its domain (and wake it, on PostgreSQL)."""
        with self._store.transaction(f"forward {request.method} {request.path}") as session:
            session.add(
                ForwardedRequestRow(
                    id=request.id,
                    domain=request.domain,
                    method=request.method,
                    scheme=request.scheme,
                    path=request.path,
                    query=request.query,
                    headers=json.dumps(request.headers),
                    body=request.body,
                    person=request.person,
                    node=request.node,
                    client=request.client,
                    created_at=request.created_at,
                )
            )
            self._notify(session, REQUESTS_CHANNEL, request.domain)

    def answer_of(self, request_id: str) -> ForwardedAnswer | None:
        """The answer to request ``request_id``; ``None`` while it has none."""
        with self._store.reading("read a forwarded answer") as session:
            row = session.get(ForwardedRequestRow, request_id)
            if row is None or row.status is None:
                return None
            return ForwardedAnswer(
                status=row.status,
                headers=json.loads(row.response_headers or "[]"),
                body=row.response_body or b"",
            )

    def withdraw(self, request_id: str) -> bool:
        """Take back request ``request_id`` unless a leader claimed it already.

        Returns ``True`` when it is withdrawn (it will never run), ``False``
        when a leader claimed it (wait for its answer, or call it unknown).
        """
        with self._store.transaction("withdraw a forwarded request") as session:
            gone = session.execute(
                sql_delete(ForwardedRequestRow).where(
                    ForwardedRequestRow.id == request_id, ForwardedRequestRow.claimed_at.is_(None)
                )
            )
            return bool(gone.rowcount)  # type: ignore[attr-defined]

    def claim(
        self, fenced: Store, domain: str, *, node: str, epoch: int, at: float, limit: int = 50
    ) -> list[ForwardedRequest]:
        """Claim the oldest unclaimed requests of ``domain`` for the leader at ``epoch``.

        Run through the leader's fenced store: a deposed leader's claim never
        commits. Rows another transaction is claiming are skipped, not waited for.
        """
        with fenced.transaction(f"claim forwarded requests of {domain}") as session:
            query = (
                select(ForwardedRequestRow)
                .where(
                    ForwardedRequestRow.domain == domain, ForwardedRequestRow.claimed_at.is_(None)
                )
                .order_by(ForwardedRequestRow.created_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = list(session.scalars(query))
            for row in rows:
                row.claimed_by, row.claimed_epoch, row.claimed_at = node, epoch, at
            return [_request(row) for row in rows]

    def answer(
        self,
        fenced: Store,
        request_id: str,
        *,
        epoch: int,
        status: int,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        at: float,
    ) -> bool:
        """Write the answer of a request the leader at ``epoch`` claimed (through its fence).

        The request's headers and body (its credentials, a password) are
        erased as it is answered: the row keeps who asked for what, and the answer.
        Returns ``False`` when the row is gone (pruned) or already answered.
        """
        with fenced.transaction("answer a forwarded request") as session:
            done = session.execute(
                sql_update(ForwardedRequestRow)
                .where(
                    ForwardedRequestRow.id == request_id,
                    ForwardedRequestRow.claimed_epoch == epoch,
                    ForwardedRequestRow.status.is_(None),
                )
                .values(
                    headers="[]",  # the credentials and the body (a password...) are not kept
                    body=b"",
                    status=status,
                    response_headers=json.dumps(list(headers)),
                    response_body=body,
                    answered_at=at,
                )
            )
            if not done.rowcount:  # type: ignore[attr-defined]
                return False
            self._notify(session, ANSWERS_CHANNEL, request_id)
            return True

    def abandon(self, fenced: Store, domain: str, *, epoch: int, at: float) -> int:
        """Answer "outcome unknown" to every request an earlier epoch claimed and never answered.

        The new leader calls it once it leads: those requests' leader is
        gone, and they are never run again. Returns how many there were.
        """
        with fenced.transaction(f"abandon forwarded requests of {domain}") as session:
            rows = list(
                session.scalars(
                    select(ForwardedRequestRow)
                    .where(
                        ForwardedRequestRow.domain == domain,
                        ForwardedRequestRow.claimed_epoch < epoch,
                        ForwardedRequestRow.status.is_(None),
                    )
                    .with_for_update()
                )
            )
            for row in rows:
                row.headers, row.body = "[]", b""
                row.status = OUTCOME_UNKNOWN
                row.response_headers = json.dumps([["content-type", "application/json"]])
                row.response_body = _UNKNOWN
                row.answered_at = at
                self._notify(session, ANSWERS_CHANNEL, row.id)
            return len(rows)

    def prune(self, before: float) -> int:
        """Delete the requests forwarded before ``before`` (Unix time); return how many."""
        with self._store.transaction("prune forwarded requests") as session:
            gone = session.execute(
                sql_delete(ForwardedRequestRow).where(ForwardedRequestRow.created_at < before)
            )
            return int(gone.rowcount)  # type: ignore[attr-defined]


def notify(store: Store, channel: str, payload: str) -> None:
    """Send a wake-up hint on ``channel`` (PostgreSQL ``NOTIFY``; nothing on SQLite)."""
    if store.dialect != "postgresql":
        return
    with store.transaction(f"notify {channel}") as session:
        session.execute(text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})


class Notifications:
    """Hints from ``NOTIFY`` on some channels of a PostgreSQL store, received in a thread.

    :meth:`wait` blocks (call it from a worker thread) until a hint
    arrives or ``timeout`` passes; the connection is its own (``LISTEN``
    belongs to a connection, so it cannot come from the pool) and is opened
    on first use, then again after it failed. On SQLite, or while the
    database is unreachable, it only waits: callers poll anyway, since a
    hint may always be lost.

    Args:
        store: The shared database.
        channels: The channels to listen on.

    .. versionadded:: 0.2
    """

    def __init__(self, store: Store, channels: Sequence[str]) -> None:
        self._store = store
        self._channels = tuple(channels)
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        import psycopg  # noqa: PLC0415 - only PostgreSQL stores listen

        url = self._store.engine.url.set(drivername="postgresql")
        connection = psycopg.connect(
            url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
        )
        for channel in self._channels:
            connection.execute(f'LISTEN "{channel}"')  # channels are our own constants
        return connection

    def wait(self, timeout: float) -> list[tuple[str, str]]:
        """The hints (channel, payload) received within ``timeout`` seconds (empty: none)."""
        if self._store.dialect != "postgresql":
            self._closed.wait(timeout)
            return []
        import psycopg  # noqa: PLC0415

        with self._lock:
            try:
                if self._connection is None:
                    self._connection = self._connect()
                connection = self._connection
                assert isinstance(connection, psycopg.Connection)  # noqa: S101 - made above
                got = [
                    (n.channel, n.payload)
                    for n in connection.notifies(timeout=timeout, stop_after=1)
                ]
                if got:  # and whatever else came with it
                    got += [(n.channel, n.payload) for n in connection.notifies(timeout=0.0)]
            except psycopg.Error:
                self._drop()
                self._closed.wait(timeout)
                return []
            return got

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def close(self) -> None:
        """Stop listening (waits for a :meth:`wait` in progress to return)."""
        self._closed.set()
        with self._lock:
            self._drop()
