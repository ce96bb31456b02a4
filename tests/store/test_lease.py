"""Leader leases: one holder per epoch, takeover after expiry, a fence no deposed leader passes."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text

from callcenter_sdk import StateError, StoreError, ValidationError
from callcenter_sdk.store import Lease, LeaseLost, Leases, Store, temporary_store

_PROBE = Table(
    "lease_probe",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("holder", String(64)),
    Column("epoch", Integer),
)
"""A table the tests write under the fence: what a leader's batch of decisions would be."""


class Clock:
    """A clock the test moves by hand, in place of the database's."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def probe(store: Store) -> Store:
    """The store with the probe table created."""
    _PROBE.create(store.engine)
    return store


def _fenced_write(leases: Leases, lease: Lease) -> None:
    """Write one probe row and check the fence in the same transaction."""
    with leases.store.transaction("fenced probe write") as session:
        session.execute(insert(_PROBE).values(holder=lease.holder, epoch=lease.epoch))
        leases.check_fence(session, lease)


def _probe_rows(store: Store) -> list[tuple[str, int]]:
    with store.reading("read probes") as session:
        rows = session.execute(select(_PROBE.c.holder, _PROBE.c.epoch).order_by(_PROBE.c.id))
        return [(holder, epoch) for holder, epoch in rows]


def test_acquire_renew_release_and_current(store: Store) -> None:
    """A free lease is taken at epoch 1; its holder gets it back unchanged, others get None;
    renew keeps the epoch and moves the expiry; release frees it and the next taker gets epoch 2."""
    clock = Clock()
    leases = Leases(store, clock=clock)
    assert leases.current("voice") is None
    first = leases.acquire("voice", "node-a", 10)
    assert first is not None
    assert (first.holder, first.epoch, first.expires_at, first.ttl) == (
        "node-a",
        1,
        clock.now + 10,
        10.0,
    )
    assert leases.acquire("voice", "node-a", 10) == first
    assert leases.acquire("voice", "node-b", 10) is None
    assert leases.current("voice") == first
    clock.now += 4
    renewed = leases.renew(first)
    assert (renewed.epoch, renewed.expires_at, renewed.renewed_at) == (1, clock.now + 10, clock.now)
    assert leases.release(renewed)
    assert not leases.release(renewed)
    assert leases.current("voice") is None
    second = leases.acquire("voice", "node-b", 10)
    assert second is not None
    assert (second.holder, second.epoch) == ("node-b", 2)
    assert leases.acquire("chat", "node-a", 10) is not None, "domains are independent"


def test_expiry_then_takeover_bumps_the_epoch_and_the_old_holder_cannot_renew(store: Store) -> None:
    """Once the ttl has passed (on the lease's clock) another node takes the lease at the next
    epoch; the old holder's renew then fails with LeaseLost naming the new epoch."""
    clock = Clock()
    leases = Leases(store, clock=clock)
    old = leases.acquire("voice", "node-a", 5)
    assert old is not None
    clock.now += 4.999
    assert leases.acquire("voice", "node-b", 5) is None
    clock.now += 0.001
    new = leases.acquire("voice", "node-b", 5)
    assert new is not None
    assert new.epoch == old.epoch + 1
    with pytest.raises(LeaseLost, match="epoch is now 2") as lost:
        leases.renew(old)
    assert (lost.value.epoch, lost.value.current) == (1, 2)
    assert isinstance(lost.value, StateError)
    assert not leases.release(old), "releasing a lost lease leaves the new holder alone"
    assert leases.current("voice") == new


def test_an_expired_lease_is_not_revived_by_renew(store: Store) -> None:
    """Renewing after expiry fails even when nobody took the lease: the holder may have stopped."""
    clock = Clock()
    leases = Leases(store, clock=clock)
    lease = leases.acquire("voice", "node-a", 5)
    assert lease is not None
    clock.now += 5
    with pytest.raises(LeaseLost, match="expired"):
        leases.renew(lease)
    again = leases.acquire("voice", "node-a", 5)
    assert again is not None
    assert again.epoch == 2, "taking an expired lease back is a new tenure"


def test_expiry_is_measured_on_the_database_clock(store: Store) -> None:
    """Without an injected clock, a 0.2 s lease is taken over only once the database's own
    clock has moved 0.2 s past the grant (the times come from the database, not the test)."""
    leases = Leases(store)
    first = leases.acquire("voice", "node-a", 0.2)
    assert first is not None
    assert abs(first.renewed_at - time.time()) < 60, "seconds since 1970 on the database clock"
    deadline = time.monotonic() + 10
    taken = None
    while taken is None and time.monotonic() < deadline:
        taken = leases.acquire("voice", "node-b", 0.2)
    assert taken is not None
    assert taken.epoch == 2
    assert taken.renewed_at >= first.expires_at


def test_a_deposed_holders_fenced_write_is_refused_and_writes_nothing(probe: Store) -> None:
    """After a takeover, the old holder's transaction that passes through check_fence rolls
    back with LeaseLost, its row included; the new holder's fenced write commits."""
    clock = Clock()
    leases = Leases(probe, clock=clock)
    old = leases.acquire("voice", "node-a", 5)
    assert old is not None
    _fenced_write(leases, old)
    clock.now += 6
    new = leases.acquire("voice", "node-b", 5)
    assert new is not None
    with pytest.raises(LeaseLost):
        _fenced_write(leases, old)
    _fenced_write(leases, new)
    assert _probe_rows(probe) == [("node-a", 1), ("node-b", 2)]


def test_the_fence_refuses_expired_and_released_leases(probe: Store) -> None:
    """A lease past its expiry (nobody took it yet) or released no longer passes the fence."""
    clock = Clock()
    leases = Leases(probe, clock=clock)
    lease = leases.acquire("voice", "node-a", 5)
    assert lease is not None
    clock.now += 5
    with pytest.raises(LeaseLost, match="expired"):
        _fenced_write(leases, lease)
    again = leases.acquire("voice", "node-a", 5)
    assert again is not None
    assert leases.release(again)
    with pytest.raises(LeaseLost, match="released"):
        _fenced_write(leases, again)
    never = Lease(domain="other", holder="node-a", epoch=1, expires_at=0, renewed_at=0, ttl=1)
    with pytest.raises(LeaseLost, match="no lease row"):
        _fenced_write(leases, never)
    assert _probe_rows(probe) == []


@pytest.mark.parametrize(
    ("domain", "node", "ttl", "message"),
    [
        ("", "node-a", 1.0, "must not be empty"),
        ("voice", "", 1.0, "must not be empty"),
        ("v" * 101, "node-a", 1.0, "limit is 100"),
        ("voice", "n" * 65, 1.0, "limit is 64"),
        ("voice", "node-a", 0.0, "positive"),
        ("voice", "node-a", -1.0, "positive"),
        ("voice", "node-a", float("nan"), "ttl"),
        ("voice", "node-a", float("inf"), "ttl"),
    ],
)
def test_bad_arguments_are_validation_errors(
    store: Store, domain: str, node: str, ttl: float, message: str
) -> None:
    """A bad domain, node id or ttl is a ValidationError naming it; nothing is written."""
    leases = Leases(store)
    with pytest.raises(ValidationError, match=message):
        leases.acquire(domain, node, ttl)
    assert leases.current("voice") is None


def test_racing_nodes_never_share_an_epoch(probe: Store) -> None:
    """Four threads race for one lease for many rounds (short leases that expire under them,
    releases, renewals, fenced writes): every epoch granted went to exactly one node, and every
    committed fenced write is by the one holder of its epoch.

    On PostgreSQL the 20 ms leases give a 10 ms idle guard, shorter than a scheduling pause on
    a busy machine: a round the server ended that way (LeaseLost, or the connection closed
    under a StoreError) wrote nothing, and the invariants still hold."""
    leases = Leases(probe)
    grants: list[tuple[int, str]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def node(name: str) -> None:
        try:
            start.wait()
            for round_ in range(60):
                try:
                    lease = leases.acquire("voice", name, 0.02)
                except StoreError:  # the guard ended a stalled acquire: nothing taken
                    continue
                if lease is None:
                    continue
                with lock:
                    grants.append((lease.epoch, name))
                try:
                    _fenced_write(leases, lease)
                    if round_ % 3 == 0:
                        lease = leases.renew(lease)
                    if round_ % 2 == 0:
                        leases.release(lease)
                except (LeaseLost, StoreError):
                    pass
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=node, args=(f"node-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    holders: dict[int, set[str]] = {}
    for epoch, name in grants:
        holders.setdefault(epoch, set()).add(name)
    assert all(len(names) == 1 for names in holders.values()), holders
    assert len(holders) > 4, "the lease changed hands during the race"
    for name, epoch in _probe_rows(probe):
        assert holders[epoch] == {name}


@pytest.mark.postgresql
def test_a_takeover_waits_for_a_fenced_transaction_in_flight(postgresql_url: str) -> None:
    """On PostgreSQL the fence holds the lease row FOR SHARE: a node taking the expired lease
    waits until the old holder's fenced transaction ends, so that commit precedes the new epoch."""
    with temporary_store(postgresql_url) as store:
        _PROBE.create(store.engine)
        clock = Clock()
        leases = Leases(store, clock=clock)
        old = leases.acquire("voice", "node-a", 60)
        assert old is not None
        fenced = threading.Event()
        finish = threading.Event()
        taken: list[Lease | None] = []

        def old_leader() -> None:
            with store.transaction("slow fenced write") as session:
                leases.check_fence(session, old)
                fenced.set()
                session.execute(insert(_PROBE).values(holder="node-a", epoch=old.epoch))
                finish.wait(timeout=30)

        writer = threading.Thread(target=old_leader)
        writer.start()
        assert fenced.wait(timeout=30)
        clock.now += 61
        taker = threading.Thread(target=lambda: taken.append(leases.acquire("voice", "node-b", 5)))
        taker.start()
        deadline = time.monotonic() + 30
        while not _waiting_on_a_lock(store) and time.monotonic() < deadline:
            pass
        assert _waiting_on_a_lock(store), "the taker waits for the fenced transaction"
        assert taken == []
        finish.set()
        writer.join(timeout=30)
        taker.join(timeout=30)
        assert len(taken) == 1
        assert taken[0] is not None
        assert taken[0].epoch == 2
        assert _probe_rows(store) == [("node-a", 1)]


@pytest.mark.postgresql
def test_a_stalled_fenced_transaction_cannot_hold_off_a_takeover(postgresql_url: str) -> None:
    """On PostgreSQL a fenced transaction whose client stalls with the lease row locked is ended
    by the server once idle for half the ttl: the takeover goes through, and the stalled
    leader's transaction fails when it resumes, its row never committed."""
    with temporary_store(postgresql_url) as store:
        _PROBE.create(store.engine)
        clock = Clock()
        leases = Leases(store, clock=clock)
        old = leases.acquire("voice", "node-a", 1.0)
        assert old is not None
        stalled = threading.Event()
        resume = threading.Event()
        failures: list[StoreError] = []

        def old_leader() -> None:
            try:
                with store.transaction("stalled fenced write") as session:
                    session.execute(insert(_PROBE).values(holder="node-a", epoch=old.epoch))
                    leases.check_fence(session, old)
                    stalled.set()
                    resume.wait(timeout=30)
                    session.execute(insert(_PROBE).values(holder="node-a", epoch=old.epoch))
            except StoreError as exc:
                failures.append(exc)

        writer = threading.Thread(target=old_leader)
        writer.start()
        assert stalled.wait(timeout=30)
        clock.now += 2
        started = time.monotonic()
        taken = leases.acquire("voice", "node-b", 1.0)
        waited = time.monotonic() - started
        resume.set()
        writer.join(timeout=30)
        assert taken is not None
        assert taken.epoch == 2
        assert waited < 10
        assert len(failures) == 1
        assert _probe_rows(store) == []


@pytest.mark.postgresql
def test_a_fenced_transaction_ended_by_the_idle_guard_is_a_lost_lease(postgresql_url: str) -> None:
    """A fenced transaction (and a renewal) the server ended for idling past the guard raises
    LeaseLost, the loss of a term, not StoreError, a database failure; nothing of it is
    committed, and the pool goes on with a fresh connection."""
    with temporary_store(postgresql_url) as store:
        _PROBE.create(store.engine)
        leases = Leases(store, clock=Clock())  # the lease never expires: only the guard acts
        lease = leases.acquire("voice", "node-a", 1.0)
        assert lease is not None
        fenced = leases.fenced("voice", lambda: lease)
        with pytest.raises(LeaseLost, match="idle guard"):
            _stalled_write(fenced, lease)
        assert _probe_rows(store) == []
        with fenced.transaction("the next write") as session:
            session.execute(insert(_PROBE).values(holder="node-a", epoch=lease.epoch))
        assert _probe_rows(store) == [("node-a", lease.epoch)]


@pytest.mark.postgresql
def test_a_takeover_does_not_wait_for_a_fenced_transaction_still_writing(
    postgresql_url: str,
) -> None:
    """A fenced store checks the fence as it commits, not as it begins: while a leader is
    still in the middle of a fenced transaction (stopped in a long COPY, say) it holds no
    lock on the lease row, so another node takes the expired lease at once; the old
    transaction is then refused at its commit with LeaseLost, its rows never committed."""
    with temporary_store(postgresql_url) as store:
        _PROBE.create(store.engine)
        clock = Clock()
        leases = Leases(store, clock=clock)
        old = leases.acquire("voice", "node-a", 30.0)
        assert old is not None
        fenced = leases.fenced("voice", lambda: old)
        writing = threading.Event()
        resume = threading.Event()
        outcome: list[BaseException] = []

        def old_leader() -> None:
            try:
                with fenced.transaction("a long fenced write") as session:
                    session.execute(insert(_PROBE).values(holder="node-a", epoch=old.epoch))
                    writing.set()
                    resume.wait(timeout=60)
            except BaseException as exc:  # noqa: BLE001 - checked by the main thread
                outcome.append(exc)

        writer = threading.Thread(target=old_leader)
        writer.start()
        try:
            assert writing.wait(timeout=60)
            clock.now += 31
            taken = leases.acquire("voice", "node-b", 30.0)  # does not wait for node-a
        finally:
            resume.set()
            writer.join(timeout=60)
        assert taken is not None
        assert taken.epoch == old.epoch + 1
        assert len(outcome) == 1
        assert isinstance(outcome[0], LeaseLost)
        assert "idle guard" not in str(outcome[0])  # refused at its commit, not ended stalled
        assert _probe_rows(store) == []


def _stalled_write(fenced: Store, lease: Lease) -> None:
    """Write a probe row, stall idle in the transaction until the server ends it, write again."""
    with fenced.transaction("stalled fenced write") as session:
        session.execute(insert(_PROBE).values(holder="node-a", epoch=lease.epoch))
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        while _backend_alive(fenced, pid):  # the stall: idle in transaction
            time.sleep(0.05)
        session.execute(insert(_PROBE).values(holder="node-a", epoch=lease.epoch))


def _backend_alive(store: Store, pid: int) -> bool:
    with store.engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar_one()
    return bool(found)


def _waiting_on_a_lock(store: Store) -> bool:
    with store.engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()
    return bool(waiting)


_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("acquire"), st.integers(0, 3), st.sampled_from([1.0, 2.5, 5.0])),
        st.tuples(st.just("renew"), st.integers(0, 3), st.just(0.0)),
        st.tuples(st.just("release"), st.integers(0, 3), st.just(0.0)),
        st.tuples(st.just("advance"), st.just(0), st.sampled_from([0.5, 1.0, 2.5, 6.0])),
    ),
    max_size=30,
)
_DOMAINS = itertools.count()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS, nodes=st.integers(2, 4))
def test_at_most_one_valid_holder_under_any_interleaving(
    store: Store, ops: list[tuple[str, int, float]], nodes: int
) -> None:
    """Over random interleavings of acquire, renew, release and clock advances by N nodes, at
    every step at most one node's lease passes the fence, current() is that lease, and every
    new grant has an epoch above all earlier ones."""
    clock = Clock()
    leases = Leases(store, clock=clock)
    domain = f"domain-{next(_DOMAINS)}"
    held: dict[int, Lease] = {}
    highest = 0
    for op, index, value in ops:
        node = index % nodes
        if op == "advance":
            clock.now += value
        elif op == "acquire":
            lease = leases.acquire(domain, f"node-{node}", value)
            if lease is not None:
                if lease != held.get(node):
                    assert lease.epoch > highest
                    highest = lease.epoch
                held[node] = lease
        elif node in held:
            try:
                if op == "renew":
                    held[node] = leases.renew(held[node])
                else:
                    leases.release(held.pop(node))
            except LeaseLost:
                del held[node]
        valid = [lease for lease in held.values() if _passes_fence(leases, lease)]
        assert len(valid) <= 1
        assert leases.current(domain) == (valid[0] if valid else None)


def _passes_fence(leases: Leases, lease: Lease) -> bool:
    try:
        with leases.store.transaction("check fence") as session:
            leases.check_fence(session, lease)
    except LeaseLost:
        return False
    return True


def test_the_migration_creates_the_table_empty(store: Store) -> None:
    """The leader_leases table exists after migration and holds no lease yet."""
    with store.reading("count leases") as session:
        assert session.execute(text("SELECT count(*) FROM leader_leases")).scalar_one() == 0
