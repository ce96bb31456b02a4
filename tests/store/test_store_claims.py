"""Claims, leases and tombstones: a crashed hand-over loses nothing, a served item stays served."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete

from callcenter_sdk import ValidationError
from callcenter_sdk.store import CallbackRecord, PendingWork, Store, WaitingContactRecord
from callcenter_sdk.store._rows import CallbackRow, WaitingContactRow


def _email(i: int, *, priority: int = 0, at: float | None = None) -> WaitingContactRecord:
    return WaitingContactRecord(
        contact_id=f"mail-{i}",
        channel="email",
        queue="support",
        arrived_at=1000.0 + i if at is None else at,
        priority=priority,
        data={"subject": f"help {i}"},
    )


def _callback(i: int) -> CallbackRecord:
    return CallbackRecord(
        callback_id=f"cb-{i}", phone="+33142000000", queue="q", requested_at=i, due_at=100 + i
    )


def _ids(records: list[WaitingContactRecord]) -> list[str]:
    return [r.contact_id for r in records]


def test_a_served_contact_never_comes_back_from_a_retried_put(store: Store) -> None:
    """A put retried after take, remove or complete is a no-op: the contact stays served."""
    work = PendingWork(store)
    work.put_waiting(_email(1), _email(2), _email(3))
    assert _ids(work.take_waiting("support")) == ["mail-1"]
    assert work.remove_waiting("mail-2")
    (claimed,) = work.claim_waiting("support", holder="node-a", lease_s=30, now=0)
    assert work.complete_waiting(claimed.contact_id, holder="node-a")
    work.put_waiting(_email(1), _email(2), _email(3))
    assert work.waiting(now=1e9) == []
    assert work.take_waiting("support", now=1e9) == []
    assert not work.remove_waiting("mail-1")


def test_a_made_callback_never_comes_back_from_a_retried_put(store: Store) -> None:
    """put_callbacks after remove_callback or complete_callback does not resurrect it."""
    work = PendingWork(store)
    work.put_callbacks(_callback(1), _callback(2))
    assert work.remove_callback("cb-1")
    assert work.claim_callback("cb-2", holder="dialler", lease_s=60, now=5)
    assert work.complete_callback("cb-2", holder="dialler")
    work.put_callbacks(_callback(1), _callback(2))
    assert work.callbacks(now=1e9) == []
    assert not work.claim_callback("cb-1", holder="dialler", lease_s=60, now=1e9)


def test_claimed_contacts_wait_hidden_then_come_back_in_their_original_place(
    store: Store,
) -> None:
    """A claim hides contacts; release or an expired lease returns them where they were."""
    work = PendingWork(store)
    work.put_waiting(*(_email(i) for i in range(5)))
    first = work.claim_waiting("support", holder="a", limit=2, lease_s=10, now=100)
    assert _ids(first) == ["mail-0", "mail-1"]
    assert _ids(work.waiting()) == ["mail-2", "mail-3", "mail-4"]
    assert _ids(work.waiting(now=109.9)) == ["mail-2", "mail-3", "mail-4"]
    assert work.release_waiting("mail-1", holder="a")
    assert not work.release_waiting("mail-1", holder="a")
    assert _ids(work.waiting()) == ["mail-1", "mail-2", "mail-3", "mail-4"]
    # the lease of mail-0 runs out at 110: it is back first, with its arrival time
    back = work.waiting(now=110)
    assert _ids(back) == ["mail-0", "mail-1", "mail-2", "mail-3", "mail-4"]
    assert back[0] == _email(0)
    assert _ids(work.claim_waiting("support", holder="b", lease_s=10, now=110)) == ["mail-0"]


def test_only_the_current_holder_completes_after_a_lease_moved_on(store: Store) -> None:
    """A holder whose lease ran out and was re-claimed cannot complete nor release it."""
    work = PendingWork(store)
    work.put_waiting(_email(1))
    assert _ids(work.claim_waiting("support", holder="a", lease_s=5, now=0)) == ["mail-1"]
    assert work.claim_waiting("support", holder="b", lease_s=5, now=4) == []
    assert _ids(work.claim_waiting("support", holder="b", lease_s=5, now=5)) == ["mail-1"]
    assert not work.complete_waiting("mail-1", holder="a")
    assert not work.release_waiting("mail-1", holder="a")
    assert work.complete_waiting("mail-1", holder="b")
    assert not work.complete_waiting("mail-1")


def test_a_callback_whose_dialler_crashed_comes_back_exactly_once(store: Store) -> None:
    """A claimed callback is refused to others until its lease ends, then one claimer wins."""
    work = PendingWork(store)
    work.put_callbacks(_callback(1))
    assert work.claim_callback("cb-1", holder="a", lease_s=30, now=0)
    assert work.callbacks() == []
    assert not work.claim_callback("cb-1", holder="b", lease_s=30, now=29)
    assert [c.callback_id for c in work.callbacks(now=30)] == ["cb-1"]
    assert work.claim_callback("cb-1", holder="b", lease_s=30, now=30)
    assert not work.claim_callback("cb-1", holder="c", lease_s=30, now=30)
    assert work.release_callback("cb-1", holder="b")
    assert work.callbacks()[0] == _callback(1)
    assert not work.claim_callback("cb-404", holder="a", lease_s=30, now=0)


@pytest.mark.parametrize(
    ("holder", "lease_s", "now", "limit", "message"),
    [
        ("", 0, 0, 1, "lease_s must be > 0"),
        ("a", float("inf"), 0, 1, "lease_s must be a finite number"),
        ("a", 1, float("nan"), 1, "now must be a finite number"),
        ("a\x00", 1, 0, 1, "holder contains a NUL"),
        ("a" * 65, 1, 0, 1, "holder is 65 characters long; the limit is 64"),
        ("a", 1, 0, 0, "limit must be at least 1"),
    ],
)
def test_bad_claims_are_validation_errors(
    store: Store, *, holder: str, lease_s: float, now: float, limit: int, message: str
) -> None:
    """A claim with a bad holder, lease, time or limit is refused before any SQL."""
    work = PendingWork(store)
    with pytest.raises(ValidationError, match=message):
        work.claim_waiting("support", holder=holder, limit=limit, lease_s=lease_s, now=now)


def test_a_restarted_node_releases_the_claims_of_its_earlier_run(store: Store) -> None:
    """release_claims(holder) returns that holder's contacts and callbacks, no one else's."""
    work = PendingWork(store)
    work.put_waiting(_email(1), _email(2))
    work.put_callbacks(_callback(1))
    work.claim_waiting("support", holder="a", lease_s=60, now=0)
    work.claim_waiting("support", holder="b", lease_s=60, now=0)
    assert work.claim_callback("cb-1", holder="a", lease_s=60, now=0)
    assert work.release_claims("a") == 2
    assert _ids(work.waiting()) == ["mail-1"]
    assert [c.callback_id for c in work.callbacks()] == ["cb-1"]
    assert work.release_claims("a") == 0


def test_parallel_claimers_each_get_distinct_contacts(store: Store) -> None:
    """Several runtimes claiming from one queue never hold the same contact at once."""
    work = PendingWork(store)
    work.put_waiting(*(_email(i) for i in range(30)))
    claimed: list[list[str]] = [[], [], []]

    def claim(slot: int) -> None:
        while batch := work.claim_waiting("support", holder=f"n{slot}", limit=2, lease_s=60, now=0):
            claimed[slot].extend(_ids(batch))

    threads = [threading.Thread(target=claim, args=(slot,)) for slot in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    everything = [key for part in claimed for key in part]
    assert len(everything) == len(set(everything)) == 30
    assert work.waiting(now=59) == []


class ClaimMachine(RuleBasedStateMachine):
    """Random puts, claims, completions, releases, takes and time on one queue.

    The model says, for every contact ever put, whether it waits, is claimed
    (by whom, until when) or was served. The store must agree after every
    step: no contact lost, none handed to two holders under live leases,
    none served twice nor brought back after serving, and the queue order is
    always priority then original arrival.
    """

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.work = PendingWork(store)
        with store.transaction("empty the queue") as session:
            session.execute(delete(WaitingContactRow))
            session.execute(delete(CallbackRow))
        self.now = 0.0
        self.records: dict[str, WaitingContactRecord] = {}
        self.claims: dict[str, tuple[str, float]] = {}
        self.served: set[str] = set()

    def _available(self, contact_id: str) -> bool:
        if contact_id in self.served:
            return False
        claim = self.claims.get(contact_id)
        return claim is None or claim[1] <= self.now

    def _order(self, ids: list[str]) -> list[str]:
        return sorted(
            ids,
            key=lambda i: (-self.records[i].priority, self.records[i].arrived_at, i),
        )

    @rule(i=st.integers(0, 7), priority=st.integers(0, 1))
    def put(self, i: int, priority: int) -> None:
        record = _email(i, priority=priority, at=self.now)
        self.work.put_waiting(record)
        self.records.setdefault(record.contact_id, record)

    @rule(holder=st.sampled_from(["a", "b"]), limit=st.integers(1, 3), lease=st.integers(1, 5))
    def claim(self, holder: str, limit: int, lease: int) -> None:
        expected = self._order([i for i in self.records if self._available(i)])[:limit]
        got = self.work.claim_waiting(
            "support", holder=holder, limit=limit, lease_s=lease, now=self.now
        )
        assert _ids(got) == expected
        assert got == [self.records[i] for i in expected]
        for contact_id in expected:
            self.claims[contact_id] = (holder, self.now + lease)

    @precondition(lambda self: bool(self.records))
    @rule(data=st.data(), holder=st.sampled_from(["a", "b"]), release=st.booleans())
    def finish(self, data: st.DataObject, holder: str, release: bool) -> None:
        contact_id = data.draw(st.sampled_from(sorted(self.records)))
        claim = self.claims.get(contact_id)
        mine = claim is not None and claim[0] == holder and contact_id not in self.served
        if release:
            assert self.work.release_waiting(contact_id, holder=holder) is mine
            if mine:
                del self.claims[contact_id]
        else:
            assert self.work.complete_waiting(contact_id, holder=holder) is mine
            if mine:
                self.served.add(contact_id)
                del self.claims[contact_id]

    @rule(limit=st.integers(1, 2))
    def take(self, limit: int) -> None:
        expected = self._order([i for i in self.records if self._available(i)])[:limit]
        assert _ids(self.work.take_waiting("support", limit, now=self.now)) == expected
        self.served.update(expected)
        for contact_id in expected:
            self.claims.pop(contact_id, None)

    @rule(seconds=st.integers(0, 4))
    def advance(self, seconds: int) -> None:
        self.now += seconds

    @invariant()
    def the_store_agrees_with_the_model(self) -> None:
        expected = self._order([i for i in self.records if self._available(i)])
        assert _ids(self.work.waiting(now=self.now)) == expected


def test_claim_interleavings_never_lose_nor_duplicate_a_contact(store: Store) -> None:
    """Any interleaving of put, claim, complete, release, take and lease expiry keeps
    each contact in exactly one place, served at most once, in queue order."""

    class OnThisStore(ClaimMachine):
        def __init__(self) -> None:
            super().__init__(store)

    run_state_machine_as_test(
        OnThisStore,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        ),
    )
