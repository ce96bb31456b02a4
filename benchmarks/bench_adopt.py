"""What a new cluster leader reads to give written work in hand back to its agents, on PostgreSQL.

A log of ``EVENTS`` contact events (chats entering the queue, answered and
completed, one a second, as a day's log holds them) and ``OPEN`` stored
contacts to place (see ``_read`` for the three cases). The leader reads the
log back from its end, newest first, a page at a time, down to its bound
(the continuing agents' earliest last idle state), until each is placed
(``InHandReader``, the same pages, kinds and stop as ``TermStart.in_hand_of``).
Each case is read twice in the same run: ``unfiltered`` reads every contact
event of the stretch (the baseline: how the leader read before the database
filtered by contact) and ``filtered`` only the open contacts' events
(``EventLog.read_back(contacts=...)``, as ``TermStart`` reads now);
``*_s`` is the time, ``*_events`` how many events were decoded, ``*_ratio``
unfiltered over filtered.

Run: ``CALLCENTER_TEST_POSTGRESQL_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test
.venv/bin/python benchmarks/bench_adopt.py``.
"""

from __future__ import annotations

import json
import os
import time

from callcenter_sdk.acd import ContactCompleted, ContactConnected, ContactEnteredQueue
from callcenter_sdk.kpi import Channel, Direction
from callcenter_sdk.runtime._takeover import CONTACT_KINDS, InHandReader
from callcenter_sdk.runtime._term import PAGE
from callcenter_sdk.store import EventLog, temporary_store

POSTGRESQL_URL = os.environ.get(
    "CALLCENTER_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
EVENTS = 200_000
OPEN = 50


def _chat(log: EventLog, contact: str, at: float, *, complete: bool, answer: bool = True) -> None:
    log.append(
        ContactEnteredQueue(
            at=at, contact_id=contact, queue="chat", channel=Channel.CHAT,
            direction=Direction.INBOUND,
        )
    )  # fmt: skip
    if not answer:
        return
    log.append(ContactConnected(at=at, contact_id=contact, queue="chat", agent_id="a1", waited=0))
    if complete:
        log.append(
            ContactCompleted(
                at=at, contact_id=contact, queue="chat", agent_id="a1", talk_time=0, hold_time=0
            )
        )


def _read(where: str) -> dict[str, float | int]:
    """Seconds (and events) to place ``OPEN`` contacts, as ``where`` says.

    ``recent``: chats answered in the log's last minute, their agents idle
    just before (the read stops there); ``waiting``: e-mails waiting since the
    log's start, not in hand, the agents last idle a minute ago (the read
    stops there too, leaving them waiting); ``oldest``: chats in hand since
    the log's start, their agents busy ever since (the read goes back to
    them, through the whole log).
    """
    done = EVENTS // 3
    wanted = tuple(f"open{i}" for i in range(OPEN))
    recent = float(done)
    since = -60.0 if where == "oldest" else recent - 60.0
    with temporary_store(POSTGRESQL_URL) as store:
        log = EventLog(store, durable=False, batch_size=5_000)
        for i in range(OPEN if where != "recent" else 0):
            _chat(log, f"open{i}", 0.0, complete=False, answer=where == "oldest")
        for i in range(done):
            _chat(log, f"c{i}", float(i), complete=True)
        for i in range(OPEN if where == "recent" else 0):
            _chat(log, f"open{i}", recent, complete=False)
        log.flush()
        figures: dict[str, float | int] = {}
        for how, contacts in (("unfiltered", ()), ("filtered", wanted)):
            started = time.perf_counter()
            reader, read = _walk(log, since, contacts)
            took = time.perf_counter() - started
            assert len(reader.in_hand) == (0 if where == "waiting" else OPEN), reader.in_hand
            figures[f"{where}_{how}_s"] = round(took, 3)
            figures[f"{where}_{how}_events"] = read
        unfiltered, filtered = figures[f"{where}_unfiltered_s"], figures[f"{where}_filtered_s"]
        figures[f"{where}_ratio"] = round(unfiltered / max(filtered, 1e-6), 1)
    return figures


def _walk(log: EventLog, since: float, contacts: tuple[str, ...]) -> tuple[InHandReader, int]:
    """Place the open contacts as ``TermStart.in_hand_of`` does; the reader and events read.

    ``contacts`` empty: every contact event since ``since`` is read and
    decoded (the baseline); else only theirs (the database filters them).
    """
    reader = InHandReader(f"open{i}" for i in range(OPEN))
    before, read, finished = log.last_seq() + 1, 0, False
    while not finished:
        page = log.read_back(
            before=before, limit=PAGE, kinds=CONTACT_KINDS, since=since, contacts=contacts
        )
        for logged in page:
            read += 1
            if reader.feed(logged.event):
                finished = True
                break
        finished = finished or len(page) < PAGE
        before = page[-1].seq if page else before
    return reader, read


def main() -> None:
    """Print the figures as JSON (its last line)."""
    figures = {k: v for where in ("recent", "waiting", "oldest") for k, v in _read(where).items()}
    print(json.dumps({"events": EVENTS, "open": OPEN, **figures}))


if __name__ == "__main__":
    main()
