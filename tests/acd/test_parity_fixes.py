"""Issue #15, item 1: the max-wait bug and the behaviours that differed from app_queue/FreeSWITCH.

Each test's docstring names the peer behaviour it reproduces.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence

from callcenter_sdk import acd
from callcenter_sdk.kpi import Outcome
from callcenter_sdk.testing import AcdHarness


def test_contact_ringing_at_max_wait_leaves_when_the_offer_ends_without_a_rest() -> None:
    """The issue's repro: with no missed-offer rest (FreeSWITCH's default no-answer delay
    is 0), a contact whose max wait passes while it rings is released when that offer
    ends, instead of ringing the same agent again at 65 and 75."""
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=0))
    h.queue(max_wait=60, offer_timeout=10)
    h.agent("ann", ready=False)
    h.arrive("c1")
    h.later(55)
    h.engine.set_ready("ann")
    h.later(30)
    assert len(h.capture.of(acd.ContactOffered)) == 1
    (out,) = h.capture.of(acd.ContactTimedOut)
    assert (out.at, out.waited) == (65, 65)
    assert h.engine.live_contacts() == []
    assert h.state("ann") is acd.AgentState.READY


def test_pausing_a_busy_agent_is_published_at_once_with_its_reason() -> None:
    """app_queue writes PAUSE/UNPAUSE to queue_log the moment a member on a call is
    paused: the pause and the unpause during a call leave a trace, and the status
    shows the pause code rather than "connected"."""
    h = AcdHarness()
    h.queue()
    h.agent("ann")
    h.arrive("c1")
    h.engine.accept(h.capture.of(acd.ContactOffered)[0].offer_id)
    h.later(5)
    h.engine.set_not_ready("ann", "lunch")
    status = h.engine.agent_status("ann")
    assert (status.state, status.presence, status.reason) == (
        acd.AgentState.BUSY,
        acd.AgentState.NOT_READY,
        "lunch",
    )
    h.later(5)
    h.engine.set_ready("ann")
    changes = h.capture.of(acd.AgentPresenceChanged)
    assert [(e.at, e.presence, e.reason) for e in changes] == [
        (5, acd.AgentState.NOT_READY, "lunch"),
        (10, acd.AgentState.READY, "ready"),
    ]


def test_round_robin_pointer_moves_when_a_freed_agent_takes_a_waiting_contact() -> None:
    """app_queue's rrmemory remembers the member who took the last call whoever
    chose: after b (freed) takes a waiting contact, the next one starts after b."""
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=0))
    h.queue(strategy="round-robin")
    for name in ("a", "b", "c"):
        h.agent(name, ready=False)
    h.arrive("c1")
    h.engine.set_ready("b")  # b takes the waiting c1
    h.engine.hangup("c1")
    h.engine.set_ready("a")
    h.engine.set_ready("c")
    h.arrive("c2")
    assert h.capture.of(acd.ContactOffered)[-1].agent_id == "c"


def test_max_length_counts_ringing_contacts_like_app_queue() -> None:
    """app_queue's maxlen counts every caller in the queue, those whose member is
    ringing included; the old count (waiting only) is kept as a setting."""
    h = AcdHarness()
    h.queue("q", max_length=1)
    h.queue("loose", max_length=1, max_length_counts_ringing=False)
    h.agent("ann", ["q"])
    h.agent("bob", ["loose"])
    h.arrive("c1", "q")  # rings ann
    h.arrive("c2", "q")
    h.arrive("d1", "loose")  # rings bob
    h.arrive("d2", "loose")
    exits = {e.contact_id: e.reason for e in h.capture.of(acd.ContactExited)}
    assert exits == {"c2": acd.ExitReason.FULL}
    assert h.engine.waiting_contacts("loose") == ["d2"]


def test_weighted_random_has_app_queue_probabilities() -> None:
    """app_queue's wrandom draws a metric below (1 + penalty) × 1000 per member and
    rings the lowest: penalties 0 and 1 win 3/4 and 1/4 of the time."""
    strategy = acd.WeightedRandomStrategy({"seed": 7})
    cands = [
        acd.Candidate(
            agent_id=name,
            penalty=penalty,
            order=0,
            idle_since=0.0,
            active=0,
            handled=0,
            talk_time=0.0,
            skills={},
        )
        for name, penalty in (("low", 0), ("high", 1))
    ]
    request = acd.RoutingRequest(
        contact=acd.Contact(id="c"), queue="q", now=0.0, candidates=cands, lookup=lambda _: None
    )
    wins = collections.Counter(strategy.select(request)[0] for _ in range(20_000))
    assert abs(wins["low"] / 20_000 - 0.75) < 0.02


def _outcomes(events: Sequence[object], *, exits_abandon: bool) -> list[Outcome]:
    records, _ = acd.records_from_events(events, exits_abandon=exits_abandon)  # type: ignore[arg-type]
    return [r.outcome for r in records]


def test_max_wait_and_leave_empty_count_as_abandons_when_asked() -> None:
    """Asterisk counts EXITWITHTIMEOUT and EXITEMPTY in callsabandoned; with
    ``exits_abandon`` the records do too, so the abandon rate matches its reports."""
    h = AcdHarness()
    h.queue("q", max_wait=10)
    h.queue("e", leave_when_empty="no-agent-available")
    h.agent("ann", ["e"])
    h.arrive("c1", "q")
    h.arrive("busy", "e")  # ann takes it
    h.arrive("c2", "e")  # waits
    h.engine.set_not_ready("ann")  # nobody available: c2 leaves
    h.later(10)
    events = h.capture.events
    plain = _outcomes(events, exits_abandon=False)
    asterisk = _outcomes(events, exits_abandon=True)
    assert plain.count(Outcome.TIMED_OUT) == 2
    assert asterisk.count(Outcome.ABANDONED) == 2
    assert asterisk.count(Outcome.TIMED_OUT) == 0
