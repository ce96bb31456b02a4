"""The same limits on SQLite and PostgreSQL, through every repository's write path.

One table of bad values runs against both databases (the ``store`` fixture):
each must raise the same ValidationError, with the same message, before any
SQL, so what the embedded default accepts, production accepts too. Values at
exactly the limit must be stored and read back identical on both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest

from callcenter_sdk import ValidationError
from callcenter_sdk.cti import Customer, CustomerDirectory
from callcenter_sdk.kb import Article, KnowledgeBase
from callcenter_sdk.kpi import ContactRecord
from callcenter_sdk.store import (
    AgentSessions,
    CallbackRecord,
    ContactRecords,
    Documents,
    EventLog,
    OutboundAttempt,
    OutboundEntry,
    OutboundLists,
    PendingWork,
    Store,
    WaitingContactRecord,
)
from callcenter_sdk.store import _limits as limits
from callcenter_sdk.store._rows import (
    AgentSessionRow,
    CallbackRow,
    ContactRecordRow,
    CustomerRow,
    OrgDocumentRow,
    OutboundAttemptRow,
    OutboundEntryRow,
    OutboundListRow,
    TicketContactRow,
    TicketNoteRow,
    TicketRow,
    WaitingContactRow,
)
from callcenter_sdk.tickets import Note, TicketNoteAdded, TicketRepository, open_ticket

NAN = float("nan")
BIG = 2**70


def _email(**fields: Any) -> WaitingContactRecord:
    values: dict[str, Any] = {
        "contact_id": "mail-1",
        "channel": "email",
        "queue": "support",
        "arrived_at": 1.0,
    }
    return WaitingContactRecord(**{**values, **fields})


def _callback(**fields: Any) -> CallbackRecord:
    values: dict[str, Any] = {
        "callback_id": "cb-1",
        "phone": "+33142000000",
        "queue": "q",
        "requested_at": 1.0,
        "due_at": 2.0,
    }
    return CallbackRecord(**{**values, **fields})


def _ticket(**fields: Any) -> Any:
    return attrs.evolve(open_ticket(ticket_id="T-1", subject="s", now=0).ticket, **fields)


def _outbound(store: Store) -> OutboundLists:
    lists = OutboundLists(store)
    lists.create("L-1", campaign="c", name="n", at=0)
    return lists


Write = Callable[[Store], object]

BAD: list[tuple[str, Write, str]] = [
    (
        "a 65-character contact id",
        lambda s: PendingWork(s).put_waiting(_email(contact_id="c" * 65)),
        "WaitingContactRecord.contact_id is 65 characters long; the limit is 64 characters",
    ),
    (
        "a 100k-character ticket id",
        lambda s: TicketRepository(s).save(_ticket(ticket_id="t" * 100_000)),
        "Ticket.ticket_id is 100000 characters long; the limit is 64 characters",
    ),
    (
        "a 10 MB subject",
        lambda s: TicketRepository(s).save(_ticket(subject="s" * 10_000_000)),
        "Ticket.subject is 10000000 characters long; the limit is 300 characters",
    ),
    (
        "a description over 100,000 characters",
        lambda s: TicketRepository(s).save(_ticket(description="d" * 100_001)),
        "Ticket.description is 100001 characters long; the limit is 100000 characters",
    ),
    (
        "a NUL in a note",
        lambda s: TicketRepository(s).save(_ticket(notes=[Note(at=0, author="a", text="x\x00")])),
        r"Ticket.notes\[0\].text contains a NUL character",
    ),
    (
        "customer_id = 2**70 on a ticket",
        lambda s: TicketRepository(s).save(_ticket(customer_id=BIG)),
        "Ticket.customer_id is 72 bits long .signed.; the limit is a signed 64-bit integer",
    ),
    (
        "customer_id = 2**70 on a waiting contact",
        lambda s: PendingWork(s).put_waiting(_email(customer_id=BIG)),
        "WaitingContactRecord.customer_id is 72 bits long .signed.; the limit is a signed 64-bit",
    ),
    (
        "a priority past 32 bits",
        lambda s: PendingWork(s).put_waiting(_email(priority=2**31)),
        "WaitingContactRecord.priority is 33 bits long .signed.; the limit is a signed 32-bit",
    ),
    (
        "a NaN arrival time",
        lambda s: PendingWork(s).put_waiting(_email(arrived_at=NAN)),
        "WaitingContactRecord.arrived_at must be a finite number",
    ),
    (
        "a NUL in contact data",
        lambda s: PendingWork(s).put_waiting(_email(data={"subject": "a\x00b"})),
        "WaitingContactRecord.data contains a NUL character",
    ),
    (
        "a 21-character callback phone",
        lambda s: PendingWork(s).put_callbacks(_callback(phone="+" + "3" * 20)),
        "CallbackRecord.phone is 21 characters long; the limit is 20 characters",
    ),
    (
        "callback data over 1 MB",
        lambda s: PendingWork(s).put_callbacks(_callback(data={"x": "y" * 1_000_000})),
        "CallbackRecord.data is 1000009 bytes of JSON; the limit is 1000000 bytes",
    ),
    (
        "infinity in event data",
        lambda s: EventLog(s).append(
            TicketNoteAdded(at=float("inf"), ticket_id="t", author="a", internal=False)
        ),
        "Event.at must be a finite number",
    ),
    (
        "a NUL in an event payload",
        lambda s: EventLog(s).append(
            TicketNoteAdded(at=0, ticket_id="t", author="a\x00", internal=False)
        ),
        "ticket.note_added payload contains a NUL character",
    ),
    (
        "a 65-character contact record id",
        lambda s: ContactRecords(s).save(
            ContactRecord(contact_id="r" * 65, outcome="abandoned", arrived_at=0, ended_at=1)
        ),
        "ContactRecord.contact_id is 65 characters long; the limit is 64 characters",
    ),
    (
        "a NUL in an agent id",
        lambda s: AgentSessions(s).start("ag\x00", at=0),
        "agent_id contains a NUL character",
    ),
    (
        "NaN in session data",
        lambda s: AgentSessions(s).start("ag", at=0, data={"seat": NAN}),
        "AgentSession.data holds nan, which JSON cannot carry",
    ),
    (
        "a 201-character document key",
        lambda s: Documents(s).put("k" * 201, {}, at=0, expected_version=None),
        "Document.key is 201 characters long; the limit is 200 characters",
    ),
    (
        "document content nested too deep",
        lambda s: Documents(s).put("k", _nested(70), at=0, expected_version=None),
        "Document.content is nested deeper than the limit of 64 levels",
    ),
    (
        "a 201-character list name",
        lambda s: OutboundLists(s).create("L-1", campaign="c", name="n" * 201, at=0),
        "name is 201 characters long; the limit is 200 characters",
    ),
    (
        "a 21-character outbound number",
        lambda s: _outbound(s).add("L-1", OutboundEntry(phone="3" * 21)),
        "OutboundEntry.phone is 21 characters long; the limit is 20 characters",
    ),
    (
        "a 51-character attempt outcome",
        lambda s: _outbound(s).record_attempt(
            "L-1", OutboundAttempt(phone="+33142000000", at=0, outcome="o" * 51)
        ),
        "OutboundAttempt.outcome is 51 characters long; the limit is 50 characters",
    ),
    (
        "a 201-character customer name",
        lambda s: CustomerDirectory(s).save(Customer(number="C1", name="n" * 201)),
        "Customer.name is 201 characters long; the limit is 200 characters",
    ),
    (
        "a NUL in a customer number",
        lambda s: CustomerDirectory(s).save(Customer(number="C\x001", name="n")),
        "Customer.number contains a NUL character",
    ),
    (
        "a lone surrogate in customer attributes",
        lambda s: CustomerDirectory(s).save(
            Customer(number="C1", name="n", attributes={"x": "\ud800"})
        ),
        "Customer.attributes is not valid Unicode text",
    ),
    (
        "a 1,001-character question",
        lambda s: KnowledgeBase(s).add(Article(question="q" * 1001, solution="s")),
        "Article.question is 1001 characters long; the limit is 1000 characters",
    ),
    (
        "a NUL in a tag",
        lambda s: KnowledgeBase(s).add(Article(question="q", solution="s", tags=["a\x00"])),
        r"Article.tags\[0\] contains a NUL character",
    ),
]


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"x": value}
    return value


@pytest.mark.parametrize(
    ("write", "message"), [(w, m) for _, w, m in BAD], ids=[n for n, _, _ in BAD]
)
def test_a_bad_value_is_the_same_validation_error_on_both_databases(
    store: Store, write: Write, message: str
) -> None:
    """Each bad value is refused with a message naming the field, the limit and the size."""
    with pytest.raises(ValidationError, match=message):
        write(store)


def test_values_at_exactly_the_limits_are_stored_on_both_databases(store: Store) -> None:
    """The longest id, subject, text, phone, name and JSON, and the extreme integers, round-trip.

    Non-ASCII characters check that the limits count characters, as
    PostgreSQL's ``varchar(n)`` does, not bytes.
    """
    with store.transaction("the largest customer id") as session:
        session.add(CustomerRow(id=2**63 - 1, number="C-max", name="max", attributes={}))
    json_at_limit = {"s": "x" * (limits.JSON_BYTES - len('{"s": ""}'))}
    work = PendingWork(store)
    email = _email(
        contact_id="é" * limits.ID,
        channel="c" * limits.CHANNEL,
        queue="q" * limits.NAME,
        priority=2**31 - 1,
        customer_id=2**63 - 1,
        arrived_at=1.7e308,
        data=json_at_limit,
    )
    work.put_waiting(email)
    assert work.waiting() == [email]
    callback = _callback(phone="+" + "3" * (limits.PHONE - 1), attempts=-(2**31))
    work.put_callbacks(callback)
    assert work.callbacks() == [callback]

    tickets = TicketRepository(store)
    ticket = _ticket(
        ticket_id="t" * limits.ID,
        subject="é" * limits.SUBJECT,
        description="ü" * limits.TEXT,
        category="c" * limits.NAME,
        contact_ids=["c" * limits.ID],
        notes=[Note(at=1, author="a" * limits.NAME, text="n" * limits.TEXT)],
    )
    (saved,) = tickets.save(ticket)
    assert tickets.get(ticket.ticket_id) == saved == ticket

    log = EventLog(store)
    event = TicketNoteAdded(at=-1.7e308, ticket_id="t", author="é" * 50_000, internal=True)
    log.append(event)
    assert [e.event for e in log.read()] == [event]

    record = ContactRecord(
        contact_id="r" * limits.ID,
        outcome="answered",
        arrived_at=0,
        answered_at=1,
        ended_at=2,
        agent="a" * limits.NAME,
        queue="q" * limits.NAME,
        customer="c" * limits.ID,
    )
    ContactRecords(store).save(record)
    assert ContactRecords(store).get(record.contact_id) == record

    sessions = AgentSessions(store)
    sessions.start("a" * limits.ID, at=0, data={"seat": "s" * 1000})
    assert [s.agent_id for s in sessions.open_sessions()] == ["a" * limits.ID]

    documents = Documents(store)
    documents.put("k" * limits.KEY, _nested(limits.JSON_DEPTH - 1), at=0, expected_version=0)
    assert documents.get("k" * limits.KEY).content == _nested(limits.JSON_DEPTH - 1)

    lists = OutboundLists(store)
    lists.create("l" * limits.ID, campaign="c" * limits.NAME, name="n" * limits.TITLE, at=0)
    entry = OutboundEntry(phone="3" * limits.PHONE, customer="c" * limits.ID, priority=2**31 - 1)
    lists.add("l" * limits.ID, entry)
    assert lists.entries("l" * limits.ID) == [entry]
    attempt = OutboundAttempt(phone="3" * limits.PHONE, at=0, outcome="o" * limits.OUTCOME)
    lists.record_attempt("l" * limits.ID, attempt)
    assert lists.attempts("l" * limits.ID) == [attempt]

    directory = CustomerDirectory(store)
    customer = directory.save(
        Customer(
            number="n" * limits.ID,
            name="é" * limits.TITLE,
            email="e" * (limits.EMAIL - 4) + "@x.f",
            phones=["+33142000000"],
        )
    )
    assert directory.by_number("n" * limits.ID) == customer

    kb = KnowledgeBase(store)
    article = kb.add(
        Article(
            question="why " * (limits.QUESTION // 4),
            solution="reboot " * (limits.TEXT // 7),
            diagnostics=["d" * limits.QUESTION],
            tags=["t" * limits.TAG],
        )
    )
    assert kb.get(article.article_id) == article


@pytest.mark.parametrize(
    ("column", "limit"),
    [
        (WaitingContactRow.contact_id, limits.ID),
        (WaitingContactRow.channel, limits.CHANNEL),
        (WaitingContactRow.queue, limits.NAME),
        (WaitingContactRow.claimed_by, limits.ID),
        (CallbackRow.callback_id, limits.ID),
        (CallbackRow.phone, limits.PHONE),
        (CallbackRow.queue, limits.NAME),
        (CallbackRow.claimed_by, limits.ID),
        (TicketRow.ticket_id, limits.ID),
        (TicketRow.subject, limits.SUBJECT),
        (TicketRow.category, limits.NAME),
        (TicketNoteRow.author, limits.NAME),
        (TicketContactRow.contact_id, limits.ID),
        (ContactRecordRow.contact_id, limits.ID),
        (ContactRecordRow.customer, limits.ID),
        (ContactRecordRow.queue, limits.NAME),
        (ContactRecordRow.agent, limits.NAME),
        (AgentSessionRow.agent_id, limits.ID),
        (OrgDocumentRow.key, limits.KEY),
        (OutboundListRow.list_id, limits.ID),
        (OutboundListRow.campaign, limits.NAME),
        (OutboundListRow.name, limits.TITLE),
        (OutboundEntryRow.phone, limits.PHONE),
        (OutboundEntryRow.customer, limits.ID),
        (OutboundAttemptRow.outcome, limits.OUTCOME),
        (CustomerRow.number, limits.ID),
        (CustomerRow.name, limits.TITLE),
        (CustomerRow.email, limits.EMAIL),
    ],
    ids=str,
)
def test_each_limit_fits_its_column(column: Any, limit: int) -> None:
    """No limit is wider than the column it guards: PostgreSQL would refuse what passed."""
    assert column.type.length >= limit
