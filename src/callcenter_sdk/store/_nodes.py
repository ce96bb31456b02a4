"""The nodes of a cluster: one heartbeat row per node, on the database's clock.

Every node of ``callcenter serve --cluster`` writes a row of
``cluster_nodes`` every few seconds (:meth:`Nodes.beat`): its role (leader or
standby), the epoch it knows, where its web server and media answer, when it
started, and what it has applied of the shared event log, with a short
health summary (can it write the store, how many media workers are alive).
Like the lease, the row's ``expires_at`` is decided on the **database's**
clock (``last_seen`` plus the ttl the node gave), so every node reading the
table agrees on who is up, whatever its own clock says.

**Lag** has two parts, both on the row:

- ``lag`` (events): at the node's last heartbeat, the newest event-log
  sequence number committed to the database (``head_seq``, which is the
  leader's last committed event) minus the newest one the node had applied
  (``applied_seq``: the live feed its browsers are served from). ``None``
  when the node applies nothing (a standby serving no web app).
- ``age`` (seconds): how long ago, on the database's clock, that heartbeat
  was written. A node whose heartbeat is older than its ttl is **down**.

.. versionadded:: 0.2
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs
from sqlalchemy import BigInteger, Boolean, Double, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from .._errors import ValidationError
from ._lease import LeaseRow, _database_now
from ._limits import ID, INT32, NAME, TITLE, check_float, check_optional_int, check_text
from ._rows import Base, EventRow
from ._store import Store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["ClusterView", "Heartbeat", "NodeHealth", "NodeRole", "NodeRow", "NodeStatus", "Nodes"]


class NodeRole(enum.Enum):
    """What a node does for its routing domain now."""

    LEADER = "leader"
    """It holds the lease and runs the center."""
    STANDBY = "standby"
    """Another node leads; it waits to take over."""


class NodeRow(Base):
    """The last heartbeat of one node (see :mod:`callcenter_sdk.store._nodes`).

    Times are seconds since the Unix epoch on the database's clock.
    """

    __tablename__ = "cluster_nodes"

    domain: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    node: Mapped[str] = mapped_column(String(ID), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    epoch: Mapped[int | None] = mapped_column(BigInteger)
    web: Mapped[str] = mapped_column(String(TITLE))
    media: Mapped[str] = mapped_column(String(TITLE))
    started_at: Mapped[float] = mapped_column(Double)
    last_seen: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double)
    left_at: Mapped[float | None] = mapped_column(Double)
    applied_seq: Mapped[int | None] = mapped_column(BigInteger)
    head_seq: Mapped[int] = mapped_column(BigInteger)
    store_ok: Mapped[bool] = mapped_column(Boolean)
    unwritten: Mapped[int] = mapped_column(Integer)
    media_alive: Mapped[int | None] = mapped_column(Integer)
    media_total: Mapped[int | None] = mapped_column(Integer)


@attrs.frozen(kw_only=True)
class NodeHealth:
    """A node's own view of its dependencies, as it reports them.

    Attributes:
        store_ok: Whether it writes the store now (``False``: its event
            writer is degraded and keeps events in memory).
        unwritten: Events it holds in memory, not yet written to the log.
        media_alive: Media worker processes alive (``None``: no pool runs).
        media_total: Media worker processes it should have.

    .. versionadded:: 0.2
    """

    store_ok: bool = True
    unwritten: int = 0
    media_alive: int | None = None
    media_total: int | None = None


@attrs.frozen(kw_only=True)
class Heartbeat:
    """What one node says about itself at each beat.

    Attributes:
        domain: The routing domain (the center's name).
        node: The node's id.
        role: Leader or standby.
        epoch: The lease epoch the node knows: its own when it leads;
            ``None`` for the domain's epoch in the database at the beat
            (what a standby would take over from).
        web: Where its web server answers (``http://host:port``).
        media: Where its media answers (its SIP front door), ``""`` for none.
        applied_seq: The newest event-log sequence number it has applied
            (``None`` when it applies none).
        health: Its store and media.

    .. versionadded:: 0.2
    """

    domain: str
    node: str
    role: NodeRole
    epoch: int | None = None
    web: str = ""
    media: str = ""
    applied_seq: int | None = None
    health: NodeHealth = NodeHealth()


@attrs.frozen(kw_only=True)
class NodeStatus:
    """One node as the table shows it, read at ``now`` (database time).

    Attributes:
        domain: The routing domain.
        node: The node's id.
        role: The role at its last heartbeat.
        epoch: The epoch it knew then.
        web: Its web address.
        media: Its media address.
        started_at: When its process joined (first heartbeat).
        last_seen: Its last heartbeat.
        expires_at: When that heartbeat runs out.
        left_at: When it left cleanly (``None``: it has not).
        applied_seq: The newest event it had applied at its last heartbeat.
        head_seq: The newest event in the log at its last heartbeat.
        health: Its store and media at its last heartbeat.
        now: When this was read.

    .. versionadded:: 0.2
    """

    domain: str
    node: str
    role: NodeRole
    epoch: int | None
    web: str
    media: str
    started_at: float
    last_seen: float
    expires_at: float
    left_at: float | None
    applied_seq: int | None
    head_seq: int
    health: NodeHealth
    now: float

    @property
    def up(self) -> bool:
        """Whether its heartbeat is still valid (neither expired nor left)."""
        return self.left_at is None and self.expires_at > self.now

    @property
    def age(self) -> float:
        """Seconds since its last heartbeat, on the database's clock."""
        return max(0.0, self.now - self.last_seen)

    @property
    def lag(self) -> int | None:
        """Events committed but not yet applied by it, at its last heartbeat."""
        if self.applied_seq is None:
            return None
        return max(0, self.head_seq - self.applied_seq)


@attrs.frozen(kw_only=True)
class ClusterView:
    """Every node of a domain, read in one transaction.

    Attributes:
        domain: The routing domain.
        now: The database's time of the read.
        head_seq: The newest event-log sequence number at that time.
        nodes: The nodes, by id (up or not; a node forgotten is gone).

    .. versionadded:: 0.2
    """

    domain: str
    now: float
    head_seq: int
    nodes: tuple[NodeStatus, ...]

    @property
    def up(self) -> tuple[NodeStatus, ...]:
        """The nodes whose heartbeat is valid."""
        return tuple(n for n in self.nodes if n.up)


class Nodes:
    """The heartbeat table of a store: nodes report themselves, anyone reads.

    Each node writes only its own row. A row stays after its node stops (it
    shows as down, or left) until :meth:`forget` removes it.

    Args:
        store: The database shared by the nodes.
        clock: Read this instead of the database's clock (seconds). For tests
            that move time by hand; production leaves it out.

    .. versionadded:: 0.2
    """

    def __init__(self, store: Store, *, clock: Callable[[], float] | None = None) -> None:
        self._store = store
        self._clock = clock

    @property
    def store(self) -> Store:
        """The database the rows live in."""
        return self._store

    def _now(self, session: Session) -> float:
        return _database_now(session, self._store.dialect, self._clock)

    def beat(self, heartbeat: Heartbeat, ttl: float, *, join: bool = False) -> NodeStatus:
        """Write ``heartbeat``: the node is up until ``ttl`` seconds from now (database time).

        Args:
            heartbeat: What the node says about itself.
            ttl: Seconds the heartbeat stays valid without the next one.
            join: The first beat of a process: ``started_at`` is now, and a
                row left by a previous process of the same id is taken over.

        Returns:
            The row as written.

        Raises:
            ValidationError: A bad field or ttl.
            StoreError: The database failed.
        """
        _check(heartbeat, ttl)
        h = heartbeat
        with self._store.transaction(f"heartbeat of node {h.node}") as session:
            now = self._now(session)
            head = _head(session)
            epoch = h.epoch if h.epoch is not None else _epoch(session, h.domain)
            row = session.get(NodeRow, (h.domain, h.node))
            if row is None:
                row = NodeRow(domain=h.domain, node=h.node, started_at=now)
                session.add(row)
            elif join:
                row.started_at = now
            row.role = h.role.value
            row.epoch = epoch
            row.web = h.web
            row.media = h.media
            row.last_seen = now
            row.expires_at = now + float(ttl)
            row.left_at = None
            row.applied_seq = h.applied_seq
            row.head_seq = head
            row.store_ok = h.health.store_ok
            row.unwritten = h.health.unwritten
            row.media_alive = h.health.media_alive
            row.media_total = h.health.media_total
            session.flush()
            return _status(row, now)

    def leave(self, domain: str, node: str) -> bool:
        """Mark ``node`` as stopped cleanly, now: it shows as down at once.

        Returns:
            Whether the node had a row.

        Raises:
            StoreError: The database failed.
        """
        with self._store.transaction(f"node {node} leaves") as session:
            row = session.get(NodeRow, (domain, node))
            if row is None:
                return False
            now = self._now(session)
            row.left_at = now
            row.expires_at = min(row.expires_at, now)
            return True

    def forget(self, domain: str, node: str) -> bool:
        """Remove the row of ``node`` (a node taken out of the cluster for good).

        Returns:
            Whether there was one.

        Raises:
            StoreError: The database failed.
        """
        query = delete(NodeRow).where(NodeRow.domain == domain, NodeRow.node == node)
        with self._store.transaction(f"forget node {node}") as session:
            return bool(session.execute(query).rowcount)  # type: ignore[attr-defined]

    def view(self, domain: str) -> ClusterView:
        """Every node of ``domain`` with the database's time and the log's head now.

        Raises:
            StoreError: The database failed.
        """
        query = select(NodeRow).where(NodeRow.domain == domain).order_by(NodeRow.node)
        with self._store.reading(f"read the nodes of {domain}") as session:
            now = self._now(session)
            head = _head(session)
            rows: Sequence[NodeRow] = session.scalars(query).all()
            return ClusterView(
                domain=domain,
                now=now,
                head_seq=head,
                nodes=tuple(_status(row, now) for row in rows),
            )


def _head(session: Session) -> int:
    """The newest sequence number of the event log (0 when it is empty)."""
    return int(session.scalar(select(func.coalesce(func.max(EventRow.seq), 0))) or 0)


def _epoch(session: Session, domain: str) -> int | None:
    """The domain's lease epoch in the database (``None``: no lease was ever taken)."""
    return session.scalar(select(LeaseRow.epoch).where(LeaseRow.domain == domain))


def _check(h: Heartbeat, ttl: float) -> None:
    check_text("domain", h.domain, NAME)
    check_text("node", h.node, ID)
    if not h.domain or not h.node:
        raise ValidationError("domain and node must not be empty")
    check_text("web", h.web, TITLE)
    check_text("media", h.media, TITLE)
    check_optional_int("epoch", h.epoch)
    check_optional_int("applied_seq", h.applied_seq)
    for name, value in (
        ("unwritten", h.health.unwritten),
        ("media_alive", h.health.media_alive),
        ("media_total", h.health.media_total),
    ):
        check_optional_int(name, value, INT32)
        if value is not None and value < 0:
            raise ValidationError(f"{name} must be >= 0, got {value!r}")
    check_float("ttl", ttl)
    if ttl <= 0:
        raise ValidationError(f"ttl must be a positive number of seconds, got {ttl!r}")


def _status(row: NodeRow, now: float) -> NodeStatus:
    return NodeStatus(
        domain=row.domain,
        node=row.node,
        role=NodeRole(row.role),
        epoch=row.epoch,
        web=row.web,
        media=row.media,
        started_at=row.started_at,
        last_seen=row.last_seen,
        expires_at=row.expires_at,
        left_at=row.left_at,
        applied_seq=row.applied_seq,
        head_seq=row.head_seq,
        health=NodeHealth(
            store_ok=row.store_ok,
            unwritten=row.unwritten,
            media_alive=row.media_alive,
            media_total=row.media_total,
        ),
        now=now,
    )
