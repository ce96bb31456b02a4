"""The engine's unchecked constructors build the same values as the classes' own."""

from __future__ import annotations

import pickle
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import RecordError, acd, kpi
from callcenter_sdk.acd._unchecked import unchecked, unchecked_rows

# Every class the engine, its record fold and the simulator build unchecked,
# with converted values for each field.
_SAMPLES: list[tuple[type[Any], dict[str, Any]]] = [
    (
        acd.AgentStateChanged,
        {
            "at": 3.0,
            "agent_id": "a1",
            "state": acd.AgentState.BUSY,
            "previous": acd.AgentState.RESERVED,
            "reason": "connected",
            "queue": "q",
            "on_hold": False,
        },
    ),
    (
        acd.ContactOffered,
        {
            "at": 1.0,
            "contact_id": "c",
            "queue": "q",
            "agent_id": "a",
            "offer_id": "o1",
            "expires_at": 16.0,
        },
    ),
    (
        acd.Offer,
        {"offer_id": "o1", "contact_id": "c", "agent_id": "a", "queue": "q", "expires_at": 16.0},
    ),
    (
        acd.OfferRescinded,
        {
            "at": 1.0,
            "contact_id": "c",
            "queue": "q",
            "agent_id": "a",
            "offer_id": "o1",
            "reason": "x",
        },
    ),
    (acd.Rescind, {"offer_id": "o1", "contact_id": "c", "agent_id": "a"}),
    (
        acd.ContactEnteredQueue,
        {
            "at": 2.0,
            "contact_id": "c",
            "queue": "q",
            "channel": kpi.Channel.CHAT,
            "direction": kpi.Direction.OUTBOUND,
            "caller_id": "+33",
            "priority": 2,
            "position": 3,
            "estimated_wait": 40.0,
            "service_level_threshold": 30.0,
            "entered_at": 1.5,
        },
    ),
    (acd.Announce, {"contact_id": "c", "queue": "q", "position": 1, "estimated_wait": 0.0}),
    (
        acd.ContactConnected,
        {"at": 2.0, "contact_id": "c", "queue": "q", "agent_id": "a", "waited": 1.0},
    ),
    (
        acd.ContactCompleted,
        {
            "at": 9.0,
            "contact_id": "c",
            "queue": "q",
            "agent_id": "a",
            "talk_time": 5.0,
            "hold_time": 1.0,
            "ended_by": acd.EndedBy.CALLER,
        },
    ),
    (
        acd.ContactAbandoned,
        {"at": 9.0, "contact_id": "c", "queue": "q", "waited": 4.0, "ringing": True},
    ),
    (
        acd.OfferAccepted,
        {"at": 2.0, "contact_id": "c", "queue": "q", "agent_id": "a", "offer_id": "o1"},
    ),
    (acd.Connect, {"contact_id": "c", "agent_id": "a"}),
    (
        kpi.ContactRecord,
        {
            "contact_id": "c",
            "channel": kpi.Channel.VOICE,
            "direction": kpi.Direction.INBOUND,
            "outcome": kpi.Outcome.ANSWERED,
            "arrived_at": 1.0,
            "answered_at": 2.0,
            "ended_at": 9.0,
            "queue": "q",
            "agent": "a",
            "customer": "+33",
            "talk_s": 6.0,
            "hold_s": 1.0,
            "wrap_s": 5.0,
        },
    ),
    (
        kpi.AgentInterval,
        {"agent": "a", "state": kpi.IntervalState.WRAP_UP, "start": 9.0, "end": 14.0, "queue": "q"},
    ),
    (
        acd.Contact,
        {
            "id": "c",
            "channel": kpi.Channel.VOICE,
            "priority": 1,
            "requirements": (acd.SkillRequirement("fr", 2),),
        },
    ),
]


@pytest.mark.parametrize(("cls", "values"), _SAMPLES, ids=lambda x: getattr(x, "__name__", ""))
def test_an_unchecked_value_is_the_value_the_class_builds(
    cls: type[Any], values: dict[str, Any]
) -> None:
    """Built unchecked from converted values, each hot-path class gives an instance of
    that class equal to (same fields and repr; same hash and pickle round trip
    where the class has them) the one its own
    ``__init__`` builds; fields left out take the class's defaults."""
    fast = unchecked(cls)(**values)
    slow = cls(**values)
    assert type(fast) is cls
    assert attrs.asdict(fast, recurse=False) == attrs.asdict(slow, recurse=False)
    assert fast == slow
    assert repr(fast) == repr(slow)
    if cls is not acd.Contact:  # its attributes mapping can be neither hashed nor pickled
        assert hash(fast) == hash(slow)
        assert pickle.loads(pickle.dumps(fast)) == slow  # noqa: S301 - our own bytes
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.__setattr__(attrs.fields(cls)[0].name, None)


@given(
    at=st.floats(allow_nan=False, allow_infinity=False),
    agent=st.text(min_size=1, max_size=5),
    state=st.sampled_from(acd.AgentState),
    previous=st.sampled_from(acd.AgentState),
    reason=st.text(max_size=5),
    on_hold=st.booleans(),
)
def test_unchecked_agent_changes_equal_checked_ones(  # noqa: PLR0917 - hypothesis's arguments
    at: float,
    agent: str,
    state: acd.AgentState,
    previous: acd.AgentState,
    reason: str,
    on_hold: bool,
) -> None:
    """For any converted values, the engine's most frequent event built unchecked equals
    the one its class builds."""
    values: dict[str, Any] = {
        "at": at,
        "agent_id": agent,
        "state": state,
        "previous": previous,
        "reason": reason,
        "on_hold": on_hold,
    }
    assert unchecked(acd.AgentStateChanged)(**values) == acd.AgentStateChanged(**values)


def test_factory_defaults_are_made_and_converted_on_each_call() -> None:
    """A field with a factory default (a contact's attributes) gets a fresh, converted
    value each time it is left out, as ``__init__`` gives it."""
    build = unchecked(acd.Contact)
    first, second = build(id="a"), build(id="b")
    assert first.attributes == acd.Contact(id="a").attributes
    assert type(first.attributes) is type(acd.Contact(id="a").attributes)
    assert first.attributes is not second.attributes


def test_nothing_is_checked() -> None:
    """The unchecked constructor really skips the checks: a record ``__init__`` refuses
    (answered before it arrived) is built; only trusted values may go through it."""
    with pytest.raises(RecordError):
        kpi.ContactRecord(
            contact_id="c", outcome=kpi.Outcome.ANSWERED, arrived_at=5.0, answered_at=1.0
        )
    built = unchecked(kpi.ContactRecord)(
        contact_id="c", outcome=kpi.Outcome.ANSWERED, arrived_at=5.0, answered_at=1.0
    )
    assert built.answered_at == 1.0


def test_only_slotted_attrs_classes_are_accepted() -> None:
    """A class that is not a slotted attrs class is refused when the constructor is made."""

    class Plain:
        pass

    @attrs.define(slots=False)
    class Dicty:
        x: int

    for cls in (Plain, Dicty):
        with pytest.raises(TypeError, match="slotted attrs class"):
            unchecked(cls)


@pytest.mark.parametrize(("cls", "values"), _SAMPLES, ids=lambda x: getattr(x, "__name__", ""))
def test_values_come_back_from_rows_of_their_fields(cls: type[Any], values: dict[str, Any]) -> None:
    """Rows of every field in the class's order (as the replications' workers send
    them) come back as values equal to the ones they were read from, in order."""
    first = cls(**values)
    second = attrs.evolve(first, **{attrs.fields(cls)[0].name: "other"})
    rows = [tuple(getattr(v, f.name) for f in attrs.fields(cls)) for v in (first, second)]
    back = unchecked_rows(cls)(rows)
    assert back == [first, second]
    assert all(type(v) is cls for v in back)
