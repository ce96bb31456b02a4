"""Leader leases with a fencing epoch: one leader per routing domain, on the database.

Several nodes share one PostgreSQL; for each routing domain one of them is the
ACD leader. Leadership is a row of ``leader_leases``: who holds it, until when
(``expires_at``, on the **database's** clock, never a node's) and an
``epoch`` that grows by one at every change of holder. A node keeps the lease
by renewing it before it expires; when it dies, stalls or is cut off, the
lease runs out and another node takes it with the next epoch.

A lease alone cannot stop a leader that stalled (a long GC pause, SIGSTOP, a
partition) and resumes believing it still leads: it may be in the middle of a
commit. The epoch is the **fence**: every write a leader makes for its domain
calls :meth:`Leases.check_fence` in the same transaction, which locks the
lease row (``FOR SHARE``) and refuses with :class:`LeaseLost` unless the
epoch is still the leader's and the lease has not expired. A new holder must
lock the row ``FOR UPDATE`` to take it, so it waits for fenced transactions
in flight, and once it has the lease no transaction of an older epoch can
commit. This is a row, not a session advisory lock: those belong to a
connection, which connection poolers (PgBouncer in transaction mode) share
between clients and recycle, so the lock's owner is not who the pool says.

On SQLite (one node; every write transaction begins with ``BEGIN IMMEDIATE``)
the same code runs, serialised by the database's write lock.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import BigInteger, Double, String, func, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from .._errors import StateError, StoreError, ValidationError
from ._limits import ID, NAME, check_float, check_text
from ._rows import Base
from ._store import Store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["FencedStore", "Lease", "LeaseLost", "LeaseRow", "Leases"]


class LeaseLost(StateError):  # noqa: N818 - the state it reports, as callers say it
    """The lease is not (or no longer) the holder's: renew and fenced writes refuse.

    Raised when the epoch moved on (another node took the lease), the lease
    expired or was released. A leader that meets it must stop acting for the
    domain at once; nothing written in the refused transaction is committed.

    Attributes:
        domain: The routing domain.
        epoch: The epoch the caller held (``None``: it held none, it does not lead).
        current: The epoch now in the database (``None`` when no row exists).

    .. versionadded:: 0.2
    """

    def __init__(self, domain: str, epoch: int | None, current: int | None, reason: str) -> None:
        held = "held by no term" if epoch is None else f"at epoch {epoch}"
        super().__init__(f"lease of {domain!r} {held} is lost: {reason}")
        self.domain = domain
        self.epoch = epoch
        self.current = current


class LeaseRow(Base):
    """The lease of one routing domain (see :mod:`callcenter_sdk.store._lease`).

    ``holder`` is ``NULL`` once released; ``epoch`` only grows; times are
    seconds since the Unix epoch on the database's clock.
    """

    __tablename__ = "leader_leases"

    domain: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(ID))
    epoch: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[float] = mapped_column(Double)
    renewed_at: Mapped[float] = mapped_column(Double)


@attrs.frozen(kw_only=True)
class Lease:
    """A node's hold on a routing domain, as the database granted it.

    Attributes:
        domain: The routing domain.
        holder: The node id holding it.
        epoch: The fencing token: one more at every change of holder.
        expires_at: When it runs out, in database seconds (Unix time).
        renewed_at: When it was taken or last renewed, same clock.
        ttl: The duration each renewal grants, in seconds.

    .. versionadded:: 0.2
    """

    domain: str
    holder: str
    epoch: int
    expires_at: float
    renewed_at: float
    ttl: float


# The database's clock in seconds since 1970: clock_timestamp() is the time of the
# statement (now() would be the start of the transaction, before any lock wait).
_CLOCK = {
    "postgresql": "extract(epoch FROM clock_timestamp())::float8",
    "sqlite": "(julianday('now') - 2440587.5) * 86400.0",
}
_NOW = {dialect: f"SELECT {clock}" for dialect, clock in _CLOCK.items()}


def _database_now(
    session: Session, dialect: str, clock: Callable[[], float] | None = None
) -> float:
    """The database's clock in seconds (``clock()`` instead, when a test gives one)."""
    if clock is not None:
        return float(clock())
    return float(session.execute(text(_NOW[dialect])).scalar_one())


_IDLE_SHARE = 0.5
"""The part of a lease's ttl a transaction holding its row may stay idle (PostgreSQL)."""


class Leases:
    """The leader leases of a store: acquire, renew, release, and fence writes.

    Every decision about time compares against the database's clock, so
    nodes whose clocks disagree still agree on who leads. A node id must be
    unique per running process (a restarted process gets a new one), since a
    holder asking again for its own lease gets the same epoch back.

    Args:
        store: The database shared by the nodes.
        clock: Read this instead of the database's clock (seconds). For tests
            and simulations that move time by hand; production leaves it out.

    .. versionadded:: 0.2
    """

    def __init__(self, store: Store, *, clock: Callable[[], float] | None = None) -> None:
        self._store = store
        self._clock = clock

    @property
    def store(self) -> Store:
        """The database the leases live in."""
        return self._store

    def _now(self, session: Session) -> float:
        return _database_now(session, self._store.dialect, self._clock)

    def _locked(self, session: Session, domain: str, ttl: float) -> LeaseRow | None:
        self._guard(session, ttl)
        query = select(LeaseRow).where(LeaseRow.domain == domain).with_for_update()
        return session.scalars(query).one_or_none()

    def _guard(self, session: Session, ttl: float) -> None:
        """Have PostgreSQL end this transaction if its client stalls with the row locked.

        A leader stopped (SIGSTOP, a pause) in the middle of a fenced transaction
        would otherwise hold the lease row, and so hold off every takeover, for
        as long as it stays stopped. The server aborts the transaction once it
        has been idle for half the ttl, which releases the lock.
        """
        if self._store.dialect == "postgresql":
            session.execute(
                text("SELECT set_config('idle_in_transaction_session_timeout', :ms, true)"),
                {"ms": _idle_ms(ttl)},
            )

    def acquire(self, domain: str, node: str, ttl: float) -> Lease | None:
        """Take the lease of ``domain`` for ``node`` if it is free or expired.

        Taking it bumps the epoch. When ``node`` already holds a valid lease,
        that lease is returned as it is (same epoch, same expiry, the ttl it
        was granted with); when someone else does, ``None``.

        Args:
            domain: The routing domain.
            node: The node's id, unique per running process.
            ttl: Seconds the lease lasts without renewal.

        Returns ``None`` too when this transaction stalled (the client paused
        with the row locked) past the idle guard and the server ended it.

        Raises:
            ValidationError: A bad domain, node or ttl.
            StoreError: The database failed.
        """
        _check(domain, node, ttl)
        ttl = float(ttl)
        self._create(domain)
        try:
            return self._take(domain, node, ttl)
        except StoreError as exc:
            if _stalled(exc):  # the server ended the stalled transaction: nothing was taken
                return None
            raise

    def _take(self, domain: str, node: str, ttl: float) -> Lease | None:
        with self._store.transaction(f"acquire lease {domain}") as session:
            row = self._locked(session, domain, ttl)
            assert row is not None  # noqa: S101 - created above and never deleted
            now = self._now(session)
            if row.holder is not None and row.expires_at > now:
                return _lease(row, row.expires_at - row.renewed_at) if row.holder == node else None
            row.holder = node
            row.epoch += 1
            row.expires_at = now + ttl
            row.renewed_at = now
            return _lease(row, ttl)

    def _create(self, domain: str) -> None:
        """Insert the free row of ``domain`` at epoch 0 unless it exists (racing nodes agree)."""
        values = {"domain": domain, "epoch": 0, "expires_at": 0.0, "renewed_at": 0.0}
        dialect = postgresql if self._store.dialect == "postgresql" else sqlite
        insert = dialect.insert(LeaseRow).values(values).on_conflict_do_nothing()
        with self._store.transaction(f"create lease {domain}") as session:
            session.execute(insert)

    def renew(self, lease: Lease) -> Lease:
        """Extend ``lease`` by its ttl from now (database time); same epoch.

        Raises:
            LeaseLost: Another node took it, or it expired or was released
                (an expired lease is never revived, even if nobody took it:
                the holder may already have stopped acting on it), or this
                transaction stalled past the idle guard and the server ended it.
            StoreError: The database failed; the lease may still be valid.
        """
        with (
            _stall_is_loss(lease),
            self._store.transaction(f"renew lease {lease.domain}") as session,
        ):
            row = self._locked(session, lease.domain, lease.ttl)
            now = self._now(session)
            _check_held(row, lease, now)
            assert row is not None  # noqa: S101 - _check_held refuses a missing row
            row.expires_at = now + lease.ttl
            row.renewed_at = now
            return _lease(row, lease.ttl)

    def release(self, lease: Lease) -> bool:
        """Give ``lease`` up now, so another node need not wait for it to expire.

        Returns:
            Whether it was still held (a lost lease is left as it is).

        Raises:
            LeaseLost: This transaction stalled past the idle guard and the
                server ended it: the lease is left to expire.
            StoreError: The database failed.
        """
        with (
            _stall_is_loss(lease),
            self._store.transaction(f"release lease {lease.domain}") as session,
        ):
            row = self._locked(session, lease.domain, lease.ttl)
            now = self._now(session)
            try:
                _check_held(row, lease, now)
            except LeaseLost:
                return False
            assert row is not None  # noqa: S101 - _check_held refuses a missing row
            row.holder = None
            row.expires_at = now
            return True

    def current(self, domain: str) -> Lease | None:
        """The valid lease of ``domain`` now, or ``None`` when it is free or expired.

        Its ``ttl`` is the duration of the last grant (expiry minus renewal).

        Raises:
            StoreError: The database failed.
        """
        with self._store.reading(f"read lease {domain}") as session:
            row = session.get(LeaseRow, domain)
            now = self._now(session)
            if row is None or row.holder is None or row.expires_at <= now:
                return None
            return _lease(row, row.expires_at - row.renewed_at)

    def check_fence(self, session: Session, lease: Lease) -> None:
        """Refuse the transaction of ``session`` unless ``lease`` still holds.

        Call it inside the write transaction, before committing; it locks the
        lease row ``FOR SHARE`` until the transaction ends, so no other node
        can take the lease before this transaction commits, and once one has,
        this raises and the transaction rolls back with everything it wrote.
        Keep fenced transactions short: on PostgreSQL the server aborts one
        that stays idle (its client stalled) for half the lease's ttl, so a
        stopped leader cannot hold off a takeover.

        Raises:
            LeaseLost: The epoch moved on, or the lease expired or was released.
        """
        # One round trip (it runs before every batch a leader commits): the row locked
        # FOR SHARE, the database's clock, and on PostgreSQL the idle guard of _guard.
        columns: list[Any] = [LeaseRow, literal_column(_CLOCK[self._store.dialect])]
        if self._store.dialect == "postgresql":
            columns.append(
                func.set_config("idle_in_transaction_session_timeout", _idle_ms(lease.ttl), True)
            )
        query = select(*columns).where(LeaseRow.domain == lease.domain)
        found = session.execute(query.with_for_update(read=True)).one_or_none()
        row = None if found is None else found[0]
        if self._clock is not None:
            now = float(self._clock())
        elif found is not None:
            now = float(found[1])
        else:
            now = self._now(session)
        _check_held(row, lease, now)

    def fenced(self, domain: str, lease: Callable[[], Lease | None]) -> FencedStore:
        """This store, with every write transaction fenced by the lease ``lease()`` returns.

        Hand it to the repositories a leader writes through (the runtime's
        ledger): each :meth:`~Store.transaction` passes :meth:`check_fence`
        right before it commits, with the lease of the moment, and is refused
        with :class:`LeaseLost` when ``lease()`` returns ``None`` (this node does
        not lead ``domain``) or the lease was lost. Reads are not fenced.

        Args:
            domain: The routing domain whose leader writes.
            lease: Returns the lease of the current term, or ``None``
                (:attr:`callcenter_sdk.runtime.Elector.lease`, for example).
        """
        return FencedStore(self, domain, lease)


class FencedStore(Store):
    """A :class:`Store` whose write transactions only commit under a valid lease.

    Built by :meth:`Leases.fenced`; it shares the engine (and on SQLite the
    process's writer queue) of the store it fences.

    .. versionadded:: 0.2
    """

    def __init__(self, leases: Leases, domain: str, lease: Callable[[], Lease | None]) -> None:
        super().__init__(leases.store.engine)
        # one writer queue per SQLite database in this process, shared with the fenced store
        self._writers = leases.store._writers
        self._leases = leases
        self._domain = domain
        self._lease = lease

    @contextmanager
    def transaction(self, action: str) -> Iterator[Session]:
        """Open a write transaction that checks the fence as it commits (:meth:`Leases.fenced`).

        The check runs after the block, right before the commit, so the lease
        row is locked only for that instant; on PostgreSQL the idle guard is
        set first, so a client that stalls idle anywhere in the transaction
        is ended by the server after half the ttl.

        Raises:
            LeaseLost: This node does not hold the lease of the domain (any
                more), or the transaction stalled past the idle guard (half the
                ttl) and the server ended it: nothing in it was committed.
        """
        lease = self._lease()
        if lease is None:
            raise LeaseLost(self._domain, None, None, f"{action}: this node does not lead")
        if lease.domain != self._domain:
            raise ValidationError(f"a lease of {lease.domain!r} cannot fence {self._domain!r}")
        with _stall_is_loss(lease), super().transaction(action) as session:
            self._leases._guard(session, lease.ttl)
            yield session
            # checked last, right before the commit: the lease row is locked only for that
            # instant, so a leader stopped in the middle of a long statement (a COPY of its
            # events) holds nothing a takeover waits for; an idle stall is ended by the guard
            self._leases.check_fence(session, lease)


_IDLE_TIMEOUT = "25P03"
"""PostgreSQL's SQLSTATE for a session ended by ``idle_in_transaction_session_timeout``."""


def _stalled(exc: BaseException) -> bool:
    """Whether ``exc`` says the server ended this transaction for idling past the guard."""
    seen: BaseException | None = exc
    while seen is not None:
        if getattr(seen, "sqlstate", None) == _IDLE_TIMEOUT:
            return True
        seen = seen.__cause__
    return False


@contextmanager
def _stall_is_loss(lease: Lease) -> Iterator[None]:
    """Turn the idle guard's end of a lease transaction into :class:`LeaseLost`.

    The guard (see :meth:`Leases._guard`) ends a transaction that holds the
    lease row while its client stalls; for the holder that is a term it can
    no longer vouch for, like an expiry, not a database failure. The pool
    drops the ended connection.
    """
    try:
        yield
    except StoreError as exc:
        if not _stalled(exc):
            raise
        reason = "the transaction stalled past the idle guard and the server ended it"
        raise LeaseLost(lease.domain, lease.epoch, None, reason) from exc


def _idle_ms(ttl: float) -> str:
    """PostgreSQL's ``idle_in_transaction_session_timeout`` for a lease of ``ttl`` seconds."""
    return str(max(1, round(ttl * 1000 * _IDLE_SHARE)))


def _check(domain: str, node: str, ttl: float) -> None:
    check_text("domain", domain, NAME)
    check_text("node", node, ID)
    if not domain or not node:
        raise ValidationError("domain and node must not be empty")
    check_float("ttl", ttl)
    if ttl <= 0:
        raise ValidationError(f"ttl must be a positive number of seconds, got {ttl!r}")


def _check_held(row: LeaseRow | None, lease: Lease, now: float) -> None:
    if row is None:
        raise LeaseLost(lease.domain, lease.epoch, None, "no lease row")
    if row.epoch != lease.epoch:
        raise LeaseLost(lease.domain, lease.epoch, row.epoch, f"epoch is now {row.epoch}")
    if row.holder != lease.holder:
        raise LeaseLost(lease.domain, lease.epoch, row.epoch, "released")
    if row.expires_at <= now:
        raise LeaseLost(lease.domain, lease.epoch, row.epoch, "expired")


def _lease(row: LeaseRow, ttl: float) -> Lease:
    assert row.holder is not None  # noqa: S101 - callers pass held rows
    return Lease(
        domain=row.domain,
        holder=row.holder,
        epoch=row.epoch,
        expires_at=row.expires_at,
        renewed_at=row.renewed_at,
        ttl=ttl,
    )
