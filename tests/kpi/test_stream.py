"""The streaming aggregator agrees with the batch KPI functions."""

from __future__ import annotations

from collections.abc import Hashable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.kpi import (
    AgentInterval,
    ContactRecord,
    KpiStream,
    ServiceLevelVariant,
    abandon_rate,
    aht,
    asa,
    average_wait,
    current_longest_wait,
    group_intervals,
    group_records,
    longest_wait,
    occupancy,
    service_level,
    utilization,
)
from callcenter_sdk.testing import agent_intervals, contact_records


def close(a: float | None, b: float | None) -> bool:
    """Both None, or equal up to summation-order rounding."""
    if a is None or b is None:
        return a is b
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)


@given(
    records=contact_records(max_size=80),
    by=st.sampled_from([(), ("queue",), ("campaign", "agent"), ("team",)]),
    interval=st.sampled_from([None, 900.0, 1800.0, 3600.0]),
    threshold=st.sampled_from([0.0, 10.0, 20.0, 30.0]),
    short=st.sampled_from([0.0, 2.0, 5.0]),
)
def test_streaming_equals_batch(
    records: list[ContactRecord],
    by: tuple[str, ...],
    interval: float | None,
    threshold: float,
    short: float,
) -> None:
    """For any records and grouping, every streamed figure equals the batch function's."""
    stream = KpiStream(threshold_s=threshold, short_abandon_s=short, by=by, interval_s=interval)
    for r in records:
        stream.add(r)
    groups = group_records(records, by=by, interval_s=interval)
    now = 5 * 3600.0
    for key, rows in groups.items():
        fig = stream.figures(key)
        for variant in ServiceLevelVariant:
            expected = service_level(rows, threshold, variant, short_abandon_s=short)
            assert close(fig.service_level(variant), expected), variant
        assert close(
            fig.abandon_rate(exclude_short=True), abandon_rate(rows, short_abandon_s=short)
        )
        assert close(fig.abandon_rate(), abandon_rate(rows))
        assert close(fig.asa, asa(rows))
        assert close(fig.average_wait, average_wait(rows))
        assert close(fig.longest_wait_s, longest_wait(rows))
        assert close(fig.aht, aht(rows))
        assert close(stream.current_longest_wait(now, key), current_longest_wait(rows, now))
    assert set(stream.keys()) <= set(groups)


def test_waiting_contacts_leave_the_live_longest_wait() -> None:
    """A waiting contact counts in the current longest wait until its final record arrives."""
    stream = KpiStream(by=("queue",))
    stream.add(ContactRecord(contact_id="1", outcome="waiting", arrived_at=10, queue="q"))
    stream.add(ContactRecord(contact_id="2", outcome="waiting", arrived_at=20, queue="q"))
    assert stream.current_longest_wait(100, ("q",)) == 90
    stream.add(
        ContactRecord(contact_id="1", outcome="answered", arrived_at=10, answered_at=101, queue="q")
    )
    assert stream.current_longest_wait(110, ("q",)) == 90
    stream.add(
        ContactRecord(contact_id="2", outcome="abandoned", arrived_at=20, ended_at=111, queue="q")
    )
    assert stream.current_longest_wait(120, ("q",)) is None
    fig = stream.figures(("q",))
    assert (fig.offered, fig.answered, fig.abandoned) == (2, 1, 1)
    assert stream.figures(("nope",)).service_level() is None


def test_out_of_order_waiting_contacts() -> None:
    """An arrival older than those already waiting still becomes the longest wait."""
    stream = KpiStream()
    stream.add(ContactRecord(contact_id="late", outcome="waiting", arrived_at=50))
    stream.add(ContactRecord(contact_id="early", outcome="waiting", arrived_at=5))
    assert stream.current_longest_wait(60) == 55


def test_bad_grouping_is_refused() -> None:
    """Unknown group fields and negative thresholds raise ValidationError."""
    with pytest.raises(ValidationError):
        KpiStream(by=("colour",))
    with pytest.raises(ValidationError):
        KpiStream(threshold_s=-1)


@given(
    ivs=agent_intervals(agents=("ann", "bob", "eve")),
    by=st.sampled_from([(), ("agent",), ("queue",), ("agent", "queue")]),
    interval=st.sampled_from([None, 900.0, 3600.0]),
)
def test_streamed_occupancy_equals_batch(
    ivs: list[AgentInterval], by: tuple[str, ...], interval: float | None
) -> None:
    """Occupancy and utilization from streamed intervals equal the batch functions."""
    stream = KpiStream(by=by, interval_s=interval)
    for iv in ivs:
        stream.add_interval(iv)
    closed = [iv for iv in ivs if iv.end is not None]
    expected: dict[tuple[Hashable, ...], tuple[float | None, float | None]] = {}
    if interval is None:
        keys = {tuple(getattr(iv, name) for name in by) for iv in closed}
        for key in keys:
            mine = [iv for iv in closed if tuple(getattr(iv, n) for n in by) == key]
            expected[key] = (occupancy(mine), utilization(mine))
    else:
        for key, pieces in group_intervals(closed, interval_s=interval, by=by).items():
            slot = key[0]
            assert isinstance(slot, float)
            mine = [iv for iv, _, _ in pieces]
            window = {"start": slot, "end": slot + interval}
            expected[key] = (occupancy(mine, **window), utilization(mine, **window))
    assert set(stream.keys()) == set(expected)
    for key, (occ, util) in expected.items():
        fig = stream.figures(key)
        assert close(fig.occupancy, occ)
        assert close(fig.utilization, util)
