"""Events persisted per second by the store's event log, written the way the runtime writes them.

The runtime never writes on its event loop: it publishes events on an
:class:`~callcenter_sdk.EventStream` and an
:func:`~callcenter_sdk.store.create_event_writer` subscribed to it writes them
in batches (up to 500 per transaction) in a worker thread. This benchmark does
the same: an anyio task publishes 50,000 events, yielding to the loop every
100 as a busy runtime would, and the figure is events written per second of
wall-clock time from the first publish to the ``flush()`` that confirms the
last one is committed.

The databases are the ones a deployment uses: a SQLite **file** on disk in
WAL mode with ``synchronous=FULL`` (as :func:`~callcenter_sdk.store.create_engine`
opens it; the journal mode is read back and printed), and PostgreSQL, read from
``CALLCENTER_TEST_POSTGRESQL_URL`` (default: the CI server on 127.0.0.1; when it
is unreachable its figures are ``null``). The baseline, in the same process
and on the same database, is one commit per event (``EventLog(durable=True)``,
what an acknowledgement costs).

Run: ``.venv/bin/python benchmarks/bench_store.py``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import anyio
import anyio.lowlevel
from sqlalchemy import text

from callcenter_sdk import EventStream, StoreError
from callcenter_sdk.store import EventLog, Store, create_event_writer, temporary_store
from callcenter_sdk.tickets import TicketNoteAdded

POSTGRESQL_URL = os.environ.get(
    "CALLCENTER_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
EVENTS = 50_000
BASELINE_EVENTS = 2_000
YIELD_EVERY = 100
ROUNDS = 3


def _event(n: int) -> TicketNoteAdded:
    return TicketNoteAdded(
        at=1.7e9 + n / 1000, ticket_id=f"T{n % 977}", author="ag1", internal=False
    )


def baseline(store: Store) -> float:
    """One commit per event, on the caller's thread."""
    log = EventLog(store, durable=True)
    start = time.perf_counter()
    for n in range(BASELINE_EVENTS):
        log.append(_event(n))
    return BASELINE_EVENTS / (time.perf_counter() - start)


async def _through_writer(store: Store) -> tuple[float, float]:
    stream = EventStream()
    async with create_event_writer(EventLog(store), events=stream) as writer:
        cpu = time.process_time()
        start = time.perf_counter()
        for n in range(EVENTS):
            stream.publish(_event(n))
            if n % YIELD_EVERY == 0:
                await anyio.lowlevel.checkpoint()
        if not await writer.flush():
            raise RuntimeError("the writer could not write every event")
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu
    return EVENTS / wall, cpu / EVENTS * 1e6


def through_writer(store: Store) -> tuple[float, float]:
    """Events/s through the runtime's writer (best of the rounds) and CPU µs per event."""
    best = (0.0, 0.0)
    for _ in range(ROUNDS):
        rate, cpu_us = anyio.run(_through_writer, store)
        if rate > best[0]:
            best = (rate, cpu_us)
    return best


def _journal_mode(store: Store) -> str:
    with store.transaction("read the journal mode") as session:
        return str(session.execute(text("PRAGMA journal_mode")).scalar())


def measure(name: str, url: str) -> dict[str, float | str]:
    """Both figures on one fresh database."""
    with temporary_store(url) as store:
        described = "PostgreSQL"
        if name == "sqlite":
            described = f"SQLite file, journal_mode={_journal_mode(store)}"
        one = baseline(store)
        rate, cpu_us = through_writer(store)
        written = EventLog(store).last_seq()
        if written < BASELINE_EVENTS + ROUNDS * EVENTS:
            raise RuntimeError(f"only {written} events in the log")
    return {"database": described, "rate": rate, "cpu_us": cpu_us, "baseline": one}


def main() -> None:
    """Print the figures, then the JSON summary as the last line."""
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results: dict[str, float | None] = {}
    # A file on the disk the deployment would use, not a tmpfs: fsync must cost what it costs.
    directory = Path(tempfile.mkdtemp(prefix="bench-store-", dir=Path.cwd()))
    try:
        for name, url in (
            ("sqlite", f"sqlite:///{directory / 'bench.sqlite3'}"),
            ("postgresql", POSTGRESQL_URL),
        ):
            try:
                fig = measure(name, url)
            except StoreError as exc:
                print(f"{name}: skipped ({exc})")
                results |= {f"{name}_events_per_s": None, f"{name}_baseline_events_per_s": None}
                continue
            rate, one = float(fig["rate"]), float(fig["baseline"])
            print(
                f"{fig['database']}: through the event writer {rate:10,.0f} events/s "
                f"({float(fig['cpu_us']):.0f} µs CPU each) | one commit per event "
                f"{one:8,.0f} events/s | ratio x{rate / one:.1f}"
            )
            results |= {
                f"{name}_events_per_s": round(rate),
                f"{name}_cpu_us_per_event": round(float(fig["cpu_us"]), 1),
                f"{name}_baseline_events_per_s": round(one),
                f"{name}_batch_speedup": round(rate / one, 1),
            }
    finally:
        for path in directory.iterdir():
            path.unlink()
        directory.rmdir()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
