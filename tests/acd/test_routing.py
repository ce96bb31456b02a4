"""Queue order, aging, fairness across queues, penalties, relaxation and ring-all."""

from __future__ import annotations

import pytest

import callcenter_sdk as cc
from callcenter_sdk import acd
from callcenter_sdk.testing import AcdHarness


def _offered(actions: list[acd.Action]) -> list[tuple[str, str]]:
    return [(a.contact_id, a.agent_id) for a in actions if isinstance(a, acd.Offer)]


def test_priority_then_arrival_order() -> None:
    """A freed agent takes the highest priority first, then the oldest (FIFO)."""
    h = AcdHarness()
    h.queue("q")
    h.arrive("low-old", priority=0)
    h.later(1)
    h.arrive("high", priority=5)
    h.later(1)
    h.arrive("low-new", priority=0)
    assert h.engine.waiting_contacts("q") == ["high", "low-old", "low-new"]
    assert [h.engine.position(c) for c in ("high", "low-old", "low-new")] == [1, 2, 3]
    assert _offered(h.agent("ann")) == [("high", "ann")]


def test_aging_lets_an_old_contact_overtake_without_resorting() -> None:
    """With aging, priority grows with the wait: 0 + 1/s × 10 s beats a fresh 5."""
    h = AcdHarness()
    h.queue("q", aging_rate=1.0)
    h.arrive("old", priority=0)
    h.later(10)
    h.arrive("fresh", priority=5)
    assert h.engine.waiting_contacts("q") == ["old", "fresh"]
    assert _offered(h.agent("ann")) == [("old", "ann")]


def test_longest_waiting_across_queues_weighted() -> None:
    """An agent in two queues takes the longest weighted wait: weight 3 × 5 s beats 10 s."""
    h = AcdHarness()
    h.queue("plain")
    h.queue("vip", weight=3)
    h.arrive("p1", "plain")
    h.later(5)
    h.arrive("v1", "vip")
    h.later(5)
    assert _offered(h.agent("ann", ["plain", "vip"])) == [("v1", "ann")]


def test_equal_weights_serve_the_oldest_across_queues() -> None:
    """Without weights the oldest contact across the agent's queues wins."""
    h = AcdHarness()
    h.queue("a")
    h.queue("b")
    h.arrive("b1", "b")
    h.later(1)
    h.arrive("a1", "a")
    assert _offered(h.agent("ann", ["a", "b"])) == [("b1", "ann")]


def test_effective_priority_beats_weight() -> None:
    """Priority is compared before weighted wait across queues."""
    h = AcdHarness()
    h.queue("a", weight=10)
    h.queue("b")
    h.arrive("a1", "a")
    h.later(60)
    h.arrive("b1", "b", priority=1)
    assert _offered(h.agent("ann", ["a", "b"])) == [("b1", "ann")]


def test_lower_penalty_agents_are_asked_first() -> None:
    """A contact goes to a ready penalty-0 agent before a longer-idle penalty-1 agent."""
    h = AcdHarness()
    h.queue("q")
    h.agent("backup", penalty=1)
    h.later(30)
    h.agent("main", penalty=0)
    assert _offered(h.arrive("c1")) == [("c1", "main")]
    assert _offered(h.arrive("c2")) == [("c2", "backup")]


def test_skills_filter_agents_and_contacts() -> None:
    """A contact needing billing ≥ 3 skips the agent without it and waits for one."""
    h = AcdHarness()
    h.queue("q")
    h.agent("novice", skills={"billing": 2})
    need = [acd.SkillRequirement("billing", 3)]
    assert _offered(h.arrive("c1", requirements=need)) == []
    assert _offered(h.agent("expert", skills={"billing": 5})) == [("c1", "expert")]


def test_requirements_relax_in_steps() -> None:
    """After 30 s level 2 is enough, after 60 s anyone: events at each step, offer at 30 s."""
    h = AcdHarness()
    h.queue(
        "q",
        relax=[
            acd.RelaxStep(after=30, requirements=[acd.SkillRequirement("billing", 2)]),
            acd.RelaxStep(after=60, requirements=[]),
        ],
    )
    h.agent("mid", skills={"billing": 2})
    h.agent("none")
    h.engine.set_not_ready("none")
    assert _offered(h.arrive("c1", requirements=[acd.SkillRequirement("billing", 5)])) == []
    assert _offered(h.later(29)) == []
    assert _offered(h.later(1)) == [("c1", "mid")]
    relaxed = h.capture.of(acd.ContactRelaxed)
    assert [(e.step, e.requirements) for e in relaxed] == [(1, ("billing>=2",))]


def test_contact_relax_steps_override_the_queue() -> None:
    """A contact's own steps replace the queue's; a step at 0 s applies on entry."""
    h = AcdHarness()
    h.queue("q", relax=[acd.RelaxStep(after=100, requirements=[])])
    h.agent("ann")
    actions = h.arrive(
        "c1",
        requirements=[acd.SkillRequirement("french", 4)],
        relax=[acd.RelaxStep(after=0, requirements=[])],
    )
    assert _offered(actions) == [("c1", "ann")]


def test_ring_all_first_accept_wins_others_rescinded() -> None:
    """Ring-all offers every ready agent; the first to accept connects, the rest stop ringing."""
    h = AcdHarness()
    h.queue("q", strategy="ring-all", ring_size=3)
    for name in ("a", "b", "c", "d"):
        h.agent(name)
    offers = [a for a in h.arrive("c1") if isinstance(a, acd.Offer)]
    assert len(offers) == 3
    winner = offers[1]
    actions = h.engine.accept(winner.offer_id)
    rescinded = {a.agent_id for a in actions if isinstance(a, acd.Rescind)}
    assert rescinded == {offers[0].agent_id, offers[2].agent_id}
    assert h.engine.contact_status("c1").agent_id == winner.agent_id
    connected = h.capture.of(acd.ContactConnected)
    assert [e.agent_id for e in connected] == [winner.agent_id]
    for o in (offers[0], offers[2]):
        assert h.state(o.agent_id) is acd.AgentState.READY


def test_ring_all_all_decline_returns_the_contact_to_its_place() -> None:
    """When every ringing agent declines, the contact waits again ahead of later arrivals."""
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=10))
    h.queue("q", strategy="ring-all")
    h.agent("a")
    h.agent("b")
    offers = [a for a in h.arrive("c1") if isinstance(a, acd.Offer)]
    h.later(1)
    h.arrive("c2")
    for o in offers:
        h.engine.reject(o.offer_id)
    assert h.engine.waiting_contacts("q") == ["c1", "c2"]


def test_accepting_a_rescinded_offer_is_refused() -> None:
    """Once another agent won, the loser's late accept is an error, not a second connection."""
    h = AcdHarness()
    h.queue("q", strategy="ring-all")
    h.agent("a")
    h.agent("b")
    first, second = (a for a in h.arrive("c1") if isinstance(a, acd.Offer))
    h.engine.accept(first.offer_id)
    with pytest.raises(cc.NotFoundError):
        h.engine.accept(second.offer_id)
    assert len(h.capture.of(acd.ContactConnected)) == 1


def test_an_answered_offer_leaves_no_deadline_behind() -> None:
    """Once an offer is accepted its time-out is no deadline any more: next_deadline
    reports the next live timer (a later missed offer's), or None, never a tick for
    nothing; a pending offer's time-out is still reported and still fires."""
    h = AcdHarness()
    h.queue("q", offer_timeout=15.0)
    h.agent("ann")
    offer = next(a for a in h.arrive("c1") if isinstance(a, acd.Offer))
    assert h.engine.next_deadline() == 15.0
    h.engine.accept(offer.offer_id)
    assert h.engine.next_deadline() is None
    h.later(5)
    h.agent("bob")
    pending = next(a for a in h.arrive("c2") if isinstance(a, acd.Offer))
    assert pending.agent_id == "bob"
    assert h.engine.next_deadline() == 20.0
    assert h.engine.agent_status("bob").offers
    h.later(15)
    assert not h.engine.agent_status("bob").offers  # the time-out fired: bob missed it
