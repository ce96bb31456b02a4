"""Logging out after the work in hand (``logout(..., when_idle=True)``)."""

from __future__ import annotations

from typing import TypeVar

import pytest

import callcenter_sdk as cc
from callcenter_sdk import acd
from callcenter_sdk.testing import AcdHarness

A = TypeVar("A")


def _of(actions: list[acd.Action], kind: type[A]) -> list[A]:
    return [a for a in actions if isinstance(a, kind)]


def _talking(wrap_up: float = 10) -> AcdHarness:
    h = AcdHarness()
    h.queue("q", wrap_up=wrap_up)
    offer = _of(h.agent("ann"), acd.Offer) or _of(h.arrive("c1"), acd.Offer)
    h.engine.accept(offer[0].offer_id)
    return h


def test_busy_agent_finishes_the_contact_and_wrap_up_then_goes_offline() -> None:
    """No new offer after the request; offline with the reason when the wrap-up ends."""
    h = _talking()
    h.engine.logout("ann", reason="end-of-shift", when_idle=True)
    status = h.engine.agent_status("ann")
    assert (status.state, status.presence, status.logout_pending) == (
        acd.AgentState.BUSY,
        acd.AgentState.NOT_READY,
        True,
    )
    assert [e.reason for e in h.capture.of(acd.AgentLogoutRequested)] == ["end-of-shift"]
    assert _of(h.arrive("c2"), acd.Offer) == []
    h.later(5)
    h.engine.hangup("c1")
    assert h.state("ann") is acd.AgentState.WRAP_UP
    h.later(9)
    assert h.state("ann") is acd.AgentState.WRAP_UP
    h.later(1)
    last = h.capture.of(acd.AgentStateChanged)[-1]
    assert (last.state, last.reason, last.at) == (acd.AgentState.OFFLINE, "end-of-shift", 15)
    assert h.engine.waiting_contacts("q") == ["c2"]
    assert not h.engine.agent_status("ann").logout_pending


def test_without_wrap_up_the_agent_leaves_as_the_contact_ends() -> None:
    """The logout happens in the same instant as the hang-up; nobody waiting is offered to them."""
    h = _talking(wrap_up=0)
    h.engine.logout("ann", when_idle=True)
    h.arrive("c2")
    out = h.engine.hangup("c1")
    assert _of(out, acd.Offer) == []
    assert h.state("ann") is acd.AgentState.OFFLINE


def test_agent_in_wrap_up_only_waits_for_its_end() -> None:
    """when_idle keeps the wrap-up (a plain logout would cut it short)."""
    h = _talking()
    h.engine.hangup("c1")
    h.engine.logout("ann", when_idle=True)
    assert h.state("ann") is acd.AgentState.WRAP_UP
    h.engine.end_wrap_up("ann")
    assert h.state("ann") is acd.AgentState.OFFLINE


def test_a_ringing_offer_may_still_be_answered_or_missed() -> None:
    """An offer ringing at the request stays; once missed, the agent leaves."""
    h = AcdHarness()
    h.queue("q", offer_timeout=10)
    h.agent("ann")
    h.agent("bob", ready=False)
    offer = _of(h.arrive("c1"), acd.Offer)[0]
    h.engine.logout("ann", when_idle=True)
    assert h.engine.agent_status("ann").offers == (offer.offer_id,)
    h.engine.reject(offer.offer_id)
    assert h.state("ann") is acd.AgentState.OFFLINE
    assert h.engine.waiting_contacts("q") == ["c1"]


def test_idle_agent_leaves_at_once_and_set_ready_cancels_a_pending_logout() -> None:
    """when_idle on an idle agent is a plain logout; going ready again cancels it."""
    h = AcdHarness()
    h.queue("q")
    h.agent("ann")
    h.engine.logout("ann", when_idle=True)
    assert h.state("ann") is acd.AgentState.OFFLINE
    assert h.capture.of(acd.AgentLogoutRequested) == []
    h2 = _talking(wrap_up=0)
    h2.engine.logout("ann", when_idle=True)
    h2.engine.set_ready("ann")
    assert not h2.engine.agent_status("ann").logout_pending
    h2.arrive("c2")
    out = h2.engine.hangup("c1")
    assert [o.contact_id for o in _of(out, acd.Offer)] == ["c2"]


def test_plain_logout_is_still_refused_while_busy() -> None:
    """Without when_idle nothing changed: a busy agent cannot log out."""
    h = _talking()
    with pytest.raises(cc.TransitionError):
        h.engine.logout("ann")
    assert not h.engine.agent_status("ann").logout_pending
