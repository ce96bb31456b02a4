"""Issue #15 item 5 and its follow-ups: joining and leaving, tier skipping, membership updates.

Each test's docstring names the app_queue or mod_callcenter behaviour it reproduces.
"""

from __future__ import annotations

from callcenter_sdk import acd
from callcenter_sdk.testing import AcdHarness


def _offered(h: AcdHarness) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in h.capture.of(acd.ContactOffered)]


def test_update_agent_under_the_members_limit_offers_waiting_contacts() -> None:
    """app_queue's penaltymemberslimit counts members as a reload changes them: when an
    offline agent's update takes them out of the queue and it falls to the limit, the
    caller waiting outside every ready member's penalty is rung at once (the update's
    actions carry the offer)."""
    h = AcdHarness()
    h.queue(penalty_members_limit=2)
    h.queue("other")
    h.agent("high", penalty=9)
    h.agent("mid", penalty=5, ready=False)
    h.agent("gone", penalty=0, ready=False)
    h.engine.logout("gone")
    h.arrive("c1", max_penalty=0)
    assert _offered(h) == []
    actions = h.engine.update_agent(acd.Agent(id="gone", memberships=[acd.Membership("other")]))
    assert [(a.contact_id, a.agent_id) for a in actions if isinstance(a, acd.Offer)] == [
        ("c1", "high")
    ]
    assert _offered(h) == [("c1", "high")]


def test_completion_records_who_hung_up() -> None:
    """app_queue logs COMPLETECALLER or COMPLETEAGENT: the completion says who ended it."""
    h = AcdHarness()
    h.queue()
    h.agent("ann")
    h.agent("bob")
    h.arrive("c1")
    h.arrive("c2")
    h.engine.accept("o1")
    h.engine.accept("o2")
    h.later(30)
    h.engine.hangup("c1", ended_by="caller")
    h.engine.hangup("c2", ended_by=acd.EndedBy.AGENT)
    ended = [(e.contact_id, e.ended_by) for e in h.capture.of(acd.ContactCompleted)]
    assert ended == [("c1", acd.EndedBy.CALLER), ("c2", acd.EndedBy.AGENT)]


def test_a_caller_leaves_the_queue_with_an_exit_key() -> None:
    """app_queue's exit context: a waiting (or ringing) caller who presses a key of it
    leaves the queue (EXITWITHKEY with the key and their position); any other key
    is ignored. A ringing agent is freed and takes the next caller."""
    h = AcdHarness()
    h.queue(exit_keys="1#", offer_timeout=60)
    h.agent("ann")
    h.arrive("c1")
    h.arrive("c2")
    h.arrive("c3")
    h.later(5)
    assert h.engine.key_pressed("c2", "5") == []
    actions = h.engine.key_pressed("c2", "1")
    assert actions == [acd.Release(contact_id="c2", queue="q", reason="exit-with-key")]
    assert h.engine.key_pressed("c1", "#")[0] == acd.Rescind(
        offer_id="o1", contact_id="c1", agent_id="ann"
    )
    exits = [(e.contact_id, e.reason, e.key, e.waited) for e in h.capture.of(acd.ContactExited)]
    assert exits == [
        ("c2", acd.ExitReason.EXIT_WITH_KEY, "1", 5.0),
        ("c1", acd.ExitReason.EXIT_WITH_KEY, "#", 5.0),
    ]
    assert _offered(h) == [("c1", "ann"), ("c3", "ann")]
    records = {r.contact_id: r for r in acd.records_from_events(h.capture.events)[0]}
    assert records["c2"].outcome.value == "abandoned"


def test_no_agent_timeout_sends_callers_away() -> None:
    """mod_callcenter's max-wait-time-with-no-agent = 30: once the queue has had no
    available agent for 30 s, its callers leave (NO_AGENT_TIMEOUT) and a newcomer
    leaves at once; an available agent ends the spell."""
    h = AcdHarness()
    h.queue(no_agent_timeout=30)
    h.agent("ann", ready=False)
    h.later(10)
    h.arrive("c1")
    h.later(19)
    assert h.engine.live_contacts() == ["c1"]
    h.later(1)
    exits = [(e.contact_id, e.reason, e.waited) for e in h.capture.of(acd.ContactExited)]
    assert exits == [("c1", acd.ExitReason.NO_AGENT, 20.0)]
    h.arrive("c2")
    assert [e.contact_id for e in h.capture.of(acd.ContactExited)] == ["c1", "c2"]
    h.engine.set_ready("ann")
    h.engine.set_not_ready("ann", "lunch")
    h.arrive("c3")  # a new spell began: 30 s again
    h.later(29)
    assert h.engine.live_contacts() == ["c3"]
    h.later(1)
    assert h.engine.live_contacts() == []


def test_no_agent_timeout_with_a_grace_time() -> None:
    """max-wait-time-with-no-agent = 30 with …-time-reached = 20: once the queue has
    been agentless for 30 s, each caller leaves when they have waited 30 + 20 s; an
    agent coming back meanwhile keeps the rest."""
    h = AcdHarness()
    h.queue(no_agent_timeout=30, no_agent_grace=20)
    h.arrive("c1")
    h.later(40)
    h.arrive("c2")
    h.later(9)
    assert h.engine.live_contacts() == ["c1", "c2"]
    h.later(1)
    assert h.engine.live_contacts() == ["c2"]
    h.later(10)
    h.agent("ann")
    assert _offered(h) == [("c2", "ann")]
    h.engine.accept("o1")
    h.later(100)
    assert [e.contact_id for e in h.capture.of(acd.ContactExited)] == ["c1"]


def test_tier_rule_no_agent_no_wait_skips_levels_with_nobody_available() -> None:
    """mod_callcenter's tier-rule-no-agent-no-wait = true: a caller skips a level whose
    agents are all logged out or on break and reaches the next one at once; a level with
    an agent available but on a call still makes them wait its tier-rule-wait-second."""
    h = AcdHarness()
    rules = acd.TierRules(wait=10, no_agent_no_wait=True)
    h.queue(tier_rules=rules, offer_timeout=100)
    h.agent("l0", penalty=0, ready=False)  # on break
    h.agent("l1", penalty=1)
    h.agent("l2", penalty=2)
    h.arrive("c1")
    assert _offered(h) == [("c1", "l1")]  # level 0 has nobody: level 1 at once
    h.engine.set_ready("l0")
    h.arrive("c2")
    h.engine.accept("o2")  # l0 is on a call but available: level 1 waits 10 s
    h.arrive("c3")
    h.later(9)
    assert _offered(h) == [("c1", "l1"), ("c2", "l0")]
    h.engine.set_not_ready("l0", "break")  # paused after the call: nobody on level 0
    assert _offered(h) == [("c1", "l1"), ("c2", "l0")]  # level 1 is ringing c1
    h.engine.set_not_ready("l1", "break")  # level 1 empties: level 2 opens at once
    assert _offered(h)[-1] == ("c3", "l2")


def test_without_no_agent_no_wait_the_levels_wait() -> None:
    """tier-rule-no-agent-no-wait = false (the default): the level-1 agent is tried only
    after 10 s even when level 0 has nobody logged in."""
    h = AcdHarness()
    h.queue(tier_rules=acd.TierRules(wait=10))
    h.agent("l0", penalty=0, ready=False)
    h.agent("l1", penalty=1)
    h.arrive("c1")
    h.later(9)
    assert _offered(h) == []
    h.later(1)
    assert _offered(h) == [("c1", "l1")]


def test_an_on_demand_agent_takes_one_call_then_pauses() -> None:
    """mod_callcenter's agent status ``Available (On Demand)``: the agent is offered
    one call; once it is answered they take no other (not after the call and its
    wrap-up either) until they are made available again."""
    h = AcdHarness()
    h.queue(wrap_up=5)
    h.agent("ann", ready=False)
    h.engine.set_ready("ann", on_demand=True)
    assert h.engine.agent_status("ann").on_demand
    h.arrive("c1")
    h.arrive("c2")
    h.engine.accept("o1")
    status = h.engine.agent_status("ann")
    assert (status.state, status.presence, status.reason) == (
        acd.AgentState.BUSY,
        acd.AgentState.NOT_READY,
        "on-demand",
    )
    assert not status.on_demand
    h.later(60)
    h.engine.hangup("c1")
    h.later(10)
    assert h.engine.agent_status("ann").state is acd.AgentState.NOT_READY
    assert _offered(h) == [("c1", "ann")]
    h.engine.set_ready("ann")
    assert _offered(h) == [("c1", "ann"), ("c2", "ann")]


def test_an_on_demand_agent_who_misses_the_offer_stays_on_demand() -> None:
    """An unanswered offer is not the call taken: the on-demand agent is offered the
    next one (FreeSWITCH only changes the state once a call is bridged)."""
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=0))
    h.queue(offer_timeout=10)
    h.agent("ann", ready=False)
    h.engine.set_ready("ann", on_demand=True)
    h.arrive("c1")
    h.later(10)
    assert _offered(h) == [("c1", "ann"), ("c1", "ann")]
    assert h.engine.agent_status("ann").on_demand


def test_retry_rests_the_caller_between_rounds() -> None:
    """app_queue's retry = 5: when nobody answers within the ring timeout the caller
    keeps their place but no member is rung for 5 s; another caller may be rung
    meanwhile, and the rested caller is rung again when the pause ends."""
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=0))
    h.queue(retry=5, offer_timeout=10, strategy="linear")
    h.agent("ann")
    h.agent("bob", ready=False)
    h.arrive("c1")
    h.later(10)  # ann did not answer
    assert _offered(h) == [("c1", "ann")]
    h.engine.set_ready("bob")
    assert _offered(h) == [("c1", "ann")]  # resting: nobody rings
    h.arrive("c2")
    assert _offered(h)[-1] == ("c2", "ann")
    assert h.engine.position("c1") == 1
    h.later(5)
    assert _offered(h)[-1] == ("c1", "bob")


def test_a_refused_offer_goes_on_without_retry() -> None:
    """A member who declines (or is busy) lets app_queue ring the next member at once:
    the retry pause follows only a round nobody answered."""
    h = AcdHarness()
    h.queue(retry=5, strategy="linear")
    h.agent("ann")
    h.agent("bob")
    h.arrive("c1")
    h.engine.reject("o1")
    assert _offered(h) == [("c1", "ann"), ("c1", "bob")]


def test_max_wait_cuts_the_ringing_with_timeoutpriority_app() -> None:
    """app_queue's timeoutpriority = app: the queue's timeout ends the caller's stay even while a
    member rings (the ring is cut); with conf (the default) the ring finishes first."""
    for cuts, left_at in ((True, 30.0), (False, 35.0)):
        h = AcdHarness()
        h.queue(max_wait=30, offer_timeout=20, max_wait_cuts_offer=cuts)
        h.agent("ann", ready=False)
        h.arrive("c1")
        h.later(15)
        h.engine.set_ready("ann")
        h.later(30)
        (out,) = h.capture.of(acd.ContactTimedOut)
        assert out.at == left_at, cuts
        rescinds = [e.reason for e in h.capture.of(acd.OfferRescinded)]
        assert rescinds == (["max-wait"] if cuts else [])


def test_an_abandoned_caller_who_calls_back_resumes_their_place() -> None:
    """mod_callcenter's abandoned-resume-allowed with discard-abandoned-after = 60: a
    caller who hung up while waiting and calls again within 60 s takes back their
    place (their wait counts from their first entry); later, they start anew."""
    h = AcdHarness()
    h.queue(abandoned_resume=60)
    h.arrive("c1", caller_id="+331")
    h.later(5)
    h.arrive("c2", caller_id="+332")
    h.later(5)
    h.engine.hangup("c1")
    h.later(20)
    h.arrive("c3", caller_id="+331")
    assert h.engine.waiting_contacts("q") == ["c3", "c2"]
    assert h.capture.of(acd.ContactEnteredQueue)[-1].entered_at == 0.0
    h.engine.hangup("c3")
    h.later(61)
    h.arrive("c4", caller_id="+331")
    assert h.engine.waiting_contacts("q") == ["c2", "c4"]


def test_without_abandoned_resume_a_caller_starts_again() -> None:
    """abandoned-resume-allowed = false (the default): calling again is a new arrival."""
    h = AcdHarness()
    h.queue()
    h.arrive("c1", caller_id="+331")
    h.arrive("c2", caller_id="+332")
    h.engine.hangup("c1")
    h.arrive("c3", caller_id="+331")
    assert h.engine.waiting_contacts("q") == ["c2", "c3"]


def test_join_conditions_like_app_queue_joinempty() -> None:
    """app_queue's joinempty = paused,inuse,ringing,wrapup,penalty,unavailable: a caller
    is refused (JOINEMPTY) when every member is paused, on a call, ringing, in wrap-up,
    logged out or outside their penalty range; one member in none of these lets them in."""
    h = AcdHarness()
    conditions = ["paused", "inuse", "ringing", "wrapup", "penalty", "unavailable"]
    h.queue(join_empty_conditions=conditions, wrap_up=30, offer_timeout=60)
    h.queue("other")
    h.arrive("c0")  # no member at all
    h.agent("talking")
    h.agent("ringing")
    h.agent("wrapping")
    h.agent("paused", ready=False)
    h.agent("far", penalty=5, ready=False)
    h.agent("gone", ready=False)
    h.engine.logout("gone")
    h.arrive("c1")
    h.arrive("c2")
    h.engine.accept("o1")
    h.engine.hangup("c1")  # "talking" goes to wrap-up
    h.arrive("c3")
    h.engine.accept("o3")  # "wrapping" is on a call
    h.arrive("c4")  # talking in wrap-up, ringing ringing, wrapping on a call, the rest away
    h.engine.set_ready("far")
    h.arrive("c5", max_penalty=0)  # "far" is ready but outside the caller's range
    h.arrive("c6")  # "far" is ready and no range excludes them: joins
    exits = [(e.contact_id, e.reason) for e in h.capture.of(acd.ContactExited)]
    join_empty = acd.ExitReason.JOIN_EMPTY
    assert exits == [("c0", join_empty), ("c4", join_empty), ("c5", join_empty)]
    assert _offered(h)[-1] == ("c6", "far")


def test_a_requested_join_position_like_app_queue() -> None:
    """app_queue's Queue() position option: a caller asking for position 2 goes second,
    but never ahead of a caller with a higher priority; a position past the end is the
    end, and the wait still counts from the caller's own arrival."""
    h = AcdHarness()
    h.queue()
    h.arrive("c1", priority=5)
    h.arrive("c2")
    h.arrive("c3")
    h.later(10)
    h.engine.arrive(acd.Contact(id="c4"), "q", position=1)  # c1's priority keeps it first
    h.engine.arrive(acd.Contact(id="c5"), "q", position=3)
    h.engine.arrive(acd.Contact(id="c6"), "q", position=99)
    assert h.engine.waiting_contacts("q") == ["c1", "c4", "c5", "c2", "c3", "c6"]
    assert h.engine.position("c5") == 3
    h.later(5)
    assert h.engine.contact_status("c4").entered_at == 10.0
    h.agent("ann")
    assert _offered(h) == [("c1", "ann")]
    h.engine.hangup("c1")
    assert _offered(h)[-1] == ("c4", "ann")


def test_a_requested_position_holds_against_callers_of_other_sub_queues() -> None:
    """app_queue's Queue() position option is a place in the one queue: a caller asking
    for position 1 is served before an earlier caller whose penalty range puts them in
    another sub-queue, when an agent who could take either frees up."""
    h = AcdHarness()
    h.queue()
    h.agent("ann")
    h.arrive("c1")  # ann takes it
    h.arrive("ranged", min_penalty=0)
    h.later(5)
    h.engine.arrive(acd.Contact(id="jumper"), "q", position=1)
    assert h.engine.waiting_contacts("q") == ["jumper", "ranged"]
    h.engine.hangup("c1")
    assert _offered(h)[-1] == ("jumper", "ann")
