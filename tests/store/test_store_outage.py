"""A database outage degrades, never kills: the background event writer.

The writer keeps events in a bounded buffer while the database fails, says so
once (``StoreDegraded``), retries with a capped backoff and, when the database
is back, writes everything it kept, in order, exactly once (``StoreRecovered``).
"""

from __future__ import annotations

import errno
import logging
import math
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import anyio
import anyio.to_thread
import attrs
import pytest
import sqlalchemy.exc
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import Event, EventStream, StoreError, ValidationError
from callcenter_sdk.store import (
    Backoff,
    EventLog,
    Store,
    StoreDegraded,
    StoreRecovered,
    create_engine,
    create_event_writer,
    create_store,
    temporary_store,
)
from callcenter_sdk.store._engine import CONNECT_TIMEOUT
from callcenter_sdk.store._eventlog import _Row

FAST = Backoff(first=0.01, factor=2.0, cap=0.2)
"""Retries quick enough for tests; the schedule itself is tested on its own."""

LIMIT = 600
"""A bound for a hang only: each test's whole outage, so a hang fails the test instead of the
run. Never a measure of speed: with both cores busy, dropping, creating and migrating a
PostgreSQL database took the 60 s this once was (a whole-suite run, 2026-12-06)."""


@attrs.frozen(kw_only=True)
class Numbered(Event):
    """A test event carrying its position, and some text to take disk space."""

    kind: ClassVar[str] = "test.outage_numbered"

    n: int
    text: str = ""


class Watch:
    """Subscribes to a stream and turns the writer's announcements into anyio events."""

    def __init__(self, stream: EventStream) -> None:
        self.degraded = anyio.Event()
        self.recovered = anyio.Event()
        self.recoveries: list[StoreRecovered] = []
        stream.subscribe(self._on_event)

    def _on_event(self, _seq: int, event: Event) -> None:
        if isinstance(event, StoreDegraded):
            self.degraded.set()
        elif isinstance(event, StoreRecovered):
            self.recoveries.append(event)
            self.recovered.set()


def _logged(log: EventLog) -> list[Event]:
    return [logged.event for logged in log.read()]


def _break_events_table(store: Store) -> None:
    store.close()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE events RENAME TO events_gone")


def _repair_events_table(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE events_gone RENAME TO events")


# -- PostgreSQL: the database is dropped and recreated -----------------------------------------


@pytest.mark.postgresql
async def test_postgresql_dropped_then_recreated_loses_nothing(
    private_postgresql: str, postgresql_admin: Callable[[str, str], None]
) -> None:
    """With the database dropped (its pooled connections killed), appends still return at
    once and the writer announces StoreDegraded; once the database is recreated and
    migrated, the next retry succeeds through the pool (pre-ping replaces the dead
    connections), StoreRecovered is announced, and the new database holds every event
    published since the drop, the writer's own included, exactly once and in order."""
    store = create_store(private_postgresql)
    try:
        stream = EventStream(keep=True)
        watch = Watch(stream)
        log = EventLog(store, durable=False)
        with anyio.fail_after(LIMIT):
            async with create_event_writer(log, events=stream, backoff=FAST) as writer:
                for n in range(20):
                    stream.publish(Numbered(at=float(n), n=n))
                assert await writer.flush()

                await anyio.to_thread.run_sync(
                    postgresql_admin, private_postgresql, 'DROP DATABASE "{name}" WITH (FORCE)'
                )
                for n in range(20, 30):
                    stream.publish(Numbered(at=float(n), n=n))
                assert not await writer.flush()
                await watch.degraded.wait()
                for n in range(30, 530):  # while it is gone: appends return, nothing raises
                    stream.publish(Numbered(at=float(n), n=n))
                assert writer.degraded
                assert writer.buffered >= 500
                assert writer.lost == 0

                await anyio.to_thread.run_sync(
                    postgresql_admin, private_postgresql, 'CREATE DATABASE "{name}"'
                )
                await anyio.to_thread.run_sync(store.upgrade)
                await watch.recovered.wait()
                assert await writer.flush()
                assert writer.error is None  # not degraded any more
        [recovered] = watch.recoveries
        assert recovered.written >= 511  # the 510 kept events and the StoreDegraded marker
        assert recovered.lost == 0
        assert recovered.failures >= 1
        # the first 20 went with the dropped database; everything after the drop is there
        assert _logged(log) == stream.history()[20:]
        assert [e.n for e in stream.history(Numbered)] == list(range(530))
    finally:
        store.close()


# -- SQLite: the disk is full ------------------------------------------------------------------


def _fill(path: Path) -> None:
    """Write ``path`` until the disk has not a byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (1 << 16, 4096, 1):
            chunk = b"\0" * size
            try:
                while True:
                    os.write(fd, chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)


async def test_sqlite_on_a_full_disk_writes_everything_once_space_is_freed(
    small_disk: Path,
) -> None:
    """When SQLite reports a full disk (SQLITE_FULL) the writer degrades and keeps the
    events; after the filler file is deleted, the next retry succeeds and every event
    lands, in order, exactly once."""
    store = create_store(f"sqlite:///{small_disk / 'store.sqlite3'}")
    filler = small_disk / "filler"
    try:
        stream = EventStream(keep=True)
        watch = Watch(stream)
        log = EventLog(store, durable=False)
        with anyio.fail_after(LIMIT):
            async with create_event_writer(log, events=stream, backoff=FAST) as writer:
                for n in range(10):
                    stream.publish(Numbered(at=float(n), n=n))
                assert await writer.flush()

                await anyio.to_thread.run_sync(_fill, filler)
                n = 10
                while not writer.degraded:  # until the WAL needs a page the disk lacks
                    stream.publish(Numbered(at=float(n), n=n, text="x" * 8000))
                    n += 1
                    await writer.flush()
                    assert n < 10_000, "the full disk never made a write fail"
                await watch.degraded.wait()
                assert writer.error is not None
                assert "full" in writer.error
                for m in range(n, n + 50):
                    stream.publish(Numbered(at=float(m), n=m))
                assert writer.degraded

                filler.unlink()
                await watch.recovered.wait()
                assert await writer.flush()
        assert writer.lost == 0
        assert _logged(log) == stream.history()
        assert [e.n for e in stream.history(Numbered)] == list(range(n + 50))
    finally:
        store.close()


# -- the bound ---------------------------------------------------------------------------------


async def test_a_full_buffer_drops_new_events_counts_them_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With the database down and capacity N, the buffer never holds more than N events:
    later events are dropped (the kept ones continue the log without a hole), counted in
    ``lost`` and in StoreRecovered, and logged by one ERROR line, not one per event."""
    with temporary_store() as store:
        stream = EventStream(keep=True)
        watch = Watch(stream)
        log = EventLog(store, durable=False)
        with anyio.fail_after(LIMIT):
            async with create_event_writer(log, events=stream, capacity=50, backoff=FAST) as writer:
                await anyio.to_thread.run_sync(_break_events_table, store)
                stream.publish(Numbered(at=0.0, n=0))
                assert not await writer.flush()
                assert writer.buffered == 2  # the event and the StoreDegraded marker
                with caplog.at_level(logging.ERROR, logger="callcenter_sdk.store"):
                    for n in range(1, 1001):
                        stream.publish(Numbered(at=float(n), n=n))
                        assert writer.buffered <= 50
                assert writer.buffered == 50
                assert writer.lost == 1000 - 48
                errors = [r for r in caplog.records if r.levelno == logging.ERROR]
                assert len(errors) == 1
                assert "buffer is full (50 events)" in errors[0].getMessage()

                await anyio.to_thread.run_sync(_repair_events_table, store)
                await watch.recovered.wait()
                assert await writer.flush()
        [recovered] = watch.recoveries
        assert recovered.lost == 952
        assert recovered.written == 50
        assert _logged(log) == [*stream.history()[:50], recovered]


async def test_closing_during_an_outage_is_bounded_and_reports_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Leaving the writer's block while the database is down tries for close_timeout
    seconds, then gives up: what was not written is returned by aclose, counted as lost
    and logged at ERROR; appending afterwards is counted too, never raised."""
    with temporary_store() as store:
        stream = EventStream()
        log = EventLog(store, durable=False)
        with anyio.fail_after(LIMIT), caplog.at_level(logging.INFO, "callcenter_sdk.store"):
            async with create_event_writer(
                log, events=stream, backoff=FAST, close_timeout=0.3
            ) as writer:
                await anyio.to_thread.run_sync(_break_events_table, store)
                for n in range(10):
                    stream.publish(Numbered(at=float(n), n=n))
                assert not await writer.flush()
            assert await writer.aclose() == 11  # the ten and StoreDegraded; idempotent
            assert writer.lost == 11
            writer.append_nowait(Numbered(at=99.0, n=99))
            assert writer.lost == 12
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1  # one line for the outage, not one per retry
        assert "retrying every 0.01 to 0.2 s" in warnings[0].getMessage()
        assert any("closed with 11 events not written" in r.getMessage() for r in caplog.records)
        await anyio.to_thread.run_sync(_repair_events_table, store)
        assert _logged(log) == []


async def test_cancelling_the_caller_still_writes_what_was_buffered() -> None:
    """Cancellation of the surrounding scope (an application shutting down) does not
    skip the final write: the close is shielded."""
    with temporary_store() as store:
        stream = EventStream()
        log = EventLog(store, durable=False)
        with anyio.fail_after(LIMIT), anyio.CancelScope() as scope:
            async with create_event_writer(log, events=stream) as writer:
                for n in range(100):
                    stream.publish(Numbered(at=float(n), n=n))
                scope.cancel()
                await anyio.sleep_forever()
        assert writer.lost == 0
        assert _logged(log) == [Numbered(at=float(n), n=n) for n in range(100)]


async def test_appends_from_another_thread_are_written_in_order() -> None:
    """append_nowait is safe from a worker thread; flush waits until those events are in."""
    with temporary_store() as store:
        log = EventLog(store, durable=False)
        with anyio.fail_after(LIMIT):
            async with create_event_writer(log, batch_size=7) as writer:

                def publish_many() -> None:
                    for n in range(100):
                        writer.append_nowait(Numbered(at=float(n), n=n))

                await anyio.to_thread.run_sync(publish_many)
                assert await writer.flush()
                assert writer.written == 100
        assert _logged(log) == [Numbered(at=float(n), n=n) for n in range(100)]


@attrs.frozen(kw_only=True)
class Odd(Event):
    """A test event whose payload some databases refuse (it is no outage)."""

    kind: ClassVar[str] = "test.outage_odd"

    value: object


async def test_an_event_the_limits_refuse_is_dropped_at_once_and_never_blocks_the_log(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """An event no database can take (a payload that is not JSON) is refused by
    append_nowait itself, on both databases alike: it never enters the buffer, is
    dropped with one ERROR line and counted lost, nothing raises into the publisher,
    the events around it are written in order, flush says once that not everything
    landed, and the writer never degrades."""
    stream = EventStream()
    watch = Watch(stream)
    log = EventLog(store, durable=False)
    good = [Numbered(at=float(n), n=n) for n in range(20)]
    with anyio.fail_after(LIMIT), caplog.at_level(logging.WARNING, "callcenter_sdk"):
        async with create_event_writer(log, events=stream, backoff=FAST) as writer:
            for event in good[:10]:
                stream.publish(event)
            stream.publish(Odd(at=10.5, value=object()))
            assert writer.lost == 1  # at once, before any write
            for event in good[10:]:
                stream.publish(event)
            assert not await writer.flush()
            assert await writer.flush()  # nothing refused since the last flush
    assert _logged(log) == good
    assert writer.lost == 1
    assert not watch.degraded.is_set()
    [error] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert error.name == "callcenter_sdk.store._writer"  # not a failed subscriber
    assert "dropped a 'test.outage_odd' event" in error.getMessage()
    assert "not JSON data" in error.getMessage()


async def test_a_nan_is_refused_alone_during_an_outage_too(store: Store) -> None:
    """A NaN (PostgreSQL's JSON refuses it, SQLite would turn it into null) is refused
    at append while the database is down as well: that event alone is dropped, the
    backlog around it is written in order once the database is back, and the writer
    recovers."""
    stream = EventStream()
    watch = Watch(stream)
    log = EventLog(store, durable=False)
    with anyio.fail_after(LIMIT):
        async with create_event_writer(log, events=stream, backoff=FAST) as writer:
            await anyio.to_thread.run_sync(_break_events_table, store)
            stream.publish(Numbered(at=0.0, n=0))
            assert not await writer.flush()
            stream.publish(Odd(at=0.5, value=math.nan))
            stream.publish(Numbered(at=1.0, n=1))
            assert writer.degraded
            await anyio.to_thread.run_sync(_repair_events_table, store)
            await watch.recovered.wait()
            assert not await writer.flush()  # the NaN was refused since the last flush
    [recovered] = watch.recoveries
    events = _logged(log)
    assert [e for e in events if isinstance(e, Numbered)] == [
        Numbered(at=0.0, n=0),
        Numbered(at=1.0, n=1),
    ]
    assert not [e for e in events if isinstance(e, Odd)]
    assert recovered.written == 3  # the two and the StoreDegraded marker
    assert writer.lost == 1


class PickyLog(EventLog):
    """An event log whose database refuses (with a DataError) every ``test.outage_odd``
    row: a limit the checks before SQL do not know."""

    def _write(self, rows: Sequence[_Row]) -> None:
        if any(row.kind == Odd.kind for row in rows):
            try:
                raise sqlalchemy.exc.DataError("INSERT INTO events", {}, ValueError("refused"))
            except sqlalchemy.exc.DataError as exc:
                raise StoreError(f"append {len(rows)} events: {exc}") from exc
        super()._write(rows)


async def test_an_event_the_database_refuses_is_dropped_not_retried_for_ever(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An event the checks let through but the database refuses for good fails its
    batch every time: it is no outage. The writer finds it by writing that batch one
    event at a time, drops it with one ERROR line and counts it lost; the others are
    written in order, flush says not everything landed, and the writer never degrades."""
    with temporary_store() as store:
        stream = EventStream()
        watch = Watch(stream)
        log = PickyLog(store, durable=False)
        good = [Numbered(at=float(n), n=n) for n in range(20)]
        with anyio.fail_after(LIMIT), caplog.at_level(logging.WARNING, "callcenter_sdk"):
            async with create_event_writer(log, events=stream, backoff=FAST) as writer:
                for event in good[:10]:
                    stream.publish(event)
                stream.publish(Odd(at=10.5, value="fine for the limits"))
                for event in good[10:]:
                    stream.publish(event)
                assert not await writer.flush()
                assert await writer.flush()  # nothing refused since the last flush
        assert _logged(log) == good
        assert writer.lost == 1
        assert not watch.degraded.is_set()
        [error] = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert "dropped a 'test.outage_odd' event" in error.getMessage()
        assert "the database refuses" in error.getMessage()


# -- the backoff schedule ----------------------------------------------------------------------


def test_default_backoff_doubles_from_a_tenth_of_a_second_to_five() -> None:
    """The documented schedule: 0.1 s doubling, capped at 5 s."""
    backoff = Backoff()
    assert [backoff.delay(n) for n in range(1, 10)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0]
    )


@given(
    first=st.floats(min_value=1e-3, max_value=10),
    factor=st.floats(min_value=1, max_value=100),
    extra=st.floats(min_value=0, max_value=1000),
    failures=st.integers(min_value=1, max_value=10_000),
)
def test_backoff_grows_geometrically_never_shrinks_and_stays_capped(
    first: float, factor: float, extra: float, failures: int
) -> None:
    """Any schedule starts at ``first``, never decreases, never exceeds ``cap`` and is
    ``first * factor ** (n - 1)`` until it reaches the cap (no overflow however long)."""
    backoff = Backoff(first=first, factor=factor, cap=first + extra)
    assert backoff.delay(1) == first
    now, later = backoff.delay(failures), backoff.delay(failures + 1)
    assert first <= now <= later <= backoff.cap
    exponent = failures - 1
    below_cap = exponent * math.log(factor) < math.log(backoff.cap / first)
    expected = first * factor**exponent if below_cap else backoff.cap
    assert now == pytest.approx(expected)


@pytest.mark.parametrize(
    ("first", "factor", "cap"), [(0.0, 2.0, 1.0), (0.1, 0.5, 1.0), (1.0, 2.0, 0.5)]
)
def test_a_backoff_that_would_not_back_off_is_refused(
    first: float, factor: float, cap: float
) -> None:
    """A zero first wait, a shrinking factor or a cap below the first wait is a mistake."""
    with pytest.raises(ValidationError):
        Backoff(first=first, factor=factor, cap=cap)


# -- a host that stops answering ---------------------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port whose kernel completes the handshake but where nobody ever answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.mark.parametrize(("query", "bound"), [("", CONNECT_TIMEOUT), ("?connect_timeout=1", 1)])
def test_a_postgresql_server_that_never_answers_fails_a_write_in_seconds(
    silent_server: int, query: str, bound: float
) -> None:
    """A PostgreSQL host that accepts connections but never answers (a hung server, a
    dead host behind a load balancer) fails a write after CONNECT_TIMEOUT seconds, or
    the URL's own connect_timeout, as a StoreError the writers back off from, instead
    of holding the write (and the close of the writers) for the OS's TCP timeout."""
    store = Store(
        create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/x{query}")
    )
    started = time.monotonic()
    try:
        with pytest.raises(StoreError):
            EventLog(store).append(Numbered(at=0.0, n=0))
    finally:
        store.close()
    assert bound - 0.5 <= time.monotonic() - started <= bound + 5
