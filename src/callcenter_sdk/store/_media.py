"""Media rows: every cluster node's media events, the commands addressed to it, its live calls.

In a cluster every node runs its own media workers, and the leader's
center drives the calls of all of them through the database (never a
socket between nodes). A node writes each event of its workers as a row of
``media_events`` and keeps its live calls in ``media_calls``; the leader
writes commands for a node's calls as rows of ``media_commands``, through
its fence, and the node claims each one once, carries it out and writes
the result back in the same row. ``NOTIFY`` (PostgreSQL) wakes the other
side; it is a hint only: both sides poll too, and the rows are the truth.

A command carries the epoch of the term that wrote it. A node claims it
only while that epoch is still the domain's and the lease has not expired
(on the database's clock): a deposed leader's command, whether its write
was refused by the fence or committed just before the takeover, never
reaches a phone; it is answered ``stale`` instead.

Values here are plain JSON-ready data (the runtime turns media events and
prompts into it and back): this module knows rows, not media.

.. versionadded:: 0.2
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import (
    BigInteger,
    Double,
    Index,
    String,
    Text,
    and_,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Mapped, mapped_column

from ._lease import _CLOCK, LeaseRow
from ._limits import ID, NAME
from ._rows import Base, BigId
from ._store import Store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "MEDIA_COMMANDS_CHANNEL",
    "MEDIA_EVENTS_CHANNEL",
    "MEDIA_RESULTS_CHANNEL",
    "STALE",
    "LiveCall",
    "MediaCommand",
    "MediaOutcome",
    "MediaRows",
    "StoredMediaEvent",
]

MEDIA_EVENTS_CHANNEL = "callcenter_media_events"
"""The ``NOTIFY`` channel that wakes the leader: a node wrote media events (payload: domain)."""

MEDIA_COMMANDS_CHANNEL = "callcenter_media_commands"
"""The ``NOTIFY`` channel that wakes the nodes: a command waits (payload: the node it is for)."""

MEDIA_RESULTS_CHANNEL = "callcenter_media_results"
"""The ``NOTIFY`` channel that wakes the leader: a command was carried out (payload: its id)."""

STALE = "stale"
"""The error of a command whose term ended before its node claimed it (never carried out)."""


class MediaEventRow(Base):
    """One media event a node's workers reported; ``seq`` orders every node's events."""

    __tablename__ = "media_events"
    __table_args__ = (Index("ix_media_events_domain_seq", "domain", "seq"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    domain: Mapped[str] = mapped_column(String(NAME))
    node: Mapped[str] = mapped_column(String(ID))
    call_id: Mapped[str | None] = mapped_column(String(ID))
    kind: Mapped[str] = mapped_column(String(NAME))
    payload: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Double)


class MediaCommandRow(Base):
    """One command the leader addressed to a node's media, and its result once carried out."""

    __tablename__ = "media_commands"
    __table_args__ = (Index("ix_media_commands_node_claimed", "domain", "node", "claimed_at"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    domain: Mapped[str] = mapped_column(String(NAME))
    node: Mapped[str] = mapped_column(String(ID))
    op: Mapped[str] = mapped_column(String(32))
    args: Mapped[str] = mapped_column(Text)
    epoch: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[float] = mapped_column(Double)
    claimed_at: Mapped[float | None] = mapped_column(Double)
    done_at: Mapped[float | None] = mapped_column(Double)
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)


class MediaCallRow(Base):
    """A call leg alive on a node's media workers (deleted when it ends)."""

    __tablename__ = "media_calls"

    domain: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    node: Mapped[str] = mapped_column(String(ID), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    bridged_with: Mapped[str | None] = mapped_column(String(ID))
    from_uri: Mapped[str] = mapped_column(Text)
    to_uri: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Double)


@attrs.frozen(kw_only=True)
class StoredMediaEvent:
    """A media event as a node stored it.

    Attributes:
        seq: Its place among every node's media events of the domain.
        node: The node whose workers reported it.
        call_id: The leg it is about, as the node names it (``None``: a worker's event).
        kind: The event's kind (``media.call_incoming``...).
        payload: The event as JSON-ready data (``event_to_dict``).
        at: When it happened (the node's clock).
    """

    seq: int
    node: str
    call_id: str | None
    kind: str
    payload: Mapping[str, Any]
    at: float


@attrs.frozen(kw_only=True)
class MediaCommand:
    """A command for one node's media.

    Attributes:
        id: Unique (a random token).
        node: The node that carries it out.
        op: The :class:`~callcenter_sdk.media.MediaBackend` method's name.
        args: Its arguments, JSON-ready.
        epoch: The term of the leader that wrote it.
    """

    id: str
    node: str
    op: str
    args: Mapping[str, Any]
    epoch: int


@attrs.frozen(kw_only=True)
class MediaOutcome:
    """What came of a command: its result, or the error that stopped it.

    Attributes:
        result: What the method returned, JSON-ready (``None`` for most).
        error: ``None`` when it was carried out, else ``"<ErrorClass>: message"``
            or :data:`STALE` (its term ended before its node took it).
    """

    result: Any
    error: str | None


@attrs.frozen(kw_only=True)
class LiveCall:
    """A leg alive on a node, as the node last recorded it.

    Attributes:
        node: The node whose workers hold it.
        call_id: Its id on that node.
        state: ``ringing`` (inbound, not answered), ``dialling`` (outbound, not
            answered), ``answered``, ``on_hold_music`` or ``bridged``.
        bridged_with: The leg it is bridged to, on the same node.
        from_uri: Who called (inbound) or ``""``.
        to_uri: What was dialled.
        updated_at: When the row last changed (the node's clock).
    """

    node: str
    call_id: str
    state: str
    bridged_with: str | None
    from_uri: str
    to_uri: str
    updated_at: float


def _live(row: MediaCallRow) -> LiveCall:
    return LiveCall(
        node=row.node,
        call_id=row.call_id,
        state=row.state,
        bridged_with=row.bridged_with,
        from_uri=row.from_uri,
        to_uri=row.to_uri,
        updated_at=row.updated_at,
    )


class MediaRows:
    """The media tables of one routing domain: events and live calls (nodes), commands (both).

    Args:
        store: The database every node shares.
        domain: The routing domain (the center's name).

    .. versionadded:: 0.2
    """

    def __init__(self, store: Store, domain: str) -> None:
        self._store = store
        self._domain = domain

    @property
    def store(self) -> Store:
        """The database the rows live in."""
        return self._store

    @property
    def domain(self) -> str:
        """The routing domain."""
        return self._domain

    def _notify(self, session: Session, channel: str, payload: str) -> None:
        if self._store.dialect == "postgresql":  # sent at commit, only if it commits
            session.execute(text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})

    # -- a node: its events and live calls ----------------------------------------------------
    def record(
        self,
        node: str,
        events: Sequence[tuple[str | None, str, Mapping[str, Any], float]],
        *,
        calls: Sequence[LiveCall] = (),
        ended: Sequence[str] = (),
    ) -> int:
        """Append ``node``'s events (call id, kind, payload, at) and update its live calls.

        ``calls`` are upserted, ``ended`` legs deleted, in the same transaction
        as the events, so the live calls and the log never disagree. Returns
        the last event's seq (0 when none).
        """
        last = 0
        with self._store.transaction(f"record media events of {node}") as session:
            for call_id, kind, payload, at in events:
                row = MediaEventRow(
                    domain=self._domain,
                    node=node,
                    call_id=call_id,
                    kind=kind,
                    payload=json.dumps(payload),
                    at=at,
                )
                session.add(row)
                session.flush()
                last = row.seq
            for call in calls:
                session.merge(
                    MediaCallRow(
                        domain=self._domain,
                        node=node,
                        call_id=call.call_id,
                        state=call.state,
                        bridged_with=call.bridged_with,
                        from_uri=call.from_uri,
                        to_uri=call.to_uri,
                        updated_at=call.updated_at,
                    )
                )
            if ended:
                session.execute(
                    sql_delete(MediaCallRow).where(
                        MediaCallRow.domain == self._domain,
                        MediaCallRow.node == node,
                        MediaCallRow.call_id.in_(list(ended)),
                    )
                )
            if events:
                self._notify(session, MEDIA_EVENTS_CHANNEL, self._domain)
        return last

    def forget_calls(self, node: str) -> int:
        """Delete every live call of ``node`` (its pool starts afresh); return how many."""
        with self._store.transaction(f"forget the media calls of {node}") as session:
            gone = session.execute(
                sql_delete(MediaCallRow).where(
                    MediaCallRow.domain == self._domain, MediaCallRow.node == node
                )
            )
            return int(gone.rowcount)  # type: ignore[attr-defined]

    def calls(self, node: str | None = None) -> list[LiveCall]:
        """The live calls of ``node`` (every node's when ``None``), by node and call id."""
        with self._store.reading("read live media calls") as session:
            query = select(MediaCallRow).where(MediaCallRow.domain == self._domain)
            if node is not None:
                query = query.where(MediaCallRow.node == node)
            rows = session.scalars(query.order_by(MediaCallRow.node, MediaCallRow.call_id))
            return [_live(row) for row in rows]

    # -- the leader: reading the nodes' events --------------------------------------------------
    def last_seq(self) -> int:
        """The seq of the domain's newest media event (0 when none)."""
        with self._store.reading("read the last media event") as session:
            found = session.scalar(
                select(func.max(MediaEventRow.seq)).where(MediaEventRow.domain == self._domain)
            )
            return int(found or 0)

    def events(
        self,
        *,
        since: int = 0,
        after: Mapping[str, int] | None = None,
        exclude: str | None = None,
        limit: int = 500,
    ) -> list[StoredMediaEvent]:
        """The domain's media events, oldest first: each node's after its seq in ``after``.

        A node not in ``after`` is read after seq ``since``; ``exclude``'s
        events are left out. Read per node: a seq is taken at insert, so one
        node's row may commit after another node's later seq, but each node
        writes its events one transaction after the other, so a reader that
        keeps each node's last seq misses none.
        """
        marks = dict(after or {})
        with self._store.reading("read media events") as session:
            known = [
                and_(MediaEventRow.node == node, MediaEventRow.seq > seq)
                for node, seq in marks.items()
            ]
            others = MediaEventRow.seq > since
            if marks:
                others = and_(others, MediaEventRow.node.not_in(list(marks)))
            query = select(MediaEventRow).where(
                MediaEventRow.domain == self._domain, or_(others, *known)
            )
            if exclude is not None:
                query = query.where(MediaEventRow.node != exclude)
            rows = session.scalars(query.order_by(MediaEventRow.seq).limit(limit))
            return [
                StoredMediaEvent(
                    seq=row.seq,
                    node=row.node,
                    call_id=row.call_id,
                    kind=row.kind,
                    payload=json.loads(row.payload),
                    at=row.at,
                )
                for row in rows
            ]

    # -- commands ---------------------------------------------------------------------------
    def issue(
        self,
        fenced: Store,
        *,
        node: str,
        op: str,
        args: Mapping[str, Any],
        epoch: int,
        at: float,
    ) -> str:
        """Write a command for ``node`` through the leader's fenced store; return its id.

        Raises:
            LeaseLost: The leader's term is over: nothing is written.
        """
        command_id = secrets.token_hex(16)
        with fenced.transaction(f"media command {op} for {node}") as session:
            session.add(
                MediaCommandRow(
                    id=command_id,
                    domain=self._domain,
                    node=node,
                    op=op,
                    args=json.dumps(dict(args)),
                    epoch=epoch,
                    issued_at=at,
                )
            )
            self._notify(session, MEDIA_COMMANDS_CHANNEL, node)
        return command_id

    def claim(self, node: str, *, at: float, limit: int = 50) -> list[MediaCommand]:
        """Claim the commands waiting for ``node``, oldest first; each is claimed once.

        Only the commands of the term that holds the lease now (its epoch is
        the domain's and the lease has not expired, on the database's clock)
        are returned; the others are answered :data:`STALE` and never carried out.
        """
        with self._store.transaction(f"claim media commands for {node}") as session:
            clock: Any = literal_column(_CLOCK[self._store.dialect])
            lease = session.execute(
                select(LeaseRow, clock)
                .where(LeaseRow.domain == self._domain)
                .with_for_update(read=True)
            ).one_or_none()
            current: int | None = None
            if lease is not None:
                held, now = lease
                if held.holder is not None and held.expires_at > float(now):
                    current = held.epoch
            rows = list(
                session.scalars(
                    select(MediaCommandRow)
                    .where(
                        MediaCommandRow.domain == self._domain,
                        MediaCommandRow.node == node,
                        MediaCommandRow.claimed_at.is_(None),
                    )
                    .order_by(MediaCommandRow.issued_at, MediaCommandRow.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            claimed: list[MediaCommand] = []
            for row in rows:
                row.claimed_at = at
                if row.epoch != current:
                    row.done_at, row.error = at, STALE
                    self._notify(session, MEDIA_RESULTS_CHANNEL, row.id)
                    continue
                claimed.append(
                    MediaCommand(
                        id=row.id,
                        node=row.node,
                        op=row.op,
                        args=json.loads(row.args),
                        epoch=row.epoch,
                    )
                )
            return claimed

    def complete(self, command_id: str, *, result: Any, error: str | None, at: float) -> None:
        """Write what came of a claimed command (and wake the leader)."""
        with self._store.transaction("complete a media command") as session:
            session.execute(
                sql_update(MediaCommandRow)
                .where(MediaCommandRow.id == command_id, MediaCommandRow.done_at.is_(None))
                .values(done_at=at, result=json.dumps(result), error=error)
            )
            self._notify(session, MEDIA_RESULTS_CHANNEL, command_id)

    def outcome(self, command_id: str) -> MediaOutcome | None:
        """What came of command ``command_id``; ``None`` while it is not done."""
        with self._store.reading("read a media command's outcome") as session:
            row = session.get(MediaCommandRow, command_id)
            if row is None or row.done_at is None:
                return None
            return MediaOutcome(
                result=None if row.result is None else json.loads(row.result), error=row.error
            )

    def withdraw(self, command_id: str) -> bool:
        """Take back a command its node has not claimed; ``False`` once claimed (it runs)."""
        with self._store.transaction("withdraw a media command") as session:
            gone = session.execute(
                sql_delete(MediaCommandRow).where(
                    MediaCommandRow.id == command_id, MediaCommandRow.claimed_at.is_(None)
                )
            )
            return bool(gone.rowcount)  # type: ignore[attr-defined]

    def arrivals(self, calls: Sequence[LiveCall]) -> list[StoredMediaEvent]:
        """The stored ``media.call_incoming`` events of ``calls``, oldest first."""
        if not calls:
            return []
        wanted = {(call.node, call.call_id) for call in calls}
        with self._store.reading("read calls' arrivals") as session:
            rows = session.scalars(
                select(MediaEventRow)
                .where(
                    MediaEventRow.domain == self._domain,
                    MediaEventRow.kind == "media.call_incoming",
                    MediaEventRow.call_id.in_(sorted({call.call_id for call in calls})),
                )
                .order_by(MediaEventRow.seq)
            )
            latest: dict[tuple[str, str | None], MediaEventRow] = {}
            for row in rows:  # a node's restarted pool may use a leg id again: the last counts
                if (row.node, row.call_id) in wanted:
                    latest[row.node, row.call_id] = row
            return [
                StoredMediaEvent(
                    seq=row.seq,
                    node=row.node,
                    call_id=row.call_id,
                    kind=row.kind,
                    payload=json.loads(row.payload),
                    at=row.at,
                )
                for row in sorted(latest.values(), key=lambda row: row.seq)
            ]

    def outcomes(self, command_ids: Sequence[str]) -> dict[str, MediaOutcome]:
        """The outcomes of those of ``command_ids`` that are done, by id (one query)."""
        if not command_ids:
            return {}
        with self._store.reading("read media commands' outcomes") as session:
            rows = session.scalars(
                select(MediaCommandRow).where(
                    MediaCommandRow.id.in_(list(command_ids)), MediaCommandRow.done_at.is_not(None)
                )
            )
            return {
                row.id: MediaOutcome(
                    result=None if row.result is None else json.loads(row.result), error=row.error
                )
                for row in rows
            }

    def prune(self, before: float) -> int:
        """Delete the commands issued and the events that happened before ``before``."""
        with self._store.transaction("prune media rows") as session:
            commands = session.execute(
                sql_delete(MediaCommandRow).where(
                    MediaCommandRow.domain == self._domain, MediaCommandRow.issued_at < before
                )
            )
            events = session.execute(
                sql_delete(MediaEventRow).where(
                    MediaEventRow.domain == self._domain, MediaEventRow.at < before
                )
            )
            return int(commands.rowcount) + int(events.rowcount)  # type: ignore[attr-defined]
