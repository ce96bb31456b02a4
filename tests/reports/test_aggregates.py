"""Stored interval aggregates: kept up to date batch by batch, equal to a rebuild, exact."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from callcenter_sdk.kpi import kpi_report
from callcenter_sdk.org import load_org, loads_org
from callcenter_sdk.reports import IntervalAggregator, report_from_store
from callcenter_sdk.store import EventLog, Store

from .days import scenario, simulated_day

HOTLINE = Path(__file__).parents[2] / "examples" / "hotline" / "org.toml"
CAMPAIGNS = {"q0": "fibrenet-support", "q1": "streamtv-support"}


def _org_with_client_managers() -> str:
    """The hotline's org, with a project manager for StreamTV and an analyst of both."""
    text = HOTLINE.read_text(encoding="utf-8")
    for campaign in ("fibrenet-support", "streamtv-support"):
        head = f'id = "{campaign}"\n'
        pm = 'project_manager = "pm-streamtv"\n' if campaign == "streamtv-support" else ""
        text = text.replace(head, f'{head}{pm}analysts = ["analyst"]\n', 1)
    return (
        text
        + """
[[people]]
id = "pm-streamtv"
name = "Petra Manager"
role = "project-manager"

[[people]]
id = "analyst"
name = "Ana Lyst"
role = "analyst"
"""
    )


@pytest.mark.parametrize("batch", [1, 97, 5000])
def test_kept_up_to_date_batch_by_batch_equals_a_rebuild(store: Store, batch: int) -> None:
    """Cells caught up after every batch of events (1, 97 or all at once) are exactly
    the cells a rebuild from the whole log gives, at every level (summaries too),
    so a report over them is the same whichever way they were made."""
    events, _ = simulated_day(scenario(queues=2, agents=4), seed=3)
    log = EventLog(store, durable=False)
    aggregator = IntervalAggregator(store, chunk=400)
    for i in range(0, len(events), batch):
        log.extend(events[i : i + batch])
        aggregator.catch_up()
    levels = ("queue", "agent", "summary")
    kept = {lv: aggregator.aggregates.read(level=lv) for lv in levels}
    before = report_from_store(store, by=("queue",), interval="15min")
    assert aggregator.rebuild() == len(events)
    rebuilt = {lv: aggregator.aggregates.read(level=lv) for lv in levels}
    for level in levels:
        assert sorted(map(repr, kept[level])) == sorted(map(repr, rebuilt[level])), level
    assert report_from_store(store, by=("queue",), interval="15min") == before
    assert len(before.rows) > 8


def test_the_report_equals_the_kpi_calculators_over_the_records(store: Store) -> None:
    """Counts, service level, abandon rate, ASA, average wait and AHT of the stored
    report are bit for bit the KPI calculators' over the simulator's records;
    occupancy agrees to 1e-12 (the calculators add agent seconds in event order)."""
    events, result = simulated_day(scenario(queues=3, agents=5), seed=11)
    EventLog(store).extend(events)
    aggregator = IntervalAggregator(store)
    (row,) = report_from_store(store, aggregator=aggregator).rows
    expected = kpi_report(result.records, result.intervals, now=result.end_time)
    assert (row.offered, row.answered, row.abandoned) == (
        expected.offered,
        expected.answered,
        expected.abandoned,
    )
    for name in ("service_level", "abandon_rate", "asa", "average_wait", "aht"):
        assert getattr(row, name) == getattr(expected, name), name
    assert row.occupancy == pytest.approx(expected.occupancy, rel=1e-12)
    by_queue = report_from_store(store, by=("queue",), interval="60min").rows
    assert sum(r.offered for r in by_queue) == expected.offered
    assert {r.keys["queue"] for r in by_queue if r.offered} == {"q0", "q1", "q2"}
    assert not math.isnan(expected.asa)


def test_a_client_project_manager_sees_only_their_organisation(store: Store) -> None:
    """With the hotline's org, StreamTV's project manager's report holds only
    StreamTV's queue; the analyst of both campaigns sees both; a cell's client is
    the organisation of the campaign its queue serves."""
    org = loads_org(_org_with_client_managers())
    assert load_org(HOTLINE).campaign("streamtv-support").organisation == "streamtv"
    events, _ = simulated_day(scenario(queues=2, agents=4), seed=5)
    EventLog(store).extend(events)
    aggregator = IntervalAggregator(store, org=org, campaigns=CAMPAIGNS)
    aggregator.catch_up()
    mine = report_from_store(store, by=("organisation", "queue"), org=org, viewer="pm-streamtv")
    assert {(r.keys["organisation"], r.keys["queue"]) for r in mine.rows} == {("streamtv", "q1")}
    both = report_from_store(store, by=("organisation",), org=org, viewer="analyst")
    assert {r.keys["organisation"] for r in both.rows} >= {"fibrenet", "streamtv"}
    everything = report_from_store(store, by=("organisation",))
    streamtv = next(r for r in everything.rows if r.keys["organisation"] == "streamtv")
    assert mine.rows[0].offered == streamtv.offered > 0
