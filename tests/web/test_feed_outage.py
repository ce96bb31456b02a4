"""The live feed outlives its database: cut off, it waits and goes on where it was."""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import anyio.to_thread
import pytest

from callcenter_sdk.store import EventLog, StoreDegraded, create_store
from callcenter_sdk.web._feed import LiveFeed
from callcenter_sdk.web._scope import ScopeTracker

Admin = Callable[[str, str], None]


def _event(n: int) -> StoreDegraded:
    return StoreDegraded(at=float(n), error=f"event {n}", buffered=n)


def _tracker() -> ScopeTracker:
    return ScopeTracker({}, center=None)


@pytest.mark.postgresql
async def test_the_live_feed_waits_out_a_database_it_cannot_reach(
    private_postgresql: str, postgresql_admin: Admin, caplog: pytest.LogCaptureFixture
) -> None:
    """With its database refusing connections (a node cut off from it), the feed's task
    lives on and says so once in the log; once the database takes connections again the
    feed reads the events written meanwhile, after the last one it had, none twice."""
    store = create_store(private_postgresql)
    try:
        log = EventLog(store)
        log.append(_event(1))
        log.flush()
        feed = LiveFeed(log, _tracker(), make_tracker=_tracker, poll=0.05)
        caplog.set_level(logging.WARNING, logger="callcenter_sdk.web._feed")
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                await tg.start(feed.run)
                assert [entry.seq for entry in await feed.since(0)] == [1]

                await anyio.to_thread.run_sync(
                    postgresql_admin,
                    private_postgresql,
                    'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
                )
                await anyio.to_thread.run_sync(
                    postgresql_admin,
                    private_postgresql,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = '{name}' AND pid <> pg_backend_pid()",
                )
                while not any("cannot be read" in r.getMessage() for r in caplog.records):  # noqa: ASYNC110 - a log record, no event to wait on
                    await anyio.sleep(0.05)  # polls for the feed's failed read

                await anyio.to_thread.run_sync(
                    postgresql_admin,
                    private_postgresql,
                    'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true',
                )
                log.append(_event(2))
                log.append(_event(3))
                await anyio.to_thread.run_sync(log.flush)
                await feed.wait(2)
                while feed.head < 3:
                    await feed.wait(feed.head)
                assert [entry.seq for entry in await feed.since(1)] == [2, 3]
                tg.cancel_scope.cancel()
        failed = [r for r in caplog.records if "cannot be read" in r.getMessage()]
        assert len(failed) == 1
        assert any("read again" in r.getMessage() for r in caplog.records)
    finally:
        store.close()
