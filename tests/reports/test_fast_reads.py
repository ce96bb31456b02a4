"""The fast read paths: events scanned as EventLog.read gives them, cells added up in SQL
as the cells read one by one add up."""

from __future__ import annotations

import pytest

from callcenter_sdk.org import loads_org
from callcenter_sdk.reports import IntervalAggregator, build_report, cell_filter, report_from_store
from callcenter_sdk.store import EventLog, Store, scan_events

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
