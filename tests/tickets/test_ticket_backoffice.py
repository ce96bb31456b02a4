"""Tickets routed to back-office agents through the real ACD engine."""

from __future__ import annotations

from callcenter_sdk import EventStream, ManualClock
from callcenter_sdk.acd import (
    Agent,
    Capacity,
    Contact,
    ContactOffered,
    Engine,
    Membership,
    Queue,
)
from callcenter_sdk.kpi import Channel
from callcenter_sdk.tickets import Priority, escalate, open_ticket, ticket_contact


def _engine() -> tuple[Engine, EventStream]:
    stream = EventStream(keep=True)
    engine = Engine(clock=ManualClock(100.0), events=stream)
    engine.add_queue(Queue(name="back-office", channels=[Channel.TICKET, Channel.EMAIL]))
    return engine, stream


def _agent(agent_id: str, *, skills: dict[str, int] | None = None) -> Agent:
    return Agent(
        id=agent_id,
        skills=skills or {},
        memberships=[Membership("back-office")],
        capacity=Capacity(limits={Channel.TICKET: 2, Channel.EMAIL: 1}),
    )


def test_tickets_take_ticket_capacity_and_urgent_ones_go_first() -> None:
    """An agent with room for two gets the urgent ticket, then the oldest normal one."""
    engine, stream = _engine()
    engine.add_agent(_agent("bo1"))
    tickets = [
        open_ticket(ticket_id="T1", subject="a", now=1).ticket,
        open_ticket(ticket_id="T2", subject="b", now=2).ticket,
        open_ticket(ticket_id="T3", subject="c", now=3, priority=Priority.URGENT).ticket,
    ]
    for ticket in tickets:
        engine.arrive(ticket_contact(ticket), "back-office")
    engine.login("bo1")
    engine.set_ready("bo1")
    offered = [e.contact_id for e in stream.history(ContactOffered)]
    assert offered == ["ticket:T3", "ticket:T1"]


def test_an_escalated_ticket_only_reaches_the_technical_service() -> None:
    """Level 2 tickets need the level-2 skill; front-office agents never see them."""
    engine, stream = _engine()
    engine.add_agent(_agent("front"))
    engine.add_agent(_agent("tech", skills={"level-2": 3}))
    ticket = escalate(open_ticket(ticket_id="T9", subject="line", now=1).ticket, 5, reason="x")
    contact = ticket_contact(ticket.ticket)
    assert contact.attributes["level"] == 2
    engine.arrive(contact, "back-office")
    for agent in ("front", "tech"):
        engine.login(agent)
        engine.set_ready(agent)
    assert [(e.contact_id, e.agent_id) for e in stream.history(ContactOffered)] == [
        ("ticket:T9", "tech")
    ]


def test_tickets_have_their_own_capacity_beside_emails() -> None:
    """Ticket work is counted on its own channel: an agent with room for one
    e-mail and two tickets is offered both e-mails' first and two tickets at
    once, and a third ticket waits for a ticket slot, not an e-mail slot."""
    engine, stream = _engine()
    engine.add_agent(_agent("bo1"))
    for n in range(3):
        ticket = open_ticket(ticket_id=f"T{n}", subject="s", now=n).ticket
        engine.arrive(ticket_contact(ticket), "back-office")
    for n in range(2):
        engine.arrive(Contact(id=f"mail{n}", channel=Channel.EMAIL), "back-office")
    engine.login("bo1")
    engine.set_ready("bo1")
    offered = sorted(e.contact_id for e in stream.history(ContactOffered))
    assert offered == ["mail0", "ticket:T0", "ticket:T1"]
    assert engine.agent_status("bo1").load == {Channel.TICKET: 2, Channel.EMAIL: 1}
