"""Writing the event log from async code: never blocking the loop, never dying with the database.

The runtime publishes events faster than it may wait for a disk, and a call
must stay up when the database goes away. :func:`create_event_writer` runs
an :class:`EventWriter`: :meth:`EventWriter.append_nowait` only puts the event
in a bounded in-memory buffer; one background task writes the buffer in
batches in a worker thread. When a write fails the writer keeps the batch,
announces :class:`StoreDegraded`, retries with a capped exponential
:class:`Backoff`, and once the database answers again writes everything it
kept, in order, then announces :class:`StoreRecovered`.

The buffer is bounded (:data:`DEFAULT_WRITER_CAPACITY` events). When it is full, new
events are dropped and counted (:attr:`EventWriter.lost`), never the old ones:
what is buffered continues the log without a hole, so the log reads as an
unbroken prefix, then one gap whose size :class:`StoreRecovered` states right
where the gap is. Dropping the oldest instead would cut a hole in the middle of
the outage and could drop the :class:`StoreDegraded` marker itself.

An event that can never be stored is no outage: retried, it would stop the
log for ever. One the store's limits refuse (a payload that is not JSON, a
NaN, a NUL character, too large: :mod:`._limits`, the same on both
databases) is refused by :meth:`EventWriter.append_nowait` itself, on the
caller's thread, before it takes a place in the buffer. One the database
still refuses when written (a limit the checks do not know) fails its batch:
the batch is written again one event at a time and that event alone is
dropped. Either way it is logged at ERROR and counted as lost, and the events
around it are written in order.

A cluster leader's log is written through a
:class:`~callcenter_sdk.store.FencedStore` (every batch checks the lease's
epoch in its transaction). A refused fence is no outage either: the batch and
everything buffered after it belong to a term that is over, so none of it is
ever written. The writer drops them (counted as lost), calls its
``on_lease_lost`` callback (the runtime ends the elector's term) and stops;
:meth:`EventWriter.commit` raises :class:`~callcenter_sdk.store.LeaseLost`.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import ClassVar

import anyio
import anyio.to_thread
import attrs
from anyio.abc import TaskStatus

from .._clock import Clock, WallClock
from .._errors import StoreError, ValidationError
from .._events import Event, EventStream, Subscription
from ._errors import is_unwritable
from ._eventlog import EventLog, _Row, _to_row
from ._lease import LeaseLost

__all__ = [
    "DEFAULT_WRITER_CAPACITY",
    "Backoff",
    "EventWriter",
    "StoreDegraded",
    "StoreRecovered",
    "create_event_writer",
]

_log = logging.getLogger(__name__)

DEFAULT_WRITER_CAPACITY = 100_000
"""Events an :class:`EventWriter` keeps in memory at most.

About 0.5 to 1 KB each, so 50 to 100 MB when full: some ten thousand calls.
See the module documentation for what happens then.
"""

_POLL = 1.0  # seconds: how late an event appended from another thread may be picked up


@attrs.frozen(kw_only=True)
class StoreDegraded(Event):
    """Writing the event log started failing; events are kept in memory meanwhile.

    Attributes:
        error: The first error, as text.
        buffered: How many events were waiting to be written then.
    """

    kind: ClassVar[str] = "store.degraded"

    error: str
    buffered: int


@attrs.frozen(kw_only=True)
class StoreRecovered(Event):
    """The event log is written again, and so is everything kept during the outage.

    Attributes:
        down_for: Seconds from the first failed write to the first good one.
        written: Events written since the outage began (the backlog).
        lost: Events dropped since the outage began because the buffer was full;
            they are missing from the log right before this event.
        failures: Failed write attempts during the outage.
    """

    kind: ClassVar[str] = "store.recovered"

    down_for: float
    written: int
    lost: int = 0
    failures: int = 0


@attrs.frozen
class Backoff:
    """How long to wait before the next attempt while writes keep failing.

    After the n-th failure in a row the writer waits
    ``min(cap, first * factor ** (n - 1))`` seconds: 0.1, 0.2, 0.4, 0.8, 1.6,
    3.2, then 5 s for ever with the defaults. A blip (a failover, a restarted
    server) costs a fraction of a second; a database that stays down is asked
    once every 5 s, not hammered.

    Attributes:
        first: The wait after the first failure, in seconds (> 0).
        factor: How much each further failure multiplies it (>= 1).
        cap: The longest wait, in seconds (>= ``first``).
    """

    first: float = 0.1
    factor: float = 2.0
    cap: float = 5.0

    def __attrs_post_init__(self) -> None:
        if not self.first > 0:
            raise ValidationError(f"backoff first must be positive, got {self.first}")
        if not self.factor >= 1:
            raise ValidationError(f"backoff factor must be at least 1, got {self.factor}")
        if not self.cap >= self.first:
            raise ValidationError(f"backoff cap {self.cap} is below first {self.first}")

    def delay(self, failures: int) -> float:
        """Return the wait in seconds after ``failures`` failed attempts in a row (>= 1)."""
        delay = self.first
        for _ in range(max(failures, 1) - 1):
            if delay >= self.cap or self.factor == 1:
                break
            delay *= self.factor
        return min(delay, self.cap)


class EventWriter:
    """Writes events to an :class:`~callcenter_sdk.store.EventLog` in the background.

    Build it with :func:`create_event_writer`, which runs it for the duration
    of an ``async with`` block. Appending never blocks and never raises
    because of the database; batches are written in a worker thread, in
    order. See the module documentation for what happens during an outage.

    Attributes:
        capacity: Events kept in memory at most.
        batch_size: Events written per transaction at most.
        backoff: The waits between attempts while writes fail.
        close_timeout: Seconds :meth:`aclose` keeps trying by default.
        after_write: Called in the worker thread after each batch is written
            (what derives from the log, like the report's interval aggregates,
            catches up); its failure is logged and never stops the log.
        on_lease_lost: Called on the event loop when a batch's fence is refused
            (the log is a :class:`~callcenter_sdk.store.FencedStore`'s); the
            writer has stopped by then and written nothing of that batch.
    """

    def __init__(
        self,
        log: EventLog,
        *,
        events: EventStream | None = None,
        capacity: int = DEFAULT_WRITER_CAPACITY,
        batch_size: int = 500,
        backoff: Backoff | None = None,
        close_timeout: float = 10.0,
        clock: Clock | None = None,
        after_write: Callable[[], object] | None = None,
        on_lease_lost: Callable[[LeaseLost], object] | None = None,
    ) -> None:
        if capacity < 1:
            raise ValidationError(f"capacity must be at least 1, got {capacity}")
        if batch_size < 1:
            raise ValidationError(f"batch_size must be at least 1, got {batch_size}")
        self.capacity = capacity
        self.batch_size = batch_size
        self.backoff = backoff or Backoff()
        self.close_timeout = close_timeout
        self.after_write = after_write
        self.on_lease_lost = on_lease_lost
        self._fenced_out: LeaseLost | None = None
        self._log = log
        self._events = events
        self._clock: Clock = clock or WallClock()
        self._lock = threading.Lock()  # the buffer and the counters, for other threads
        self._buffer: deque[_Row] = deque()
        self._accepted = 0
        self._written = 0
        self._rejected = 0  # taken, then refused by the limits or the database
        self._reported = 0  # _rejected when flush() last answered for it
        self._suspects = 0  # rows to write one at a time, to find the refused one
        self._lost = 0
        self._closed = False
        self._unwritten = 0
        self._full_reported = False
        self._closed_reported = False
        # the outage, while there is one
        self._failures = 0  # in a row
        self._error: str | None = None
        self._down_since: float | None = None  # time.monotonic() of the first failure
        self._down_for = 0.0
        self._drain_target: int | None = None  # _accepted when the database came back
        self._outage_failures = 0
        self._outage_written = 0
        self._outage_lost = 0
        # the background task
        self._loop_thread: int | None = None
        self._closing = False
        self._wake = anyio.Event()
        self._progress = anyio.Event()
        self._stopped = anyio.Event()
        self._run_scope: anyio.CancelScope | None = None
        self._sleep_scope: anyio.CancelScope | None = None
        self._subscription: Subscription | None = None

    # -- what callers see ----------------------------------------------------------------------
    @property
    def buffered(self) -> int:
        """Events kept in memory, not written yet (never more than :attr:`capacity` + 2)."""
        return len(self._buffer)

    @property
    def written(self) -> int:
        """Events written since the writer started."""
        return self._written

    @property
    def lost(self) -> int:
        """Events that will never be written.

        Dropped on a full buffer, refused by the database (a NaN in a
        PostgreSQL JSON payload) or left unwritten at close.
        """
        return self._lost

    @property
    def degraded(self) -> bool:
        """Whether writing fails now, or the backlog of an outage is still being written."""
        return self._down_since is not None

    @property
    def error(self) -> str | None:
        """The last write error while :attr:`degraded`, else ``None``."""
        return self._error if self.degraded else None

    @property
    def fenced_out(self) -> LeaseLost | None:
        """The refusal that stopped the writer: its lease was lost (``None`` while it writes).

        .. versionadded:: 0.2
        """
        return self._fenced_out

    def append_nowait(self, event: Event) -> None:
        """Take ``event`` for writing; return at once.

        Never blocks and never raises because of the database or the event:
        when the buffer is full (or the writer closed) the event is counted in
        :attr:`lost` instead, with one ERROR log line per episode; an event
        the store's limits refuse (not JSON, a NaN, too large) is dropped at
        once, alone, counted in :attr:`lost` with one ERROR line, and the next
        :meth:`flush` returns ``False``. Safe from any thread; from the event
        loop's thread a write starts at once, from another one within a second.
        """
        try:
            row = _to_row(event)
        except ValidationError as exc:
            with self._lock:
                self._accepted += 1  # taken and settled at once, so flush() counts it
                self._rejected += 1
                self._lost += 1
            _log.error(
                "event log: dropped a %r event at %r that cannot be stored: %s",
                event.kind,
                event.at,
                exc,
            )
            return
        with self._lock:
            if self._closed:
                self._lose_locked()
                if not self._closed_reported:
                    self._closed_reported = True
                    _log.error("event log: the writer is closed; dropping events appended now")
                return
            if len(self._buffer) >= self.capacity and not isinstance(
                event,
                StoreDegraded | StoreRecovered,  # the markers of the gap itself
            ):
                self._lose_locked()
                if not self._full_reported:
                    self._full_reported = True
                    _log.error(
                        "event log: the buffer is full (%d events): dropping new events, "
                        "counted as lost, until the database catches up",
                        self.capacity,
                    )
                return
            self._buffer.append(row)
            self._accepted += 1
        if threading.get_ident() == self._loop_thread:
            self._wake.set()

    async def flush(self) -> bool:
        """Wait until every event appended before the call is written.

        Returns:
            ``True`` once they are all in the database; ``False`` at once if the
            writer is :attr:`degraded` or closed, or as soon as a write fails
            (the events stay buffered and are written when the database is
            back), or if an event was refused (by the limits or the database)
            since the last flush that got this far: each refusal makes one
            flush return ``False``.
        """
        target = self._accepted
        while self._written + self._rejected < target:
            if self.degraded or self._closed:
                return False
            progress = self._progress
            self._wake.set()
            await progress.wait()
        reported, self._reported = self._reported, self._rejected
        return self._rejected == reported

    async def commit(self) -> None:
        """Wait until every event appended before the call is committed, through an outage.

        Unlike :meth:`flush` it does not give up while the database fails: it
        waits for the writer's retries. A cluster leader awaits it before it
        rings a phone, so the decision is in the log, under the fence of its
        term, before anyone sees it (bound the wait with the term's cancel
        scope). An event the store refuses for good does not stop it.

        .. versionadded:: 0.2

        Raises:
            LeaseLost: The fence refused a batch: the term is over and none of
                these events will ever be written.
            StoreError: The writer is closed and they were not written.
        """
        target = self._accepted
        while True:
            if self._fenced_out is not None:
                raise self._fenced_out
            if self._written + self._rejected >= target:
                return
            if self._closed:
                raise StoreError("the event log's writer is closed: events not written")
            progress = self._progress
            self._wake.set()
            await progress.wait()

    async def aclose(self) -> int:
        """Write what is buffered, trying for at most :attr:`close_timeout` seconds, then stop.

        A write already running is waited for, never abandoned (abandoned, it
        could still commit and its events would be written twice), so the
        bound is :attr:`close_timeout` plus one attempt (a PostgreSQL
        connection gives up after its ``connect_timeout``, 5 s unless the URL
        sets one: see :func:`~callcenter_sdk.store.create_engine`). Cancelling
        the caller does not cut this short (it is shielded). Idempotent.

        Returns:
            How many events could not be written (also added to :attr:`lost`
            and logged at ERROR).
        """
        if self._run_scope is None:  # never started
            return self._close_buffer()
        if not self._stopped.is_set():
            self._closing = True
            self._wake.set()
            if self._sleep_scope is not None:
                self._sleep_scope.cancel()  # retry now rather than after the backoff
            with anyio.CancelScope(shield=True):
                with anyio.move_on_after(self.close_timeout):
                    await self._stopped.wait()
                self._run_scope.cancel()
                await self._stopped.wait()
        return self._unwritten

    # -- the background task -------------------------------------------------------------------
    async def _run(self, *, task_status: TaskStatus[None]) -> None:
        # Shielded: cancelling the caller's task group must not skip the final drain;
        # only aclose() (always called by create_event_writer) ends this task.
        with anyio.CancelScope(shield=True) as scope:
            self._run_scope = scope
            self._loop_thread = threading.get_ident()
            if self._events is not None:
                self._subscription = self._events.subscribe(
                    lambda _seq, event: self.append_nowait(event)
                )
            task_status.started()
            try:
                await self._loop()
            finally:
                if self._subscription is not None:
                    self._subscription.cancel()
                self._close_buffer()
                self._stopped.set()

    async def _loop(self) -> None:
        while True:
            if not self._buffer:
                if self._closing:
                    return
                self._wake = anyio.Event()
                with anyio.move_on_after(_POLL):
                    await self._wake.wait()
                continue
            if self._fenced_out is not None:
                return
            if not await self._write_batch():
                with anyio.CancelScope() as self._sleep_scope:
                    await anyio.sleep(self.backoff.delay(self._failures))
                self._sleep_scope = None

    async def _write_batch(self) -> bool:
        with self._lock:
            rows = list(itertools.islice(self._buffer, 1 if self._suspects else self.batch_size))
        try:
            await anyio.to_thread.run_sync(self._log._write, rows)
        except LeaseLost as exc:  # not an outage: this term is over, its events never written
            self._lease_lost(exc)
            return True
        except Exception as exc:  # noqa: BLE001 - whatever failed, the events wait for a retry
            if not _unwritable(exc):
                self._failed(exc)
                return False
            # Not an outage: a row the database will never take (a retry would fail
            # for ever). Write the batch again one row at a time and drop that row.
            if len(rows) > 1:
                self._suspects = len(rows)
            else:
                self._reject(rows[0], exc)
            return True
        self._settle(len(rows))
        self._written += len(rows)
        self._succeeded(len(rows))
        if self.after_write is not None:
            await anyio.to_thread.run_sync(self._after_write)
        return True

    def _lease_lost(self, exc: LeaseLost) -> None:
        self._fenced_out = exc
        self._error = str(exc)  # what _close_buffer's line says
        left = self._close_buffer()
        _log.warning(
            "event log: the fence refused a batch (%s); %d events of this term are not "
            "written, and the writer stops",
            exc,
            left,
        )
        if self.on_lease_lost is not None:
            self.on_lease_lost(exc)

    def _after_write(self) -> None:
        try:
            if self.after_write is not None:
                self.after_write()
        except Exception:  # noqa: BLE001 - the log is written; what derives from it catches up later
            _log.warning("event log: after_write failed", exc_info=True)

    def _settle(self, count: int) -> None:
        with self._lock:
            for _ in range(count):
                self._buffer.popleft()
            if not self._buffer:
                self._full_reported = False
        self._suspects = max(self._suspects - count, 0)

    def _reject(self, row: _Row, exc: Exception) -> None:
        self._settle(1)
        with self._lock:  # append_nowait counts refusals too, maybe from another thread
            self._rejected += 1
            self._lost += 1
        _log.error(
            "event log: dropped a %r event at %r that the database refuses: %s",
            row.kind,
            row.at,
            exc,
        )
        self._succeeded(0)  # the database answered: it is up

    def _failed(self, exc: Exception) -> None:
        self._failures += 1
        self._error = str(exc) or type(exc).__name__
        self._drain_target = None  # the backlog is counted again from the next good write
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._outage_failures = 1
            self._outage_written = 0
            self._outage_lost = 0
            _log.warning(
                "event log: writing to the %s database failed; keeping up to %d events in "
                "memory (%d now) and retrying every %g to %g s until it works: %s",
                self._log.store.dialect,
                self.capacity,
                len(self._buffer),
                self.backoff.first,
                self.backoff.cap,
                self._error,
                exc_info=not isinstance(exc, StoreError),  # anything else is a bug: show where
            )
            self._publish(
                StoreDegraded(at=self._clock.now(), error=self._error, buffered=len(self._buffer))
            )
        else:
            self._outage_failures += 1
            _log.debug("event log: attempt %d failed: %s", self._failures, self._error)
        self._notify_progress()

    def _succeeded(self, count: int) -> None:
        self._failures = 0
        if self._down_since is not None:
            self._outage_written += count
            if self._drain_target is None:
                self._down_for = time.monotonic() - self._down_since
                self._drain_target = self._accepted
            if self._written + self._rejected >= self._drain_target:
                recovered = StoreRecovered(
                    at=self._clock.now(),
                    down_for=self._down_for,
                    written=self._outage_written,
                    lost=self._outage_lost,
                    failures=self._outage_failures,
                )
                self._down_since = self._drain_target = self._error = None
                _log.info(
                    "event log: the database is back after %.1f s (%d failed attempts); "
                    "wrote the %d events kept meanwhile, %d lost",
                    recovered.down_for,
                    recovered.failures,
                    recovered.written,
                    recovered.lost,
                )
                self._publish(recovered)
        self._notify_progress()

    def _publish(self, event: Event) -> None:
        # Onto the stream the writer consumes (so it only lands in the buffer), or straight in.
        if self._events is not None and self._subscription is not None:
            self._events.publish(event)
        else:
            self.append_nowait(event)

    def _notify_progress(self) -> None:
        self._progress.set()
        self._progress = anyio.Event()

    def _lose_locked(self) -> None:
        self._lost += 1
        self._outage_lost += 1

    def _close_buffer(self) -> int:
        with self._lock:
            self._closed = True
            left = len(self._buffer)
            self._buffer.clear()
            self._lost += left
        self._unwritten += left
        if left:
            _log.error(
                "event log: closed with %d events not written (%s)",
                left,
                self._error or "no time left to write them",
            )
        self._notify_progress()
        return left


def _unwritable(exc: Exception) -> bool:
    # psycopg raises its JSON encoder's TypeError (or ValueError) as is, not wrapped
    if isinstance(exc, StoreError):
        return is_unwritable(exc)
    return isinstance(exc, TypeError | ValueError)


@contextlib.asynccontextmanager
async def create_event_writer(
    log: EventLog,
    *,
    events: EventStream | None = None,
    capacity: int = DEFAULT_WRITER_CAPACITY,
    batch_size: int = 500,
    backoff: Backoff | None = None,
    close_timeout: float = 10.0,
    clock: Clock | None = None,
    after_write: Callable[[], object] | None = None,
    on_lease_lost: Callable[[LeaseLost], object] | None = None,
) -> AsyncIterator[EventWriter]:
    """Run an :class:`EventWriter` for the duration of the block.

    On leaving the block (normally, by an exception or by cancellation) the
    writer writes what is still buffered, trying for at most
    ``close_timeout`` seconds, and logs what it could not write::

        async with create_event_writer(EventLog(store), events=stream) as writer:
            ...  # everything published on stream is logged; writer.append_nowait(e) too

    Args:
        log: The event log to write (its own buffer is bypassed).
        events: A stream to log: the writer subscribes to it while it runs, and
            publishes :class:`StoreDegraded` and :class:`StoreRecovered` on it
            (without a stream they go straight into the writer's buffer).
        capacity: Events kept in memory at most (:data:`DEFAULT_WRITER_CAPACITY`).
            When full, new events are dropped and counted in
            :attr:`EventWriter.lost`.
        batch_size: Events per transaction at most. Batches are otherwise
            whatever arrived during the previous write, so they grow with the load.
        backoff: Waits between attempts while writes fail (0.1 s doubling to 5 s).
        close_timeout: Seconds to keep trying to write the rest when closing.
        clock: The time source for the events' ``at`` (the wall clock by default).
        after_write: Called in a worker thread after each batch is written,
            e.g. ``IntervalAggregator.catch_up`` (see :class:`EventWriter`).
        on_lease_lost: Called when the log's fence refuses a batch (a cluster
            leader's log; see :class:`EventWriter`), e.g. to end the term.
    """
    writer = EventWriter(
        log,
        events=events,
        capacity=capacity,
        batch_size=batch_size,
        backoff=backoff,
        close_timeout=close_timeout,
        clock=clock,
        after_write=after_write,
        on_lease_lost=on_lease_lost,
    )
    async with anyio.create_task_group() as tg:
        await tg.start(writer._run)
        try:
            yield writer
        finally:
            with anyio.CancelScope(shield=True):
                await writer.aclose()
