"""Issue #15, the last peer settings: leave conditions, raise_penalty, ring-progressively.

Each test runs the engine in virtual time and its docstring names the
app_queue or mod_callcenter behaviour it reproduces.
"""

from __future__ import annotations

import pytest

import callcenter_sdk as cc
from callcenter_sdk import acd
from callcenter_sdk.testing import AcdHarness


def _offered(h: AcdHarness) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in h.capture.of(acd.ContactOffered)]


def _left(h: AcdHarness) -> list[tuple[str, float]]:
    return [
        (e.contact_id, e.at)
        for e in h.capture.of(acd.ContactExited)
        if e.reason == acd.ExitReason.LEAVE_EMPTY
    ]


# ----------------------------------------------------------- leave conditions


def test_leave_conditions_like_app_queue_leavewhenempty() -> None:
    """app_queue's leavewhenempty = paused,inuse: a waiting caller leaves (EXITEMPTY) as
    soon as every member is paused or on a call; a member in wrap-up (not a listed
    condition) keeps them in; a caller joining a queue whose members are all in use
    leaves at once; a queued callback stays."""
    h = AcdHarness()
    h.queue(leave_empty_conditions=["paused", "inuse"], wrap_up=30, offer_timeout=60)
    h.agent("ann")
    h.agent("bob")
    h.arrive("c1")
    h.arrive("c2")
    h.engine.accept("o1")
    h.engine.accept("o2")  # both members on a call now
    h.later(5)
    h.arrive("c3")  # joins (no join rule), and leaves at once: everyone is in use
    assert _left(h) == [("c3", 5.0)]
    h.later(5)
    h.engine.hangup("c1")  # ann goes to wrap-up: not a leave condition
    h.arrive("c4")
    h.arrive("c5")
    h.engine.keep_place_for_callback("c5", "+33100")
    assert h.engine.waiting_contacts("q") == ["c4", "c5"]
    h.later(3)
    h.engine.set_not_ready("ann", "lunch")  # paused in wrap-up; bob still on a call
    assert _left(h) == [("c3", 5.0), ("c4", 13.0)]
    assert h.engine.waiting_contacts("q") == ["c5"]  # nobody on the line to send away


def test_leave_conditions_wait_for_the_last_member() -> None:
    """app_queue checks leavewhenempty against every member: the caller stays while one
    member is in none of the conditions (here ready), and leaves when that member's
    offer of another caller makes them ring (leavewhenempty = ringing,unavailable)."""
    h = AcdHarness()
    h.queue(leave_empty_conditions=["ringing", "unavailable"], offer_timeout=20)
    h.queue("other")
    h.agent("ann", ["q", "other"], ready=False)
    h.agent("gone", ready=False)
    h.engine.logout("gone")
    h.arrive("c1", requirements=[acd.SkillRequirement("french")])  # ann cannot take it
    assert _left(h) == []  # ann is logged in and not ringing
    h.later(2)
    h.arrive("o1", "other")
    h.engine.set_ready("ann")  # ann rings with the other queue's caller
    assert _offered(h) == [("o1", "ann")]
    assert _left(h) == [("c1", 2.0)]


def test_leave_conditions_read_the_callers_penalty_range() -> None:
    """app_queue's leavewhenempty = penalty: each caller is judged with their own range — the caller
    whose QUEUE_MAX_PENALTY excludes every member leaves, the other stays; a penalty
    change that leaves nobody in a caller's range sends them away then."""
    h = AcdHarness()
    h.queue(leave_empty_conditions=["penalty"])
    h.agent("far", penalty=3, ready=False)
    h.arrive("narrow", max_penalty=1)
    h.arrive("wide")
    assert [c for c, _ in _left(h)] == ["narrow"]
    assert h.engine.waiting_contacts("q") == ["wide"]
    h.arrive("ranged", max_penalty=3)
    h.later(4)
    h.engine.set_penalty("far", "q", 4)
    assert [c for c, _ in _left(h)] == ["narrow", "ranged"]
    assert h.engine.waiting_contacts("q") == ["wide"]


def test_leave_conditions_overflow_like_the_leave_rule() -> None:
    """A caller sent away by the leave conditions goes to the queue's overflow (reason
    leave-empty), as app_queue continues the dialplan after EXITEMPTY."""
    h = AcdHarness()
    h.queue("backup")
    h.queue(
        leave_empty_conditions=["unavailable"],
        overflow=acd.Overflow(target="queue", queue="backup"),
    )
    h.agent("ann", ["backup"])
    h.arrive("c1")
    moved = h.capture.of(acd.ContactOverflowed)
    assert [(e.contact_id, e.reason, e.to_queue) for e in moved] == [
        ("c1", "leave-empty", "backup")
    ]
    assert _offered(h) == [("c1", "ann")]


# ----------------------------------------------------------- raise_penalty


def test_raise_penalty_lifts_members_into_the_callers_range() -> None:
    """queuerules.conf's penaltychange => 30,,,2 (the fourth field): from 30 s on, members
    whose penalty is below 2 count as penalty 2 for this caller, so a caller with
    QUEUE_MIN_PENALTY = 2 reaches the penalty-0 member then, not before."""
    h = AcdHarness()
    h.queue(penalty_rules=[acd.PenaltyRule(after=30, raise_penalty=2)])
    h.agent("low", penalty=0)
    h.agent("high", penalty=2, ready=False)
    h.arrive("c1", min_penalty=2)
    h.later(29)
    assert _offered(h) == []
    assert h.engine.contact_status("c1").raise_penalty is None
    h.later(1)
    assert _offered(h) == [("c1", "low")]
    assert h.engine.contact_status("c1").raise_penalty == 2


def test_raised_members_are_asked_as_of_the_raised_penalty() -> None:
    """app_queue orders members by the raised penalty: with QUEUE_RAISE_PENALTY = 3 the
    penalty-0 and penalty-3 members are one tier, and linear asks the one listed first;
    without it, the penalty-0 member is asked first."""
    h = AcdHarness()
    h.queue(strategy="linear")
    h.agent("three", penalty=3)
    h.agent("zero", penalty=0)
    h.arrive("lifted", raise_penalty=3)
    h.engine.hangup("lifted")
    h.arrive("plain")
    assert _offered(h) == [("lifted", "three"), ("plain", "zero")]


def test_a_freed_member_takes_a_caller_only_within_the_raised_range() -> None:
    """A member freeing up checks the waiting caller's range after the raise: a penalty-0
    member takes the caller with QUEUE_MIN_PENALTY = 1 only once a rule raised it to 1."""
    h = AcdHarness()
    h.queue(penalty_rules=[acd.PenaltyRule(after=10, raise_penalty=1)])
    h.agent("low", ready=False)
    h.arrive("c1", min_penalty=1)
    h.engine.set_ready("low")
    assert _offered(h) == []
    h.later(10)
    assert _offered(h) == [("c1", "low")]


def test_relative_raise_changes_the_raise_in_force() -> None:
    """A relative fourth field (penaltychange => 20,,,+2) adds to the raise value in
    force, like the relative changes of the maximum and minimum; a caller without one
    keeps none."""
    rule = acd.PenaltyRule(after=20, raise_penalty=2, relative_raise=True)
    assert rule.raise_to(1) == 3
    assert rule.raise_to(None) is None
    assert acd.PenaltyRule(after=0, raise_penalty=-1, relative_raise=True).raise_to(0) == 0
    assert acd.PenaltyRule(after=0, raise_penalty=4).raise_to(9) == 4
    with pytest.raises(cc.ValidationError):
        acd.Contact(id="c", raise_penalty=-1)


# ------------------------------------------------------- ring-progressively


def test_ring_progressively_adds_one_member_per_delay() -> None:
    """mod_callcenter's ring-progressively: the members ring in order (level, position),
    one more every ring-progressively-delay seconds while the earlier ones still ring;
    the first to answer takes the call and the others' offers are cancelled."""
    h = AcdHarness()
    h.queue(strategy="ring-progressively", ring_progressively_delay=10, offer_timeout=60)
    h.agent("second", penalty=1)
    h.agent("first")
    h.agent("third", penalty=1)
    h.arrive("c1")
    assert _offered(h) == [("c1", "first")]
    h.later(9)
    assert len(_offered(h)) == 1
    h.later(1)
    h.later(10)
    assert _offered(h) == [("c1", "first"), ("c1", "second"), ("c1", "third")]
    offer = next(e.offer_id for e in h.capture.of(acd.ContactOffered) if e.agent_id == "second")
    h.later(5)
    h.engine.accept(offer)
    rescinded = {(e.agent_id, e.reason) for e in h.capture.of(acd.OfferRescinded)}
    assert rescinded == {("first", "answered-elsewhere"), ("third", "answered-elsewhere")}
    assert h.engine.contact_status("c1").agent_id == "second"
    assert h.state("first") is acd.AgentState.READY


def test_ring_progressively_keeps_ringing_after_one_offer_times_out() -> None:
    """Each member's ring has its own timeout: when the first member's phone stops
    ringing unanswered the later ones go on; when every offer is over the caller waits
    again and a new round starts from the top."""
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=0))
    h.queue(strategy="ring-progressively", ring_progressively_delay=5, offer_timeout=8)
    h.agent("first")
    h.agent("second")
    h.arrive("c1")
    h.later(5)  # second rings too
    h.later(3)  # first's offer times out at 8
    assert [e.agent_id for e in h.capture.of(acd.OfferNotAnswered)] == ["first"]
    assert h.engine.contact_status("c1").offers == ("second",)
    assert _offered(h)[-1] == ("c1", "second")
    h.later(5)  # second's offer times out at 13: a new round rings first again
    assert _offered(h)[-1] == ("c1", "first")
    h.later(5)
    assert _offered(h)[-1] == ("c1", "second")


def test_ring_progressively_with_nobody_ready_rings_the_next_one_who_is() -> None:
    """With no member ready when the delay is over, mod_callcenter's dispatcher looks
    again on each pass and rings the next member as soon as one is available; the step
    after that comes a delay later (the delay counts from the last member rung)."""
    h = AcdHarness()
    h.queue(strategy="ring-progressively", ring_progressively_delay=10, offer_timeout=60)
    h.agent("first")
    h.arrive("c1")
    h.later(12)  # the step at 10 found nobody
    h.agent("late")  # ready at 12: rung with c1 at once
    h.later(3)
    h.agent("extra")  # ready at 15: c1's next step is at 22
    h.later(10)
    offers = [(e.agent_id, e.at) for e in h.capture.of(acd.ContactOffered)]
    assert offers == [("first", 0.0), ("late", 12.0), ("extra", 22.0)]


def test_ring_progressively_a_waiting_caller_keeps_their_turn() -> None:
    """A member freed while a ringing caller waits for more members takes a waiting
    caller first (mod_callcenter serves its members by score, the longest wait
    first; the ringing caller already has members ringing)."""
    h = AcdHarness()
    h.queue(strategy="ring-progressively", ring_progressively_delay=10, offer_timeout=60)
    h.queue("other")
    h.agent("first")
    h.agent("busy", ["q", "other"])
    h.arrive("x", "other")
    h.engine.accept("o1")  # busy is on a call
    h.arrive("c1")  # first rings
    h.later(12)  # the step at 10 found nobody
    h.arrive("c2")  # waits
    h.engine.hangup("x")
    assert _offered(h)[-1] == ("c2", "busy")
    assert h.engine.contact_status("c1").offers == ("first",)


def test_ring_progressively_a_wider_range_rings_a_due_caller() -> None:
    """A ringing caller whose step found nobody in range is rung to a member as soon as
    a penalty rule widens the range to them (mod_callcenter re-reads the tiers on
    each pass)."""
    h = AcdHarness()
    h.queue(
        strategy="ring-progressively",
        ring_progressively_delay=5,
        offer_timeout=60,
        penalty_rules=[acd.PenaltyRule(after=8, max_penalty=2)],
    )
    h.agent("near")
    h.agent("far", penalty=2)
    h.arrive("c1", max_penalty=0)
    h.later(8)
    assert [(e.agent_id, e.at) for e in h.capture.of(acd.ContactOffered)] == [
        ("near", 0.0),
        ("far", 8.0),
    ]


def test_ring_progressively_stops_adding_members_after_the_max_wait() -> None:
    """A caller past the queue's max wait finishes the offers ringing (timeoutpriority
    conf, the engine's default) and no new member is rung for them."""
    h = AcdHarness()
    h.queue(
        strategy="ring-progressively",
        ring_progressively_delay=10,
        offer_timeout=30,
        max_wait=15,
    )
    h.agent("first")
    h.agent("second")
    h.agent("third")
    h.arrive("c1")
    h.later(25)
    assert [a for _, a in _offered(h)] == ["first", "second"]
    h.later(15)  # second's offer, made at 10, ends unanswered at 40: the caller leaves
    assert [a for _, a in _offered(h)] == ["first", "second"]
    assert [(e.contact_id, e.at) for e in h.capture.of(acd.ContactTimedOut)] == [("c1", 40.0)]


def test_ring_progressively_answers_like_linear_from_a_snapshot() -> None:
    """The strategy's select() answers as linear (one agent, lowest penalty then order):
    the progression is the engine's."""
    strategy = acd.BUILTIN_STRATEGIES["ring-progressively"]({})
    assert strategy.index_key is acd.IndexKey.ORDER
    assert getattr(strategy, "progressive", False)
    with pytest.raises(cc.ValidationError):
        acd.Queue(name="q", ring_progressively_delay=0)


# ------------------------------------------------------------ autopausebusy


def test_autopausebusy_pauses_a_member_whose_line_is_busy() -> None:
    """app_queue's autopausebusy = yes (with autopause = yes): a member whose phone
    answers busy is paused in the queue (reason auto-pause), as after a ring with no
    answer; without it the busy line only rests them (busy_delay)."""
    policy = acd.RoutingPolicy(busy_delay=4)
    h = AcdHarness(policy=policy)
    h.queue("strictq", autopause="queue", autopause_busy=True, offer_timeout=30)
    h.queue(autopause="queue", offer_timeout=30)
    h.agent("ann", ["strictq"])
    h.agent("bob", ["q"])
    h.arrive("c1", "strictq")
    h.arrive("c2", "q")
    h.engine.busy("o1")
    h.engine.busy("o2")
    paused = [(m.agent_id, m.reason) for m in h.engine.members("strictq") if m.paused]
    assert paused == [("ann", "auto-pause")]
    assert h.engine.agent_status("ann").presence is acd.AgentState.READY
    assert not any(m.paused for m in h.engine.members("q"))
    assert h.engine.agent_status("bob").reason == "missed-offer-delay"
    h.later(4)
    assert _offered(h)[-1] == ("c2", "bob")  # rested, back; ann stays paused in strictq
    assert [c for c, _ in _offered(h)].count("c1") == 1


def test_autopausebusy_needs_autopause() -> None:
    """app_queue's autopausebusy acts only where autopause does: with autopause = no a
    busy line rests the member (here for 0 s) and pauses nobody."""
    h = AcdHarness(policy=acd.RoutingPolicy(busy_delay=0))
    h.queue(autopause_busy=True, offer_timeout=30)
    h.agent("ann")
    h.agent("bob")
    h.arrive("c1")
    h.engine.busy("o1")
    assert not any(m.paused for m in h.engine.members("q"))
    assert h.engine.agent_status("ann").presence is acd.AgentState.READY
    assert len(_offered(h)) == 2  # offered again at once, nobody paused


def test_ring_progressively_a_due_caller_rings_only_members_in_range() -> None:
    """A member becoming ready outside the ringing caller's penalty range (or already
    ringing with them) is not added; one within it is."""
    h = AcdHarness()
    h.queue(
        strategy="ring-progressively",
        ring_progressively_delay=5,
        offer_timeout=60,
        channels=["chat"],
    )
    h.queue("other", channels=["chat"])
    chats = acd.Capacity(limits={acd.Channel.CHAT: 2})
    h.agent("near", ["q", "other"], capacity=chats)
    h.arrive("c1", channel="chat", max_penalty=0)
    h.later(6)  # the step at 5 finds nobody else: near already rings with c1
    h.arrive("o1", "other", channel="chat")  # near takes it, and is freed again
    h.engine.hangup("o1")
    assert h.engine.contact_status("c1").offers == ("near",)
    h.agent("far", penalty=2, capacity=chats)
    assert [e.agent_id for e in h.capture.of(acd.ContactOffered)] == ["near", "near"]
    h.agent("also-near", capacity=chats)
    assert h.engine.contact_status("c1").offers == ("near", "also-near")
