"""Folding ACD events into KPI contact records and agent intervals."""

from __future__ import annotations

import itertools
import json

import pytest

import callcenter_sdk as cc
from callcenter_sdk import acd, kpi
from callcenter_sdk.testing import AcdHarness


def _accept(h: AcdHarness, actions: list[acd.Action]) -> None:
    offer = next(a for a in actions if isinstance(a, acd.Offer))
    h.engine.accept(offer.offer_id)


@pytest.fixture
def day() -> AcdHarness:
    """A short day: answered with hold and wrap-up, abandoned, overflowed, refused, transferred."""
    h = AcdHarness()
    h.queue("backup", wrap_up=0)
    h.queue(
        "front",
        wrap_up=5,
        max_wait=30,
        max_length=2,
        overflow=acd.Overflow(target="queue", queue="backup"),
    )
    h.agent("ann", ["front"])
    h.later(1)
    _accept(h, h.arrive("c1", "front", caller_id="+3311"))  # t=1, answered at once
    h.later(10)
    h.engine.hold("c1")
    h.later(4)
    h.engine.resume("c1")
    h.later(6)
    h.engine.hangup("c1")  # t=21: talk 16, hold 4, wrap until 26
    h.arrive("c2", "front")  # waits: ann in wrap-up
    h.later(2)
    h.engine.hangup("c2")  # t=23 abandoned after 2 s
    h.later(10)  # wrap-up ends at 26
    h.engine.set_not_ready("ann", "lunch")
    h.arrive("c3", "front")
    h.later(30)  # nobody to answer: c3 overflows to backup at 63
    return h


def test_contact_records_match_what_happened(day: AcdHarness) -> None:
    """Each visit becomes one record with the right outcome, times and durations."""
    h = day
    records, _ = acd.records_from_events(h.capture.events)
    by_id = {r.contact_id: r for r in records}
    c1 = by_id["c1"]
    assert (c1.outcome, c1.arrived_at, c1.answered_at, c1.ended_at) == (
        kpi.Outcome.ANSWERED,
        1,
        1,
        21,
    )
    assert (c1.talk_s, c1.hold_s, c1.wrap_s, c1.agent, c1.customer) == (16, 4, 5, "ann", "+3311")
    assert (by_id["c2"].outcome, by_id["c2"].wait_s) == (kpi.Outcome.ABANDONED, 2)
    c3 = [r for r in records if r.contact_id == "c3"]
    assert [(r.queue, r.outcome, r.arrived_at, r.ended_at) for r in c3] == [
        ("front", kpi.Outcome.OVERFLOWED, 33, 63),
        ("backup", kpi.Outcome.WAITING, 63, None),
    ]


def test_overflow_and_refusal_make_per_queue_records() -> None:
    """An overflowed contact has a record per queue; a refused one a rejected record."""
    h = AcdHarness()
    h.queue("backup")
    h.queue("front", max_wait=10, overflow=acd.Overflow(target="queue", queue="backup"))
    h.queue("tiny", max_length=0)
    h.arrive("c1", "front", channel=acd.Channel.CHAT)
    h.arrive("c2", "tiny")
    h.later(10)
    _accept(h, h.agent("bob", ["backup"], capacity=acd.Capacity(limits={acd.Channel.CHAT: 2})))
    records, _ = acd.records_from_events(h.capture.events)
    visits = [(r.contact_id, r.queue, r.outcome, r.channel) for r in records]
    assert ("c1", "front", kpi.Outcome.OVERFLOWED, kpi.Channel.CHAT) in visits
    assert ("c2", "tiny", kpi.Outcome.REJECTED, kpi.Channel.VOICE) in visits
    backup = next(r for r in records if r.queue == "backup")
    assert (backup.contact_id, backup.arrived_at, backup.channel) == ("c1", 10, kpi.Channel.CHAT)


def test_agent_intervals_cover_the_day_without_overlap(day: AcdHarness) -> None:
    """Intervals follow the state changes, carry pause reasons, and the last one is open."""
    _, intervals = acd.records_from_events(day.capture.events)
    ann = [i for i in intervals if i.agent == "ann"]
    assert all(a.end == b.start for a, b in itertools.pairwise(ann))
    last = ann[-1]
    assert (last.state, last.start, last.end, last.reason) == (
        kpi.IntervalState.NOT_READY,
        33,
        None,
        "lunch",
    )
    states = [(i.state, i.start, i.end) for i in ann]
    assert (kpi.IntervalState.WRAP_UP, 21, 26) in states
    busy = [i for i in ann if i.state is kpi.IntervalState.BUSY]
    assert sum(i.duration_s() for i in busy) == 20  # split at hold and resume


def test_records_feed_the_kpi_calculators(day: AcdHarness) -> None:
    """The folded records are valid KPI inputs: AHT counts talk + hold + wrap-up."""
    records, _ = acd.records_from_events(day.capture.events)
    assert kpi.aht(records) == 25


def test_every_acd_event_round_trips_through_plain_data() -> None:
    """Events of a busy run survive event_to_dict → JSON → event_from_dict unchanged,
    so the store can persist the log and KPIs can be folded from it later."""
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=2))
    h.queue("backup")
    h.queue(
        "front",
        max_wait=20,
        overflow=acd.Overflow(target="queue", queue="backup"),
        relax=[acd.RelaxStep(after=5, requirements=[])],
        wrap_up=3,
    )
    h.queue("mail", max_wait=5, overflow=acd.Overflow(target="ticket"), channels=["email"])
    h.agent("ann", ["front", "backup"], skills={"french": 2})
    _accept(h, h.arrive("c1", "front", requirements=[acd.SkillRequirement("french", 1)]))
    h.engine.hold("c1")
    h.engine.resume("c1")
    h.arrive("c2", "front", requirements=[acd.SkillRequirement("german", 3)])
    h.later(6)
    h.engine.transfer("c1", "backup")
    h.engine.extend_wrap_up("ann", 5)
    h.arrive("m1", "mail", channel=acd.Channel.EMAIL)
    h.later(30)
    h.engine.reject(h.engine.agent_status("ann").offers[0])
    h.later(60)
    events = h.capture.events
    kinds = {type(e).kind for e in events}
    assert {
        "acd.contact_relaxed",
        "acd.contact_transferred",
        "acd.contact_overflowed",
        "acd.offer_rejected",
        "acd.wrap_up_extended",
        "acd.contact_held",
    } <= kinds
    for event in events:
        plain = json.loads(json.dumps(cc.event_to_dict(event)))
        assert cc.event_from_dict(plain) == event
