"""A call-center process for the recovery test (run as a script, not collected).

``hold URL SCHEMA``: accepts 1,000 e-mails (the ACD's ``Contact``, stored as
waiting records), 1,000 callbacks and 1,000 tickets, acknowledging each batch
on stdout (one JSON line per item, with its times) only after the batch is
committed; prints ``READY`` and keeps accepting extra e-mails in batches of 10
until it is killed.

``recover URL SCHEMA``: starts again on the same database, re-submits the
first 100 items of each kind (a client retrying after the crash), and prints
everything the store holds as one JSON object, with the ids of any e-mail
whose rebuilt ``Contact`` differs from the one accepted, and the ACD engine's
view of the e-mails once restored into it in reverse order (``engine``: id
and entered time in the queue's service order).
"""

from __future__ import annotations

import itertools
import json
import sys

from callcenter_sdk import WallClock
from callcenter_sdk.acd import Channel, Contact, Engine, Queue, SkillRequirement
from callcenter_sdk.store import (
    CallbackRecord,
    PendingWork,
    WaitingContactRecord,
    contact_from_record,
    create_store,
    restore_waiting,
    waiting_record,
)
from callcenter_sdk.tickets import Ticket, TicketRepository, open_ticket

COUNT = 1000
BATCH = 50


def _contact(i: int) -> Contact:
    return Contact(
        id=f"mail-{i}",
        channel="email",
        caller_id=f"customer{i}@example.org",
        priority=i % 3,
        requirements=[SkillRequirement("billing", 1 + i % 5)],
        attributes={"subject": f"help {i}"},
    )


def _email(i: int, now: float) -> WaitingContactRecord:
    return waiting_record(_contact(i), queue="support", arrived_at=now)


def _callback(i: int, now: float) -> CallbackRecord:
    return CallbackRecord(
        callback_id=f"cb-{i}",
        phone=f"+331426{i:05d}",
        queue="support",
        requested_at=now,
        due_at=now + 600 + i,
    )


def _ticket(i: int, now: float) -> Ticket:
    return open_ticket(ticket_id=f"T-{i}", subject=f"problem {i}", now=now).ticket


def _ack(kind: str, key: str, at: float) -> None:
    print(json.dumps({"kind": kind, "id": key, "at": at}))


def hold(url: str, schema: str | None) -> None:
    """Accept and acknowledge work, then keep writing until killed."""
    clock = WallClock()
    store = create_store(url, schema=schema)
    work = PendingWork(store)
    tickets = TicketRepository(store)
    for start in range(0, COUNT, BATCH):
        indexes = range(start, start + BATCH)
        emails = [_email(i, clock.now()) for i in indexes]
        work.put_waiting(*emails)
        for email in emails:
            _ack("email", email.contact_id, email.arrived_at)
        callbacks = [_callback(i, clock.now()) for i in indexes]
        work.put_callbacks(*callbacks)
        for callback in callbacks:
            _ack("callback", callback.callback_id, callback.requested_at)
        opened = [_ticket(i, clock.now()) for i in indexes]
        tickets.save(*opened)
        for ticket in opened:
            _ack("ticket", ticket.ticket_id, ticket.opened_at)
        sys.stdout.flush()
    print("READY", flush=True)
    for batch in itertools.count():
        work.put_waiting(*(_email(COUNT + batch * 10 + k, clock.now()) for k in range(10)))


def recover(url: str, schema: str | None) -> None:
    """Start again, let clients retry, and dump what the store holds."""
    store = create_store(url, schema=schema)
    work = PendingWork(store)
    tickets = TicketRepository(store)
    retry_at = 0.0  # a retry carries new times: the stored originals must win
    work.put_waiting(*(_email(i, retry_at) for i in range(100)))
    work.put_callbacks(*(_callback(i, retry_at) for i in range(100)))
    held = {t.ticket_id for t in tickets.active()}
    tickets.save(*(_ticket(i, retry_at) for i in range(100) if f"T-{i}" not in held))
    waiting = work.waiting()
    dump = {
        "email": [[c.contact_id, c.arrived_at] for c in waiting],
        "changed": [
            c.contact_id
            for c in waiting
            if contact_from_record(c) != _contact(int(c.contact_id.removeprefix("mail-")))
        ],
        "callback": [[c.callback_id, c.requested_at] for c in work.callbacks()],
        "ticket": [[t.ticket_id, t.opened_at] for t in tickets.active()],
        "engine": _engine_view(waiting),
    }
    print(json.dumps(dump))


def _engine_view(waiting: list[WaitingContactRecord]) -> list[list[object]]:
    """Restore the e-mails into an ACD engine (backwards) and read its queue back."""
    engine = Engine(clock=WallClock())
    engine.add_queue(Queue(name="support", channels=[Channel.EMAIL]))
    restore_waiting(engine, reversed(waiting))
    return [
        [cid, engine.contact_status(cid).entered_at] for cid in engine.waiting_contacts("support")
    ]


if __name__ == "__main__":
    mode, url, schema = sys.argv[1], sys.argv[2], sys.argv[3] or None
    (hold if mode == "hold" else recover)(url, schema)
