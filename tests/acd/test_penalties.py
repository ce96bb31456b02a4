"""Penalties as the peers use them: contact ranges, rules widening them, the members limit, tiers.

Each test's docstring names the app_queue or mod_callcenter behaviour it reproduces.
"""

from __future__ import annotations

from callcenter_sdk import acd
from callcenter_sdk.testing import AcdHarness


def _offered(h: AcdHarness) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in h.capture.of(acd.ContactOffered)]


def test_contact_penalty_range_limits_the_members_rung() -> None:
    """app_queue's QUEUE_MIN_PENALTY / QUEUE_MAX_PENALTY: a member whose penalty is
    outside the caller's range is never rung, whether the caller or the member arrives first."""
    h = AcdHarness()
    h.queue()
    h.agent("p0", penalty=0)
    h.agent("p5", penalty=5, ready=False)
    h.arrive("c1", min_penalty=1, max_penalty=5)  # p0 is ready but out of range
    assert _offered(h) == []
    h.engine.set_ready("p5")
    assert _offered(h) == [("c1", "p5")]
    h.arrive("c2", max_penalty=2)
    assert _offered(h)[-1] == ("c2", "p0")


def test_penalty_rules_widen_the_range_as_the_caller_waits() -> None:
    """queuerules.conf: ``penaltychange => 30,+2`` then ``60,10``: the max penalty grows
    by 2 after 30 s, then becomes 10 after 60 s; members beyond it wait their turn."""
    h = AcdHarness()
    rules = [
        acd.PenaltyRule(after=30, max_penalty=2, relative_max=True),
        acd.PenaltyRule(after=60, max_penalty=10),
    ]
    h.queue(penalty_rules=rules, offer_timeout=100)
    h.agent("p2", penalty=2)
    h.agent("p7", penalty=7)
    h.arrive("c1", max_penalty=0)
    h.arrive("c2", max_penalty=0)
    h.later(29)
    assert _offered(h) == []
    h.later(1)
    assert [e.at for e in h.capture.of(acd.ContactOffered)] == [30]
    assert _offered(h) == [("c1", "p2")]
    h.later(30)
    assert _offered(h) == [("c1", "p2"), ("c2", "p7")]


def test_a_restored_contact_starts_with_the_rules_already_due() -> None:
    """A caller brought back after a restart has waited already: the rules of that wait
    are in force at once (as relaxation steps are)."""
    h = AcdHarness()
    h.queue(penalty_rules=[acd.PenaltyRule(after=20, max_penalty=3)])
    h.agent("p3", penalty=3)
    h.clock.set(100)
    h.engine.arrive(acd.Contact(id="c1", max_penalty=0), "q", entered_at=70)
    assert _offered(h) == [("c1", "p3")]


def test_penalties_are_ignored_under_the_members_limit() -> None:
    """app_queue's penaltymemberslimit: with that many members or fewer, penalties (and
    the caller's range) are disregarded; once the queue grows past it they count again."""
    h = AcdHarness()
    h.queue(penalty_members_limit=2, strategy="linear")
    h.agent("high", penalty=9)
    h.agent("low", penalty=0, ready=False)
    h.arrive("c1", max_penalty=0)
    assert _offered(h) == [("c1", "high")]
    h.engine.hangup("c1")
    h.engine.set_ready("low")
    h.agent("third", penalty=5, ready=False)  # three members: penalties count again
    h.arrive("c2", max_penalty=0)
    assert _offered(h)[-1] == ("c2", "low")
    h.engine.hangup("c2")
    h.arrive("c3", min_penalty=9)
    assert _offered(h)[-1] == ("c3", "high")


def test_freeswitch_tier_rules_multiply_the_wait_by_the_level() -> None:
    """mod_callcenter with tier-rules-apply, tier-rule-wait-second = 10 and
    tier-rule-wait-multiply-level: level 1 is tried after 10 s, level 2 after 20 s."""
    h = AcdHarness()
    h.queue(tier_rules=acd.TierRules(wait=10), offer_timeout=100)
    h.agent("l1", penalty=1)
    h.agent("l2", penalty=2)
    h.arrive("c1")
    h.arrive("c2")
    h.later(9)
    assert _offered(h) == []
    h.later(1)
    assert _offered(h) == [("c1", "l1")]
    h.later(10)
    assert _offered(h) == [("c1", "l1"), ("c2", "l2")]


def test_freeswitch_tier_rules_without_multiply_open_every_level_at_once() -> None:
    """tier-rule-wait-multiply-level = false: every higher level is tried after one wait."""
    h = AcdHarness()
    h.queue(tier_rules=acd.TierRules(wait=10, multiply_level=False))
    h.agent("l0", penalty=0, ready=False)
    h.agent("l3", penalty=3)
    h.arrive("c1")
    h.later(9)
    assert _offered(h) == []
    h.later(1)
    assert _offered(h) == [("c1", "l3")]


def test_freed_agent_skips_contacts_outside_their_penalty() -> None:
    """A member freed from a call is not offered a caller whose range excludes them:
    the next caller in range is served instead (app_queue checks the range per member)."""
    h = AcdHarness()
    h.queue()
    h.agent("p4", penalty=4, ready=False)
    h.arrive("first", max_penalty=1)
    h.arrive("second")
    h.engine.set_ready("p4")
    assert _offered(h) == [("second", "p4")]
