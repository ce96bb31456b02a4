"""The agent state machine: legal transitions, reasons, missed offers, wrap-up, capacity."""

from __future__ import annotations

import pytest

import callcenter_sdk as cc
from callcenter_sdk import acd
from callcenter_sdk.testing import AcdHarness

S = acd.AgentState


def _offers(actions: list[acd.Action]) -> list[acd.Offer]:
    return [a for a in actions if isinstance(a, acd.Offer)]


def _harness(**policy: float) -> AcdHarness:
    h = AcdHarness(policy=acd.RoutingPolicy(**policy))  # type: ignore[arg-type]
    h.queue("q", wrap_up=10, offer_timeout=5)
    return h


def test_full_cycle_emits_each_transition_with_its_reason() -> None:
    """Login → ready → reserved → busy → wrap-up → ready, each an event with a reason."""
    h = _harness()
    h.agent("ann")
    offer = _offers(h.arrive("c1"))[0]
    h.engine.accept(offer.offer_id)
    h.later(30)
    h.engine.hangup("c1")
    h.later(10)
    changes = h.capture.of(acd.AgentStateChanged)
    assert [(e.previous, e.state, e.reason) for e in changes] == [
        (S.OFFLINE, S.NOT_READY, "login"),
        (S.NOT_READY, S.READY, "ready"),
        (S.READY, S.RESERVED, "offered"),
        (S.RESERVED, S.BUSY, "connected"),
        (S.BUSY, S.WRAP_UP, "completed"),
        (S.WRAP_UP, S.READY, "wrap-up-ended"),
    ]
    assert all(e.state in acd.LEGAL_TRANSITIONS[e.previous] for e in changes)


def test_not_ready_carries_its_reason_code_and_reason_changes_are_events() -> None:
    """A pause reason is on the event; switching pause code is itself a transition."""
    h = _harness()
    h.agent("ann")
    h.engine.set_not_ready("ann", "lunch")
    h.engine.set_not_ready("ann", "training")
    last_two = h.capture.of(acd.AgentStateChanged)[-2:]
    assert [(e.state, e.reason) for e in last_two] == [
        (S.NOT_READY, "lunch"),
        (S.NOT_READY, "training"),
    ]
    assert h.engine.agent_status("ann").reason == "training"


@pytest.mark.parametrize(
    ("call", "args"),
    [("set_ready", ()), ("set_not_ready", ("x",)), ("logout", ())],
)
def test_offline_agent_cannot_change_presence(call: str, args: tuple[str, ...]) -> None:
    """Ready, not ready and logout are illegal for an agent who never logged in."""
    h = _harness()
    h.engine.add_agent(acd.Agent(id="ann", memberships=[acd.Membership("q")]))
    with pytest.raises(cc.TransitionError):
        getattr(h.engine, call)("ann", *args)


def test_double_login_and_logout_while_busy_are_refused() -> None:
    """Logging in twice, or out with a contact in hand, raises TransitionError."""
    h = _harness()
    h.agent("ann")
    with pytest.raises(cc.TransitionError):
        h.engine.login("ann")
    h.engine.accept(_offers(h.arrive("c1"))[0].offer_id)
    with pytest.raises(cc.TransitionError):
        h.engine.logout("ann")
    h.engine.hangup("c1")
    h.engine.logout("ann")
    assert h.state("ann") is S.OFFLINE


def test_pause_while_busy_takes_effect_after_wrap_up() -> None:
    """Not ready during a call keeps the agent busy, then lands in not ready, not ready."""
    h = _harness()
    h.agent("ann")
    h.engine.accept(_offers(h.arrive("c1"))[0].offer_id)
    h.engine.set_not_ready("ann", "coaching")
    assert h.state("ann") is S.BUSY
    h.engine.hangup("c1")
    assert h.state("ann") is S.WRAP_UP
    h.arrive("c2")
    h.later(10)
    assert h.state("ann") is S.NOT_READY
    assert h.engine.agent_status("ann").reason == "coaching"
    assert h.engine.contact_status("c2").phase is acd.ContactPhase.WAITING


def test_missed_offers_rest_then_pause_after_n() -> None:
    """Each miss rests the agent for the delay; the Nth miss makes them not ready."""
    h = _harness(max_missed_offers=2, missed_offer_delay=4)
    h.agent("ann")
    first = _offers(h.arrive("c1"))[0]
    h.engine.reject(first.offer_id, reason="busy")
    status = h.engine.agent_status("ann")
    assert (status.state, status.reason, status.missed) == (S.NOT_READY, "missed-offer-delay", 1)
    again = _offers(h.later(4))
    assert [o.agent_id for o in again] == ["ann"]
    h.later(5)  # offer_timeout expires: the second miss
    status = h.engine.agent_status("ann")
    assert (status.state, status.reason) == (S.NOT_READY, "missed-offers")
    assert len(h.capture.of(acd.OfferNotAnswered)) == 1
    assert len(h.capture.of(acd.OfferRejected)) == 1
    h.later(60)
    assert h.state("ann") is S.NOT_READY  # stays paused until the agent comes back
    h.engine.set_ready("ann")
    assert h.engine.agent_status("ann").missed == 0


def test_accepting_resets_the_missed_count() -> None:
    """Consecutive misses are counted: an accepted offer starts again from zero."""
    h = _harness(max_missed_offers=2, missed_offer_delay=0)
    h.agent("ann")
    h.engine.reject(_offers(h.arrive("c1"))[0].offer_id)
    status = h.engine.agent_status("ann")  # no rest: offered the same contact again
    assert (status.missed, status.state) == (1, S.RESERVED)
    h.engine.accept(status.offers[0])
    assert h.engine.agent_status("ann").missed == 0


def test_wrap_up_can_be_extended_and_ended_early() -> None:
    """extend_wrap_up pushes the end (event); end_wrap_up finishes at once."""
    h = _harness()
    h.agent("ann")
    h.engine.accept(_offers(h.arrive("c1"))[0].offer_id)
    h.engine.hangup("c1")
    h.engine.extend_wrap_up("ann", 20)
    assert h.capture.of(acd.WrapUpExtended)[-1].until == 30
    h.later(10)
    assert h.state("ann") is S.WRAP_UP
    h.later(19)
    assert h.state("ann") is S.WRAP_UP
    h.engine.end_wrap_up("ann")
    assert h.state("ann") is S.READY
    with pytest.raises(cc.StateError):
        h.engine.end_wrap_up("ann")
    with pytest.raises(cc.StateError):
        h.engine.extend_wrap_up("ann", 5)


def test_hold_and_resume_are_events_and_flag_the_agent() -> None:
    """Hold marks the busy agent on hold; hold time is reported on completion."""
    h = _harness()
    h.agent("ann")
    h.engine.accept(_offers(h.arrive("c1"))[0].offer_id)
    h.later(10)
    h.engine.hold("c1")
    assert h.engine.agent_status("ann").on_hold
    h.later(7)
    h.engine.resume("c1")
    assert not h.engine.agent_status("ann").on_hold
    h.later(3)
    h.engine.hangup("c1")
    done = h.capture.of(acd.ContactCompleted)[0]
    assert (done.talk_time, done.hold_time) == (13, 7)
    assert [
        type(e) for e in h.capture.events if isinstance(e, acd.ContactHeld | acd.ContactResumed)
    ] == [
        acd.ContactHeld,
        acd.ContactResumed,
    ]


def test_chat_capacity_and_voice_blocking() -> None:
    """Up to 3 chats at once; voice is not offered while chatting, chats not while on voice."""
    h = AcdHarness()
    h.queue("q")
    h.agent("ann", capacity=acd.Capacity(limits={acd.Channel.VOICE: 1, acd.Channel.CHAT: 3}))
    for i in range(4):
        h.arrive(f"chat{i}", channel=acd.Channel.CHAT)
    h.arrive("call", channel=acd.Channel.VOICE)
    status = h.engine.agent_status("ann")
    assert status.load[acd.Channel.CHAT] == 3
    assert status.load[acd.Channel.VOICE] == 0
    for offer_id in status.offers:
        h.engine.accept(offer_id)
    assert h.state("ann") is S.BUSY
    for i in range(3):
        h.engine.hangup(f"chat{i}")
    # chat3 was waiting: it is offered when the first slot frees, before the call
    # (it arrived first); the call waits until no chat is in hand.
    assert h.engine.contact_status("chat3").phase is acd.ContactPhase.OFFERING
    assert h.engine.contact_status("call").phase is acd.ContactPhase.WAITING
    h.engine.accept(h.engine.agent_status("ann").offers[0])
    h.engine.hangup("chat3")
    assert h.engine.contact_status("call").phase is acd.ContactPhase.OFFERING
    h.arrive("chat9", channel=acd.Channel.CHAT)
    assert h.engine.contact_status("chat9").phase is acd.ContactPhase.WAITING


def test_engine_never_makes_an_illegal_transition() -> None:
    """The transition table itself forbids skipping states (offline → busy, ready → wrap-up)."""
    assert S.BUSY not in acd.LEGAL_TRANSITIONS[S.OFFLINE]
    assert S.WRAP_UP not in acd.LEGAL_TRANSITIONS[S.READY]
    assert S.RESERVED not in acd.LEGAL_TRANSITIONS[S.NOT_READY]
    assert set(acd.LEGAL_TRANSITIONS) == set(S)
