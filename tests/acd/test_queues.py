"""Queue rules: max wait, overflow, max length, join/leave when empty, transfer, estimates."""

from __future__ import annotations

from typing import TypeVar

import pytest

import callcenter_sdk as cc
from callcenter_sdk import acd
from callcenter_sdk.testing import AcdHarness

A = TypeVar("A")


def _of(actions: list[acd.Action], kind: type[A]) -> list[A]:
    return [a for a in actions if isinstance(a, kind)]


def test_max_wait_overflows_to_another_queue_keeping_the_contact() -> None:
    """After max wait the contact leaves for the overflow queue and is served there."""
    h = AcdHarness()
    h.queue("backup")
    h.queue("front", max_wait=30, overflow=acd.Overflow(target="queue", queue="backup"))
    h.agent("ann", ["backup"])
    h.engine.set_not_ready("ann")
    h.arrive("c1", "front")
    h.later(29)
    assert h.engine.contact_status("c1").queue == "front"
    h.later(1)
    assert h.engine.contact_status("c1").queue == "backup"
    over = h.capture.of(acd.ContactOverflowed)[0]
    assert (over.reason, over.to_queue, over.waited, over.final) == (
        "max-wait",
        "backup",
        30,
        False,
    )
    entered = h.capture.of(acd.ContactEnteredQueue)
    assert [e.queue for e in entered] == ["front", "backup"]
    offers = h.engine.set_ready("ann")
    assert [(o.contact_id, o.agent_id) for o in offers if isinstance(o, acd.Offer)] == [
        ("c1", "ann")
    ]


@pytest.mark.parametrize("target", ["callback", "voicemail", "ticket"])
def test_max_wait_overflow_out_of_the_acd_is_final(target: str) -> None:
    """Callback, voicemail or ticket overflow ends the contact with a Divert action."""
    h = AcdHarness()
    h.queue("q", max_wait=10, overflow=acd.Overflow(target=target))
    h.arrive("c1")
    actions = h.later(10)
    assert [(a.contact_id, a.target) for a in actions if isinstance(a, acd.Divert)] == [
        ("c1", acd.OverflowTarget(target))
    ]
    assert h.capture.of(acd.ContactOverflowed)[0].final
    assert h.engine.live_contacts() == []


def test_max_wait_without_overflow_times_out() -> None:
    """No overflow configured: the contact times out (final) and is released."""
    h = AcdHarness()
    h.queue("q", max_wait=10)
    h.arrive("c1")
    actions = h.later(11)
    assert [a.reason for a in actions if isinstance(a, acd.Release)] == ["max-wait"]
    assert h.capture.of(acd.ContactTimedOut)[0].waited == 10  # fired at its deadline


def test_max_wait_during_an_offer_waits_for_the_answer() -> None:
    """A contact ringing at its max wait is not pulled away; if the offer fails it leaves."""
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=60))
    h.queue("q", max_wait=10, offer_timeout=15)
    h.agent("ann")
    h.arrive("c1")
    h.later(10)
    assert h.engine.contact_status("c1").phase is acd.ContactPhase.OFFERING
    h.later(5)
    assert h.capture.of(acd.ContactTimedOut)[0].contact_id == "c1"


def test_max_length_refuses_or_overflows() -> None:
    """Past max length a newcomer exits as full, or overflows when configured."""
    h = AcdHarness()
    h.queue("spill")
    h.queue("small", max_length=1)
    h.queue("spilling", max_length=0, overflow=acd.Overflow(target="queue", queue="spill"))
    h.arrive("c1", "small")
    actions = h.arrive("c2", "small")
    assert [a.reason for a in actions if isinstance(a, acd.Release)] == ["full"]
    assert h.capture.of(acd.ContactExited)[0].reason is acd.ExitReason.FULL
    h.arrive("c3", "spilling")
    assert h.engine.contact_status("c3").queue == "spill"


def test_join_when_empty_rules() -> None:
    """Joining is refused with nobody logged in, or nobody available, per the rule."""
    h = AcdHarness()
    h.queue("logged", join_when_empty="no-agent-logged-in")
    h.queue("avail", join_when_empty="no-agent-available")
    h.arrive("c1", "logged")
    h.agent("ann", ["logged", "avail"], ready=False)
    h.arrive("c2", "logged")
    h.arrive("c3", "avail")
    exits = [(e.contact_id, e.reason) for e in h.capture.of(acd.ContactExited)]
    assert exits == [("c1", acd.ExitReason.JOIN_EMPTY), ("c3", acd.ExitReason.JOIN_EMPTY)]
    assert h.engine.contact_status("c2").phase is acd.ContactPhase.WAITING


def test_leave_when_empty_sends_waiting_contacts_away() -> None:
    """When the last available member pauses, waiting contacts leave (rule no-agent-available)."""
    h = AcdHarness()
    h.queue("q", leave_when_empty="no-agent-available", max_length=None)
    h.agent("ann")
    h.agent("bob")
    for i in range(3):
        h.arrive(f"c{i}")
    h.engine.set_not_ready("bob")
    assert h.engine.waiting_count("q") == 1
    h.engine.set_not_ready("ann")
    exits = h.capture.of(acd.ContactExited)
    assert [(e.contact_id, e.reason) for e in exits] == [("c2", acd.ExitReason.LEAVE_EMPTY)]
    assert h.engine.contact_status("c0").phase is acd.ContactPhase.OFFERING


def test_transfer_requeues_and_sends_the_agent_to_wrap_up() -> None:
    """A blind transfer ends the agent's part (wrap-up) and the contact joins the target."""
    h = AcdHarness()
    h.queue("level1", wrap_up=5)
    h.queue("level2")
    h.agent("ann", ["level1"])
    h.agent("bob", ["level2"])
    offer = _of(h.arrive("c1", "level1"), acd.Offer)[0]
    h.engine.accept(offer.offer_id)
    h.later(20)
    actions = h.engine.transfer("c1", "level2")
    assert [(o.contact_id, o.agent_id) for o in _of(actions, acd.Offer)] == [("c1", "bob")]
    moved = h.capture.of(acd.ContactTransferred)[0]
    assert (moved.from_queue, moved.to_queue, moved.talk_time) == ("level1", "level2", 20)
    assert h.state("ann") is acd.AgentState.WRAP_UP


def test_abandon_while_waiting_and_while_ringing() -> None:
    """Hanging up before the answer is an abandon, flagged ringing if an agent was offered."""
    h = AcdHarness()
    h.queue("q")
    h.arrive("c1")
    h.later(4)
    h.engine.hangup("c1")
    h.agent("ann")
    h.arrive("c2")
    h.later(2)
    actions = h.engine.hangup("c2")
    abandons = [(e.contact_id, e.waited, e.ringing) for e in h.capture.of(acd.ContactAbandoned)]
    assert abandons == [("c1", 4, False), ("c2", 2, True)]
    assert _of(actions, acd.Rescind)
    assert h.state("ann") is acd.AgentState.READY


def test_position_and_estimated_wait() -> None:
    """EWT = position × moving-average handle time / available agents."""
    h = AcdHarness(policy=acd.RoutingPolicy(aht_smoothing=1.0))
    h.queue("q", initial_handle_time=100)
    h.agent("ann")
    h.agent("bob")
    for name in ("ann", "bob"):
        h.engine.set_not_ready(name)
    h.engine.set_ready("ann")
    h.engine.set_ready("bob")
    first = next(a for a in h.arrive("x") if isinstance(a, acd.Offer))
    h.engine.accept(first.offer_id)
    h.later(60)
    h.engine.hangup("x")  # AHT becomes 60 (smoothing 1)
    assert h.engine.average_handle_time("q") == 60
    h.engine.set_not_ready("ann")
    h.engine.set_not_ready("bob")  # nobody available: the divisor is 1
    announce = next(a for a in h.arrive("c1") if isinstance(a, acd.Announce))
    assert (announce.position, announce.estimated_wait) == (1, 60.0)
    h.arrive("c2")
    assert h.engine.position("c2") == 2
    assert h.engine.estimated_wait("c2") == 120.0


def test_bad_inputs_raise_library_errors() -> None:
    """Unknown names, duplicate ids and wrong channels raise the documented errors."""
    h = AcdHarness()
    h.queue("q", channels=[acd.Channel.VOICE])
    with pytest.raises(cc.NotFoundError):
        h.arrive("c1", "nope")
    with pytest.raises(cc.ValidationError):
        h.arrive("c1", channel=acd.Channel.EMAIL)
    h.arrive("c1")
    with pytest.raises(cc.ValidationError):
        h.arrive("c1")
    with pytest.raises(cc.ConfigError):
        h.queue("q")
    with pytest.raises(cc.ConfigError, match="strategy"):
        h.queue("x", strategy="telepathy")
    with pytest.raises(cc.ConfigError, match="overflow"):
        h.queue("y", overflow=acd.Overflow(target="queue", queue="later"))
    with pytest.raises(cc.ConfigError):
        h.engine.add_agent(acd.Agent(id="ann", memberships=[acd.Membership("nope")]))
    with pytest.raises(cc.StateError):
        h.engine.hold("c1")
    with pytest.raises(cc.NotFoundError):
        h.engine.reject("o999")
    with pytest.raises(cc.ValidationError):
        acd.Queue(name="z", weight=0)
    with pytest.raises(cc.ValidationError):
        acd.SkillRequirement("x", 9)


def test_update_agent_only_when_offline() -> None:
    """An offline agent's skills and queues can be replaced; a logged-in one cannot."""
    h = AcdHarness()
    h.queue("a")
    h.queue("b")
    h.agent("ann", ["a"])
    with pytest.raises(cc.StateError):
        h.engine.update_agent(acd.Agent(id="ann", memberships=[acd.Membership("b")]))
    h.engine.logout("ann")
    h.engine.update_agent(acd.Agent(id="ann", memberships=[acd.Membership("b")]))
    h.engine.login("ann")
    h.engine.set_ready("ann")
    assert [a.agent_id for a in h.arrive("c1", "b") if isinstance(a, acd.Offer)] == ["ann"]


def test_periodic_announcements_follow_the_position() -> None:
    """With announce_every, a waiting contact hears its position again as the queue moves."""
    h = AcdHarness()
    h.queue("q", announce_every=30)
    h.arrive("c1")
    h.arrive("c2")
    first = [a for a in h.later(30) if isinstance(a, acd.Announce)]
    assert [(a.contact_id, a.position) for a in first] == [("c1", 1), ("c2", 2)]
    h.engine.hangup("c1")
    again = [a for a in h.later(30) if isinstance(a, acd.Announce)]
    assert [(a.contact_id, a.position) for a in again] == [("c2", 1)]


def test_a_missed_offer_rest_does_not_empty_the_queue() -> None:
    """The rest after a missed offer is not a pause: leave-when-empty keeps the contacts."""
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=5))
    h.queue("q", leave_when_empty="no-agent-available")
    h.agent("ann")
    offer = next(a for a in h.arrive("c1") if isinstance(a, acd.Offer))
    h.arrive("c2")
    h.engine.reject(offer.offer_id)
    assert h.engine.agent_status("ann").reason == "missed-offer-delay"
    assert h.engine.waiting_contacts("q") == ["c1", "c2"]
    assert not h.capture.of(acd.ContactExited)


def test_queue_status_for_wallboards() -> None:
    """The snapshot counts waiting contacts, the oldest wait and the members present."""
    h = AcdHarness()
    h.queue("q", initial_handle_time=60)
    h.agent("ann", ready=False)
    h.arrive("old", priority=0)
    h.later(40)
    h.arrive("vip", priority=9)
    h.later(5)
    status = h.engine.queue_status("q")
    assert (status.waiting, status.oldest_wait, status.logged_in, status.available) == (
        2,
        45,
        1,
        0,
    )
    assert status.estimated_wait == 3 * 60  # a newcomer would be third; divisor at least 1
