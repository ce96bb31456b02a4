"""Queued callbacks ("virtual hold"): the caller leaves the line and keeps their place."""

from __future__ import annotations

from typing import TypeVar

import pytest

import callcenter_sdk as cc
from callcenter_sdk import acd, kpi
from callcenter_sdk.testing import AcdHarness

A = TypeVar("A")
NUMBER = "+33472000001"


def _of(actions: list[acd.Action], kind: type[A]) -> list[A]:
    return [a for a in actions if isinstance(a, kind)]


def _three_waiting(h: AcdHarness, **queue: object) -> None:
    h.queue("q", **queue)
    h.agent("ann", ready=False)
    for cid in ("c1", "c2", "c3"):
        h.arrive(cid)
        h.later(5)


def test_callback_keeps_the_same_place_and_is_not_an_abandon() -> None:
    """The contact stays where it was, newcomers go behind it, and no abandon is published."""
    h = AcdHarness()
    _three_waiting(h)
    out = h.engine.keep_place_for_callback("c2", NUMBER)
    assert out == []
    assert h.engine.waiting_contacts("q") == ["c1", "c2", "c3"]
    event = h.capture.of(acd.ContactCallbackRequested)[0]
    assert (event.contact_id, event.queue, event.number, event.position, event.waited) == (
        "c2",
        "q",
        NUMBER,
        2,
        10,
    )
    assert h.engine.contact_status("c2").callback == NUMBER
    h.arrive("c4")
    assert h.engine.waiting_contacts("q") == ["c1", "c2", "c3", "c4"]
    assert h.capture.of(acd.ContactAbandoned) == []


def test_callback_is_offered_in_turn_with_its_number() -> None:
    """The agent gets c1 first, then the callback, whose Offer carries the number to call."""
    h = AcdHarness()
    _three_waiting(h, wrap_up=0)
    h.engine.keep_place_for_callback("c2", NUMBER)
    first = _of(h.engine.set_ready("ann"), acd.Offer)
    assert [(o.contact_id, o.callback) for o in first] == [("c1", "")]
    h.engine.accept(first[0].offer_id)
    second = _of(h.engine.hangup("c1"), acd.Offer)
    assert [(o.contact_id, o.callback) for o in second] == [("c2", NUMBER)]


def test_accepted_callback_waits_for_the_runtime_to_reach_the_customer() -> None:
    """Accepting never connects a callback at once: Connect, then ``connected`` when reached."""
    h = AcdHarness()
    _three_waiting(h, wrap_up=0)
    h.engine.keep_place_for_callback("c1", NUMBER)
    offer = _of(h.engine.set_ready("ann"), acd.Offer)[0]
    out = h.engine.accept(offer.offer_id)  # connect=True is ignored for a callback
    assert _of(out, acd.Connect) == [acd.Connect(contact_id="c1", agent_id="ann")]
    assert h.engine.contact_status("c1").phase is acd.ContactPhase.CONNECTING
    h.later(7)
    h.engine.connected("c1")
    status = h.engine.contact_status("c1")
    assert (status.phase, status.callback) == (acd.ContactPhase.CONNECTED, "")
    h.later(60)
    h.engine.hangup("c1")
    records, _ = acd.records_from_events(h.capture.events)
    c1 = next(r for r in records if r.contact_id == "c1")
    assert (c1.outcome, c1.channel, c1.arrived_at, c1.answered_at, c1.talk_s) == (
        kpi.Outcome.ANSWERED,
        kpi.Channel.CALLBACK,
        0,
        22,
        60,
    )


def test_unreached_callback_ends_with_its_own_outcome_and_frees_the_agent() -> None:
    """``callback_failed`` ends the contact (not an abandon); the agent takes the next one."""
    h = AcdHarness()
    _three_waiting(h, wrap_up=0)
    h.engine.keep_place_for_callback("c1", NUMBER)
    offer = _of(h.engine.set_ready("ann"), acd.Offer)[0]
    h.engine.accept(offer.offer_id, connect=False)
    h.later(30)
    out = h.engine.callback_failed("c1", "no-answer")
    assert [o.contact_id for o in _of(out, acd.Offer)] == ["c2"]
    failed = h.capture.of(acd.ContactCallbackFailed)
    assert [(f.contact_id, f.reason, f.agent_id, f.number, f.waited) for f in failed] == [
        ("c1", "no-answer", "ann", NUMBER, 45)
    ]
    assert h.capture.of(acd.ContactAbandoned) == []
    assert "c1" not in h.engine.live_contacts()
    records, _ = acd.records_from_events(h.capture.events)
    c1 = next(r for r in records if r.contact_id == "c1")
    assert (c1.outcome, c1.ended_at, c1.abandoned) == (kpi.Outcome.CALLBACK_FAILED, 45, False)


def test_callback_escapes_max_wait_and_leave_rules_and_announcements() -> None:
    """Nobody is on the line: no time-out, no leave-when-empty, no announcement for a callback."""
    h = AcdHarness()
    h.queue("q", max_wait=20, announce_every=5, leave_when_empty="no-agent-available")
    h.agent("ann", ready=True)
    h.engine.set_not_ready("ann")
    h.arrive("c1")
    h.arrive("c2")
    h.engine.keep_place_for_callback("c2", NUMBER)
    out = h.later(100)
    assert {a.contact_id for a in _of(out, acd.Announce)} == {"c1"}
    assert [e.contact_id for e in h.capture.of(acd.ContactTimedOut)] == ["c1"]
    assert h.engine.waiting_contacts("q") == ["c2"]
    h.engine.logout("ann")
    assert h.engine.waiting_contacts("q") == ["c2"]


def test_callback_asked_while_ringing_rescinds_and_offers_again_without_a_miss() -> None:
    """A key pressed as the agent's phone rings: the offer is replaced by a callback offer."""
    h = AcdHarness()
    h.queue("q")
    h.agent("ann")
    offer = _of(h.arrive("c1"), acd.Offer)[0]
    out = h.engine.keep_place_for_callback("c1", NUMBER)
    assert _of(out, acd.Rescind) == [
        acd.Rescind(offer_id=offer.offer_id, contact_id="c1", agent_id="ann")
    ]
    again = _of(out, acd.Offer)
    assert [(o.agent_id, o.callback) for o in again] == [("ann", NUMBER)]
    assert h.capture.of(acd.OfferRescinded)[0].reason == "callback-requested"
    assert h.engine.agent_status("ann").missed == 0


def test_hanging_up_a_callback_cancels_it() -> None:
    """``hangup`` on a waiting callback is a cancellation, and after accept a failed call."""
    h = AcdHarness()
    _three_waiting(h)
    h.engine.keep_place_for_callback("c1", NUMBER)
    h.engine.keep_place_for_callback("c3", "+33472000003")
    h.engine.hangup("c3")
    offer = _of(h.engine.set_ready("ann"), acd.Offer)[0]
    h.engine.accept(offer.offer_id)
    h.engine.hangup("c1")
    failed = h.capture.of(acd.ContactCallbackFailed)
    assert [(f.contact_id, f.reason, f.agent_id) for f in failed] == [
        ("c3", "cancelled", ""),
        ("c1", "hangup", "ann"),
    ]
    assert h.capture.of(acd.ContactAbandoned) == []


def test_callback_requests_are_refused_outside_waiting() -> None:
    """Empty numbers, connected contacts, repeated requests and stray failures are refused."""
    h = AcdHarness()
    h.queue("q")
    h.agent("ann")
    offer = _of(h.arrive("c1"), acd.Offer)[0]
    h.arrive("c2")
    with pytest.raises(cc.ValidationError):
        h.engine.keep_place_for_callback("c2", "")
    h.engine.keep_place_for_callback("c2", NUMBER)
    with pytest.raises(cc.StateError):
        h.engine.keep_place_for_callback("c2", NUMBER)
    h.engine.accept(offer.offer_id)
    with pytest.raises(cc.StateError):
        h.engine.keep_place_for_callback("c1", NUMBER)
    with pytest.raises(cc.StateError):
        h.engine.callback_failed("c1")
    with pytest.raises(cc.NotFoundError):
        h.engine.keep_place_for_callback("nobody", NUMBER)


def test_a_restored_callback_enters_as_a_callback_in_its_original_place() -> None:
    """arrive(callback=...) with entered_at: same place, a callback_requested, no announcement."""
    h = AcdHarness()
    _three_waiting(h)
    out = h.engine.arrive(acd.Contact(id="back"), "q", entered_at=3, callback=NUMBER)
    assert _of(out, acd.Announce) == []
    assert h.engine.waiting_contacts("q") == ["c1", "back", "c2", "c3"]
    event = h.capture.of(acd.ContactCallbackRequested)[0]
    assert (event.contact_id, event.position, event.waited) == ("back", 2, 12)
    h.engine.set_ready("ann")  # rings with c1
    offers = [a for a in h.engine.hangup("c1") if isinstance(a, acd.Offer)]
    assert [(o.contact_id, o.callback) for o in offers] == [("back", NUMBER)]
