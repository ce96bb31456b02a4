"""The live dialer on the virtual media backend: connect, drop with the message, failures,
the outbound policy every number passes, the drop budget across a restart."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Awaitable, Callable, Mapping

import anyio
import pytest

from callcenter_sdk import EventStream, ManualClock, StateError, Ticker, ValidationError
from callcenter_sdk.acd import Agent, Engine, Membership, Queue
from callcenter_sdk.cti import OutboundDenied, OutboundPolicy, OutboundRefused
from callcenter_sdk.dialer import (
    CAP_PAUSE_S,
    Attempt,
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
    LeadStatus,
    PredictivePacer,
    Refusal,
    campaign_guard,
    load_leads,
    owner_skill,
    record_attempt,
    restore_pacer,
    save_leads,
)
from callcenter_sdk.media import PartyScript, Tone, VirtualBackend
from callcenter_sdk.sim import Fixed, OutcomeModel
from callcenter_sdk.store import OutboundLists, Store
from callcenter_sdk.testing import script_virtual_phones

NOON = dt.datetime(2026, 11, 25, 12, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")).timestamp()
INFO = InformationMessage(company="ACME", callback_number="+33142685300", seconds=6.0)
PROMPT = Tone((440,), duration=6.0)
FRANCE = OutboundPolicy(allowed=[r"\+33\d{9}"])  # the premium 08 9x ranges stay denied
PREMIUM, SATELLITE = "+33899123456", "+88212345678"


def lead(n: int) -> Lead:
    """Paris lead ``n``."""
    return Lead(
        lead_id=f"l{n}", phone=f"+3314268530{n}", campaign="spring", timezone="Europe/Paris"
    )


def setup(
    mode: str,
    leads: list[Lead],
    scripts: Mapping[int, PartyScript | None],
    *,
    agents: int = 1,
    detector: Callable[[Lead, str], Awaitable[bool]] | None = None,
    policy: OutboundPolicy = FRANCE,
    dialled: list[str] | None = None,
    on_attempt: Callable[[Attempt], object] | None = None,
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
        outbound=policy,
    )

    def number_uri(lead: Lead) -> str:  # called just before each originate
        if dialled is not None:
            dialled.append(lead.phone)
        return f"sip:{lead.phone}@virtual"

    dialer = Dialer(
        backend=media,
        engine=engine,
        clock=media.clock,
        campaign=campaign,
        scheduler=LeadScheduler(Compliance(campaign), leads, now=NOON),
        guard=campaign_guard(campaign, clock=media.clock, events=events),
        agent_uris=uris,
        number_uri=number_uri,
        information_prompt=PROMPT,
        machine_detector=detector,
        on_attempt=on_attempt,
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
        Lead(lead_id=f"l{n}", phone=f"+3314268{n:04d}", campaign="spring", timezone="Europe/Paris")
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


def premium(lead_id: str, phone: str) -> Lead:
    """A Paris lead with ``phone``, a number the default policy denies."""
    return Lead(lead_id=lead_id, phone=phone, campaign="spring", timezone="Europe/Paris")


async def test_premium_and_satellite_leads_are_never_originated() -> None:
    """A list with a French premium and a satellite number among ordinary ones: the ordinary
    leads are dialled and reach agents; the other two are never originated, leave the
    campaign as refused by the outbound policy (so they are not retried), make no attempt,
    and each is an OutboundRefused event naming the campaign and the lead."""
    leads = [lead(1), premium("prem", PREMIUM), premium("sat", SATELLITE), lead(2)]
    scripts = {n: PartyScript(answer_after=3.0, talk_for=20.0) for n in (1, 2)}
    dialled: list[str] = []
    dialer, media, _, events = setup("progressive", leads, scripts, agents=2, dialled=dialled)
    await drive(dialer, media, 60.0)
    assert sorted(dialled) == ["+33142685301", "+33142685302"]
    assert {e.lead_id for e in events.history(CallPlaced)} == {"l1", "l2"}
    refused = events.history(OutboundRefused)
    assert {(e.contact_id, e.number, e.reason) for e in refused} == {
        ("prem", PREMIUM, "denied"),
        ("sat", SATELLITE, "denied"),
    }
    assert {(e.actor, e.purpose) for e in refused} == {("spring", "campaign")}
    for lead_id in ("prem", "sat"):
        assert dialer.scheduler.status(lead_id) is LeadStatus.REFUSED
        assert dialer.scheduler.refusal(lead_id) is Refusal.OUTBOUND_POLICY
    assert {a.lead_id for a in dialer.attempts} <= {"l1", "l2"}
    assert dialer.scheduler.next_lead(media.clock.now()) is None  # nothing left to retry
    for call_id in dialer.awaiting_disposition():
        assert dialer.dispose(call_id, "sale").result is CallResult.CONNECTED


async def test_a_preview_agent_dialling_a_premium_lead_is_refused_and_not_held() -> None:
    """An agent who dials a premium lead from its record gets OutboundDenied; nothing is
    originated and the agent stays ready for the next record."""
    dialled: list[str] = []
    dialer, _, engine, events = setup(
        "preview", [premium("prem", PREMIUM)], {}, agents=1, dialled=dialled
    )
    picked = dialer.scheduler.next_lead(NOON)
    assert picked is not None
    with pytest.raises(OutboundDenied) as refused:
        await dialer.dial(picked, agent="a1")
    assert refused.value.reason == "denied"
    assert dialled == []
    assert dialer.live_calls == 0
    assert engine.agent_status("a1").state == "ready"
    assert len(events.history(OutboundRefused)) == 1


async def test_the_hourly_cap_pauses_dialling_without_losing_the_lead() -> None:
    """A policy allowing 1 dial an hour: power mode dials one lead; the next is refused for
    the cap, stays pending for later (not refused for good), and the dialer asks again only
    after CAP_PAUSE_S, so a one-minute pause makes one refusal, not one per tick."""
    capped = OutboundPolicy(allowed=[r"\+33\d{9}"], per_hour=1)
    scripts = {n: PartyScript(answer_after=None) for n in (1, 2, 3)}
    dialled: list[str] = []
    dialer, media, _, events = setup(
        "power", [lead(1), lead(2), lead(3)], scripts, agents=1, policy=capped, dialled=dialled
    )
    await drive(dialer, media, CAP_PAUSE_S - 1.0)
    assert len(dialled) == 1
    (refusal,) = events.history(OutboundRefused)
    assert refusal.reason == "hourly-cap"
    assert dialer.scheduler.status(refusal.contact_id) is LeadStatus.PENDING
    await drive(dialer, media, 2.0)
    assert len(events.history(OutboundRefused)) == 2
    assert len(dialled) == 1


def test_a_campaign_without_an_outbound_policy_cannot_get_a_guard() -> None:
    """campaign_guard refuses a campaign whose file has no [outbound] table: the live
    dialer dials nothing until the campaign says where it may dial."""
    bare = Campaign(name="spring", mode="progressive")
    with pytest.raises(ValidationError, match=r"\[outbound\]"):
        campaign_guard(bare, clock=ManualClock(NOON))


async def test_a_restarted_dialer_keeps_the_drop_budget_of_the_first_run(store: Store) -> None:
    """A predictive campaign's first run drops calls and records its attempts in the store;
    a new dialer after a restart gets a fresh pacer, and replaying the stored attempts gives
    it the first run's drops and live answers for the period (its headroom is the cap's
    room left by them, not the empty budget of a fresh pacer)."""
    lists = OutboundLists(store)
    leads = [
        Lead(
            lead_id=f"l{n}", phone=f"+3314268{n:04d}", campaign="spring",
            list_id="web" if n % 2 else "partner", timezone="Europe/Paris",
        )
        for n in range(300)
    ]  # fmt: skip
    save_leads(lists, leads, at=NOON)
    first, media, _, _ = setup(
        "predictive", leads, {}, agents=3, on_attempt=lambda a: record_attempt(lists, a)
    )
    script_virtual_phones(
        media,
        leads,
        OutcomeModel(live=0.9, machine=0.0, busy=0.0, invalid=0.0, talk=Fixed(20.0)),
        number_uri=lambda lead: f"sip:{lead.phone}@virtual",
        seed=7,
    )
    await drive(first, media, 1800.0)
    for call_id in first.awaiting_disposition():
        first.dispose(call_id, "no")
    stored = lists.attempts("web") + lists.attempts("partner")
    dropped = sum(1 for a in stored if a.outcome == CallResult.DROPPED.value)
    live = sum(1 for a in stored if a.outcome in (CallResult.DROPPED, CallResult.CONNECTED))
    assert dropped > 0, "the first run must drop calls for this test to mean something"

    restarted, media, _, _ = setup(
        "predictive", load_leads(lists, "web", campaign="spring"), {}, agents=3
    )
    pacer = restarted.pacer
    assert isinstance(pacer, PredictivePacer)
    assert (pacer.dropped, pacer.live, pacer.headroom) == (0.0, 0.0, 0.0)  # forgot it all
    assert restore_pacer(lists, ["web", "partner"], pacer) == len(stored)
    assert (pacer.dropped, pacer.live) == (dropped, live)
    assert pacer.headroom == pytest.approx((0.03 * live - dropped) / 0.97)
    assert pacer.attempts == len(stored)


@pytest.mark.parametrize("shared", [False, True])
async def test_run_dials_until_the_end_on_a_ticker_then_lets_calls_finish(shared: bool) -> None:
    """run() drives the dialer on a ticker, its own or the application's: it dials until
    ``until`` (a lead due later is not dialled), lets the conversation in progress end,
    and returns, leaving the application's ticker with nothing of the dialer's."""
    scripts = {
        1: PartyScript(answer_after=2.0, talk_for=8.0),
        2: PartyScript(reject=486),
        3: PartyScript(answer_after=2.0, talk_for=8.0),
    }
    dialer, media, _, _ = setup("power", [lead(1), lead(2)], scripts)
    later = lead(3)
    dialer.scheduler.add([later], now=NOON)
    dialer.schedule_callback(Callback(lead_id="l3", due_at=NOON + 20.0))
    ticker = Ticker(media.clock)
    async with anyio.create_task_group() as tg:
        if shared:
            await tg.start(ticker.run)

        async def virtual_time() -> None:
            while True:
                await media.advance(0.25)
                await anyio.sleep(0.002)

        tg.start_soon(virtual_time)
        with anyio.fail_after(20):
            await dialer.run(until=NOON + 3.0, tick_s=0.5, ticker=ticker if shared else None)
        tg.cancel_scope.cancel()
    assert media.clock.now() >= NOON + 10.0  # the conversation ended before run returned
    assert {a.lead_id: a.result for a in dialer.attempts} == {"l2": CallResult.BUSY}
    assert len(dialer.awaiting_disposition()) == 1  # l1's conversation; l3 was never dialled
    assert dialer.live_calls == 0
    assert ticker.next_deadline() is None
