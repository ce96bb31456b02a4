"""Leader election for a cluster node: keep the lease of a routing domain, or wait for it.

An :class:`Elector` runs as one anyio task per routing domain. It tries to
take the domain's lease (:class:`~callcenter_sdk.store.Leases`) every
``ttl / 3``; once it holds it, it renews it every ``ttl / 3``. It steps down
**at once** when a renewal is refused (another node took the lease) or when
it could not renew in time: a node never acts past the moment its lease may
have expired, which it measures on its own monotonic clock from the start of
its last successful renewal, less a safety margin — the database's clock
decides expiry, and the node's clock only has to run at the same rate for
``ttl`` seconds, never to agree with the database's.

The database's check is the last word: a node that stalled (SIGSTOP, a long
pause) wakes up thinking nothing happened, so every write it makes as leader
passes :meth:`~callcenter_sdk.store.Leases.check_fence` in its transaction
and a deposed leader's commit is refused. The elector only makes that rare.

Work that may only run while leading goes in :meth:`Elector.lead`: it runs
once per term inside a cancel scope cancelled the moment leadership is lost
(and whose deadline is the safe end of the lease, so a stalled node's work
is cancelled as soon as its event loop runs again).

.. versionadded:: 0.2
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread
from anyio.abc import TaskStatus

from .._errors import CallCenterError, ConfigError, StoreError
from ..store import FencedStore, Lease, LeaseLost, Leases

__all__ = ["Elector"]

_log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_TTL = 5.0
"""Seconds a lease lasts without renewal: the longest a domain waits for a dead leader."""


class Elector:
    """Keeps this node's lease of one routing domain, or waits to take it.

    Run :meth:`run` in a task group (``await tg.start(elector.run)``). Read
    :attr:`is_leader` and :attr:`epoch` at any time (also from threads);
    await :meth:`wait_leader` for the next term; pass ``on_gained`` and
    ``on_lost`` to hear of changes, or run work under :meth:`lead`.

    Args:
        leases: The leases of the database the nodes share.
        domain: The routing domain led.
        node: This node's id, unique per running process.
        ttl: Seconds the lease lasts without renewal. Renewals come every
            ``ttl / 3``.
        margin: Seconds before the lease's possible expiry at which the node
            stops acting (default ``ttl / 10``): room for its clock to run
            slower than the database's. Less than ``ttl * 2 / 3``.
        on_gained: Called on the event loop with the lease when a term starts.
        on_lost: Called on the event loop with the lease and a reason, in
            words, when a term ends.

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        leases: Leases,
        domain: str,
        node: str,
        *,
        ttl: float = DEFAULT_TTL,
        margin: float | None = None,
        on_gained: Callable[[Lease], None] | None = None,
        on_lost: Callable[[Lease, str], None] | None = None,
    ) -> None:
        ttl = _seconds("ttl", ttl, "a positive number of seconds")
        if ttl <= 0:
            raise ConfigError("<python>", ("ttl",), "a positive number of seconds", ttl)
        within = "0 <= margin < ttl * 2 / 3"
        margin = _seconds("margin", ttl / 10 if margin is None else margin, within)
        if not 0 <= margin < ttl * 2 / 3:
            raise ConfigError("<python>", ("margin",), within, margin)
        self._leases = leases
        self._domain = domain
        self._node = node
        self._ttl = float(ttl)
        self._margin = float(margin)
        self._period = self._ttl / 3
        self._on_gained = on_gained
        self._on_lost = on_lost
        self._lease: Lease | None = None
        self._stale: Lease | None = None  # stepped down from while the database was unreachable
        self._deadline = 0.0  # time.monotonic() past which this node must not act as leader
        self._next = 0.0  # time.monotonic() of the next renewal or attempt
        self._gained = anyio.Event()
        self._ended = anyio.Event()
        self._scopes: set[anyio.CancelScope] = set()

    @property
    def domain(self) -> str:
        """The routing domain."""
        return self._domain

    @property
    def node(self) -> str:
        """This node's id."""
        return self._node

    @property
    def ttl(self) -> float:
        """Seconds each grant or renewal of the lease lasts."""
        return self._ttl

    @property
    def is_leader(self) -> bool:
        """Whether this node holds the lease and is inside its safe time.

        Computed on each read from the monotonic clock, so it turns false at
        the safe deadline even if the elector's task has not run since (the
        process was stopped, the loop was blocked).
        """
        return self._lease is not None and time.monotonic() < self._deadline

    @property
    def epoch(self) -> int | None:
        """The fencing epoch of the current term, or ``None`` when not leading."""
        return self._lease.epoch if self.is_leader and self._lease is not None else None

    @property
    def lease(self) -> Lease | None:
        """The lease of the current term, for fenced writes, or ``None`` when not leading."""
        return self._lease if self.is_leader else None

    def fenced(self) -> FencedStore:
        """The leases' store, every write transaction fenced by this elector's current lease.

        A write through it commits only while this node leads and its epoch
        is the database's: ``open_call_center(..., elector=...)`` writes the
        center's promises through it.
        """
        return self._leases.fenced(self._domain, lambda: self.lease)

    @property
    def gained(self) -> anyio.Event:
        """Set when this node becomes leader; a new, unset event after each step-down."""
        return self._gained

    async def wait_leader(self) -> Lease:
        """Wait until this node leads, and return the lease of that term."""
        while True:
            await self._gained.wait()
            lease = self.lease
            if lease is not None:
                return lease
            await self._ended.wait()  # past its safe end: the step-down is due now

    async def lead(self, work: Callable[[Lease], Awaitable[None]]) -> None:
        """Run ``work(lease)`` once in each term this node leads, never outside one.

        Each run is inside a cancel scope cancelled when the term ends (a
        refused or late renewal, the elector stopping), and whose deadline
        follows the lease's safe end. Runs until cancelled. Errors of
        ``work`` propagate.
        """
        while True:
            lease = await self.wait_leader()
            ended = self._ended
            with anyio.CancelScope() as scope:
                self._scopes.add(scope)
                self._set_deadline(scope)
                try:
                    await work(lease)
                finally:
                    self._scopes.discard(scope)
            await ended.wait()  # work done early: the next run is for the next term

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Take and keep the lease until cancelled; then release it if held.

        Database failures are logged and retried: a leader steps down when it
        can no longer renew in time, a follower keeps trying.
        """
        task_status.started()
        try:
            while True:
                await anyio.sleep(max(self._next - time.monotonic(), 0.0))
                if self._lease is None:
                    await self._try_acquire()
                else:
                    await self._renew(self._lease)
        finally:
            with anyio.CancelScope(shield=True):
                await self._resign()

    def step_down(self, reason: str) -> None:
        """End the current term now: a fenced write of this node was refused.

        The fence already proved that the term is over (another node holds
        the lease, or it expired); this makes the elector agree at once
        rather than at its next renewal: :attr:`is_leader` turns false, the
        scopes of :meth:`lead` are cancelled and ``on_lost`` is called. The
        node takes the lease again only at a new epoch. Does nothing when it
        does not lead.

        .. versionadded:: 0.2
        """
        if self._lease is not None:
            self._step_down(self._lease, reason, stale=True)

    async def _try_acquire(self) -> None:
        self._next = time.monotonic() + self._period
        try:
            if self._stale is not None:
                # Never resume a term this node gave up: free it, so taking it is a new epoch.
                await self._call(self._leases.release, self._stale)
                self._stale = None
            started = time.monotonic()
            lease = await self._call(self._leases.acquire, self._domain, self._node, self._ttl)
        except StoreError as exc:
            _log.warning("cannot take the lease of %s: %s", self._domain, exc)
            return
        if lease is None:
            return
        if time.monotonic() >= started + self._ttl - self._margin:  # granted too late to use
            self._stale = lease
            self._next = time.monotonic()
            return
        self._lease = lease
        self._deadline = started + self._ttl - self._margin
        self._next = started + self._period
        self._ended = anyio.Event()
        _log.info("%s leads %s at epoch %d", self._node, self._domain, lease.epoch)
        for scope in self._scopes:
            self._set_deadline(scope)
        if self._on_gained is not None:
            self._on_gained(lease)
        self._gained.set()

    async def _renew(self, lease: Lease) -> None:
        started = time.monotonic()
        if started >= self._deadline:
            self._step_down(lease, "the lease may have expired (no renewal in time)", stale=True)
            return
        renewed: Lease | None = None
        with anyio.move_on_after(self._deadline - started):
            try:
                renewed = await self._call(self._leases.renew, lease)
            except LeaseLost as exc:
                self._step_down(lease, str(exc), stale=False)
                return
            except StoreError as exc:
                _log.warning("cannot renew the lease of %s: %s", self._domain, exc)
                self._next = min(time.monotonic() + self._period / 4, self._deadline)
                return
        if renewed is None:
            self._step_down(lease, "could not renew before the lease may expire", stale=True)
            return
        self._lease = renewed
        self._deadline = started + self._ttl - self._margin
        self._next = started + self._period
        for scope in self._scopes:
            self._set_deadline(scope)

    def _step_down(self, lease: Lease, reason: str, *, stale: bool) -> None:
        self._lease = None
        self._stale = lease if stale else None
        self._deadline = 0.0
        self._next = time.monotonic()
        self._gained = anyio.Event()
        self._ended.set()
        for scope in self._scopes:
            scope.cancel()
        _log.warning(
            "%s steps down from %s epoch %d: %s", self._node, self._domain, lease.epoch, reason
        )
        if self._on_lost is not None:
            self._on_lost(lease, reason)

    async def _resign(self) -> None:
        lease = self._lease
        if lease is None:
            return
        self._step_down(lease, "the elector stopped", stale=False)
        with anyio.move_on_after(self._period):
            try:
                await self._call(self._leases.release, lease)
            except CallCenterError as exc:
                _log.warning("cannot release the lease of %s: %s", self._domain, exc)

    def _set_deadline(self, scope: anyio.CancelScope) -> None:
        # The scope's deadline is on anyio's clock; ours is time.monotonic().
        scope.deadline = anyio.current_time() + (self._deadline - time.monotonic())

    async def _call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a store call in a worker thread; a cancelled caller does not wait for it."""
        return await anyio.to_thread.run_sync(
            lambda: function(*args, **kwargs), abandon_on_cancel=True
        )


def _seconds(field: str, value: object, expected: str) -> float:
    """``value`` as a finite float, or a :class:`ConfigError` naming ``field``."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError("<python>", (field,), expected, value) from None
    if not math.isfinite(seconds):
        raise ConfigError("<python>", (field,), expected, value)
    return seconds
