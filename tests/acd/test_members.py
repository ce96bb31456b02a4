"""Live membership, per-queue pause, auto-pause, ring-in-use, per-agent wrap-up, miss delays.

Each test's docstring names the app_queue or mod_callcenter behaviour it reproduces.
"""

from __future__ import annotations

import pytest

import callcenter_sdk as cc
from callcenter_sdk import acd
from callcenter_sdk.kpi import Channel
from callcenter_sdk.testing import AcdHarness


def _offered(h: AcdHarness) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in h.capture.of(acd.ContactOffered)]


def _changes(h: AcdHarness) -> list[tuple[str, str, acd.MemberChange, int]]:
    return [(e.agent_id, e.queue, e.change, e.penalty) for e in h.capture.of(acd.MemberChanged)]


def test_add_member_takes_a_waiting_contact_at_once() -> None:
    """app_queue's AddQueueMember: a logged-in agent added to a queue is rung for its
    waiting caller at once, and the change is logged (ADDMEMBER)."""
    h = AcdHarness()
    h.queue("q")
    h.queue("other")
    h.agent("ann", ["other"])
    h.arrive("c1", "q")
    h.engine.add_member("ann", "q", penalty=2)
    assert _offered(h) == [("c1", "ann")]
    assert _changes(h) == [("ann", "q", acd.MemberChange.ADDED, 2)]
    assert [m.agent_id for m in h.engine.members("q")] == ["ann"]
    assert [m.agent_id for m in h.engine.members("other")] == ["ann"]


def test_remove_member_stops_offers_and_applies_the_leave_rule() -> None:
    """RemoveQueueMember: the member gets no more calls from the queue, and a queue left
    with nobody available sends its callers away (leavewhenempty)."""
    h = AcdHarness()
    h.queue("q", leave_when_empty="no-agent-logged-in")
    h.agent("ann", ready=False)
    h.agent("bob")
    h.engine.remove_member("bob", "q")
    h.arrive("c3")
    assert _offered(h) == []  # bob is ready but no longer a member
    assert h.engine.live_contacts() == ["c3"]  # ann is logged in (paused): it stays
    h.engine.remove_member("ann", "q")
    assert [e.contact_id for e in h.capture.of(acd.ContactExited)] == ["c3"]
    assert [m.agent_id for m in h.engine.members("q")] == []
    with pytest.raises(cc.StateError):
        h.engine.remove_member("ann", "q")


def test_set_penalty_keeps_the_order_and_moves_the_member_between_tiers() -> None:
    """QueuePenalty / ``callcenter_config tier set level``: the new penalty applies to the
    next call; the member keeps their place in a linear (top-down) order."""
    h = AcdHarness()
    h.queue(strategy="linear")
    h.agent("a")
    h.agent("b")
    h.engine.set_penalty("a", "q", 3)
    h.arrive("c1")
    assert _offered(h) == [("c1", "b")]
    h.engine.set_penalty("a", "q", 0)
    h.engine.hangup("c1")
    h.arrive("c2")
    assert _offered(h)[-1] == ("c2", "a")
    members = h.engine.members("q")
    assert [(m.agent_id, m.penalty, m.order) for m in members] == [("a", 0, 0), ("b", 0, 1)]


def test_reload_members_is_one_change() -> None:
    """``queue reload members``: the configured members replace the old ones in one step;
    no caller is rung from the half-loaded queue (the departing member is not offered)."""
    h = AcdHarness()
    h.queue()
    h.agent("old", ready=False)
    h.agent("kept", penalty=1, ready=False)
    h.agent("new", [], ready=True)
    h.arrive("c1")
    h.engine.reload_members("q", {"kept": 0, "new": 2})
    assert _offered(h) == [("c1", "new")]
    assert sorted(_changes(h)) == [
        ("kept", "q", acd.MemberChange.PENALTY, 0),
        ("new", "q", acd.MemberChange.ADDED, 2),
        ("old", "q", acd.MemberChange.REMOVED, 0),
    ]
    assert [(m.agent_id, m.penalty) for m in h.engine.members("q")] == [("kept", 0), ("new", 2)]


def test_pause_in_one_queue_keeps_the_others() -> None:
    """QueuePause with a queue name: the member stops getting that queue's calls and keeps
    the others'; the queue counts them unavailable; unpausing serves its waiting caller."""
    h = AcdHarness()
    h.queue("a")
    h.queue("b")
    h.agent("ann", ["a", "b"])
    h.engine.pause_member("ann", "a", "training")
    assert h.engine.queue_status("a").available == 0
    h.arrive("ca", "a")
    assert _offered(h) == []
    h.arrive("cb", "b")
    assert _offered(h) == [("cb", "ann")]
    h.engine.hangup("cb")
    assert _offered(h) == [("cb", "ann")]
    h.engine.unpause_member("ann", "a")
    assert _offered(h)[-1] == ("ca", "ann")
    (paused,) = [m for m in h.capture.of(acd.MemberChanged) if m.change is acd.MemberChange.PAUSED]
    assert (paused.queue, paused.reason) == ("a", "training")


def test_autopause_pauses_the_member_in_the_queue_after_a_ring_no_answer() -> None:
    """app_queue's ``autopause = yes``: a member who lets a call ring out is paused in that
    queue (``all`` pauses everywhere); ``autopausedelay`` spares one who just had a call."""
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=0, max_missed_offers=9))
    h.queue("q", autopause="queue", autopause_delay=30, offer_timeout=10)
    h.queue("all", autopause="all", offer_timeout=10)
    h.agent("ann", ["q"])
    h.agent("bob", ["all"])
    h.arrive("c1", "q")
    h.engine.accept(h.capture.of(acd.ContactOffered)[0].offer_id)
    h.later(5)
    h.engine.hangup("c1")
    h.arrive("c2", "q")
    h.later(10)  # ann missed it 10 s after her last call: not paused (delay 30)
    assert not h.engine.members("q")[0].paused
    h.later(25)  # rung again at 15 and 25, missed at 35: 30 s after her call
    assert h.engine.members("q")[0].reason == "auto-pause"
    assert h.engine.agent_status("ann").presence is acd.AgentState.READY
    h.arrive("d1", "all")
    h.later(10)
    bob = h.engine.agent_status("bob")
    assert (bob.presence, bob.reason) == (acd.AgentState.NOT_READY, "auto-pause")


def test_a_member_removed_while_rung_is_not_auto_paused_in_that_queue() -> None:
    """A member removed from an ``autopause = yes`` queue while its call rings, whose
    line then answers busy (``autopausebusy``), has no membership to pause: they rest
    as after any busy line instead (the membership machine found a KeyError here)."""
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=3, max_missed_offers=9))
    h.queue("q", autopause="queue", autopause_busy=True)
    h.agent("ann", ["q"])
    h.arrive("c1", "q")
    offer = h.capture.of(acd.ContactOffered)[0].offer_id
    h.engine.remove_member("ann", "q")
    h.engine.busy(offer)
    assert h.engine.members("q") == []
    ann = h.engine.agent_status("ann")
    assert (ann.presence, ann.reason) == (acd.AgentState.NOT_READY, "missed-offer-delay")


def test_ring_in_use_off_offers_only_to_members_with_nothing_in_hand() -> None:
    """app_queue's ``ringinuse = no``: a member already on a contact is not rung, even
    with capacity left (three chats); the default fills the capacity."""
    h = AcdHarness()
    chats = acd.Capacity(limits={Channel.CHAT: 3})
    h.queue("strict", ring_in_use=False)
    h.queue("loose")
    h.agent("ann", ["strict"], capacity=chats)
    h.agent("bob", ["loose"], capacity=chats)
    for i in range(2):
        h.arrive(f"s{i}", "strict", channel="chat")
        h.arrive(f"l{i}", "loose", channel="chat")
    assert _offered(h) == [("s0", "ann"), ("l0", "bob"), ("l1", "bob")]


def test_per_agent_wrap_up_overrides_the_queue() -> None:
    """FreeSWITCH's per-agent ``wrap-up-time``: the agent's own wrap-up replaces the queue's."""
    h = AcdHarness()
    h.queue(wrap_up=30)
    h.engine.add_agent(acd.Agent(id="ann", memberships=[acd.Membership("q")], wrap_up=5))
    h.engine.login("ann")
    h.engine.set_ready("ann")
    h.arrive("c1")
    h.engine.accept(h.capture.of(acd.ContactOffered)[0].offer_id)
    h.engine.hangup("c1")
    assert h.engine.agent_status("ann").wrap_up_until == 5


def test_separate_delays_after_reject_busy_and_no_answer() -> None:
    """mod_callcenter's reject-delay-time, busy-delay-time and no-answer-delay-time: each
    outcome rests the agent for its own time; a busy line is its own event and does not
    count towards max-no-answer."""
    policy = acd.RoutingPolicy(
        max_missed_offers=9, reject_delay=7, busy_delay=3, no_answer_delay=11
    )
    h = AcdHarness(policy=policy)
    h.queue(offer_timeout=10)
    h.agent("ann")

    def rest_after(answer: str) -> float:
        start = h.clock.now()
        h.arrive(f"c{start}")
        offer = h.capture.of(acd.ContactOffered)[-1].offer_id
        if answer == "reject":
            h.engine.reject(offer)
        elif answer == "busy":
            h.engine.busy(offer)
        else:
            h.later(10)
        left = h.clock.now()
        h.engine.hangup(f"c{start}")
        h.later(20)
        ready = [
            e.at
            for e in h.capture.of(acd.AgentStateChanged)
            if e.state is acd.AgentState.READY and e.at > left
        ]
        return ready[0] - left

    assert rest_after("busy") == 3
    assert rest_after("busy") == 3
    assert h.engine.agent_status("ann").missed == 0
    assert rest_after("reject") == 7
    assert rest_after("no-answer") == 11
    busy = h.capture.of(acd.OfferBusy)
    assert len(busy) == 2
    assert all(e.kind == "acd.offer_busy" for e in busy)
    assert len(h.capture.of(acd.OfferRejected)) == 3  # a busy line is a refusal to old code
