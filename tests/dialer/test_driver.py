"""The live dialer on the virtual media backend: connect, drop with the message, failures."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Awaitable, Callable, Mapping

import anyio
import pytest

from callcenter_sdk import EventStream, ManualClock, StateError
from callcenter_sdk.acd import Agent, Engine, Membership, Queue
from callcenter_sdk.dialer import (
    Callback,
    CallDropped,
    CallPlaced,
    CallResult,
    Campaign,
    Compliance,
    Dialer,
    Disposition,
    InformationMessage,
    Lead,
    LeadScheduler,
    OutcomeModel,
    owner_skill,
)
from callcenter_sdk.media import PartyScript, Tone, VirtualBackend
from callcenter_sdk.sim import Fixed
from callcenter_sdk.testing import script_virtual_phones

NOON = dt.datetime(2026, 11, 25, 12, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")).timestamp()
INFO = InformationMessage(company="ACME", callback_number="+33142685300", seconds=6.0)
PROMPT = Tone((440,), duration=6.0)


def lead(n: int) -> Lead:
    """Paris lead ``n``."""
    return Lead(
        lead_id=f"l{n}", phone=f"+3314268530{n}", campaign="spring", timezone="Europe/Paris"
    )


def setup(
    mode: str,
    leads: list[Lead],
    scripts: Mapping[int, PartyScript | None],
    agents: int = 1,
    detector: Callable[[Lead, str], Awaitable[bool]] | None = None,
) -> tuple[Dialer, VirtualBackend, Engine, EventStream]:
    """A dialer over a virtual backend with ``agents`` agents whose phones answer in 0.5 s."""
    media = VirtualBackend(ManualClock(NOON))
    events = EventStream(keep=True)
    engine = Engine(clock=media.clock, events=events)
    engine.add_queue(Queue(name="spring", wrap_up=5.0))
    uris = {}
    for n in range(1, agents + 1):
        aid = f"a{n}"
        engine.add_agent(
            Agent(id=aid, skills={owner_skill(aid): 1}, memberships=(Membership("spring"),))
        )
        engine.login(aid)
        engine.set_ready(aid)
        uris[aid] = f"sip:{aid}@virtual"
        media.add_phone(uris[aid], PartyScript(answer_after=0.5))
    for n, script in scripts.items():
        if script is not None:
            media.add_phone(f"sip:+3314268530{n}@virtual", script)
    campaign = Campaign(
        name="spring",
        mode=mode,
        ratio=2.0,
        information=INFO,
        dispositions=(Disposition(code="sale", converted=True), Disposition(code="no")),
    )
    dialer = Dialer(
        backend=media,
        engine=engine,
        clock=media.clock,
        campaign=campaign,
        scheduler=LeadScheduler(Compliance(campaign), leads, now=NOON),
        agent_uris=uris,
        number_uri=lambda lead: f"sip:{lead.phone}@virtual",
        information_prompt=PROMPT,
        machine_detector=detector,
    )
    return dialer, media, engine, events


async def drive(dialer: Dialer, media: VirtualBackend, seconds: float) -> None:
    """Feed media events to the dialer and tick it at its deadlines for ``seconds``."""
    until = media.clock.now() + seconds
    async with anyio.create_task_group() as tg:

        async def consume() -> None:
            async for event in media.events():
                await dialer.handle(event)

        tg.start_soon(consume)
        while media.clock.now() < until:
            await dialer.tick()
            times = [t for t in (dialer.next_deadline(), media.next_time()) if t is not None]
            step = min([*times, until]) - media.clock.now()
            await media.advance(max(step, 0.01))
        tg.cancel_scope.cancel()


async def test_an_answered_call_reaches_the_agent_and_is_disposed() -> None:
    """The lead answers after 3 s, the agent's phone 0.5 s later: the legs are bridged, the
    conversation ends when the lead hangs up, and the disposition completes the attempt."""
    dialer, media, engine, events = setup(
        "progressive", [lead(1)], {1: PartyScript(answer_after=3.0, talk_for=30.0)}
    )
    await drive(dialer, media, 10.0)
    assert dialer.live_calls == 1
    (placed,) = events.history(CallPlaced)
    assert any(h.startswith("leg:") for h in media.hearing(placed.call_id))
    assert engine.agent_status("a1").state == "busy"
    await drive(dialer, media, 40.0)
    (done,) = dialer.awaiting_disposition()
    attempt = dialer.dispose(done, "sale")
    assert attempt.result is CallResult.CONNECTED
    record = attempt.record
    assert record.agent == "a1"
    assert record.converted is True
    assert record.answered_at is not None
    assert record.greeting_ended_at == NOON + 3.0
    assert record.answered_at - record.greeting_ended_at == pytest.approx(0.5)
    assert record.talk_s == pytest.approx(29.5)
    with pytest.raises(StateError):
        dialer.dispose(done, "sale")


async def test_a_live_answer_with_no_agent_hears_the_message_and_is_dropped() -> None:
    """Power mode with one agent dials two leads; both answer at 3 s: one is connected,
    the other hears the information message within the 2 s limit and is released after it."""
    scripts = {n: PartyScript(answer_after=3.0, talk_for=60.0) for n in (1, 2)}
    dialer, media, _, events = setup("power", [lead(1), lead(2)], scripts)
    await drive(dialer, media, 5.5)
    (dropped,) = events.history(CallDropped)
    assert "ACME" in dropped.message
    assert dropped.at == NOON + 5.0
    assert "tone:440" in media.hearing(dropped.call_id)
    await drive(dialer, media, 10.0)
    assert dropped.call_id not in media.calls
    (attempt,) = [a for a in dialer.attempts if a.result is CallResult.DROPPED]
    assert attempt.record.connect_delay_s == float("inf")
    assert attempt.record.ended_at == NOON + 11.0


async def test_busy_invalid_and_unanswered_numbers() -> None:
    """486 is busy, an unknown number (404) invalid, a phone that never answers is cut at
    the ring timeout as no answer; none reaches an agent."""
    scripts = {1: PartyScript(reject=486), 2: None, 3: PartyScript(answer_after=None)}
    dialer, media, engine, _ = setup("power", [lead(1), lead(2), lead(3)], scripts, agents=2)
    await drive(dialer, media, 30.0)
    results = {a.lead_id: a.result for a in dialer.attempts}
    assert results == {
        "l1": CallResult.BUSY,
        "l2": CallResult.INVALID,
        "l3": CallResult.NO_ANSWER,
    }
    no_answer = next(a for a in dialer.attempts if a.lead_id == "l3")
    assert no_answer.record.ended_at == NOON + 25.0
    assert engine.agent_status("a1").state == "ready"
    assert dialer.live_calls == 0


async def test_owned_callbacks_are_handed_to_their_agent() -> None:
    """A callback owned by a1 is not dialled by the pacer; a1's desktop gets it once due."""
    dialer, media, _, _ = setup("preview", [lead(1)], {1: PartyScript(answer_after=None)})
    scheduler_lead = dialer.callback_for("a1")
    assert scheduler_lead is None
    dialer.schedule_callback(Callback(lead_id="l1", due_at=NOON + 60.0, agent="a1"))
    await drive(dialer, media, 120.0)
    assert dialer.attempts == []
    assert dialer.callback_for("a2") is None
    mine = dialer.callback_for("a1")
    assert mine is not None
    assert mine.lead_id == "l1"
    await dialer.dial(mine, agent="a1")
    assert dialer.live_calls == 1


async def test_a_preview_call_reaches_the_agent_who_dialled_it() -> None:
    """a2 dials from the record while a1 is ready too: a2 is held while it rings, and the
    answered call is offered to a2 alone; a failed preview call makes its agent ready again."""
    scripts = {1: PartyScript(answer_after=4.0, talk_for=20.0), 2: PartyScript(reject=486)}
    dialer, media, engine, _ = setup("preview", [lead(1), lead(2)], scripts, agents=2)
    first = dialer.scheduler.next_lead(NOON)  # the desktop's pick
    assert first is not None
    await dialer.dial(first, agent="a2")
    assert engine.agent_status("a2").state == "not_ready"
    await drive(dialer, media, 6.0)
    assert engine.agent_status("a2").state == "busy"
    assert engine.agent_status("a1").state == "ready"
    await drive(dialer, media, 30.0)
    (done,) = dialer.awaiting_disposition()
    assert dialer.dispose(done, "sale").record.agent == "a2"
    second = dialer.scheduler.next_lead(media.clock.now())
    assert second is not None
    await dialer.dial(second, agent="a1")
    await drive(dialer, media, 2.0)
    assert engine.agent_status("a1").state == "ready"
    assert dialer.attempts[-1].result is CallResult.BUSY


async def test_a_predictive_campaign_on_the_virtual_backend_with_simulated_rates() -> None:
    """Phones scripted from answer, machine, busy and invalid rates: half an hour of
    predictive dialling with four agents gives every outcome, machines never reach an
    agent, each drop played the message, and no lead is dialled outside its rules."""
    leads = [
        Lead(lead_id=f"l{n}", phone=f"+331426{n:06d}", campaign="spring", timezone="Europe/Paris")
        for n in range(150)
    ]
    machines: set[str] = set()

    async def detect(lead: Lead, _leg: str) -> bool:
        return lead.lead_id in machines

    dialer, media, _, events = setup("predictive", leads, {}, agents=4, detector=detect)
    machines.update(
        script_virtual_phones(
            media,
            leads,
            OutcomeModel(live=0.4, machine=0.2, busy=0.1, invalid=0.1, talk=Fixed(60.0)),
            number_uri=lambda lead: f"sip:{lead.phone}@virtual",
            seed=4,
        )
    )
    await drive(dialer, media, 1800.0)
    for call_id in dialer.awaiting_disposition():
        dialer.dispose(call_id, "no")
    results = {a.result for a in dialer.attempts}
    assert results >= {
        CallResult.CONNECTED,
        CallResult.MACHINE,
        CallResult.BUSY,
        CallResult.INVALID,
        CallResult.NO_ANSWER,
    }
    for attempt in dialer.attempts:
        if attempt.result is CallResult.CONNECTED:
            assert attempt.lead_id not in machines
        if attempt.lead_id in machines:
            assert attempt.result in (CallResult.MACHINE, CallResult.NO_ANSWER)
    dropped = {a.record.contact_id for a in dialer.attempts if a.result is CallResult.DROPPED}
    assert {e.call_id for e in events.history(CallDropped)} == dropped
    per_lead: dict[str, int] = {}
    for attempt in dialer.attempts:
        per_lead[attempt.lead_id] = per_lead.get(attempt.lead_id, 0) + 1
    assert max(per_lead.values()) == 1  # min_retry_s is an hour: no redial within 30 min


async def test_a_failing_machine_detector_loses_no_call(caplog: pytest.LogCaptureFixture) -> None:
    """A detector that raises (a broken plugin) is logged and the answer counts as
    a person: the lead still reaches the agent."""

    async def broken(_lead: Lead, _leg: str) -> bool:
        raise ConnectionError("AMD service down")

    dialer, media, engine, _ = setup(
        "progressive", [lead(1)], {1: PartyScript(answer_after=3.0, talk_for=30.0)},
        detector=broken,
    )  # fmt: skip
    await drive(dialer, media, 10.0)
    assert engine.agent_status("a1").state == "busy"
    assert dialer.live_calls == 1
    assert "machine detection failed" in caplog.text
