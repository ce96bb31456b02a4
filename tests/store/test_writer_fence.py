"""A cluster leader's event writer, fenced by its lease: a refused batch is never written."""

from __future__ import annotations

import time
from typing import ClassVar

import anyio
import attrs
import pytest

from callcenter_sdk import Event, EventStream
from callcenter_sdk.store import (
    EventLog,
    Lease,
    LeaseLost,
    Leases,
    Store,
    StoreDegraded,
    create_event_writer,
)

LIMIT = 30
"""An upper bound for each wait: a hang fails the test instead of the run."""


@attrs.frozen(kw_only=True)
class Numbered(Event):
    """A test event carrying its position."""

    kind: ClassVar[str] = "test.fence_numbered"

    n: int


async def test_a_refused_fence_stops_the_writer_without_degrading_and_writes_nothing_more(
    store: Store,
) -> None:
    """Events written under the lease commit; once another node holds it, the next batch is
    refused: it and every event after it are dropped (counted lost), on_lease_lost is called
    once with the LeaseLost, commit() raises it, no StoreDegraded is published, and the log
    holds only the events committed before."""
    leases = Leases(store)
    lease = leases.acquire("voice", "node-a", 3600)
    assert lease is not None
    held: list[Lease | None] = [lease]
    refusals: list[LeaseLost] = []
    stream = EventStream()
    seen: list[Event] = []
    stream.subscribe(lambda _seq, event: seen.append(event))
    log = EventLog(leases.fenced("voice", lambda: held[0]), durable=False)
    async with create_event_writer(log, events=stream, on_lease_lost=refusals.append) as writer:
        for n in range(3):
            stream.publish(Numbered(at=1.0, n=n))
        with anyio.fail_after(LIMIT):
            await writer.commit()
        assert writer.written == 3

        thief = Leases(store, clock=lambda: time.time() + 7200)
        assert await anyio.to_thread.run_sync(thief.acquire, "voice", "node-b", 3600)
        for n in range(3, 6):
            stream.publish(Numbered(at=2.0, n=n))
        with anyio.fail_after(LIMIT), pytest.raises(LeaseLost):
            await writer.commit()
        assert writer.fenced_out is refusals[0]
        stream.publish(Numbered(at=3.0, n=6))  # after the refusal: dropped at once
        with pytest.raises(LeaseLost):
            await writer.commit()
        assert not writer.degraded
        assert writer.written == 3
        assert writer.lost == 4
    assert len(refusals) == 1
    assert not [e for e in seen if isinstance(e, StoreDegraded)]
    numbers = [e.event.n for e in EventLog(store).read()]  # type: ignore[attr-defined]
    assert numbers == [0, 1, 2]


async def test_a_node_that_no_longer_leads_writes_nothing(store: Store) -> None:
    """When the lease of the moment is gone (the elector stepped down: lease() is None), the
    writer's next batch is refused before it reaches the database, without degrading."""
    leases = Leases(store)
    lease = leases.acquire("voice", "node-a", 3600)
    held: list[Lease | None] = [lease]
    log = EventLog(leases.fenced("voice", lambda: held[0]), durable=False)
    async with create_event_writer(log) as writer:
        writer.append_nowait(Numbered(at=1.0, n=0))
        with anyio.fail_after(LIMIT):
            await writer.commit()
        held[0] = None
        writer.append_nowait(Numbered(at=2.0, n=1))
        with anyio.fail_after(LIMIT), pytest.raises(LeaseLost, match="does not lead"):
            await writer.commit()
        assert not writer.degraded
    assert [e.event.n for e in EventLog(store).read()] == [0]  # type: ignore[attr-defined]
