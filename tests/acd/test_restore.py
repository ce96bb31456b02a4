"""Contacts brought back after a restart keep their original arrival time (``entered_at``)."""

from __future__ import annotations

import pytest

import callcenter_sdk as cc
from callcenter_sdk import acd, kpi
from callcenter_sdk.testing import AcdHarness


def test_restored_contact_takes_its_place_by_original_arrival() -> None:
    """Between a contact that came earlier and one that came later, whatever the call order."""
    h = AcdHarness()
    h.queue("q")
    h.agent("ann", ready=False)
    h.later(50)
    h.arrive("early")
    h.later(50)
    h.arrive("late")
    h.engine.arrive(acd.Contact(id="back"), "q", entered_at=70)
    assert h.engine.waiting_contacts("q") == ["early", "back", "late"]
    event = h.capture.of(acd.ContactEnteredQueue)[-1]
    assert (event.at, event.entered_at, event.since, event.position) == (100, 70, 70, 2)
    assert h.engine.contact_status("back").entered_at == 70
    assert h.engine.queue_status("q").oldest_wait == 50


def test_restored_contact_keeps_aging_and_priority_from_its_arrival() -> None:
    """With aging, an older restored contact outranks a newer one of slightly higher priority."""
    h = AcdHarness()
    h.queue("q", aging_rate=0.1)
    h.agent("ann", ready=False)
    h.later(100)
    h.arrive("new", priority=2)  # effective 2 now
    h.engine.arrive(acd.Contact(id="old", priority=0), "q", entered_at=60)  # 0 + 0.1 x 40 = 4
    assert h.engine.waiting_contacts("q") == ["old", "new"]


def test_max_wait_counts_from_the_original_arrival() -> None:
    """The deadline is entered_at + max_wait; one already past fires at the next tick."""
    h = AcdHarness()
    h.queue("q", max_wait=30)
    h.agent("ann", ready=False)
    h.later(100)
    h.engine.arrive(acd.Contact(id="recent"), "q", entered_at=80)
    h.engine.arrive(acd.Contact(id="stale"), "q", entered_at=50)
    assert h.engine.next_deadline() == 80
    h.engine.tick()
    h.later(9)
    h.later(1)
    timed_out = [(e.contact_id, e.at, e.waited) for e in h.capture.of(acd.ContactTimedOut)]
    assert timed_out == [("stale", 100, 50), ("recent", 110, 30)]


def test_relaxation_steps_count_from_the_original_arrival() -> None:
    """Steps whose time has passed apply at once; the next one fires at entered_at + after."""
    h = AcdHarness()
    h.queue("q")
    h.agent("novice", skills={"billing": 1}, ready=False)
    h.later(100)
    steps = [
        acd.RelaxStep(after=30, requirements=[acd.SkillRequirement("billing", 3)]),
        acd.RelaxStep(after=60, requirements=()),
    ]
    need = [acd.SkillRequirement("billing", 5)]
    h.engine.arrive(acd.Contact(id="c1", requirements=need, relax=steps), "q", entered_at=60)
    assert h.engine.contact_status("c1").requirements == (acd.SkillRequirement("billing", 3),)
    h.engine.set_ready("novice")
    assert h.engine.contact_status("c1").offers == ()
    h.later(19)
    assert h.engine.contact_status("c1").offers == ()
    h.later(1)  # t = 120 = 60 + 60
    assert h.engine.contact_status("c1").offers == ("novice",)


def test_records_and_waits_carry_the_original_arrival() -> None:
    """The record's arrival and the connected wait are counted from entered_at."""
    h = AcdHarness()
    h.queue("q")
    h.later(100)
    h.engine.arrive(acd.Contact(id="c1"), "q", entered_at=40)
    h.later(5)
    actions = h.agent("ann")
    offer = next(a for a in actions if isinstance(a, acd.Offer))
    h.engine.accept(offer.offer_id)
    assert h.capture.of(acd.ContactConnected)[0].waited == 65
    h.later(10)
    h.engine.hangup("c1")
    records, _ = acd.records_from_events(h.capture.events)
    assert [(r.outcome, r.arrived_at, r.answered_at, r.wait_s) for r in records] == [
        (kpi.Outcome.ANSWERED, 40, 105, 65)
    ]


def test_entered_at_in_the_future_is_refused() -> None:
    """A contact cannot have entered after now (a clock mix-up), nor at a non-finite time."""
    h = AcdHarness()
    h.queue("q")
    h.later(10)
    for bad in (11.0, float("nan"), float("inf")):
        with pytest.raises(cc.ValidationError):
            h.engine.arrive(acd.Contact(id="c1"), "q", entered_at=bad)
    assert h.engine.live_contacts() == []
