"""Tickets round-trip, stale saves conflict; the desk retries, commits, then publishes."""

from __future__ import annotations

import threading

import attrs
import pytest

from callcenter_sdk import EventStream, ManualClock, NotFoundError
from callcenter_sdk._errors import ConflictError  # not yet re-exported by callcenter_sdk
from callcenter_sdk.store import EventLog, Store
from callcenter_sdk.store._rows import CustomerRow
from callcenter_sdk.tickets import (
    Priority,
    SlaPolicy,
    Ticket,
    TicketChange,
    TicketDesk,
    TicketNoteAdded,
    TicketOrigin,
    TicketRepository,
    TicketSlaBreached,
    TicketSlaWarning,
    add_note,
    escalate,
    link_contact,
    open_ticket,
    resolve,
    wait_for_customer,
)


def test_a_ticket_round_trips_with_notes_contacts_and_sla_state(store: Store) -> None:
    """Every field, note, linked contact and SLA flag survives save and load."""
    repo = TicketRepository(store)
    change = open_ticket(
        ticket_id="T-1",
        subject="Router blinks red",
        description="since this morning",
        now=10.0,
        origin=TicketOrigin.CONTACT,
        contact_id="call-1",
        customer_id=1,
        priority=Priority.HIGH,
        category="internet/outage",
        sla=SlaPolicy(first_response=60, resolution=600, warn_before=10),
    )
    ticket = change.ticket
    with store.transaction("add a customer") as session:
        session.add(CustomerRow(id=1, number="C1", name="Ana", attributes={}))
    (ticket,) = repo.save(ticket)
    ticket = add_note(ticket, 20, author="ag", text="reboot asked", internal=True).ticket
    ticket = link_contact(ticket, 25, "mail-2").ticket
    ticket = escalate(ticket, 500, reason="line test").ticket
    ticket = wait_for_customer(ticket, 510).ticket
    (ticket,) = repo.save(ticket)
    ticket = add_note(ticket, 520, author="l2", text="technician booked").ticket
    (ticket,) = repo.save(ticket)
    assert repo.get("T-1") == ticket
    assert repo.get("T-1").version == ticket.version == 3
    assert ticket.sla_flags
    assert [t.ticket_id for t in repo.active(customer_id=1)] == ["T-1"]
    repo.save(resolve(ticket, 600).ticket)
    assert repo.active() == []
    with pytest.raises(NotFoundError):
        repo.get("T-404")


def test_desk_commits_then_publishes_and_reports_due_sla_events(store: Store) -> None:
    """The desk saves every change, publishes its events, and its SLA sweep fires once."""
    clock = ManualClock(1000.0)
    stream = EventStream(keep=True)
    log = EventLog(store)
    log.attach(stream)
    ids = iter(["A", "B"])
    desk = TicketDesk(TicketRepository(store), clock, events=stream, new_id=lambda: next(ids))
    policy = SlaPolicy(first_response=60, resolution=600, warn_before=10)
    assert desk.next_due() is None
    desk.open(subject="one", sla=policy)
    desk.open(subject="two", sla=policy)
    assert desk.next_due() == 1050.0
    clock.advance(30)
    desk.apply("B", add_note, author="ag", text="hello")
    assert desk.check_due() == []
    clock.advance(25)
    due = desk.check_due()
    assert due == [
        TicketSlaWarning(at=1055.0, ticket_id="A", target="first_response", due_at=1060.0)
    ]
    clock.advance(10)
    assert [type(e) for e in desk.check_due()] == [TicketSlaBreached]
    assert desk.check_due() == []
    assert "first_response.breach" in TicketRepository(store).get("A").sla_flags
    assert [e.event for e in log.read()] == stream.history()


def test_a_stale_edit_conflicts_and_overwrites_nothing(store: Store) -> None:
    """Two agents edit the same version: the second save raises and the first edit stays."""
    repo = TicketRepository(store)
    (ticket,) = repo.save(open_ticket(ticket_id="T-1", subject="slow", now=0).ticket)
    first = add_note(ticket, 10, author="ana", text="first").ticket
    second = escalate(ticket, 11, reason="stale copy").ticket
    (saved,) = repo.save(first)
    with pytest.raises(ConflictError, match="is at version 2, not 1") as info:
        repo.save(second)
    assert (info.value.expected, info.value.actual) == (1, 2)
    stored = repo.get("T-1")
    assert stored == saved
    assert stored.version == 2
    assert stored.level == 1
    assert [n.text for n in stored.notes] == ["first"]


def test_creating_an_existing_ticket_or_saving_a_missing_one_is_refused(store: Store) -> None:
    """Version 0 means create: a taken id conflicts; a later version of nothing is not found."""
    repo = TicketRepository(store)
    fresh = open_ticket(ticket_id="T-1", subject="one", now=0).ticket
    repo.save(fresh)
    with pytest.raises(ConflictError, match="already exists"):
        repo.save(attrs.evolve(fresh, subject="two"))
    assert repo.get("T-1").subject == "one"
    ghost = attrs.evolve(open_ticket(ticket_id="T-2", subject="x", now=0).ticket, version=4)
    with pytest.raises(NotFoundError, match="T-2"):
        repo.save(ghost)


def test_a_conflict_in_a_batch_writes_none_of_it(store: Store) -> None:
    """Saving several tickets is one transaction: one stale ticket cancels them all."""
    repo = TicketRepository(store)
    (one,) = repo.save(open_ticket(ticket_id="T-1", subject="one", now=0).ticket)
    repo.save(add_note(one, 1, author="ana", text="moved on").ticket)
    two = open_ticket(ticket_id="T-2", subject="two", now=0).ticket
    with pytest.raises(ConflictError):
        repo.save(two, add_note(one, 2, author="bob", text="stale").ticket)
    with pytest.raises(NotFoundError):
        repo.get("T-2")
    assert [n.author for n in repo.get("T-1").notes] == ["ana"]


def test_desk_reapplies_a_rule_to_the_latest_version_after_a_concurrent_save(
    store: Store,
) -> None:
    """apply() re-reads and re-applies on conflict; only the saved change's events go out."""
    clock = ManualClock(100.0)
    stream = EventStream(keep=True)
    desk = TicketDesk(TicketRepository(store), clock, events=stream, new_id=lambda: "T-1")
    other = TicketDesk(TicketRepository(store), clock)
    desk.open(subject="slow")
    calls = 0

    def note_racing_another_desk(ticket: Ticket, now: float, *, text: str) -> TicketChange:
        nonlocal calls
        calls += 1
        if calls == 1:  # another desk saves between our read and our save
            other.apply("T-1", add_note, author="bob", text="meanwhile")
        return add_note(ticket, now, author="ana", text=text)

    saved = desk.apply("T-1", note_racing_another_desk, text="mine")
    assert calls == 2
    assert [n.text for n in saved.notes] == ["meanwhile", "mine"]
    assert saved.version == 3
    assert TicketRepository(store).get("T-1") == saved
    notes = [e for e in stream.history() if isinstance(e, TicketNoteAdded)]
    assert [e.author for e in notes] == ["ana"]


def test_desk_with_the_version_a_person_saw_raises_instead_of_reapplying(store: Store) -> None:
    """expected_version pins the edit to what the person saw: a newer ticket is a conflict."""
    clock = ManualClock(100.0)
    desk = TicketDesk(TicketRepository(store), clock, new_id=lambda: "T-1")
    seen = desk.open(subject="slow")
    desk.apply("T-1", add_note, author="bob", text="meanwhile", expected_version=seen.version)
    with pytest.raises(ConflictError, match="is at version 2, not 1"):
        desk.apply("T-1", escalate, reason="from a stale screen", expected_version=seen.version)
    assert TicketRepository(store).get("T-1").level == 1


def test_desks_in_parallel_lose_no_note(store: Store) -> None:
    """Threads adding notes to one ticket through their own desks: every note is kept."""
    clock = ManualClock(100.0)
    TicketDesk(TicketRepository(store), clock, new_id=lambda: "T-1").open(subject="busy")

    def write(author: str) -> None:
        desk = TicketDesk(TicketRepository(store), clock, retries=1000)
        for i in range(8):
            desk.apply("T-1", add_note, author=author, text=f"{author}-{i}")

    threads = [threading.Thread(target=write, args=(name,)) for name in ("ana", "bob", "eve")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    ticket = TicketRepository(store).get("T-1")
    assert len(ticket.notes) == 24
    assert ticket.version == 25
    for name in ("ana", "bob", "eve"):
        assert [n.text for n in ticket.notes if n.author == name] == [
            f"{name}-{i}" for i in range(8)
        ]
