"""Contact records and agent intervals: validation and derived figures."""

from __future__ import annotations

import math

import pytest

from callcenter_sdk import RecordError
from callcenter_sdk.kpi import (
    AgentInterval,
    Channel,
    ContactRecord,
    Direction,
    IntervalState,
    Outcome,
)


def test_answered_record_derives_wait_and_handle() -> None:
    """Wait runs from arrival to answer; handle time is talk + hold + wrap."""
    rec = ContactRecord(
        contact_id="c1",
        outcome="answered",
        arrived_at=100.0,
        answered_at=112.5,
        ended_at=300.0,
        talk_s=150.0,
        hold_s=20.0,
        wrap_s=30.0,
    )
    assert rec.channel is Channel.VOICE
    assert rec.direction is Direction.INBOUND
    assert rec.answered
    assert not rec.abandoned
    assert rec.wait_s == pytest.approx(12.5)
    assert rec.handle_s == pytest.approx(200.0)


def test_abandoned_wait_runs_to_the_hang_up_and_waiting_has_none() -> None:
    """An abandon's wait ends when the caller left; a live waiting contact has no wait yet."""
    gone = ContactRecord(contact_id="c", outcome=Outcome.ABANDONED, arrived_at=10, ended_at=17)
    assert gone.abandoned
    assert gone.wait_s == 7
    live = ContactRecord(contact_id="d", outcome="waiting", arrived_at=10)
    assert live.wait_s is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcome": "answered", "arrived_at": 10, "answered_at": 5}, "before arrived_at"),
        (
            {"outcome": "answered", "arrived_at": 10, "answered_at": 12, "ended_at": 11},
            "before answered_at",
        ),
        ({"outcome": "abandoned", "arrived_at": 10, "ended_at": 9}, "before arrived_at"),
        ({"outcome": "answered", "arrived_at": 10, "talk_s": -1}, "talk_s"),
        ({"outcome": "answered", "arrived_at": 10}, "needs answered_at"),
        ({"outcome": "abandoned", "arrived_at": 10, "answered_at": 11}, "contradicts"),
        ({"outcome": "waiting", "arrived_at": 10, "ended_at": 11}, "contradicts"),
        ({"outcome": "dropped", "arrived_at": 10}, "only for outbound"),
        ({"outcome": "nope", "arrived_at": 10}, "not one of"),
        ({"outcome": "abandoned", "arrived_at": math.nan}, "finite"),
        ({"outcome": "abandoned", "arrived_at": 1, "channel": "fax"}, "channel"),
    ],
)
def test_inconsistent_records_raise_record_error(kwargs: dict[str, object], message: str) -> None:
    """Every contradiction is a RecordError whose message names the problem and the contact."""
    with pytest.raises(RecordError, match=message) as info:
        ContactRecord(contact_id="bad", **kwargs)  # type: ignore[arg-type]
    assert "bad" in str(info.value) or "not one of" in message or "channel" in message


def test_outbound_connect_delay() -> None:
    """The two-second rule counts from the end of the greeting; no agent means infinite delay."""
    late = ContactRecord(
        contact_id="o1",
        direction="outbound",
        outcome="answered",
        arrived_at=0,
        greeting_ended_at=20,
        answered_at=23,
    )
    assert late.connect_delay_s == 3
    dropped = ContactRecord(
        contact_id="o2", direction="outbound", outcome="dropped", arrived_at=0, ended_at=25
    )
    assert dropped.is_live_answer
    assert dropped.connect_delay_s == math.inf
    machine = ContactRecord(
        contact_id="o3", direction="outbound", outcome="machine", arrived_at=0, ended_at=5
    )
    assert machine.connect_delay_s is None


def test_agent_interval_validation_and_duration() -> None:
    """An interval may be open (runs to now) and may not end before it starts."""
    closed = AgentInterval(agent="a", state="busy", start=10, end=40)
    assert closed.state is IntervalState.BUSY
    assert closed.duration_s() == 30
    open_ = AgentInterval(agent="a", state=IntervalState.READY, start=40)
    assert open_.duration_s() == 0
    assert open_.duration_s(now=55) == 15
    with pytest.raises(RecordError, match="before start"):
        AgentInterval(agent="a", state="busy", start=10, end=9)
    with pytest.raises(RecordError, match="state"):
        AgentInterval(agent="a", state="lunch", start=10)
