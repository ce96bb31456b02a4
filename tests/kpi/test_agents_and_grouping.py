"""Occupancy, utilization and grouping by interval and field."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.kpi import (
    AgentInterval,
    ContactRecord,
    IntervalState,
    group_intervals,
    group_records,
    interval_start,
    occupancy,
    state_seconds,
    utilization,
)
from callcenter_sdk.testing import agent_intervals, contact_records

MIN = 60.0


def hour_of_work() -> list[AgentInterval]:
    """The docs' example: 40 min busy, 5 wrap-up, 10 ready, 5 not ready, from 09:00."""
    start = 9 * 3600.0
    spans = [("busy", 40), ("wrap_up", 5), ("ready", 10), ("not_ready", 5)]
    out = []
    for state, minutes in spans:
        out.append(AgentInterval(agent="ann", state=state, start=start, end=start + minutes * MIN))
        start += minutes * MIN
    return out


def test_occupancy_and_utilization_worked_example() -> None:
    """Occupancy 45/55 and utilization 45/60, overall and per half hour."""
    ivs = hour_of_work()
    assert occupancy(ivs) == pytest.approx(45 / 55)
    assert utilization(ivs) == pytest.approx(45 / 60)
    # 09:00-09:30 is all busy; 09:30-10:00 has 10 busy, 5 wrap, 10 ready, 5 not ready.
    first = occupancy(ivs, start=9 * 3600, end=9.5 * 3600)
    second = occupancy(ivs, start=9.5 * 3600, end=10 * 3600)
    assert first == 1.0
    assert second == pytest.approx(15 / 25)
    assert occupancy([]) is None
    assert utilization([AgentInterval(agent="x", state="offline", start=0, end=10)]) is None


def test_open_intervals_run_to_now() -> None:
    """An open READY interval counts up to now, and not at all without now."""
    ivs = [
        AgentInterval(agent="a", state="busy", start=0, end=30),
        AgentInterval(agent="a", state="ready", start=30),
    ]
    assert occupancy(ivs) == 1.0
    assert occupancy(ivs, now=60) == pytest.approx(0.5)


@given(ivs=agent_intervals(), length=st.sampled_from([900.0, 1800.0, 3600.0]))
def test_splitting_by_interval_preserves_time(ivs: list[AgentInterval], length: float) -> None:
    """The pieces of every interval add up to its duration, each inside one reporting slot."""
    now = 10 * 3600.0
    groups = group_intervals(ivs, interval_s=length, now=now)
    per_state: dict[IntervalState, float] = dict.fromkeys(IntervalState, 0.0)
    for (slot, _agent), pieces in groups.items():
        assert isinstance(slot, float)
        for iv, lo, hi in pieces:
            assert slot <= lo <= hi <= slot + length
            per_state[iv.state] += hi - lo
    totals = state_seconds(ivs, now=now)
    for state in IntervalState:
        assert per_state[state] == pytest.approx(totals[state], abs=1e-6)


def test_group_records_by_interval_and_field() -> None:
    """Contacts go to the interval of their arrival, with field values in the key."""
    recs = [
        ContactRecord(
            contact_id="1", outcome="abandoned", arrived_at=1799, ended_at=1830, queue="a"
        ),
        ContactRecord(
            contact_id="2", outcome="abandoned", arrived_at=1800, ended_at=1830, queue="a"
        ),
        ContactRecord(
            contact_id="3", outcome="abandoned", arrived_at=1801, ended_at=1830, queue="b"
        ),
    ]
    groups = group_records(recs, by=("queue",), interval_s=1800)
    assert {k: [r.contact_id for r in v] for k, v in groups.items()} == {
        (0.0, "a"): ["1"],
        (1800.0, "a"): ["2"],
        (1800.0, "b"): ["3"],
    }
    assert interval_start(95.0, 60.0, origin=30.0) == 90.0
    with pytest.raises(ValidationError):
        group_records(recs, by=("colour",))
    with pytest.raises(ValidationError):
        interval_start(1.0, 0.0)


@given(records=contact_records())
def test_grouping_partitions_the_records(records: list[ContactRecord]) -> None:
    """Every record lands in exactly one group, and the group keys match its fields."""
    groups = group_records(records, by=("queue", "campaign"), interval_s=900)
    seen = [r for rs in groups.values() for r in rs]
    assert sorted(r.contact_id for r in seen) == sorted(r.contact_id for r in records)
    for (slot, queue, campaign), rs in groups.items():
        for r in rs:
            assert isinstance(slot, float)
            assert slot <= r.arrived_at < slot + 900 or math.isclose(r.arrived_at, slot + 900)
            assert (r.queue, r.campaign) == (queue, campaign)
