"""Transfers from one agent to a named colleague (``transfer_to_agent``)."""

from __future__ import annotations

from typing import TypeVar

import pytest

import callcenter_sdk as cc
from callcenter_sdk import acd, kpi
from callcenter_sdk.testing import AcdHarness

A = TypeVar("A")


def _of(actions: list[acd.Action], kind: type[A]) -> list[A]:
    return [a for a in actions if isinstance(a, kind)]


def _ann_talking(h: AcdHarness, **queue: object) -> None:
    """Ann (in q) talks with c1; Bob (in no queue of c1's) is ready."""
    h.queue("q", **queue)
    h.queue("other")
    offer = _of(h.agent("ann"), acd.Offer) or _of(h.arrive("c1"), acd.Offer)
    h.engine.accept(offer[0].offer_id)
    h.agent("bob", ["other"])


def _transfer_offer(h: AcdHarness) -> acd.Offer:
    offers = _of(h.engine.transfer_to_agent("c1", "bob"), acd.Offer)
    assert [(o.agent_id, o.transfer_from, o.queue) for o in offers] == [("bob", "ann", "q")]
    return offers[0]


def test_accepted_transfer_hands_the_contact_over_and_sends_the_first_agent_to_wrap_up() -> None:
    """Ann keeps the customer while Bob rings; on accept Ann wraps up and Bob is connected."""
    h = AcdHarness()
    _ann_talking(h, wrap_up=5)
    h.later(30)
    offer = _transfer_offer(h)
    status = h.engine.contact_status("c1")
    assert (status.phase, status.agent_id, status.offers) == (
        acd.ContactPhase.CONNECTED,
        "ann",
        ("bob",),
    )
    assert h.state("bob") is acd.AgentState.RESERVED
    h.later(4)
    out = h.engine.accept(offer.offer_id, connect=False)
    assert _of(out, acd.Connect) == [acd.Connect(contact_id="c1", agent_id="bob")]
    moved = h.capture.of(acd.ContactTransferred)
    assert [(e.agent_id, e.to_agent, e.from_queue, e.to_queue, e.talk_time) for e in moved] == [
        ("ann", "bob", "q", "q", 34)
    ]
    assert h.state("ann") is acd.AgentState.WRAP_UP
    h.engine.connected("c1")
    assert h.state("bob") is acd.AgentState.BUSY
    assert len(h.capture.of(acd.ContactConnected)) == 1  # answered once, by Ann
    h.later(20)
    h.engine.hangup("c1")
    completed = h.capture.of(acd.ContactCompleted)[0]
    assert (completed.agent_id, completed.talk_time) == ("bob", 20)


def test_one_record_per_visit_adds_both_agents_times() -> None:
    """The queue visit stays one record: both talks and both wrap-ups, the last agent named."""
    h = AcdHarness()
    _ann_talking(h, wrap_up=5)
    h.later(30)
    h.engine.accept(_transfer_offer(h).offer_id)
    h.later(20)
    h.engine.hangup("c1")
    h.later(10)
    records, _ = acd.records_from_events(h.capture.events)
    assert [(r.outcome, r.agent, r.answered_at, r.talk_s, r.wrap_s) for r in records] == [
        (kpi.Outcome.ANSWERED, "bob", 0, 50, 10)
    ]


def test_refused_or_unanswered_transfer_leaves_the_contact_with_the_first_agent() -> None:
    """Reject or time-out: the customer stays with Ann, and Bob counts no missed offer."""
    h = AcdHarness()
    _ann_talking(h, offer_timeout=10)
    h.engine.reject(_transfer_offer(h).offer_id)
    status = h.engine.contact_status("c1")
    assert (status.phase, status.agent_id, status.offers) == (
        acd.ContactPhase.CONNECTED,
        "ann",
        (),
    )
    bob = h.engine.agent_status("bob")
    assert (bob.state, bob.missed) == (acd.AgentState.READY, 0)
    offer = _transfer_offer(h)
    out = h.later(10)
    assert _of(out, acd.Rescind) == [
        acd.Rescind(offer_id=offer.offer_id, contact_id="c1", agent_id="bob")
    ]
    assert h.engine.contact_status("c1").agent_id == "ann"
    assert h.state("ann") is acd.AgentState.BUSY
    assert h.state("bob") is acd.AgentState.READY


def test_hangup_or_queue_transfer_meanwhile_rescinds_the_colleague_offer() -> None:
    """Bob's phone stops ringing when the customer leaves or Ann sends them to a queue."""
    h = AcdHarness()
    _ann_talking(h)
    offer = _transfer_offer(h)
    out = h.engine.hangup("c1")
    assert _of(out, acd.Rescind) == [
        acd.Rescind(offer_id=offer.offer_id, contact_id="c1", agent_id="bob")
    ]
    assert h.state("bob") is acd.AgentState.READY
    h2 = AcdHarness()
    _ann_talking(h2)
    pending = _transfer_offer(h2)
    out = h2.engine.transfer("c1", "other")
    assert [r.offer_id for r in _of(out, acd.Rescind)] == [pending.offer_id]
    # Bob, ready in "other", now gets c1 as an ordinary queue offer.
    assert [(o.agent_id, o.queue, o.transfer_from) for o in _of(out, acd.Offer)] == [
        ("bob", "other", "")
    ]


def test_customer_leaving_while_being_bridged_to_the_colleague_completes_the_contact() -> None:
    """Answered already, so not an abandon; the colleague never spoke, so no wrap-up."""
    h = AcdHarness()
    _ann_talking(h, wrap_up=5)
    h.engine.accept(_transfer_offer(h).offer_id, connect=False)
    h.engine.hangup("c1")
    assert h.capture.of(acd.ContactAbandoned) == []
    assert [e.agent_id for e in h.capture.of(acd.ContactCompleted)] == ["bob"]
    assert h.state("bob") is acd.AgentState.READY


def test_transfer_is_refused_to_a_colleague_who_cannot_take_it() -> None:
    """Not ready, busy, the same agent, a second pending transfer, a contact not connected."""
    h = AcdHarness()
    _ann_talking(h)
    h.engine.set_not_ready("bob")
    with pytest.raises(cc.StateError):
        h.engine.transfer_to_agent("c1", "bob")
    with pytest.raises(cc.ValidationError):
        h.engine.transfer_to_agent("c1", "ann")
    with pytest.raises(cc.NotFoundError):
        h.engine.transfer_to_agent("c1", "nobody")
    h.engine.set_ready("bob")
    h.agent("cid", ["other"])
    h.engine.transfer_to_agent("c1", "bob")
    with pytest.raises(cc.StateError):
        h.engine.transfer_to_agent("c1", "cid")
    h.engine.set_not_ready("ann")
    h.arrive("c2")
    with pytest.raises(cc.StateError):
        h.engine.transfer_to_agent("c2", "cid")
