"""Waiting non-voice contacts and callbacks: durable, ordered, never duplicated."""

from __future__ import annotations

import threading

from callcenter_sdk import ManualClock, acd
from callcenter_sdk.kpi import ContactRecord
from callcenter_sdk.store import (
    CallbackRecord,
    ContactRecords,
    PendingWork,
    Store,
    WaitingContactRecord,
    restore_callbacks,
    restore_waiting,
)


def _email(i: int, *, priority: int = 0, queue: str = "support") -> WaitingContactRecord:
    return WaitingContactRecord(
        contact_id=f"mail-{i}",
        channel="email",
        queue=queue,
        arrived_at=1000.0 + i,
        priority=priority,
        data={"subject": f"help {i}"},
    )


def test_waiting_contacts_come_back_by_priority_then_age(store: Store) -> None:
    """The stored queue order is the ACD's: higher priority first, then the oldest."""
    work = PendingWork(store)
    work.put_waiting(_email(3), _email(1), _email(2, priority=5), _email(4, queue="sales"))
    assert [c.contact_id for c in work.waiting("support")] == ["mail-2", "mail-1", "mail-3"]
    assert len(work.waiting()) == 4
    assert work.waiting("support")[0] == _email(2, priority=5)


def test_storing_a_contact_twice_keeps_one_with_its_first_arrival(store: Store) -> None:
    """A client retrying after a crash never duplicates a contact nor resets its wait."""
    work = PendingWork(store)
    work.put_waiting(_email(1))
    retried = WaitingContactRecord(
        contact_id="mail-1", channel="email", queue="support", arrived_at=9999.0
    )
    work.put_waiting(retried, _email(2))
    assert [(c.contact_id, c.arrived_at) for c in work.waiting()] == [
        ("mail-1", 1001.0),
        ("mail-2", 1002.0),
    ]


def test_taken_contacts_are_removed_once(store: Store) -> None:
    """Removing reports whether the contact was still waiting."""
    work = PendingWork(store)
    work.put_waiting(_email(1))
    assert work.remove_waiting("mail-1")
    assert not work.remove_waiting("mail-1")
    assert work.waiting() == []


def test_callbacks_by_due_time(store: Store) -> None:
    """Callbacks come back ordered by due time, optionally only those due."""
    work = PendingWork(store)
    work.put_callbacks(
        CallbackRecord(
            callback_id="cb-late", phone="+33142000000", queue="q", requested_at=1, due_at=500
        ),
        CallbackRecord(
            callback_id="cb-soon", phone="+33142000001", queue="q", requested_at=2, due_at=100
        ),
    )
    work.put_callbacks(
        CallbackRecord(
            callback_id="cb-soon", phone="+33100000000", queue="q", requested_at=3, due_at=1
        )
    )
    assert [c.callback_id for c in work.callbacks()] == ["cb-soon", "cb-late"]
    assert [c.callback_id for c in work.callbacks(due_by=200)] == ["cb-soon"]
    assert work.callbacks()[0].phone == "+33142000001"
    assert work.remove_callback("cb-soon")
    assert not work.remove_callback("cb-soon")


def test_contact_records_round_trip_and_history_is_newest_first(store: Store) -> None:
    """KPI contact records are stored whole and a customer's history comes newest first."""
    records = ContactRecords(store)
    first = ContactRecord(
        contact_id="c1", outcome="abandoned", arrived_at=10.0, ended_at=40.0, customer="C-7"
    )
    live = ContactRecord(contact_id="c2", outcome="waiting", arrived_at=50.0, customer="C-7")
    other = ContactRecord(contact_id="c3", outcome="waiting", arrived_at=60.0, customer="C-8")
    records.save(first, live, other)
    done = ContactRecord(
        contact_id="c2",
        channel="email",
        outcome="answered",
        arrived_at=50.0,
        answered_at=55.0,
        ended_at=90.0,
        customer="C-7",
        agent="ag1",
        talk_s=35.0,
        disposition="solved",
        resolved=True,
    )
    records.save(done)
    assert records.for_customer("C-7") == [done, first]
    assert records.for_customer("C-7", limit=1) == [done]
    assert records.get("c3") == other
    assert records.get("nope") is None


def test_takers_in_parallel_each_get_distinct_contacts_in_queue_order(store: Store) -> None:
    """Several runtimes taking from one queue never get the same contact twice."""
    work = PendingWork(store)
    work.put_waiting(*(_email(i, priority=i % 2) for i in range(40)))
    first = work.take_waiting("support", limit=2)
    assert [c.contact_id for c in first] == ["mail-1", "mail-3"]
    taken: list[list[str]] = [[], [], []]

    def take(slot: int) -> None:
        while batch := work.take_waiting("support", limit=3):
            taken[slot].extend(c.contact_id for c in batch)

    threads = [threading.Thread(target=take, args=(slot,)) for slot in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    everything = [key for part in taken for key in part]
    assert len(everything) == len(set(everything)) == 38
    assert work.waiting() == []


def test_restored_contacts_enter_the_acd_with_their_original_arrival(store: Store) -> None:
    """restore_waiting puts each back in its queue at its stored time, once, in arrival order."""
    work = PendingWork(store)
    work.put_waiting(_email(3), _email(1), _email(2, priority=5))
    clock = ManualClock(2000.0)
    engine = acd.Engine(clock=clock)
    engine.add_queue(acd.Queue(name="support", channels=[acd.Channel.EMAIL]))
    live = acd.Contact(id="live", channel="email")
    engine.arrive(live, "support", entered_at=1001.5)
    stored = work.waiting("support")
    restore_waiting(engine, reversed(stored))
    restore_waiting(engine, stored)  # a second restore changes nothing
    assert engine.waiting_contacts("support") == ["mail-2", "mail-1", "live", "mail-3"]
    assert [engine.contact_status(r.contact_id).entered_at for r in stored] == [
        1002.0,
        1001.0,
        1003.0,
    ]


def test_restored_callbacks_wait_as_queued_callbacks_in_their_place(store: Store) -> None:
    """restore_callbacks brings due callbacks back as callbacks, at their stored entry time."""
    work = PendingWork(store)
    work.put_callbacks(
        CallbackRecord(
            callback_id="cb-1",
            phone="+33142000001",
            queue="support",
            requested_at=1050.0,
            due_at=1050.0,
            data={"entered_at": 1000.5},
        ),
        CallbackRecord(
            callback_id="cb-2", phone="+33142000002", queue="support", requested_at=1002.5, due_at=0
        ),
    )
    work.put_waiting(_email(1), _email(2))
    engine = acd.Engine(clock=ManualClock(2000.0))
    engine.add_queue(acd.Queue(name="support", channels=[acd.Channel.EMAIL, acd.Channel.VOICE]))
    restore_waiting(engine, work.waiting())
    restore_callbacks(engine, work.callbacks(due_by=2000.0))
    restore_callbacks(engine, work.callbacks(due_by=2000.0))  # twice changes nothing
    assert engine.waiting_contacts("support") == ["cb-1", "mail-1", "mail-2", "cb-2"]
    assert [engine.contact_status(c).callback for c in ("cb-1", "cb-2")] == [
        "+33142000001",
        "+33142000002",
    ]
    assert engine.contact_status("cb-1").entered_at == 1000.5
