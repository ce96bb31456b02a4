"""Tickets saved in the store come back identical; the desk commits then publishes."""

from __future__ import annotations

import pytest

from callcenter_sdk import EventStream, ManualClock, NotFoundError
from callcenter_sdk.store import EventLog, Store
from callcenter_sdk.store._rows import CustomerRow
from callcenter_sdk.tickets import (
    Priority,
    SlaPolicy,
    TicketDesk,
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
    repo.save(ticket)
    ticket = add_note(ticket, 20, author="ag", text="reboot asked", internal=True).ticket
    ticket = link_contact(ticket, 25, "mail-2").ticket
    ticket = escalate(ticket, 500, reason="line test").ticket
    ticket = wait_for_customer(ticket, 510).ticket
    repo.save(ticket)
    ticket = add_note(ticket, 520, author="l2", text="technician booked").ticket
    repo.save(ticket)
    assert repo.get("T-1") == ticket
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
