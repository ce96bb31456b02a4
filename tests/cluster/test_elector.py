"""The Elector in one process: one leader at a time, hand-over, step-down when deposed or late."""

from __future__ import annotations

import threading
import time

import anyio
import pytest
from sqlalchemy import text

from callcenter_sdk import ConfigError
from callcenter_sdk.runtime import Elector
from callcenter_sdk.store import Lease, Leases, Store, temporary_store

TTL = 2.0
PERIOD = TTL / 3
WAIT = 30
"""Seconds any one expected change may take before the test fails (a busy machine is slow)."""


@pytest.mark.parametrize(
    ("ttl", "margin", "field"),
    [
        (0, None, "ttl"),
        (-1, None, "ttl"),
        (float("nan"), None, "ttl"),
        (3, 2, "margin"),
        (3, -1, "margin"),
    ],
)
def test_bad_timings_are_config_errors(
    store: Store, ttl: float, margin: float | None, field: str
) -> None:
    """A ttl that is not a positive number, or a margin outside [0, ttl * 2/3), is refused."""
    with pytest.raises(ConfigError, match=field):
        Elector(Leases(store), "voice", "node-a", ttl=ttl, margin=margin)


async def test_one_of_two_electors_leads_and_the_other_takes_over_when_it_stops(
    store: Store,
) -> None:
    """Two electors on one domain: one leads at epoch 1, the other does not; stopping the leader
    releases the lease and the other leads at epoch 2 without waiting for the ttl."""
    leases = Leases(store)
    first = Elector(leases, "voice", "node-a", ttl=TTL)
    second = Elector(leases, "voice", "node-b", ttl=TTL)
    async with anyio.create_task_group() as tg:
        first_scope = anyio.CancelScope()
        second_scope = anyio.CancelScope()
        tg.start_soon(_run_in, first, first_scope)
        tg.start_soon(_run_in, second, second_scope)
        with anyio.fail_after(WAIT):
            leader = await _first_leader(first, second)
        other = second if leader is first else first
        assert leader.epoch == 1
        assert not other.is_leader
        assert other.epoch is None
        (first_scope if leader is first else second_scope).cancel()
        with anyio.fail_after(WAIT):
            lease = await other.wait_leader()
        assert lease.epoch == 2
        assert not leader.is_leader
        second_scope.cancel()
        first_scope.cancel()


async def _run_in(elector: Elector, scope: anyio.CancelScope) -> None:
    with scope:
        await elector.run()


async def _first_leader(*electors: Elector) -> Elector:
    won: list[Elector] = []
    async with anyio.create_task_group() as tg:
        for elector in electors:

            async def wait(elector: Elector = elector) -> None:
                await elector.wait_leader()
                won.append(elector)
                tg.cancel_scope.cancel()

            tg.start_soon(wait)
    return won[0]


async def test_a_deposed_leader_steps_down_and_its_work_is_cancelled(store: Store) -> None:
    """When another node takes the lease (here: with a clock past its expiry), the leader's next
    renewal is refused: on_lost is called with the reason, work under lead() is cancelled, and
    is_leader is false."""
    losses: list[tuple[int, str]] = []
    lost = anyio.Event()
    started = anyio.Event()
    cancelled = anyio.Event()

    def on_lost(lease: Lease, reason: str) -> None:
        losses.append((lease.epoch, reason))
        lost.set()

    async def work(lease: Lease) -> None:
        assert lease.epoch == 1
        started.set()
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()

    elector = Elector(Leases(store), "voice", "node-a", ttl=TTL, on_lost=on_lost)
    async with anyio.create_task_group() as tg:
        await tg.start(elector.run)
        tg.start_soon(elector.lead, work)
        with anyio.fail_after(WAIT):
            await started.wait()
        thief = Leases(store, clock=lambda: time.time() + 3600)
        taken = await anyio.to_thread.run_sync(thief.acquire, "voice", "thief", 3600)
        assert taken is not None
        assert taken.epoch == 2
        with anyio.fail_after(WAIT):
            await lost.wait()
            await cancelled.wait()
        assert not elector.is_leader
        assert losses[0][0] == 1
        assert "epoch is now 2" in losses[0][1]
        tg.cancel_scope.cancel()


@pytest.mark.postgresql
async def test_a_leader_that_cannot_renew_steps_down_before_its_lease_may_expire(
    postgresql_url: str,
) -> None:
    """On PostgreSQL, another connection holds the lease row locked so renewals hang: the leader
    steps down on its own monotonic clock before the lease expires on the database's, and
    once the row is free again it takes the lease back at a new epoch, never its old one."""
    with temporary_store(postgresql_url) as store:
        losses: list[tuple[Lease, float, str]] = []
        lost = anyio.Event()

        def on_lost(lease: Lease, reason: str) -> None:
            losses.append((lease, time.time(), reason))
            lost.set()

        elector = Elector(
            Leases(store), "voice", "node-a", ttl=TTL, margin=TTL / 3, on_lost=on_lost
        )
        release = threading.Event()
        locked = threading.Event()

        def hold_the_row() -> None:
            with store.engine.connect() as conn, conn.begin():
                conn.execute(text("SELECT * FROM leader_leases FOR UPDATE"))
                locked.set()
                release.wait(timeout=WAIT)

        async with anyio.create_task_group() as tg:
            await tg.start(elector.run)
            with anyio.fail_after(WAIT):
                first = await elector.wait_leader()
            holder = threading.Thread(target=hold_the_row)
            holder.start()
            assert await anyio.to_thread.run_sync(locked.wait, WAIT)
            with anyio.fail_after(WAIT):
                await lost.wait()
            assert not elector.is_leader
            last, at, reason = losses[0]
            assert last.epoch == first.epoch
            assert "could not renew" in reason or "no renewal in time" in reason
            # the database is on this machine: its clock is the one time.time() reads
            assert at < last.expires_at, "stepped down before the lease could expire"
            release.set()
            await anyio.to_thread.run_sync(holder.join, WAIT)
            with anyio.fail_after(WAIT):
                again = await elector.wait_leader()
            assert again.epoch == first.epoch + 1
            tg.cancel_scope.cancel()


@pytest.mark.postgresql
async def test_a_lease_granted_too_late_to_use_is_given_back_not_used(postgresql_url: str) -> None:
    """On PostgreSQL, an acquire that waits on the locked lease row for longer than the ttl
    returns a lease the node can no longer trust (its safe time is over before it starts): the
    elector never leads on it, gives it back, and leads at the next epoch instead."""
    with temporary_store(postgresql_url) as store:
        leases = Leases(store)
        earlier = leases.acquire("voice", "node-z", TTL)  # epoch 1, released at once
        assert earlier is not None
        assert leases.release(earlier)
        gained: list[int] = []
        elector = Elector(
            leases, "voice", "node-a", ttl=TTL, on_gained=lambda lease: gained.append(lease.epoch)
        )
        release = threading.Event()
        locked = threading.Event()

        def hold_the_row() -> None:
            with store.engine.connect() as conn, conn.begin():
                conn.execute(text("SELECT * FROM leader_leases FOR UPDATE"))
                locked.set()
                release.wait(timeout=WAIT)

        holder = threading.Thread(target=hold_the_row)
        holder.start()
        assert await anyio.to_thread.run_sync(locked.wait, WAIT)
        async with anyio.create_task_group() as tg:
            await tg.start(elector.run)
            with anyio.fail_after(WAIT):
                while not await anyio.to_thread.run_sync(_waiting_on_a_lock, store):
                    await anyio.lowlevel.checkpoint()
            await anyio.sleep(TTL)  # the stimulus: the acquire stays blocked longer than the ttl
            release.set()
            await anyio.to_thread.run_sync(holder.join, WAIT)
            with anyio.fail_after(WAIT):
                lease = await elector.wait_leader()
            assert lease.epoch == 3
            assert gained == [3]
            tg.cancel_scope.cancel()


def _waiting_on_a_lock(store: Store) -> bool:
    with store.engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()
    return bool(waiting)
