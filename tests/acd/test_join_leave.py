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
