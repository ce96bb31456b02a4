"""The append-only event log: round trips, batching, durability and order."""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcenter_sdk import Event, EventStream, StoreError, ValidationError
from callcenter_sdk.store import EventLog, Store


class Mood(enum.Enum):
    """An enum field, to prove enums survive the JSON round trip."""

    CALM = "calm"
    ANGRY = "angry"


def _strings(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class SampleHappened(Event):
    """A test event with the field types real events use.

    Attributes:
        contact_id: A string id.
        mood: An enum, stored by value.
        skills: A tuple, stored as a list.
        wait: A float.
    """

    kind: ClassVar[str] = "test.store_sample"

    contact_id: str
    mood: Mood = attrs.field(converter=Mood)
    skills: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    wait: float = 0.0


@attrs.frozen(kw_only=True)
class OtherHappened(Event):
    """A second kind, to filter on."""

    kind: ClassVar[str] = "test.store_other"


def _sample(i: int) -> SampleHappened:
    return SampleHappened(
        at=100.0 + i / 8,
        contact_id=f"c{i}",
        mood=Mood.ANGRY,
        skills=("fr", "billing"),
        wait=i * 0.5,
    )


def test_durable_append_is_readable_at_once(store: Store) -> None:
    """In durable mode an appended event is committed when append returns."""
    log = EventLog(store)
    log.append(_sample(1))
    assert log.pending == 0
    assert [e.event for e in EventLog(store).read()] == [_sample(1)]


def test_batched_append_writes_only_when_flushed_or_full(store: Store) -> None:
    """Batched mode buffers events until the batch is full or flush is called."""
    log = EventLog(store, durable=False, batch_size=3)
    log.append(_sample(1))
    log.append(_sample(2))
    assert log.pending == 2
    assert log.read() == []
    log.append(_sample(3))
    assert log.pending == 0
    assert len(log.read()) == 3
    log.append(_sample(4))
    assert log.flush() == 1
    assert [e.event for e in log.read()] == [_sample(i) for i in range(1, 5)]


def test_read_resumes_after_a_checkpoint_and_filters_kinds(store: Store) -> None:
    """Consumers resume after the last seq they saw, optionally for some kinds only."""
    log = EventLog(store)
    log.extend([_sample(1), OtherHappened(at=101.0), _sample(2), OtherHappened(at=102.0)])
    everything = log.read()
    assert [e.seq for e in everything] == sorted(e.seq for e in everything)
    assert log.last_seq() == everything[-1].seq
    after_first = log.read(after=everything[0].seq)
    assert [e.event for e in after_first] == [e.event for e in everything[1:]]
    others = log.read(kinds=["test.store_other"])
    assert [e.event for e in others] == [OtherHappened(at=101.0), OtherHappened(at=102.0)]
    assert len(log.read(limit=2)) == 2


def test_read_back_pages_from_the_end_newest_first_and_since_filters_on_time(
    store: Store,
) -> None:
    """read_back returns the newest events first, a page before a seq at a time, filtered by
    kind and time as read is; the pages, joined and reversed, are the log; read's since keeps
    the events at or after that time."""
    log = EventLog(store)
    log.extend([_sample(i) for i in range(7)] + [OtherHappened(at=200.0)])
    everything = log.read()
    samples = [e for e in everything if e.event.kind == "test.store_sample"]
    pages, before = [], None
    while page := log.read_back(before=before, limit=3, kinds=["test.store_sample"]):
        pages.append(page)
        before = page[-1].seq
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [e for page in pages for e in page][::-1] == samples
    assert log.read_back(limit=1)[0] == everything[-1]
    assert [e.event for e in log.read_back(limit=9, since=100.5)][::-1] == [
        _sample(i) for i in range(4, 7)
    ] + [OtherHappened(at=200.0)]
    assert [e.event for e in log.read(since=100.5, kinds=["test.store_sample"])] == [
        _sample(i) for i in range(4, 7)
    ]


def test_read_back_of_some_contacts_gives_only_their_events(store: Store) -> None:
    """read_back with ``contacts`` returns only the events whose payload names one of them
    (an event without a contact id is left out), newest first, with the other filters and
    pages as without it (the database filters, on SQLite and PostgreSQL alike)."""
    log = EventLog(store)
    log.extend([_sample(i) for i in range(7)] + [OtherHappened(at=200.0)])
    wanted = log.read_back(limit=10, contacts=["c2", "c5", "c9"])
    assert [e.event for e in wanted] == [_sample(5), _sample(2)]
    first = log.read_back(limit=1, contacts={"c2", "c5"}, kinds=["test.store_sample"])
    assert [e.event for e in first] == [_sample(5)]
    older = log.read_back(before=first[0].seq, limit=5, contacts={"c2", "c5"})
    assert [e.event for e in older] == [_sample(2)]
    assert log.read_back(limit=5, contacts=["c5"], since=101.0) == []


def test_attach_logs_everything_published_on_a_stream(store: Store) -> None:
    """An event log subscribed to a stream persists what the core publishes."""
    stream = EventStream()
    log = EventLog(store)
    log.attach(stream)
    stream.publish(_sample(7))
    stream.publish(OtherHappened(at=5.0))
    assert [e.event for e in log.read()] == [_sample(7), OtherHappened(at=5.0)]


def test_a_failed_flush_keeps_the_batch_for_the_next_attempt(store: Store) -> None:
    """Events that could not be written are not silently dropped from the buffer."""
    log = EventLog(store, durable=False, batch_size=10)
    log.append(_sample(1))
    store.close()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE events RENAME TO events_gone")
    with pytest.raises(StoreError):
        log.flush()
    assert log.pending == 1
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE events_gone RENAME TO events")
    assert log.flush() == 1
    assert [e.event for e in log.read()] == [_sample(1)]


def test_batch_size_must_be_positive(store: Store) -> None:
    """A batch of zero events would never flush: refused."""
    with pytest.raises(ValidationError):
        EventLog(store, batch_size=0)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    waits=st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=20),
    batch=st.integers(min_value=1, max_value=7),
)
def test_any_sequence_reads_back_identical_and_in_order(
    store: Store, waits: list[float], batch: int
) -> None:
    """Whatever the batch size, the log returns exactly what was appended, in order."""
    log = EventLog(store, durable=False, batch_size=batch)
    start = log.last_seq()
    events = [
        SampleHappened(at=float(i), contact_id=f"h{i}", mood="calm", wait=w)
        for i, w in enumerate(waits)
    ]
    for event in events:
        log.append(event)
    log.flush()
    assert [e.event for e in log.read(after=start)] == events
