"""Events and the ordered event stream."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import ClassVar

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import callcenter_sdk as cc


class Mood(enum.Enum):
    CALM = "calm"
    ANGRY = "angry"


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class Sampled(cc.Event):
    kind: ClassVar[str] = "test.sampled"

    contact_id: str
    mood: Mood = attrs.field(converter=Mood)
    tags: tuple[str, ...] = attrs.field(converter=_strings, default=())


def test_kind_is_registered_and_stable() -> None:
    """A subclass is found by its kind, whatever its class name."""
    assert cc.event_kinds()["test.sampled"] is Sampled


def test_a_second_class_cannot_steal_a_kind() -> None:
    """Two event classes with one kind would corrupt the stored log."""
    with pytest.raises(cc.ValidationError, match="already used"):

        @attrs.frozen(kw_only=True)
        class Impostor(cc.Event):
            kind: ClassVar[str] = "test.sampled"


@given(
    at=st.floats(min_value=0, max_value=2e9, allow_nan=False),
    contact=st.text(max_size=20),
    mood=st.sampled_from(Mood),
    tags=st.lists(st.text(max_size=5), max_size=4),
)
def test_events_round_trip_through_plain_data(
    at: float, contact: str, mood: Mood, tags: list[str]
) -> None:
    """event_from_dict(event_to_dict(e)) == e for any field values."""
    event = Sampled(at=at, contact_id=contact, mood=mood, tags=tuple(tags))
    data = cc.event_to_dict(event)
    assert data["kind"] == "test.sampled"
    assert data["mood"] == mood.value
    assert cc.event_from_dict(data) == event


def test_unknown_kind_is_a_lookup_error() -> None:
    """Data of a kind this process does not know is refused clearly."""
    with pytest.raises(cc.NotFoundError, match=r"no\.such"):
        cc.event_from_dict({"kind": "no.such", "at": 0.0})


def test_stream_orders_events_and_survives_a_failing_subscriber(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Subscribers see every event in publication order with consecutive
    sequence numbers, even when another subscriber raises."""
    stream = cc.EventStream(keep=True)
    seen: list[tuple[int, cc.Event]] = []

    def broken(seq: int, event: cc.Event) -> None:
        raise RuntimeError("wallboard down")

    stream.subscribe(broken)
    sub = stream.subscribe(lambda seq, event: seen.append((seq, event)))
    events = [Sampled(at=float(i), contact_id=f"c{i}", mood=Mood.CALM) for i in range(5)]
    for event in events:
        stream.publish(event)
    assert seen == list(enumerate(events, start=1))
    assert "wallboard down" in caplog.text
    sub.cancel()
    sub.cancel()
    stream.publish(events[0])
    assert len(seen) == 5
    assert stream.last_seq == 6
    assert stream.history(Sampled) == [*events, events[0]]
