"""One truth: the stored report, the metrics' counters and the simulator's KPI report
agree exactly when computed from the same event log."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_sdk.kpi import kpi_report
from callcenter_sdk.reports import (
    WAIT_BUCKETS,
    EventCounts,
    IntervalAggregator,
    exact_total,
    report_from_store,
)
from callcenter_sdk.store import EventLog, create_store

from .days import scenario, simulated_day

THRESHOLD = 20.0
WITHIN = WAIT_BUCKETS.index(THRESHOLD) + 1  # buckets up to and including 20 s


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    queues=st.integers(1, 3),
    agents=st.integers(1, 5),
    per_hour=st.integers(20, 240),
    minutes=st.integers(15, 90),
)
def test_report_metrics_and_kpi_report_agree(
    seed: int, queues: int, agents: int, per_hour: int, minutes: int
) -> None:
    """Over a generated day, offered, answered, abandoned, service level and ASA are the
    same numbers — not close, equal — in the report from the stored aggregates, in the
    /metrics counters (contacts by outcome, the wait histogram at 20 s, the exact wait
    sums) and in the simulator's kpi_report."""
    day = scenario(queues=queues, agents=agents, rate=per_hour / 3600, duration=60.0 * minutes)
    events, result = simulated_day(day, seed)
    expected = kpi_report(result.records, result.intervals, now=result.end_time)

    counts = EventCounts()
    for seq, event in enumerate(events, start=1):
        counts.see(seq, event)
    names = [f"q{i}" for i in range(queues)]
    answered = sum(counts.by_queue.get((q, "answered"), 0) for q in names)
    abandoned = sum(counts.by_queue.get((q, "abandoned"), 0) for q in names)
    offered = sum(counts.by_queue.values())
    within = sum(sum(counts.waits.get((q, "answered"), [])[:WITHIN]) for q in names)
    waited = exact_total(counts.wait_sums.get((q, "answered"), ()) for q in names)

    with (
        tempfile.TemporaryDirectory() as folder,
        create_store(f"sqlite:///{Path(folder) / 'day.sqlite'}") as store,
    ):
        EventLog(store).extend(events)
        report = report_from_store(store, aggregator=IntervalAggregator(store))
    rows = report.rows
    assert len(rows) <= 1
    assert rows or not expected.offered

    assert (offered, answered, abandoned) == (
        expected.offered,
        expected.answered,
        expected.abandoned,
    )
    assert (within / offered if offered else None) == expected.service_level
    assert (waited / answered if answered else None) == expected.asa
    if rows:
        (row,) = rows
        assert (row.offered, row.answered, row.abandoned) == (offered, answered, abandoned)
        assert row.service_level == expected.service_level
        assert row.asa == expected.asa
