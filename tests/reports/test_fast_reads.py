"""The fast read paths: events scanned as EventLog.read gives them, cells added up in SQL
as the cells read one by one add up."""

from __future__ import annotations

import gc
import random
from typing import Any

import attrs
import pytest

from callcenter_sdk import ValidationError, event_from_dict
from callcenter_sdk.acd import AgentState, AgentStateChanged
from callcenter_sdk.org import loads_org
from callcenter_sdk.reports import (
    IntervalAggregator,
    build_report,
    cell_filter,
    cells_from_records,
    exact_total,
    report_from_store,
    summary_cells,
)
from callcenter_sdk.runtime import call_center_records
from callcenter_sdk.store import (
    COUNTS,
    SUMS,
    AggregateCell,
    AggregateState,
    EventLog,
    IntervalAggregates,
    Store,
    scan_events,
)
from callcenter_sdk.store._rows import EventRow

from .days import scenario, simulated_day
from .test_aggregates import CAMPAIGNS, _org_with_client_managers


def test_scan_events_gives_what_the_event_log_reads(store: Store) -> None:
    """scan_events returns the same sequence numbers and equal events as EventLog.read,
    with the same after, limit and kinds."""
    events, _ = simulated_day(scenario(queues=2, agents=3, duration=1800.0), seed=2)
    log = EventLog(store)
    log.extend(events)
    assert scan_events(store) == log.read()
    assert len(scan_events(store)) == len(events) > 100
    assert scan_events(store, after=40, limit=25) == log.read(after=40, limit=25)
    kinds = ["acd.contact_entered_queue", "acd.agent_state_changed"]
    assert scan_events(store, kinds=kinds) == log.read(kinds=kinds)
    assert scan_events(store, after=log.last_seq()) == []


@pytest.mark.parametrize(
    ("by", "interval"),
    [
        (("queue",), "15min"),
        (("queue",), "30min"),
        (("channel",), "60min"),
        (("queue", "campaign"), "day"),
        ((), "week"),
        (("team", "agent"), None),
        ((), None),
    ],
)
def test_cells_added_up_in_sql_give_the_report_of_the_cells(
    store: Store, by: tuple[str, ...], interval: str | None
) -> None:
    """For every grouping and interval, the report the database adds up equals
    build_report over the cells read one by one, bit for bit — where one cell
    gives each total and where several must be added from their partials."""
    events, _ = simulated_day(scenario(queues=3, agents=4), seed=9)
    EventLog(store).extend(events)
    aggregator = IntervalAggregator(store, campaigns=CAMPAIGNS)
    aggregator.catch_up()
    level = "agent" if {"team", "agent"} & set(by) else "queue"
    cells = aggregator.aggregates.read(level=level)
    expected = build_report(cells, by=by, interval=interval)
    assert report_from_store(store, by=by, interval=interval) == expected
    assert sum(r.offered for r in expected.rows) > 100


def test_a_scoped_report_added_up_in_sql_keeps_only_what_the_viewer_sees(store: Store) -> None:
    """StreamTV's project manager's report by queue and hour equals build_report
    over the cells their scope keeps."""
    org = loads_org(_org_with_client_managers())
    events, _ = simulated_day(scenario(queues=2, agents=4), seed=5)
    EventLog(store).extend(events)
    aggregator = IntervalAggregator(store, org=org, campaigns=CAMPAIGNS)
    aggregator.catch_up()
    keep = cell_filter(org, "pm-streamtv")
    expected = build_report(
        aggregator.aggregates.read(level="queue"), by=("queue",), interval="60min", keep=keep
    )
    mine = report_from_store(store, by=("queue",), interval="60min", org=org, viewer="pm-streamtv")
    assert mine == expected
    assert {r.keys["queue"] for r in mine.rows} == {"q1"}


def test_scan_events_refuses_a_stored_enum_value_as_event_from_dict_does(store: Store) -> None:
    """A stored state that is no AgentState member is not looked up into one: the event's
    own converter refuses it, with the error event_from_dict gives for the same payload."""
    payload = {"agent_id": "a1", "state": "dancing", "previous": "ready"}
    with store.transaction("write a bad event") as session:
        session.add(EventRow(kind="acd.agent_state_changed", at=1.0, payload=payload))
    with pytest.raises(ValueError, match="dancing") as from_dict:
        event_from_dict({"kind": "acd.agent_state_changed", "at": 1.0, **payload})
    with pytest.raises(ValueError, match="dancing") as scanned:
        scan_events(store)
    assert str(scanned.value) == str(from_dict.value)


def test_scanned_enum_fields_are_the_members_themselves(store: Store) -> None:
    """Enum fields of scanned events are the enum members (not equal strings), as
    EventLog.read builds them: a fold comparing with ``is`` sees the same thing."""
    events, _ = simulated_day(scenario(queues=1, agents=2, duration=900.0), seed=4)
    EventLog(store).extend(events)
    changes = [e.event for e in scan_events(store) if isinstance(e.event, AgentStateChanged)]
    assert changes
    assert all(type(c.state) is AgentState and type(c.previous) is AgentState for c in changes)


@pytest.mark.parametrize("running", [True, False])
def test_a_catch_up_leaves_the_garbage_collector_as_it_found_it(
    store: Store, running: bool
) -> None:
    """The collector is paused while a fold runs and resumed after it only when it was
    running before: a caller that had disabled it finds it still disabled."""
    events, _ = simulated_day(scenario(queues=1, agents=2, duration=900.0), seed=5)
    EventLog(store).extend(events)
    aggregator = IntervalAggregator(store)
    seen: list[bool] = []
    original = aggregator._fold

    def fold(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return original(*args)

    aggregator._fold = fold  # type: ignore[method-assign,assignment]
    was = gc.isenabled()
    try:
        if not running:
            gc.disable()
        assert aggregator.catch_up() == len(events)
        assert gc.isenabled() is running
    finally:
        if was:
            gc.enable()
    assert seen
    assert not any(seen)


def test_cells_written_and_read_back_are_the_cells_given(store: Store) -> None:
    """Cells written by replace (through the driver's executemany on SQLite, Core on
    PostgreSQL) read back equal, keys, counts, longest waits and partials alike."""
    events, _ = simulated_day(scenario(queues=2, agents=3, duration=3600.0), seed=6)
    records, intervals = call_center_records(events)
    cells = cells_from_records(
        records,
        intervals,
        threshold_s=20.0,
        short_abandon_s=5.0,
        now=max(e.at for e in events),
    )
    aggregates = IntervalAggregates(store)
    state = AggregateState(
        seq=0, epoch_seq=0, frozen_before=None, threshold_s=20.0, short_abandon_s=5.0
    )
    assert aggregates.replace(cells, since=None, state=state, expected_seq=None)
    for level in ("queue", "agent", "summary"):
        given = sorted((c for c in cells if c.level == level), key=repr)
        assert sorted(aggregates.read(level=level), key=repr) == given
        assert len(given) > 10


def test_a_summary_cell_is_its_queue_cells_added_up(store: Store) -> None:
    """Each stored summary cell holds the counts, longest wait and exact totals of
    the queue cells of its interval and queue (campaigns, clients, channels and
    agents' time together), and there is one per interval and queue that has any."""
    events, _ = simulated_day(scenario(queues=3, agents=4), seed=9)
    EventLog(store).extend(events)
    aggregator = IntervalAggregator(store, campaigns=CAMPAIGNS)
    aggregator.catch_up()
    queue_cells = aggregator.aggregates.read(level="queue")
    summaries = {(c.start, c.queue): c for c in aggregator.aggregates.read(level="summary")}
    assert set(summaries) == {(c.start, c.queue) for c in queue_cells}
    several = 0
    for (start, queue), summary in summaries.items():
        mine = [c for c in queue_cells if (c.start, c.queue) == (start, queue)]
        several += len(mine) > 1
        for name in COUNTS:
            assert getattr(summary, name) == sum(getattr(c, name) for c in mine), name
        waits = [c.longest_wait for c in mine if c.longest_wait is not None]
        assert summary.longest_wait == (max(waits) if waits else None)
        for name in SUMS:
            assert exact_total([summary.sums[name]]) == exact_total(c.sums[name] for c in mine)
        assert (summary.campaign, summary.organisation, summary.channel) == ("", "", "")
    assert several > 10  # contacts of a campaign and agents' time of none: merged


def test_summary_cells_leave_other_levels_out_and_come_in_reading_order() -> None:
    """summary_cells adds up queue cells only (agent cells of the same interval and
    queue are ignored) and returns them by interval then queue."""
    events, _ = simulated_day(scenario(queues=3, agents=4, duration=3600.0), seed=4)
    records, intervals = call_center_records(events)
    cells = cells_from_records(
        records, intervals, threshold_s=20.0, short_abandon_s=5.0, now=max(e.at for e in events)
    )
    queue_only = [c for c in cells if c.level == "queue"]
    assert summary_cells(cells) == summary_cells(queue_only)
    assert summary_cells(cells) == [c for c in cells if c.level == "summary"]
    keys = [(c.start, c.queue) for c in summary_cells(cells)]
    assert keys == sorted(keys)
    assert len(keys) > 4


def test_summary_cells_add_up_by_queue_only(store: Store) -> None:
    """Summary cells know no campaign, client, channel, team or agent: adding them
    up by one of those is refused, not answered with empty keys."""
    with pytest.raises(ValidationError, match="only the queue"):
        IntervalAggregates(store).sum_by(("channel",), level="summary")
    assert IntervalAggregates(store).sum_by(("queue",), level="summary") == []


def test_summaries_read_back_in_order_whatever_order_they_were_written(store: Store) -> None:
    """Summary cells handed to replace in any order are read by summaries() by interval
    then queue, each with its counts, longest wait and exact totals rounded once."""
    events, _ = simulated_day(scenario(queues=3, agents=4, duration=5400.0), seed=8)
    records, intervals = call_center_records(events)
    cells = cells_from_records(
        records, intervals, threshold_s=20.0, short_abandon_s=5.0, now=max(e.at for e in events)
    )
    random.Random(3).shuffle(cells)
    aggregates = IntervalAggregates(store)
    state = AggregateState(
        seq=0, epoch_seq=0, frozen_before=None, threshold_s=20.0, short_abandon_s=5.0
    )
    assert aggregates.replace(cells, since=None, state=state, expected_seq=None)
    expected = [
        (
            c.start,
            c.queue,
            *(getattr(c, name) for name in COUNTS),
            c.longest_wait,
            *(exact_total([c.sums[name]]) if c.sums[name] else None for name in SUMS),
        )
        for c in sorted(
            (c for c in cells if c.level == "summary"), key=lambda c: (c.start, c.queue)
        )
    ]
    assert [tuple(row) for row in aggregates.summaries()] == expected
    assert len(expected) > 12
    later = [tuple(row) for row in aggregates.summaries(start=1800.0, end=3600.0)]
    assert later == [row for row in expected if 1800.0 <= row[0] < 3600.0] != []


@pytest.mark.parametrize(("by", "interval"), [(("queue",), "15min"), ((), "day")])
def test_cells_stored_without_summaries_still_report_from_the_queue_cells(
    store: Store, by: tuple[str, ...], interval: str
) -> None:
    """Where the stored cells have no summaries (written by hand, or by a version
    before them), a report by queue or by nothing adds up the queue cells instead
    of coming back empty."""
    events, _ = simulated_day(scenario(queues=2, agents=3, duration=3600.0), seed=6)
    records, intervals = call_center_records(events)
    cells = cells_from_records(
        records, intervals, threshold_s=20.0, short_abandon_s=5.0, now=max(e.at for e in events)
    )
    without = [c for c in cells if c.level != "summary"]
    state = AggregateState(
        seq=0, epoch_seq=0, frozen_before=None, threshold_s=20.0, short_abandon_s=5.0
    )
    assert IntervalAggregates(store).replace(without, since=None, state=state, expected_seq=None)
    expected = build_report([c for c in without if c.level == "queue"], by=by, interval=interval)
    assert report_from_store(store, by=by, interval=interval) == expected
    assert sum(r.offered for r in expected.rows) > 10


def test_every_name_is_checked_in_its_own_place_once_combinations_repeat(store: Store) -> None:
    """Names checked once per write are remembered per key: a name fine as a queue is still
    refused as a channel (a shorter limit) in a new combination, and a name too long is
    refused whatever came before it; nothing is written."""
    base = AggregateCell(level="queue", start=0.0, queue="q" * 50, channel="voice")
    state = AggregateState(
        seq=0, epoch_seq=0, frozen_before=None, threshold_s=20.0, short_abandon_s=5.0
    )
    aggregates = IntervalAggregates(store)
    for bad in (
        attrs.evolve(base, channel="q" * 50),
        attrs.evolve(base, start=900.0, agent="a" * 101, level="agent"),
    ):
        with pytest.raises(ValidationError, match="limit"):
            aggregates.replace([base, bad], since=None, state=state, expected_seq=None)
    assert aggregates.read(level="queue") == []
    assert aggregates.replace([base], since=None, state=state, expected_seq=None)


def test_a_report_reads_the_thresholds_the_cells_count_with(store: Store) -> None:
    """thresholds() is the stored state's pair (None before any catch-up), and a report
    carries the thresholds its cells were counted with, not the defaults."""
    aggregates = IntervalAggregates(store)
    assert aggregates.thresholds() is None
    assert report_from_store(store, by=("queue",), interval="15min").threshold_s == 20.0
    events, _ = simulated_day(scenario(queues=2, agents=3, duration=1800.0), seed=2)
    EventLog(store).extend(events)
    IntervalAggregator(store, threshold_s=30.0, short_abandon_s=3.0).catch_up()
    state = aggregates.state()
    assert state is not None
    assert aggregates.thresholds() == (state.threshold_s, state.short_abandon_s) == (30.0, 3.0)
    report = report_from_store(store, by=("queue",), interval="15min")
    assert (report.threshold_s, report.short_abandon_s) == (30.0, 3.0)
