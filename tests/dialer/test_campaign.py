"""The campaign core on its own: inputs in, action values out, time from a manual clock.

That it loads no I/O library, adapter or simulator is checked in tests/test_layers.py.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from callcenter_sdk import EventStream, ManualClock
from callcenter_sdk.acd import Agent, Engine, Membership, Queue
from callcenter_sdk.cti import OutboundDenied, OutboundPolicy, OutboundRefused
from callcenter_sdk.dialer import (
    Bridge,
    CallDropped,
    CallResult,
    Campaign,
    CampaignCore,
    Compliance,
    Dial,
    Disposition,
    Hangup,
    InformationMessage,
    Lead,
    LeadScheduler,
    PlayInformation,
    RingAgent,
    campaign_check,
    campaign_guard,
    owner_skill,
)

NOON = dt.datetime(2026, 11, 25, 12, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")).timestamp()
INFO = InformationMessage(company="ACME", callback_number="+33142685300", seconds=6.0)


def lead(n: int, phone: str | None = None) -> Lead:
    """Paris lead ``n``."""
    return Lead(
        lead_id=f"l{n}",
        phone=phone or f"+3314268530{n}",
        campaign="spring",
        timezone="Europe/Paris",
    )


def core(mode: str, leads: list[Lead], agents: int = 1) -> tuple[CampaignCore, ManualClock, Engine]:
    """A campaign core over an engine with ``agents`` ready agents, at noon in Paris."""
    clock = ManualClock(NOON)
    events = EventStream(keep=True)
    engine = Engine(clock=clock, events=events)
    engine.add_queue(Queue(name="spring", wrap_up=5.0))
    for n in range(1, agents + 1):
        aid = f"a{n}"
        engine.add_agent(
            Agent(id=aid, skills={owner_skill(aid): 1}, memberships=(Membership("spring"),))
        )
        engine.login(aid)
        engine.set_ready(aid)
    campaign = Campaign(
        name="spring",
        mode=mode,
        ratio=2.0,
        information=INFO,
        dispositions=(Disposition(code="sale", converted=True), Disposition(code="no")),
        outbound=OutboundPolicy(allowed=[r"\+33\d{9}"]),
    )
    return (
        CampaignCore(
            engine=engine,
            clock=clock,
            campaign=campaign,
            scheduler=LeadScheduler(Compliance(campaign), leads, now=NOON),
            check=campaign_check(campaign_guard(campaign, clock=clock, events=events), campaign),
            wrap_up_s=5.0,
        ),
        clock,
        engine,
    )


def test_a_call_from_dial_to_disposition_is_a_sequence_of_actions() -> None:
    """The pacer's dial, the answer, the agent rung near the customer, the bridge, the
    hang-up of the agent's leg when the customer hangs up, the disposition's attempt:
    every step is an input and the actions it returns."""
    c, clock, engine = core("progressive", [lead(1)])
    (dial,) = c.pace()
    assert dial == Dial(lead=lead(1))
    assert c.snapshot().in_flight == 1  # counted before it is placed
    c.placed(dial, "leg-1")
    clock.advance(3.0)
    assert c.answered("leg-1") == []
    (ring,) = c.greeted("leg-1")
    assert isinstance(ring, RingAgent)
    assert (ring.agent_id, ring.call_id) == ("a1", "leg-1")
    assert c.agent_rung(ring, "agent-leg") == []
    clock.advance(0.5)
    assert c.answered("agent-leg") == [Bridge(call_id="leg-1", agent_leg="agent-leg")]
    assert engine.agent_status("a1").state == "busy"
    clock.advance(30.0)
    assert c.ended("leg-1") == [Hangup(leg="agent-leg")]
    assert c.awaiting_disposition() == ["leg-1"]
    attempt = c.dispose("leg-1", "sale")
    assert attempt.result is CallResult.CONNECTED
    r = attempt.record
    assert (r.agent, r.converted, r.talk_s, r.wrap_s) == ("a1", True, 30.0, 5.0)
    assert (r.greeting_ended_at, r.answered_at) == (NOON + 3.0, NOON + 3.5)
    assert c.attempts == [attempt]


def test_no_agent_within_the_connect_limit_is_a_drop_with_the_message() -> None:
    """Two answered calls for one agent: the second waits; at the connect limit the core
    plays the information message, records the drop and releases the line after the
    message; the line's end closes the attempt."""
    c, clock, engine = core("power", [lead(1), lead(2)])
    first, second = c.pace()
    c.placed(first, "leg-1")
    c.placed(second, "leg-2")
    clock.advance(3.0)
    (ring,) = c.greeted("leg-1")
    assert isinstance(ring, RingAgent)
    c.agent_rung(ring, "agent-leg")
    c.answered("agent-leg")
    assert c.greeted("leg-2") == []  # no agent free: it waits
    assert c.next_deadline() == NOON + 5.0
    clock.set(NOON + 5.0)
    message = INFO.text
    assert c.tick() == [PlayInformation(call_id="leg-2", message=message)]
    assert c.next_deadline() == NOON + 11.0
    clock.set(NOON + 11.0)
    assert c.tick() == [Hangup(leg="leg-2")]
    assert c.ended("leg-2") == []
    (dropped,) = c.attempts
    assert (dropped.result, dropped.record.ended_at) == (CallResult.DROPPED, NOON + 11.0)
    (event,) = engine.events.history(CallDropped)
    assert (event.call_id, event.message, event.at) == ("leg-2", message, NOON + 5.0)


def test_ringing_stops_at_the_answer_or_at_the_ring_timeout() -> None:
    """A number that never answers is hung up at the ring timeout as no answer; one that
    answers is not cut at the timeout while answering-machine detection listens, and a
    machine ends as such."""
    c, clock, _ = core("power", [lead(1), lead(2)], agents=1)
    first, second = c.pace()
    c.placed(first, "quiet")
    c.placed(second, "machine")
    clock.advance(20.0)
    c.answered("machine")
    assert c.next_deadline() == NOON + c.campaign.ring_timeout_s
    clock.set(NOON + c.campaign.ring_timeout_s)
    assert c.tick() == [Hangup(leg="quiet")]
    assert c.next_deadline() is None  # the machine's leg rings no more
    clock.advance(3.0)
    assert c.machine("machine") == [Hangup(leg="machine")]
    assert [a.result for a in c.attempts] == [CallResult.NO_ANSWER, CallResult.MACHINE]
    assert c.live_calls == 0


def test_an_agents_own_dial_holds_them_and_a_refused_number_does_not() -> None:
    """An agent dialling a record is held not ready until the answer, which is offered to
    them alone; a premium number is refused before anyone is held."""
    c, clock, engine = core("preview", [lead(1), lead(2, "+33899123456")], agents=2)
    picked = c.scheduler.next_lead(NOON)
    assert picked is not None
    *_, dial = c.dial(picked, agent="a2")
    assert dial == Dial(lead=picked, agent="a2")
    assert engine.agent_status("a2").state == "not_ready"
    assert c.snapshot().held == 1
    c.placed(dial, "leg-1")
    clock.advance(4.0)
    c.answered("leg-1")
    (ring,) = c.greeted("leg-1")
    assert isinstance(ring, RingAgent)
    assert ring.agent_id == "a2"  # the owner's skill: a1, ready too, is not offered it
    premium = c.scheduler.next_lead(clock.now())
    assert premium is not None
    with pytest.raises(OutboundDenied):
        c.dial(premium, agent="a1")
    assert engine.agent_status("a1").state == "ready"
    (refused,) = engine.events.history(OutboundRefused)
    assert (refused.contact_id, refused.reason) == ("l2", "denied")


def test_a_failed_dial_releases_the_lead_and_the_agent() -> None:
    """A dial the backend could not place puts its lead back and makes its agent ready."""
    c, _, engine = core("preview", [lead(1)])
    picked = c.scheduler.next_lead(NOON)
    assert picked is not None
    *_, dial = c.dial(picked, agent="a1")
    assert isinstance(dial, Dial)
    c.dial_failed(dial)
    assert engine.agent_status("a1").state == "ready"
    assert c.snapshot().in_flight == 0
    assert c.scheduler.next_lead(NOON) == picked
